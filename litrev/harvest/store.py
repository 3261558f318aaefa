"""Writing records and runs: shared by harvest, import and citation search.

Records are upserted by their natural key, so saving the same page twice is a
no-op; what people wrote (decisions, tags, verdicts) lives in other tables and
is never touched here. A record's `work_id` (set by dedupe) and `first_seen`
survive every re-save.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.sources.normalise import Record

JSON_FIELDS = ("authors", "countries", "keywords", "identifiers", "raw")


@dataclass
class SaveCounts:
    fetched: int = 0
    new: int = 0
    updated: int = 0

    def add(self, other: "SaveCounts") -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated


def record_row(record: Record, seen_at: str) -> dict[str, Any]:
    row = record.as_row()
    for key in JSON_FIELDS:
        # orjson: serialising a rich OpenAlex work with json.dumps took ~0.23 ms,
        # most of litrev's own share of a harvest. Sorted keys keep the hash stable.
        row[key] = orjson.dumps(row[key], option=orjson.OPT_SORT_KEYS).decode()
    row["raw_sha256"] = hashlib.sha256(row["raw"].encode()).hexdigest()
    row["first_seen"] = row["last_seen"] = seen_at
    return row


def raw_sha256(record: Record) -> str:
    """The `raw_sha256` that `save_records` stores for `record` (see `record_row`)."""
    raw = orjson.dumps(record.raw, option=orjson.OPT_SORT_KEYS).decode()
    return hashlib.sha256(raw.encode()).hexdigest()


def save_records(
    db: Database, records: Iterable[Record], run_id: int, *, start_rank: int = 1,
    context: dict[str, Any] | None = None,
) -> SaveCounts:
    """Upsert `records` and link each to `run_id` at its rank; return what changed.

    Call inside a transaction (one per page) so a crash never leaves half a page.
    A record counts as updated only when its raw JSON changed.
    """
    seen_at = now()
    rows = [record_row(r, seen_at) for r in records]
    counts = SaveCounts(fetched=len(rows))
    if not rows:
        return counts
    known = _known_hashes(db, [row["id"] for row in rows])
    new_rows = [row for row in rows if row["id"] not in known]
    changed = [row for row in rows if row["id"] in known and known[row["id"]] != row["raw_sha256"]]
    if new_rows:
        _insert(db, "records", new_rows)
    for row in changed:
        keep = {"first_seen", "work_id", "id"}
        db["records"].update(row["id"], {k: v for k, v in row.items() if k not in keep})
    if known:
        db.execute(
            "update records set last_seen = ? where id in (select value from json_each(?))",
            [seen_at, json.dumps(list(known))],
        )
    context_json = json.dumps(context, sort_keys=True) if context else None
    _insert(db, "provenance", [
        {"record_id": row["id"], "run_id": run_id, "rank": start_rank + i,
         "context": context_json, "found_at": seen_at}
        for i, row in enumerate(rows)
    ], ignore=True)
    counts.new, counts.updated = len(new_rows), len(changed)
    return counts


def _insert(db: Database, table: str, rows: list[dict[str, Any]], *, ignore: bool = False) -> None:
    """`table.insert_all(rows)` for rows whose values are already SQL-ready.

    sqlite-utils checks every value for JSON conversion; at a harvest's rate
    (a page of 200 records, 20 columns) that check was a sixth of litrev's time.
    """
    columns = list(rows[0])
    sql = "insert {}into [{}] ({}) values ({})".format(
        "or ignore " if ignore else "", table, ", ".join(f"[{c}]" for c in columns),
        ", ".join("?" * len(columns)))
    db.conn.executemany(sql, [[row[c] for c in columns] for row in rows])


def _known_hashes(db: Database, ids: list[str]) -> dict[str, str]:
    sql = "select id, raw_sha256 from records where id in (select value from json_each(?))"
    return dict(db.execute(sql, [json.dumps(ids)]).fetchall())


def start_run(db: Database, **fields: Any) -> int:
    """Log the start of a harvest, import or citation search; return its run id."""
    row = {"started_at": now(), "status": "running", "fetched": 0, "new": 0, "updated": 0}
    row.update(_run_values(fields))
    with write_transaction(db):
        return db["harvest_runs"].insert(row).last_pk


def update_run(db: Database, run_id: int, **fields: Any) -> None:
    """Change a run's row (cursor, status, request...): every write to `harvest_runs` is here."""
    with write_transaction(db):
        db["harvest_runs"].update(run_id, _run_values(fields))


def _run_values(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
            for k, v in fields.items()}


def finish_run(db: Database, run_id: int, status: str, counts: SaveCounts | None = None,
               error: str | None = None) -> None:
    update: dict[str, Any] = {"status": status, "finished_at": now(), "error": error}
    if counts is not None:
        update.update(fetched=counts.fetched, new=counts.new, updated=counts.updated)
    with write_transaction(db):
        db["harvest_runs"].update(run_id, update)
