"""What the file parsers share: `Parsed` and `Problem`, ids, and field helpers."""

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from litrev.errors import printable
from litrev.sources.normalise import Record, author_name, normalise_doi

# Placeholders some tools write for "no value" (CoLRev writes UNKNOWN, pandas writes nan).
EMPTY = {"", "unknown", "nan", "na", "n/a", "none", "null"}
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,3}")  # "J", "JF", "J.F.", "J.-P."
RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}- ?(.*)$")
RECORD_TYPES = {
    # RIS TY / BibTeX ENTRYTYPE / PubMed PT -> the OpenAlex/Crossref words records use.
    "jour": "article", "ejour": "article", "jfull": "article", "mgzn": "article",
    "news": "article", "article": "article", "journal article": "article",
    "book": "book", "ebook": "book", "edbook": "book",
    "chap": "book-chapter", "echap": "book-chapter", "incollection": "book-chapter",
    "inbook": "book-chapter",
    "conf": "proceedings-article", "cpaper": "proceedings-article",
    "inproceedings": "proceedings-article", "conference": "proceedings-article",
    "proceedings": "proceedings",
    "thes": "dissertation", "phdthesis": "dissertation", "mastersthesis": "dissertation",
    "rprt": "report", "techreport": "report", "report": "report",
    "data": "dataset", "dataset": "dataset",
    "review": "review", "systematic review": "review", "meta-analysis": "review",
    "editorial": "editorial", "letter": "letter", "comment": "letter",
    "preprint": "preprint", "unpb": "preprint", "unpublished": "preprint",
}
# Where a database name shows up in an export (RIS DB/DP tags, URLs), and the
# PRISMA label and record-id prefix it gives when --source is not given.
DATABASES = (
    ("scopus", "Scopus"), ("web of science", "Web of Science"), ("webofscience", "Web of Science"),
    ("wos:", "Web of Science"), ("embase", "Embase"), ("psycinfo", "PsycINFO"),
    ("cinahl", "CINAHL"), ("cochrane", "Cochrane Library"), ("pubmed", "PubMed"),
    ("medline", "MEDLINE"),
)


@dataclass
class Problem:
    """Why one record (or the whole file) cannot be imported, and where."""

    line: int
    message: str

    def __str__(self) -> str:
        # The message often quotes the file; this is the one place it becomes text.
        return printable(f"line {self.line}: {self.message}")


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # records that cannot be imported
    warnings: list[Problem] = field(default_factory=list)  # records imported, worth a look
    database: str | None = None  # the database the export came from, when the file says


class BadRecord(ValueError):
    """A record that cannot be imported; the message says why."""


def slugify(name: str) -> str:
    """"Web of Science" -> "web-of-science": the record-id prefix of an import source."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "import"


# --- shared field helpers -----------------------------------------------------


def clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value if v)
    text = re.sub(r"\s+", " ", str(value)).strip()
    return None if text.lower() in EMPTY else text


def parse_year(value: Any) -> int | None:
    text = clean(value)
    if not text:
        return None
    match = YEAR.search(text)
    if not match:
        raise BadRecord(f"year {text!r} is not a year")
    return int(match.group(1))


def page_range(start: Any, end: Any = None) -> str | None:
    start, end = clean(start), clean(end)
    if start:
        start = re.sub(r"\s*(?:-+|–|—)\s*", "-", start)
    if start and end and end != start and "-" not in start:
        return f"{start}-{end}"
    return start or end


def person(name: str) -> str | None:
    """One author as "Family, Given": "Smith, J" stays; "Reimer EJ" and "E J Reimer" turn round."""
    name = clean(name)
    if not name or "," in name:
        return name
    words = name.split(" ")
    if len(words) > 1 and INITIALS.fullmatch(words[-1]):  # Vancouver style: "Reimer EJ"
        return f"{' '.join(words[:-1])}, {words[-1]}"
    return author_name(name)


def split_authors(value: Any) -> list[str]:
    """Authors from a list, or a string joined BibTeX-style ("A and B") or with semicolons."""
    if not value:
        return []
    parts: Iterable[str] = value if isinstance(value, list) else re.split(
        r"\s+and\s+|\s*;\s*|\n", str(value))
    return [p for p in (person(part) for part in parts) if p]


def record_type(value: Any) -> str | None:
    text = clean(value)
    return RECORD_TYPES.get(text.lower(), text.lower()) if text else None


def keyword_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else re.split(r"\s*;\s*", str(value or ""))
    return [k for k in (clean(v) for v in values) if k]


def doi_from(*values: Any, urls: Iterable[Any] = ()) -> str | None:
    """The first DOI in DOI fields (also "10.1/x [doi]", "DOI: 10.1/x"), else in doi.org links."""
    for value in values:
        for item in as_list(value):
            text = clean(item)
            found = re.search(r"10\.\d{4,9}/\S+", text or "")
            doi = normalise_doi(text) or (normalise_doi(found.group(0)) if found else None)
            if doi:
                return doi
    return next((doi for url in urls if (doi := normalise_doi(clean(url)))), None)


def content_id(raw: Any) -> str:
    """A stable id for a record whose file gives none: a hash of its text."""
    return "sha1-" + hashlib.sha1(repr(raw).encode()).hexdigest()[:12]


def detect_database(records: Iterable[Iterable[Any]]) -> str | None:
    """The database every record names (in its database tags, URLs, ids), else None.

    One detection for the whole file: a record's hints alone are a guess (litrev's
    own export links some records to scopus.com), and a PRISMA source must not be
    renamed by one record. So all records must name the same database.
    """
    found = {_database_of(values) for values in records}
    return found.pop() if len(found) == 1 else None


def _database_of(values: Iterable[Any]) -> str | None:
    text = " ".join(str(v) for v in values if v).lower()
    return next((label for needle, label in DATABASES if needle in text), None)


def collect(items: Iterable[tuple[int, Any]], build: Callable[[int, Any], Record]) -> Parsed:
    """Build each record; a build error or a reused id becomes a problem at that line.

    An id the file gives (a key, an `ID` column) must be unique; an id litrev made
    (a DOI, a hash) may repeat, as exports do hold duplicates: the later ones get
    their line number appended so that both are kept for dedupe.
    """
    parsed = Parsed()
    seen: dict[str, int] = {}
    for line, item in items:
        try:
            record = build(line, item)
        except BadRecord as e:
            parsed.problems.append(Problem(line, str(e)))
            continue
        if not (record.title or record.doi or record.pmid or record.authors):
            # Kept (a labelled set may count it) but worth a look.
            parsed.warnings.append(Problem(line, f"record {record.source_id!r} has no title, DOI, "
                                                 f"PMID or authors"))
        given = record.identifiers.pop("id_from", None) == "file"
        if record.id in seen:
            if given:
                parsed.problems.append(Problem(
                    line, f"id {record.source_id!r} is already used by the record at line "
                          f"{seen[record.id]}"))
                continue
            record.source_id = f"{record.source_id}-{line}"
            record.id = f"{record.source}:{record.source_id}"
        seen[record.id] = line
        parsed.records.append(record)
    return parsed


def make_record(source: str, ids: tuple[str | None, str], raw: dict[str, Any], **fields: Any) -> Record:
    """`ids`: the id the file gives (or None) and the id to use when it gives none."""
    given, fallback = ids
    original_id = str(given or fallback).strip()
    fields["identifiers"] = {**fields.get("identifiers", {}), "id_from": "file" if given else "litrev"}
    return Record(id=f"{source}:{original_id}", source=source, source_id=original_id, raw=raw,
                  **fields)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []
