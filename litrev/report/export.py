"""Exporting works for reference managers (RIS, BibTeX), spreadsheets (CSV) and ASReview.

Only canonical works (`works.merged_into IS NULL`) are exported. Screening state
comes from the `work_status` view and tags from `work_tags`; private screening
notes (`decisions.note`) are never read here, so they cannot leak into a file.
"""

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any

import bibtexparser
import rispy
from bibtexparser.model import Entry, Field
from sqlite_utils import Database

from litrev.errors import LitrevError
from litrev.sources.normalise import author_list
from litrev.views import COUNTED
from litrev.web.plugins.litrev_public import neutralise_formula

FORMATS = ("ris", "bibtex", "csv", "asreview")
STATUSES = ("included", "screened", "all")
TAG_COLUMNS = ("country", "design")  # work_tags keys given their own CSV column
WORK_COLUMNS = ("work_id", "title", "authors", "year", "venue", "volume", "issue", "pages", "doi",
                "pmid", "type", "language", "url", "abstract", "status", "exclusion_reason",
                *TAG_COLUMNS, "record_ids")
RECORD_COLUMNS = ("record_id", "source", "original_id", "work_id", "title", "authors", "year",
                  "venue", "volume", "issue", "pages", "doi", "pmid", "abstract", "status")
ASREVIEW_COLUMNS = ("record_id", "title", "abstract", "authors", "year", "doi", "label_included")
# litrev types (OpenAlex/Crossref words) -> RIS TY and BibTeX entry types.
RIS_TYPES = {"article": "JOUR", "review": "JOUR", "letter": "JOUR", "editorial": "JOUR",
             "book": "BOOK", "book-chapter": "CHAP", "proceedings-article": "CPAPER",
             "proceedings": "CONF", "dissertation": "THES", "report": "RPRT", "dataset": "DATA",
             "preprint": "UNPB", "journal-article": "JOUR"}
BIBTEX_TYPES = {"book": "book", "book-chapter": "incollection", "proceedings-article": "inproceedings",
                "proceedings": "proceedings", "dissertation": "phdthesis", "report": "techreport",
                "preprint": "unpublished", "dataset": "misc"}
LATEX_SPECIALS = re.compile(r"(?<!\\)([&%#$_])")


class RisWriter(rispy.RisWriter):
    """rispy's writer without its "1." line before each record, which some managers choke on."""

    def set_header(self, count: int) -> str:
        return ""


# --- reading ----------------------------------------------------------------------


def _status_filter(status: str) -> str:
    return {"all": "1", "included": "work_status.status = 'included'",
            "screened": "work_status.status != 'unscreened'"}[status]


def select_works(db: Database, status: str = "all") -> list[dict[str, Any]]:
    """Canonical works passing `status`, with screening status, tags and source record ids."""
    rows = [dict(r) for r in db.query(
        f"""select works.*, work_status.status, work_status.exclusion_reason
            from works left join work_status on work_status.work_id = works.id
            where works.merged_into is null and {_status_filter(status)}
            order by works.id""")]
    tags = _tags(db)
    record_ids = _record_ids(db)
    for row in rows:
        row["work_id"] = row["id"]
        row["authors"] = author_list(row.get("authors"))
        for key in TAG_COLUMNS:
            row[key] = tags.get((row["id"], key), [])
        row["record_ids"] = record_ids.get(row["id"], [])
    return rows


def select_records(db: Database, status: str = "all") -> list[dict[str, Any]]:
    """Source records (one row each) whose canonical work passes `status`, or all with `all`."""
    rows = [dict(r) for r in db.query(
        f"""select records.id as record_id, records.source, records.source_id as original_id,
                   canonical_works.canonical_id as work_id, records.title, records.authors,
                   records.year, records.venue, records.volume, records.issue, records.pages,
                   records.doi, records.pmid, records.abstract, work_status.status
            from records
            left join canonical_works on canonical_works.work_id = records.work_id
            left join work_status on work_status.work_id = canonical_works.canonical_id
            where {_status_filter(status)}
            order by canonical_works.canonical_id is null, canonical_works.canonical_id, records.id""")]
    for row in rows:
        row["authors"] = author_list(row["authors"])
    return rows


def _tags(db: Database) -> dict[tuple[int, str], list[str]]:
    """The tags that count (`views.COUNTED`, as `gaps` and the public site count them)."""
    found: dict[tuple[int, str], list[str]] = {}
    keys = json.dumps(TAG_COLUMNS)
    for work_id, key, value in db.execute(
            f"""select work_id, key, value from work_tags
                where key in (select value from json_each(?)) and value is not null
                  and value != '' and {COUNTED}
                order by work_id, key, value""", [keys]):
        found.setdefault((work_id, key), []).append(value)
    return found


