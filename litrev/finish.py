"""The one post-write path: every command that writes ends with `finish_write(db)`.

Stages (harvest, import, snowball, screening, tagging) only write their own rows;
linking records to works and bringing the derived shape up to date happen here,
once, at the end of the command, so no stage has to remember to call dedupe and
`--no-dedupe` means the same everywhere.
"""

from sqlite_utils import Database

from litrev.db import ensure_shape
from litrev.dedupe.storage import DedupeSummary, update_works


def finish_write(db: Database, *, link: bool = True,
                 records_saved: bool = False) -> DedupeSummary | None:
    """Link records without a work to one (dedupe's incremental update), then `ensure_shape`.

    Idempotent: with every record linked and nothing saved, dedupe is skipped (it
    reads every record), so screening and tagging stay quick. `records_saved`: the
    command (re-)saved records, whose changed DOIs or titles may move them between
    works, so dedupe runs even when none is new. `link=False` (`--no-dedupe`) leaves
    the records for a later `litrev dedupe` (or the next command that writes).
    Returns what dedupe did, or None when it did not run.
    """
    summary = update_works(db) if link and (records_saved or _has_unlinked(db)) else None
    ensure_shape(db)
    return summary


def _has_unlinked(db: Database) -> bool:
    return db.execute("select 1 from records where work_id is null limit 1").fetchone() is not None
