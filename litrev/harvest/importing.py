"""Importing RIS, BibTeX, CSV and PubMed files: each file is a source in its own right.

A file is read, parsed and checked whole before anything is written: one malformed
record stops the import (nothing saved, the error names the line) unless `skip_bad`
is given, and so does a record id another file holds or a change under people's
work. Each import is one `harvest_runs` row (kind `import`), so it gets its own
line in PRISMA identification, and its records then go through the same dedupe
as harvested ones (the command's `litrev.finish.finish_write`).

The records are then saved in chunks of `SAVE_CHUNK`, one immediate transaction
each (as a harvest saves a page), so screeners' decisions commit between them: a
200,000-row file in one transaction held the write lock past their busy timeout.
The run row says `running` until the last chunk is saved, then `complete`. An
import killed mid-way keeps its whole chunks; the same file imported again gets
the same ids (its records are held by its own file name) and upserts them, so it
ends with the records of one clean run.
"""

import codecs
import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from litrev.db import write_transaction
from litrev.errors import InputFileError
from litrev.harvest.store import SaveCounts, finish_run, raw_sha256, save_records, start_run, update_run
from litrev.sources.files import FORMATS, Parsed, Problem, parse, slugify, sniff_format
from litrev.sources.normalise import Record
from litrev.views import CONFIRMED

DEFAULT_LABEL = "Imported file"
# Records per write transaction: about 0.5 s of lock at 2,000 (a harvest page is 200).
SAVE_CHUNK = 2_000
FORMAT_SOURCES = {"nbib": "PubMed"}  # a format that names its database


@dataclass
class ImportResult:
    run_id: int
    file: str
    format: str
    source: str  # the record-id prefix, e.g. "pubmed"
    source_name: str  # the PRISMA label, e.g. "PubMed"
    encoding: str
    counts: SaveCounts
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "file": self.file, "format": self.format,
            "source": self.source, "source_name": self.source_name, "encoding": self.encoding,
            "records": self.counts.fetched, "new": self.counts.new, "updated": self.counts.updated,
            "skipped": [str(p) for p in self.skipped], "warnings": [str(p) for p in self.warnings],
        }


