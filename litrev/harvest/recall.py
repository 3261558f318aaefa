"""Search validation: did each saved query find the studies the team already knows?

A known-studies file is a CSV (`queries/<name>.known.csv`) with columns
`doi, title, year, first_author, journal, taken_from, note`; a row needs a DOI
or a title. A known study counts as found by a query when a record that query
retrieved matches it (same normalised DOI, else the same title by dedupe's fuzzy
threshold and a year at most one apart), or when such a record belongs to the
same deduplicated work as a record the query retrieved.

`load_known` reads and checks the file, `match_known` and `recall_report` are
pure, `check_recall` reads the database; nothing here writes.
"""

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlite_utils import Database

from litrev.dedupe.matching import TITLE_SAME
from litrev.errors import InputFileError, LitrevError
from litrev.sources.normalise import normalise_doi, normalise_title

KNOWN_COLUMNS = ("doi", "title", "year", "first_author", "journal", "taken_from", "note")
# Online-first and print years of one article differ by one at most (as in dedupe).
YEAR_SLACK = 1
# Very short normalised titles ("editorial", "letter") match too much to trust.
MIN_TITLE_CHARS = 12


@dataclass
class KnownStudy:
    line: int
    doi: str | None
    title: str | None
    year: int | None
    first_author: str = ""
    journal: str = ""
    taken_from: str = ""
    note: str = ""
    title_key: str = field(default="", repr=False)

    def label(self) -> str:
        who = f"{self.first_author} " if self.first_author else ""
        when = f"{self.year}" if self.year else "n.d."
        return f"{who}({when}) {self.title or self.doi}"

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("title_key")
        return row


@dataclass
class Candidate:
    """A record reduced to what matching needs; `key` is its canonical work (or the record)."""

    id: str
    doi: str | None
    title_key: str
    year: int | None
    key: str


