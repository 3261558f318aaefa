"""Parsers for files people bring from other databases: RIS, BibTeX, CSV and PubMed (MEDLINE/nbib).

Pure: text in, `Parsed` out (good records plus problems, each naming a line), so
`litrev.harvest.importing` can refuse a broken file before writing anything. Record ids
are `<source>:<original id>`, the original id being the one the file gives (RIS
`ID`/`AN`, a BibTeX key, a CSV `ID` column, a PMID) or, when the file gives
none, a short hash of the record's text, stable across re-imports of the same export.

RIS is parsed by rispy and BibTeX by bibtexparser 2 (with its LaTeX decoding);
`ris.py` splits RIS into records first only to know each record's line. One module per format;
`common.py` holds what they share.
"""

import re

from litrev.sources.files.bibtex import parse_bibtex
from litrev.sources.files.common import Parsed, Problem, slugify
from litrev.sources.files.delimited import parse_csv
from litrev.sources.files.medline import parse_nbib
from litrev.sources.files.ris import parse_ris

__all__ = ["FORMATS", "Parsed", "Problem", "parse", "slugify", "sniff_format"]

FORMATS = ("ris", "bibtex", "csv", "nbib")


def sniff_format(text: str, filename: str = "") -> str | None:
    """Tell the format from the content (first tags), else from the file extension."""
    head = text.lstrip("\ufeff")[:20000]
    if re.search(r"^TY  - ", head, re.MULTILINE):
        return "ris"
    if re.search(r"^PMID- ", head, re.MULTILINE):
        return "nbib"
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", head, re.MULTILINE):
        return "bibtex"
    first = next((line for line in head.splitlines() if line.strip()), "")
    if any(d in first for d in (",", ";", "\t")):
        return "csv"
    extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    return {"ris": "ris", "bib": "bibtex", "bibtex": "bibtex", "csv": "csv", "tsv": "csv",
            "nbib": "nbib", "medline": "nbib"}.get(extension)


def parse(text: str, fmt: str, source: str) -> Parsed:
    """Parse `text` in format `fmt` into records whose ids start with `source:`."""
    parser = {"ris": parse_ris, "bibtex": parse_bibtex, "csv": parse_csv, "nbib": parse_nbib}[fmt]
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return parser(text, source)