def read_text(path: str | Path) -> tuple[str, str]:
    """The file's text and the encoding it was read with.

    UTF-8 (with or without a BOM) first; UTF-16 when a BOM says so; otherwise
    Windows-1252, which is what "latin-1" exports from EndNote, Ovid and Excel
    usually are (it only differs from ISO-8859-1 in bytes 0x80-0x9F, where
    ISO-8859-1 has control codes), and ISO-8859-1 for the few bytes cp1252 lacks.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputFileError(f"Cannot read {path} ({e.strerror}). Check the path.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


@dataclass
class ParsedFile:
    parsed: Parsed
    format: str
    source: str  # the record-id prefix
    source_name: str  # the PRISMA label
    encoding: str


def parse_file(path: str | Path, fmt: str | None = None, source: str | None = None) -> ParsedFile:
    """Read and parse a file, naming its source; writes nothing."""
    text, encoding = read_text(path)
    fmt = fmt or sniff_format(text, Path(path).name)
    if fmt not in FORMATS:
        raise InputFileError(
            f"Cannot tell the format of {path}. Give --format {'|'.join(FORMATS)}.")
    parsed = parse(text, fmt, "pending")
    label = source or parsed.database or FORMAT_SOURCES.get(fmt) or DEFAULT_LABEL
    slug = slugify(source) if source else (slugify(label) if label != DEFAULT_LABEL else "import")
    for record in parsed.records:
        record.source, record.id = slug, f"{slug}:{record.source_id}"
    return ParsedFile(parsed, fmt, slug, label, encoding)


def import_file(
    db: Database, path: str | Path, *, fmt: str | None = None, source: str | None = None,
    query: str | None = None, skip_bad: bool = False,
) -> ImportResult:
    """Import one file: checked whole (nothing written if it fails), then saved in chunks
    (its good records only with `skip_bad`); see the module doc."""
    path = Path(path)
    found = parse_file(path, fmt, source)
    parsed, fmt, slug, label, encoding = (found.parsed, found.format, found.source,
                                          found.source_name, found.encoding)
    if parsed.problems and not skip_bad:
        first, more = parsed.problems[0], len(parsed.problems) - 1
        also = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise InputFileError(
            f"{path.name} {first}{also}; nothing was imported. Fix the file, or give --skip-bad "
            f"to import the {len(parsed.records)} good records and list the bad ones.")
    if not parsed.records:
        raise InputFileError(f"{path.name} holds no records to import. Check it is a {fmt} file.")
    details = {"format": fmt, "records": len(parsed.records), "query": query, "encoding": encoding,
               "id_prefix": slug, "skipped": [str(p) for p in parsed.problems]}
    query_id = query if query and db["queries"].count_where("id = ?", [query]) else None
    # `source` is the kind of source (as the schema says: "import"); the database the
    # file came from is the PRISMA label `source_name` and the records' `source`.
    run = {"kind": "import", "source": "import", "source_name": label, "query_id": query_id,
           "file": str(path), "details": details}
    # Whose ids are whose is decided before anything is written; each chunk checks its
    # ids again under the write lock, so an import of another file saved meanwhile
    # never loses its records to this one.
    assign_ids(db, parsed.records, path.name)
    refuse_changes_to_reviewed(db, parsed.records, path.name)
    run_id = start_run(db, **run)
    try:
        counts = save_in_chunks(db, parsed.records, run_id, path.name)
    except BaseException as e:
        _mark_failed(db, run_id, e)
        raise
    finish_run(db, run_id, "complete", counts)
    result = ImportResult(run_id=run_id, file=str(path), format=fmt, source=slug,
                          source_name=label, encoding=encoding, counts=counts,
                          skipped=parsed.problems, warnings=parsed.warnings)
    return result


def save_in_chunks(db: Database, records: list[Record], run_id: int, file_name: str) -> SaveCounts:
    """Save `records` in immediate transactions of `SAVE_CHUNK`, each checked again under the lock."""
    counts, chunk = SaveCounts(), SAVE_CHUNK
    for start in range(0, len(records), chunk):
        part = records[start:start + chunk]
        with write_transaction(db):
            try:
                check_still_ours(db, part, file_name)
                refuse_changes_to_reviewed(db, part, file_name)
            except InputFileError as e:
                raise InputFileError(
                    f"{str(e).split('; nothing was imported')[0]}; the import stopped after "
                    f"{start:,} of {len(records):,} records (run {run_id}, marked failed). "
                    "Import the same file again: a re-run keeps the saved records' ids.") from None
            counts.add(save_records(db, part, run_id, start_rank=start + 1))
            update_run(db, run_id, fetched=counts.fetched, new=counts.new, updated=counts.updated)
    return counts


def _mark_failed(db: Database, run_id: int, error: BaseException) -> None:
    """Best effort: a run that cannot be marked (the lock again) stays `running`, as after a kill."""
    with contextlib.suppress(Exception):  # the original error is the one to report
        finish_run(db, run_id, "failed", error=str(error) or type(error).__name__)


@dataclass
class Stored:
    """What the database holds under one record id, for deciding whose it is."""

    raw_sha256: str
    files: set[str]  # the names of the import files that brought it (none: a harvest)
    title: str | None
    doi: str | None
    work_id: int | None


def stored_records(db: Database, ids: list[str]) -> dict[str, Stored]:
    sql = """
        select records.id, records.raw_sha256, records.title, records.doi, records.work_id,
               (select json_group_array(harvest_runs.file) from provenance
                join harvest_runs on harvest_runs.id = provenance.run_id
                where provenance.record_id = records.id and harvest_runs.kind = 'import'
                  and harvest_runs.file is not null) as files
        from records where records.id in (select value from json_each(?))"""
    return {
        id_: Stored(sha, {Path(f).name for f in json.loads(files)}, title, doi, work_id)
        for id_, sha, title, doi, work_id, files in db.execute(sql, [json.dumps(ids)])
    }


def assign_ids(db: Database, records: list[Record], file_name: str) -> None:
    """Scope the ids of records another file (or a harvest) already holds; see the module doc."""
    scope = slugify(Path(file_name).stem)
    stored = stored_records(db, [r.id for r in records])
    for record in records:
        held = stored.get(record.id)
        if held and file_name not in held.files and held.raw_sha256 != raw_sha256(record):
            record.source_id = f"{scope}:{record.source_id}"
            record.id = f"{record.source}:{record.source_id}"
    check_still_ours(db, records, file_name)


def check_still_ours(db: Database, records: list[Record], file_name: str) -> None:
    """Refuse ids used twice, or held by another file's (or a harvest's) different record."""
    stored = stored_records(db, [r.id for r in records])
    seen: set[str] = set()
    for record in records:
        held = stored.get(record.id)
        taken = held and file_name not in held.files and held.raw_sha256 != raw_sha256(record)
        if taken or record.id in seen:
            raise InputFileError(
                f"{file_name}: record id {record.id!r} is already used by another file's record; "
                f"nothing was imported. Give the file its own --source.")
        seen.add(record.id)


def refuse_changes_to_reviewed(db: Database, records: list[Record], file_name: str) -> None:
    """Refuse a re-import that changes the title or DOI under screening decisions or tags.

    Votes and tags belong to the paper that was read; a record that became another
    paper (a file whose rows were renumbered) must not carry them along silently.
    """
    stored = stored_records(db, [r.id for r in records])
    for record in records:
        held = stored.get(record.id)
        if not held or held.work_id is None or held.raw_sha256 == raw_sha256(record):
            continue
        what = _identity_change(held, record)
        if what and _has_peoples_work(db, held.work_id):
            raise InputFileError(
                f"{file_name}: record {record.id} would change its {what}, but work "
                f"{held.work_id} has screening decisions or tags; nothing was imported. Check "
                f"the file is the one imported before, or import it with its own --source.")


def _identity_change(held: Stored, record: Record) -> str | None:
    """"title ('old' -> 'new')" or "DOI (...)" when the record now names another paper."""
    if _title_key(held.title) != _title_key(record.title):
        return f"title ({_short(held.title)!r} -> {_short(record.title)!r})"
    if (held.doi or None) != (record.doi or None):
        return f"DOI ({held.doi!r} -> {record.doi!r})"
    return None


def _short(text: str | None, limit: int = 60) -> str | None:
    return text if not text or len(text) <= limit else f"{text[:limit - 3]}..."


def _title_key(title: str | None) -> str:
    """Case, spacing and punctuation fixes are not a different title."""
    return re.sub(r"\W+", "", (title or "").casefold())


def _has_peoples_work(db: Database, work_id: int) -> bool:
    sql = f"""
        select exists(select 1 from decisions where work_id = :w)
            or exists(select 1 from tags where work_id = :w
                      and ({CONFIRMED} or status = 'rejected'))"""
    return bool(db.execute(sql, {"w": work_id}).fetchone()[0])