def _record_ids(db: Database) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for work_id, record_id in db.execute(
            """select canonical_works.canonical_id, records.id from records
               join canonical_works on canonical_works.work_id = records.work_id
               order by records.id"""):
        found.setdefault(work_id, []).append(record_id)
    return found


# --- writing ----------------------------------------------------------------------


def export(db: Database, fmt: str, status: str = "all", records: bool = False,
           keep_formulas: bool = False) -> tuple[str, int]:
    """The export file's text and how many rows (works or records) it holds.

    CSV cells a spreadsheet would run as formulas are neutralised unless `keep_formulas`.
    """
    if records and fmt != "csv":
        raise LitrevError("--records exports one CSV row per source record. Use it with "
                          "--format csv.")
    if records:
        rows = select_records(db, status)
        return to_csv(rows, RECORD_COLUMNS, keep_formulas), len(rows)
    works = select_works(db, status)
    if fmt == "ris":
        return to_ris(works), len(works)
    if fmt == "bibtex":
        return to_bibtex(works), len(works)
    if fmt == "asreview":
        return to_csv((_asreview_row(w) for w in works), ASREVIEW_COLUMNS, keep_formulas), len(works)
    return to_csv(works, WORK_COLUMNS, keep_formulas), len(works)


def _one_line(value: Any) -> str | None:
    text = re.sub(r"\s+", " ", str(value)).strip() if value not in (None, "") else ""
    return text or None


def _page_range(pages: str | None) -> tuple[str | None, str | None]:
    if not pages:
        return None, None
    first, _, last = re.sub(r"\s*(?:-+|–|—)\s*", "-", pages).partition("-")
    return first or None, last or None


def to_ris(works: Iterable[dict[str, Any]]) -> str:
    refs = []
    for w in works:
        start, end = _page_range(w.get("pages"))
        ref = {
            "type_of_reference": RIS_TYPES.get(w.get("type") or "", "JOUR" if w.get("venue") else "GEN"),
            "id": f"litrev-{w['id']}",
            "title": _one_line(w.get("title")),
            "authors": [a for a in (_one_line(a) for a in w["authors"]) if a],
            "year": str(w["year"]) if w.get("year") else None,
            "secondary_title": _one_line(w.get("venue")),
            "volume": _one_line(w.get("volume")),
            "number": _one_line(w.get("issue")),
            "start_page": start,
            "end_page": end,
            "doi": w.get("doi"),
            "abstract": _one_line(w.get("abstract")),
            "language": _one_line(w.get("language")),
            "urls": [w["url"]] if w.get("url") else [],
            "accession_number": w.get("pmid"),
        }
        refs.append({k: v for k, v in ref.items() if v})
    return rispy.dumps(refs, implementation=RisWriter)


def _latex(value: Any) -> str | None:
    """Braces dropped (they would unbalance the entry) and LaTeX's special characters escaped."""
    text = _one_line(value)
    return LATEX_SPECIALS.sub(r"\\\1", text.replace("{", "").replace("}", "")) if text else None


def to_bibtex(works: Iterable[dict[str, Any]]) -> str:
    library = bibtexparser.Library()
    for w in works:
        entry_type = BIBTEX_TYPES.get(w.get("type") or "", "article" if w.get("venue") else "misc")
        venue_field = "booktitle" if entry_type in ("incollection", "inproceedings") else "journal"
        fields = {
            "title": _latex(w.get("title")),
            "author": " and ".join(a for a in (_latex(a) for a in w["authors"]) if a) or None,
            "year": str(w["year"]) if w.get("year") else None,
            venue_field: _latex(w.get("venue")),
            "volume": _latex(w.get("volume")),
            "number": _latex(w.get("issue")),
            "pages": _latex((w.get("pages") or "").replace("-", "--")) if w.get("pages") else None,
            "doi": _one_line(w.get("doi")),
            "pmid": _one_line(w.get("pmid")),
            "abstract": _latex(w.get("abstract")),
            "language": _latex(w.get("language")),
            "url": _one_line(w.get("url")),
        }
        library.add(Entry(entry_type, f"litrev{w['id']}",
                          [Field(k, v.replace("{", "").replace("}", "")) for k, v in fields.items() if v]))
    return bibtexparser.write_string(library)


def _asreview_row(work: dict[str, Any]) -> dict[str, Any]:
    label = {"included": 1, "excluded": 0}.get(work.get("status") or "")
    return {"record_id": work["id"], "title": work.get("title"), "abstract": work.get("abstract"),
            "authors": work["authors"], "year": work.get("year"), "doi": work.get("doi"),
            "label_included": label}


def to_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...],
           keep_formulas: bool = False) -> str:
    """CSV text; cells such as `=HYPERLINK(...)` are prefixed with ' (see neutralise_formula)."""
    cell = (lambda v: v) if keep_formulas else neutralise_formula
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell("; ".join(v) if isinstance(v, list) else v)
                         for k, v in row.items()})
    return out.getvalue()
