"""Open the evidence database: migrate it, then make sure its derived shape exists."""

import datetime
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from litrev.errors import DatabaseLockedError, LitrevError
from litrev.migrations import migrations
from litrev.paths import prepare_output
from litrev.views import VIEWS

DEFAULT_DB = "data/evidence.db"
BUSY_TIMEOUT_MS = 30_000  # two screeners in two terminals wait for each other, never fail


def default_db_path() -> str:
    return os.environ.get("LITREV_DB") or DEFAULT_DB


def open_db(path: str | Path | None = None, *, create: bool = True) -> Database:
    """Open (or create) the database at `path`, upgrading an older schema in place.

    WAL lets screeners read while a harvest writes; the busy timeout makes
    concurrent writers queue instead of failing with "database is locked".
    `synchronous = NORMAL` is SQLite's advice for WAL: a commit is still atomic
    and survives a crash of litrev, it just skips an fsync per transaction (only
    a power cut can roll back the last commits), which made a page's commit ~20 ms.
    """
    path = Path(path or default_db_path())
    if not path.exists():
        if not create:
            raise LitrevError(f"No database at {path}. Run `litrev harvest` or give --db.")
        prepare_output(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        if migrations.pending(db):
            migrations.apply(db)
        if not _shape_is_current(db):
            ensure_shape(db)
    except sqlite3.DatabaseError as e:
        if is_lock_error(e):
            raise DatabaseLockedError(f"{lock_error_message()}.") from e
        raise LitrevError(f"{path} is not a usable litrev database ({e}). Check the --db path.")
    return db


def ensure_shape(db: Database) -> None:
    """Idempotently (re)create what is derived: full-text search, views, indexes.

    Every command that writes ends with this, so a database touched by an
    older litrev is always brought up to the current shape.
    """
    if _shape_is_current(db):
        return  # nothing to rewrite: no write lock to wait for beside screeners
    with write_transaction(db):
        if _shape_is_current(db):
            return  # another process brought it up to date while this one waited
        for name in list(reversed(list(VIEWS))):
            db.execute(f"drop view if exists [{name}]")
        for name, sql in VIEWS.items():
            db.execute(_view_sql(name, sql))
        if not db["works"].detect_fts():
            db["works"].enable_fts(["title", "abstract"], create_triggers=True, tokenize="porter")


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes the write lock up front (BEGIN IMMEDIATE).

    With WAL, a deferred transaction that reads before it writes (sqlite-utils
    inspects the table before an insert) fails at once with "database is locked"
    when another process committed in between: the busy timeout cannot help a
    stale snapshot. Taking the lock first makes the second screener wait instead.
    If the lock is still held when the busy timeout runs out, a `DatabaseLockedError`
    says so in one line and nothing of this transaction is written.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with locked_as_error():
        db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    with locked_as_error():
        try:
            db.conn.commit()
        except sqlite3.OperationalError:
            db.conn.rollback()
            raise


def is_lock_error(error: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY / SQLITE_LOCKED)."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def lock_error_message() -> str:
    return (f"The database is locked: another litrev command kept writing to it for more than "
            f"{BUSY_TIMEOUT_MS / 1000:g} s, and nothing of this command's last step was saved. "
            "Run the command again when the other one has finished (a re-run is safe)")


@contextmanager
def locked_as_error() -> Iterator[None]:
    """Turn SQLite's lock error into a `DatabaseLockedError` (one line, exit 1)."""
    try:
        yield
    except sqlite3.OperationalError as e:
        if is_lock_error(e):
            raise DatabaseLockedError(f"{lock_error_message()}.") from e
        raise


def _shape_is_current(db: Database) -> bool:
    existing = {r[0]: r[1] for r in db.execute("select name, sql from sqlite_master where type = 'view'")}
    return db["works"].detect_fts() is not None and all(
        existing.get(name) == _view_sql(name, sql) for name, sql in VIEWS.items()
    )


def _view_sql(name: str, sql: str) -> str:
    # As SQLite stores it in sqlite_master (keywords upper-cased, trailing space cut), so
    # `_shape_is_current` can compare: with "create view" and a trailing newline it never
    # matched, and every open_db rewrote every view (a write lock beside the screeners).
    return f"CREATE VIEW [{name}] as {sql.rstrip()}"


def utc_timestamp(text: str) -> str:
    """An ISO 8601 date or time as the database's UTC form; a naive time counts as UTC.

    Raises ValueError for anything that is not ISO 8601: callers word the error.
    """
    stamp = datetime.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.UTC)
    return stamp.astimezone(datetime.UTC).isoformat(timespec="seconds")


def now() -> str:
    """The current time as ISO 8601 UTC, the one timestamp format in the database."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
