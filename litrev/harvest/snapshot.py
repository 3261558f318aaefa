"""The curated peer-mentor evidence base shipped with litrev, loaded into a working database.

`litrev/data/evidence_base.csv` is a snapshot the litrev team built by hand: one row per
study or review, its metadata as checked on a public page (`checked_url`), and the team's
own coding with a reason for each code. `load_snapshot` reads and checks it (pure);
`build_demo` writes it through the ordinary paths, so it behaves like any other source:

- the rows are records of a source named "litrev snapshot" (one import run), linked to
  works by the same dedupe as harvested records, so a later `litrev harvest` merges
  with them;
- the coding becomes people's tags (`tags.set_tags`) by SNAPSHOT_REVIEWER, with the
  reason as evidence;
- the outcome becomes screening adjudications (`screen.record_decision`) by the same
  reviewer: included at every stage, or excluded at the last one with a reason from
  review.toml.

Nothing a person wrote is overwritten: a key someone already tagged by hand, or a stage
someone already decided, is left as it is. Re-running changes nothing.
"""

import csv
import dataclasses
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pycountry
from sqlite_utils import Database

from litrev.db import write_transaction
from litrev.dedupe.storage import update_works
from litrev.errors import InputFileError, LitrevError
from litrev.harvest.store import finish_run, record_row, save_records, start_run
from litrev.screen.decisions import record_decision
from litrev.screen.settings import ReviewSettings
from litrev.sources.normalise import Record, normalise_doi
from litrev.tags.designs import DESIGNS
from litrev.tags.storage import NATIONS, set_tags

SNAPSHOT = Path(__file__).parents[1] / "data" / "evidence_base.csv"
SOURCE = "litrev-snapshot"  # the record-id prefix
SOURCE_NAME = "litrev snapshot"  # the PRISMA label
SNAPSHOT_REVIEWER = "litrev team (snapshot)"
COLUMNS = ("doi", "title", "authors", "year", "venue", "checked_url", "countries", "nations",
           "country_reason", "design", "design_reason", "outcome", "exclusion_reason", "summary")
OUTCOMES = ("included", "excluded")
FIRST_YEAR = 1950


@dataclass(frozen=True)
class SnapshotStudy:
    """One checked row of the snapshot."""

    line: int
    doi: str
    title: str
    authors: tuple[str, ...]
    year: int
    venue: str
    checked_url: str
    countries: tuple[str, ...]
    nations: tuple[str, ...]
    country_reason: str
    design: str
    design_reason: str
    outcome: str
    exclusion_reason: str | None
    summary: str

    @property
    def record_id(self) -> str:
        return f"{SOURCE}:{self.doi}"

    def as_raw(self) -> dict[str, Any]:
        """What is stored as the record's raw JSON: the row as the team wrote it."""
        row = dataclasses.asdict(self)
        row.pop("line")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in row.items()}


# --- reading and checking (pure) ------------------------------------------------------


