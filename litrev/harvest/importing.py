"""Importing RIS, BibTeX, CSV and PubMed files: each file is a source in its own right.

A file is read and parsed whole before anything is written: one malformed record
stops the import (nothing saved, the error names the line) unless `skip_bad` is
given. Each import is one `harvest_runs` row (kind `import`), so it gets its own
line in PRISMA identification, and its records then go through the same dedupe
as harvested ones.
"""

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from litrev.db import ensure_shape, write_transaction
from litrev.dedupe.storage import update_works
from litrev.errors import InputFileError
from litrev.harvest.store import SaveCounts, finish_run, save_records, start_run
from litrev.sources.files import FORMATS, Parsed, Problem, parse, slugify, sniff_format

DEFAULT_LABEL = "Imported file"
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
    dedupe: Any = None

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
    query: str | None = None, skip_bad: bool = False, dedupe: bool = True,
) -> ImportResult:
    """Import one file all-or-nothing (or its good records with `skip_bad`); see the module doc."""
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
    run_id = start_run(db, kind="import", source="import", source_name=label, query_id=query_id,
                       file=str(path), details=details)
    try:
        with write_transaction(db):
            counts = save_records(db, parsed.records, run_id)
    except Exception as e:
        finish_run(db, run_id, "failed", error=str(e))
        raise
    finish_run(db, run_id, "complete", counts)
    result = ImportResult(run_id=run_id, file=str(path), format=fmt, source=slug,
                          source_name=label, encoding=encoding, counts=counts,
                          skipped=parsed.problems, warnings=parsed.warnings)
    if dedupe:
        result.dedupe = update_works(db)
    ensure_shape(db)
    return result