def load_known(path: str | Path) -> list[KnownStudy]:
    """Read a known-studies CSV; a broken row is a one-line error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"No known-studies file at {path}. Pass --known FILE.")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "doi" not in columns and "title" not in columns:
            raise InputFileError(f"{path}: needs a `doi` or `title` column (columns: {', '.join(KNOWN_COLUMNS)}).")
        studies = []
        for row in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            if not any(row.values()):
                continue
            studies.append(_known_row(path, reader.line_num, row))
    if not studies:
        raise InputFileError(f"{path}: no studies in the file. Add one row per known study.")
    return studies


def _known_row(path: Path, line: int, row: dict[str, str]) -> KnownStudy:
    raw_doi = row.get("doi") or ""
    doi = normalise_doi(raw_doi)
    if raw_doi and not doi:
        raise InputFileError(f"{path}:{line}: {raw_doi!r} is not a DOI. Write it as 10.xxxx/... or leave it empty.")
    title = row.get("title") or None
    if not doi and not title:
        raise InputFileError(f"{path}:{line}: a known study needs a DOI or a title.")
    year = None
    if row.get("year"):
        try:
            year = int(row["year"])
        except ValueError:
            raise InputFileError(f"{path}:{line}: year {row['year']!r} is not a number.") from None
    return KnownStudy(
        line=line, doi=doi, title=title, year=year, first_author=row.get("first_author", ""),
        journal=row.get("journal", ""), taken_from=row.get("taken_from", ""), note=row.get("note", ""),
        title_key=normalise_title(title),
    )


def match_known(studies: Sequence[KnownStudy], candidates: Iterable[Candidate]) -> list[set[str]]:
    """For each known study, the keys (canonical works) of the candidates that match it."""
    candidates = list(candidates)
    by_doi: dict[str, set[str]] = {}
    titles: dict[int, str] = {}
    for i, c in enumerate(candidates):
        if c.doi:
            by_doi.setdefault(c.doi, set()).add(c.key)
        if len(c.title_key) >= MIN_TITLE_CHARS:
            titles[i] = c.title_key
    matches = []
    for study in studies:
        keys = set(by_doi.get(study.doi, ())) if study.doi else set()
        if len(study.title_key) >= MIN_TITLE_CHARS:
            hits = process.extract(study.title_key, titles, scorer=fuzz.ratio,
                                   score_cutoff=TITLE_SAME, limit=None)
            for _, _, i in hits:
                c = candidates[i]
                if study.year is None or c.year is None or abs(study.year - c.year) <= YEAR_SLACK:
                    keys.add(c.key)
        matches.append(keys)
    return matches


def recall_report(studies: Sequence[KnownStudy], matches: Sequence[set[str]],
                  found_by_query: dict[str, set[str]], in_database: set[str]) -> dict[str, Any]:
    """The arithmetic: per query and overall, which known studies were found and which missed.

    `found_by_query` maps a query to the keys its records have; `in_database` holds
    every key in the database (any source, citation searching and imports too).
    """
    total = len(studies)

    def summary(keys: set[str]) -> dict[str, Any]:
        missed = [i for i, m in enumerate(matches) if not m & keys]
        return {
            "found": total - len(missed), "total": total,
            "recall": round((total - len(missed)) / total, 4) if total else None,
            "missed": [studies[i].label() for i in missed],
            "missed_lines": [studies[i].line for i in missed],
        }

    queries = [{"query": q, **summary(keys)} for q, keys in sorted(found_by_query.items())]
    union = set().union(*found_by_query.values()) if found_by_query else set()
    rows = []
    for study, m in zip(studies, matches):
        rows.append({
            **study.as_dict(),
            "found_by": sorted(q for q, keys in found_by_query.items() if m & keys),
            "in_database": bool(m & in_database),
        })
    return {"queries": queries, "overall": summary(union), "database": summary(in_database),
            "studies": rows}


def check_recall(db: Database, known_path: str | Path, query: str | None = None) -> dict[str, Any]:
    """Recall of each saved query (or just `query`) against the known studies in `known_path`."""
    studies = load_known(known_path)
    query_ids = _queries(db, query)
    candidates = list(_candidates(db))
    matches = match_known(studies, candidates)
    key_of = {c.id: c.key for c in candidates}
    found_by_query = {q: {key_of[r] for r in _records_found_by(db, q) if r in key_of} for q in query_ids}
    report = recall_report(studies, matches, found_by_query, set(key_of.values()))
    report["known_file"] = str(known_path)
    return report


def _queries(db: Database, query: str | None) -> list[str]:
    sql = "select distinct query_id from harvest_runs where query_id is not null order by query_id"
    ran = [r[0] for r in db.execute(sql)]
    if query is not None:
        if query not in ran:
            raise LitrevError(f"Query {query!r} has not been harvested yet. Run `litrev harvest {query}` first.")
        return [query]
    if not ran:
        raise LitrevError("No saved query has been harvested yet. Run `litrev harvest` first.")
    return ran


def _candidates(db: Database) -> Iterable[Candidate]:
    sql = """
        select records.id, records.doi, records.title, records.year, canonical_works.canonical_id
        from records left join canonical_works on canonical_works.work_id = records.work_id
    """
    for rid, doi, title, year, canonical in db.execute(sql):
        key = f"work:{canonical}" if canonical is not None else f"record:{rid}"
        yield Candidate(id=rid, doi=normalise_doi(doi), title_key=normalise_title(title), year=year, key=key)


def _records_found_by(db: Database, query_id: str) -> list[str]:
    sql = """
        select distinct provenance.record_id from provenance
        join harvest_runs on harvest_runs.id = provenance.run_id
        where harvest_runs.query_id = ?
    """
    return [r[0] for r in db.execute(sql, [query_id])]


def default_known_files(queries_dir: str | Path, query: str | None) -> list[Path]:
    """`queries/<query>.known.csv` for one query, else every `*.known.csv` in the folder."""
    folder = Path(queries_dir)
    if query and (folder / f"{query}.known.csv").is_file():
        return [folder / f"{query}.known.csv"]
    return sorted(folder.glob("*.known.csv"))