def load_snapshot(path: str | Path = SNAPSHOT) -> list[SnapshotStudy]:
    """Read the snapshot; any bad row is a one-line error naming the file and line.

    Lines starting with `#` are the file's header (how and when it was built).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError as e:
        raise InputFileError(f"Cannot read the snapshot {path} ({e.strerror}). Reinstall litrev.")
    numbered = [(i, line) for i, line in enumerate(lines, 1) if not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("".join(line for _, line in numbered), newline=""))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputFileError(f"{path}: the snapshot lacks the column(s) {', '.join(missing)}. "
                             f"Its columns are: {', '.join(COLUMNS)}.")
    studies, seen = [], {}
    for row in reader:
        line = numbered[reader.line_num - 1][0] if reader.line_num <= len(numbered) else len(lines)
        if not any((v or "").strip() for v in row.values()):
            continue
        study = _study(path, line, {k: (v or "").strip() for k, v in row.items() if k})
        if study.doi in seen:
            raise InputFileError(f"{path}:{line}: DOI {study.doi} is also on line {seen[study.doi]}. "
                                 "Keep one row per study.")
        seen[study.doi] = line
        studies.append(study)
    if not studies:
        raise InputFileError(f"{path}: the snapshot holds no studies. Reinstall litrev.")
    return studies


def _study(path: Path, line: int, row: dict[str, str]) -> SnapshotStudy:
    def bad(problem: str) -> InputFileError:
        return InputFileError(f"{path}:{line}: {problem}. Fix the snapshot row.")

    for column in ("doi", "title", "authors", "year", "venue", "checked_url", "country_reason",
                   "design", "design_reason", "outcome", "summary"):
        if not row.get(column):
            raise bad(f"the {column} is empty")
    doi = normalise_doi(row["doi"])
    if doi is None or doi != row["doi"].lower():
        raise bad(f"{row['doi']!r} is not a bare DOI (write it as 10.xxxx/...)")
    if not row["year"].isdigit() or not FIRST_YEAR <= int(row["year"]) <= date.today().year + 1:
        raise bad(f"year {row['year']!r} is not a plausible publication year")
    if not row["checked_url"].startswith(("https://", "http://")):
        raise bad(f"checked_url {row['checked_url']!r} is not a web address")
    if row["design"] not in DESIGNS:
        raise bad(f"design {row['design']!r} is not one of {', '.join(DESIGNS)}")
    if row["outcome"] not in OUTCOMES:
        raise bad(f"outcome {row['outcome']!r} is not included or excluded")
    reason = row.get("exclusion_reason") or None
    if (row["outcome"] == "excluded") != bool(reason):
        raise bad("an excluded study needs an exclusion_reason, and only an excluded one")
    countries = _codes(row.get("countries", ""), bad)
    nations = tuple(n for n in row.get("nations", "").split(";") if n.strip())
    unknown = [n for n in nations if n not in NATIONS]
    if unknown or (nations and "GB" not in countries):
        raise bad(f"nations {';'.join(nations)!r} need country GB and names from {', '.join(sorted(NATIONS))}")
    return SnapshotStudy(
        line=line, doi=doi, title=row["title"], authors=tuple(_authors(row["authors"])),
        year=int(row["year"]), venue=row["venue"], checked_url=row["checked_url"],
        countries=countries, nations=nations, country_reason=row["country_reason"],
        design=row["design"], design_reason=row["design_reason"], outcome=row["outcome"],
        exclusion_reason=reason, summary=row["summary"])


def _codes(text: str, bad) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in text.split(";") if c.strip())
    for code in codes:
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None or code != code.upper():
            raise bad(f"country {code!r} is not an ISO 3166 alpha-2 code")
    return codes


def _authors(text: str) -> list[str]:
    """"Bassuk EL; Hanson J; et al." -> the named authors (a page that listed only the
    first ones ends with "et al.")."""
    return [a.strip() for a in text.split(";") if a.strip() and a.strip().lower() != "et al."]


def snapshot_record(study: SnapshotStudy) -> Record:
    """The study as a record of the "litrev snapshot" source (no abstract: it is the publisher's)."""
    return Record(
        id=study.record_id, source=SOURCE, source_id=study.doi, raw=study.as_raw(),
        title=study.title, authors=list(study.authors), year=study.year, venue=study.venue,
        doi=study.doi, type="review" if study.design == "systematic-review" else "article",
        identifiers={"doi": study.doi}, url=f"https://doi.org/{study.doi}")


def check_reasons(studies: list[SnapshotStudy], settings: ReviewSettings) -> None:
    """Every exclusion reason must be one review.toml offers at the last stage (checked
    before anything is written, so a mismatch never leaves half a demo behind)."""
    offered = {r.lower() for r in settings.reasons_for(list(settings.stages)[-1])}
    for study in studies:
        if study.exclusion_reason and study.exclusion_reason.lower() not in offered:
            raise LitrevError(
                f"The snapshot excludes {study.doi} for {study.exclusion_reason!r}, which "
                f"{settings.path or 'the review settings'} does not offer. Add it to [exclusion] reasons.")


# --- writing ---------------------------------------------------------------------------


@dataclass
class DemoSummary:
    studies: int = 0
    run_id: int | None = None
    records_new: int = 0
    records_updated: int = 0
    tags_set: int = 0
    tags_kept: int = 0
    decisions: int = 0
    decisions_kept: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def headline(self) -> str:
        saved = (f"{self.records_new} new and {self.records_updated} updated records (run {self.run_id})"
                 if self.run_id else "no record changes")
        kept = self.tags_kept + self.decisions_kept
        return (f"Snapshot of {self.studies} studies: {saved}; {self.tags_set} tags and "
                f"{self.decisions} screening decisions added"
                + (f"; {kept} left as people had set them" if kept else "") + ".")


def build_demo(db: Database, settings: ReviewSettings, studies: list[SnapshotStudy] | None = None,
               path: str | Path = SNAPSHOT) -> DemoSummary:
    """Write the snapshot into `db` as records, works, tags and decisions (see the module doc)."""
    studies = load_snapshot(path) if studies is None else studies
    check_reasons(studies, settings)
    summary = DemoSummary(studies=len(studies))
    _save_records(db, studies, path, summary)
    update_works(db)  # the tags and decisions below are the works', so link first
    works = _work_ids(db, studies)
    # The snapshot's reviewer is litrev's, not a person: review.toml's list of screeners
    # (which catches people's typos) does not apply to it.
    team = dataclasses.replace(settings, reviewers=[])
    with write_transaction(db):
        for study in studies:
            _save_tags(db, works[study.doi], study, summary)
            _save_decisions(db, team, works[study.doi], study, summary)
    return summary


def _save_records(db: Database, studies: list[SnapshotStudy], path: str | Path,
                  summary: DemoSummary) -> None:
    """One import run when something changed; none when every record is already stored as is."""
    records = [snapshot_record(s) for s in studies]
    stored = dict(db.execute("select id, raw_sha256 from records where source = ?", [SOURCE]).fetchall())
    if all(stored.get(r.id) == record_row(r, "")["raw_sha256"] for r in records):
        return
    details = {"format": "litrev snapshot", "records": len(records), "id_prefix": SOURCE}
    run_id = start_run(db, kind="import", source="import", source_name=SOURCE_NAME,
                       file=str(path), details=details)
    try:
        with write_transaction(db):
            counts = save_records(db, records, run_id)
    except Exception as e:
        finish_run(db, run_id, "failed", error=str(e))
        raise
    finish_run(db, run_id, "complete", counts)
    summary.run_id, summary.records_new, summary.records_updated = run_id, counts.new, counts.updated


def _work_ids(db: Database, studies: list[SnapshotStudy]) -> dict[str, int]:
    """Each study's canonical work (dedupe may have merged it with harvested records)."""
    rows = db.execute(
        """select records.source_id, canonical_works.canonical_id from records
           join canonical_works on canonical_works.work_id = records.work_id
           where records.source = ?""", [SOURCE]).fetchall()
    found = dict(rows)
    missing = [s.doi for s in studies if s.doi not in found]
    if missing:
        raise LitrevError(f"{len(missing)} snapshot records have no work after dedupe "
                          f"(e.g. {missing[0]}). Run `litrev dedupe` and try again.")
    return found


def _save_tags(db: Database, work_id: int, study: SnapshotStudy, summary: DemoSummary) -> None:
    wanted = {
        "country": ([("country", c) for c in study.countries], study.country_reason),
        "nation": ([("nation", n) for n in study.nations], study.country_reason),
        "design": ([("design", study.design)], study.design_reason),
    }
    for key, (assignments, reason) in wanted.items():
        if not assignments:
            continue
        if _tagged_by_hand(db, work_id, key):
            summary.tags_kept += _someone_else(db, work_id, "tags", key)
            continue
        summary.tags_set += set_tags(db, work_id, assignments, SNAPSHOT_REVIEWER, evidence=reason)


def _tagged_by_hand(db: Database, work_id: int, key: str) -> bool:
    sql = "select 1 from work_tags where work_id = ? and key = ? and origin = 'manual' limit 1"
    return db.execute(sql, [work_id, key]).fetchone() is not None


def _someone_else(db: Database, work_id: int, table: str, key: str) -> int:
    """1 when a person (not the snapshot) wrote the row that made us skip, so it is counted as kept."""
    if table == "tags":
        sql = ("select count(*) from work_tags where work_id = ? and key = ? and origin = 'manual' "
               "and coalesce(reviewer, '') != ?")
    else:
        sql = ("select count(*) from decisions join canonical_works on canonical_works.work_id = "
               "decisions.work_id where canonical_works.canonical_id = ? and stage = ? and reviewer != ?")
    return int(db.execute(sql, [work_id, key, SNAPSHOT_REVIEWER]).fetchone()[0] > 0)


def _save_decisions(db: Database, settings: ReviewSettings, work_id: int, study: SnapshotStudy,
                    summary: DemoSummary) -> None:
    stages = list(settings.stages)
    for stage in stages:
        last = stage == stages[-1]
        decision = "exclude" if last and study.outcome == "excluded" else "include"
        if _decided(db, work_id, stage):
            summary.decisions_kept += _someone_else(db, work_id, "decisions", stage)
            if decision == "exclude" or not _included(db, work_id, stage):
                return
            continue
        record_decision(db, settings, work_id, stage, SNAPSHOT_REVIEWER, decision,
                        reason=study.exclusion_reason if decision == "exclude" else None,
                        note=f"litrev snapshot: {study.checked_url}", kind="adjudication")
        summary.decisions += 1
        if decision == "exclude":
            return


def _decided(db: Database, work_id: int, stage: str) -> bool:
    sql = """select 1 from decisions join canonical_works on canonical_works.work_id = decisions.work_id
             where canonical_works.canonical_id = ? and decisions.stage = ? limit 1"""
    return db.execute(sql, [work_id, stage]).fetchone() is not None


def _included(db: Database, work_id: int, stage: str) -> bool:
    """Whether people's decisions so far let the work go on past `stage`."""
    row = db.execute("select outcome from screening_outcomes where work_id = ? and stage = ?",
                     [work_id, stage]).fetchone()
    return bool(row) and row[0] == "include"


def snapshot_counts(studies: list[SnapshotStudy]) -> dict[str, Any]:
    """What the snapshot itself says (for tests and the command's output): included
    studies, those in the UK, and per nation."""
    included = [s for s in studies if s.outcome == "included"]
    uk = [s for s in included if "GB" in s.countries]
    nations: dict[str, int] = {}
    for s in uk:
        for n in s.nations:
            nations[n] = nations.get(n, 0) + 1
    return {"studies": len(studies), "included": len(included), "excluded": len(studies) - len(included),
            "uk": len(uk), "nations": dict(sorted(nations.items())),
            "reasons": sorted({s.exclusion_reason for s in studies if s.exclusion_reason})}
