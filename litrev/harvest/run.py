"""Run saved queries against the APIs and keep what they return.

The data flow, per query and source:

1. Version the query file (`queries`, `query_versions`): the run points at the text that ran.
2. Decide what to fetch: a search update by default (everything new or changed
   since the last complete run of the same query version), `--full`, or `--since DATE`.
   An unfinished run with the same request is resumed from its stored cursor.
3. Page through the API (`Source.fetch_pages`, for each source in `litrev.sources.SOURCES`); each page is normalised and
   saved in ONE transaction together with the cursor of the next page, so an
   interruption (Ctrl-C, crash, 5xx after retries, spent budget) keeps every saved
   page and the next run continues exactly there: no duplicates (natural keys,
   upserts) and no gap.
4. Log the run in `harvest_runs` (status, counts, filters as sent). Linking new
   records to works is the command's post-write step (`litrev.finish.finish_write`).
"""

import datetime
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.errors import LitrevError, SourceError
from litrev.harvest.queries import Query, Settings, SourceQuery
from litrev.harvest.store import SaveCounts, finish_run, save_records, start_run, update_run
from litrev.sources import SOURCES, Source
from litrev.sources.fetching import Retrier, UpdateFilterUnavailable, guard_pages

RESUMABLE = ("interrupted", "failed", "stopped", "running")
# A run on another machine (a database on a shared drive) whose cursor has not moved
# for this long is taken to be dead: a page takes seconds, a retry wait minutes.
OTHER_HOST_STALE_SECONDS = 30 * 60


class Progress(Protocol):
    """What harvest reports while it runs; the CLI draws it, tests may record it."""

    def start(self, label: str, total: int | None, done: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def note(self, text: str) -> None: ...

    def finish(self, text: str) -> None: ...


class NullProgress:
    def start(self, label, total, done): pass

    def advance(self, n): pass

    def note(self, text): pass

    def finish(self, text): pass


@dataclass
class HarvestResult:
    query_id: str
    source: str
    run_id: int | None
    status: str  # complete | stopped | failed | interrupted
    mode: str
    since: str | None
    reported_total: int | None
    counts: SaveCounts = field(default_factory=SaveCounts)
    resumed: bool = False
    message: str = ""


@dataclass
class Estimate:
    query_id: str
    source: str
    mode: str
    since: str | None
    reported_total: int | None
    requests: int
    usd: float
    tier: str
    note: str = ""
    budget_usd: float | None = None  # the source's metered budget; None: not metered


def save_query_version(db: Database, query: Query) -> int:
    """Store the query and (if its text is new) a new version; return the version id."""
    with write_transaction(db):
        existing = db.execute("select id from queries where id = ?", [query.id]).fetchone()
        row = {"id": query.id, "name": query.name, "description": query.description,
               "path": str(query.path)}
        if existing:
            db["queries"].update(query.id, row)
        else:
            db["queries"].insert({**row, "created_at": now()})
        found = db.execute("select id from query_versions where query_id = ? and sha256 = ?",
                           [query.id, query.sha256]).fetchone()
        if found:
            return found[0]
        version = db.execute("select coalesce(max(version), 0) + 1 from query_versions "
                             "where query_id = ?", [query.id]).fetchone()[0]
        return db["query_versions"].insert({
            "query_id": query.id, "version": version, "sha256": query.sha256,
            "text": query.text, "created_at": now(),
        }).last_pk


def harvest(
    db: Database, queries: Iterable[Query], settings: Settings, *,
    sources: Iterable[str] | None = None, full: bool = False, since: str | None = None,
    max_records: int | None = None, progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[HarvestResult]:
    """Harvest every query from every selected source (default: all) it has a section for.

    A source failure (after retries) is logged on its run and the other
    queries/sources still run; at the end a `SourceError` names what failed.
    Ctrl-C marks the current run interrupted and propagates.
    """
    progress = progress or NullProgress()
    retrier = Retrier(settings, on_wait=progress.note,
                      **({"sleep": sleep} if sleep is not None else {}))
    queries = list(queries)
    results = []
    for query in queries:
        version_id = save_query_version(db, query)
        for source in _selected(sources):
            if source.key in query.sources:
                results.append(_harvest_one(
                    db, query, version_id, source, settings, retrier, progress,
                    full=full, since=since, max_records=max_records,
                ))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        # One line even offline: every query fails with the same "cannot reach" message.
        error = SourceError(
            f"{len(failed)} of {len(results)} harvests failed: "
            + "; ".join(dict.fromkeys(r.message for r in failed))
        )
        error.results = results  # the CLI still reports the ones that worked
        raise error
    return results


def _selected(keys: Iterable[str] | None) -> list[Source]:
    """The registered sources named by `keys` (every one when None), in registry order."""
    wanted = None if keys is None else set(keys)
    return [s for s in SOURCES.values() if wanted is None or s.key in wanted]


def _plan(db: Database | None, query_id: str, source: str, version_id: int | None, *,
          full: bool, since: str | None) -> tuple[str, str | None, str]:
    """(mode, since date or None, why) for one query/source."""
    if full:
        return "full", None, "--full"
    if since:
        return "since", since, f"--since {since}"
    last = _last_complete(db, query_id, source, version_id) if db is not None else None
    if last is None:
        if db is not None and version_id is not None and _last_complete(db, query_id, source, None):
            return "full", None, "the query file changed since the last complete run"
        return "full", None, "first run"
    return "update", last[:10], f"changes since the last complete run ({last[:10]})"


def _last_complete(db: Database, query_id: str, source: str, version_id: int | None) -> str | None:
    if "harvest_runs" not in db.table_names():
        return None
    sql = ("select started_at from harvest_runs where kind = 'harvest' and query_id = ? "
           "and source = ? and status = 'complete'")
    params: list[Any] = [query_id, source]
    if version_id is not None:
        sql += " and query_version_id = ?"
        params.append(version_id)
    row = db.execute(sql + " order by started_at desc limit 1", params).fetchone()
    return row[0] if row else None


def _running_elsewhere(run: dict[str, Any] | None) -> dict[str, Any] | None:
    """`run` (a query/source's latest) if another live process is fetching it now.

    A `running` run whose process is gone (killed, machine restarted) is not
    busy: it is resumed like an interrupted one.
    """
    if not run or run["status"] != "running" or run["pid"] is None:
        return None
    if run["host"] != socket.gethostname():
        return run if _age_seconds(run["cursor_saved_at"]) < OTHER_HOST_STALE_SECONDS else None
    return run if run["pid"] != os.getpid() and _process_alive(run["pid"]) else None


def _latest_run(db: Database, query_id: str, source: str) -> dict[str, Any] | None:
    rows = list(db.query(
        "select * from harvest_runs where kind = 'harvest' and query_id = ? and source = ? "
        "order by id desc limit 1", [query_id, source]))
    return rows[0] if rows else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def _resumable(run: dict[str, Any] | None, version_id: int,
               request: dict[str, Any] | None) -> dict[str, Any] | None:
    """`run` (a query/source's latest) if it is unfinished and can continue.

    `request=None` (a plain search update) continues whatever was left unfinished
    (e.g. a `--full --max N` run); with `--full`/`--since` only a run that asked
    for exactly the same request is continued.
    """
    if (run and run["status"] in RESUMABLE and run["cursor"]
            and run["query_version_id"] == version_id
            and (request is None or run["request"] == _json(request))):
        return run
    return None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _harvest_one(db: Database, query: Query, version_id: int, source: Source,
                 settings: Settings, retrier: Retrier, progress: Progress, *, full: bool,
                 since: str | None, max_records: int | None) -> HarvestResult:
    sq = query.sources[source.key]
    mode, since_date, why = _plan(db, query.id, source.key, version_id, full=full, since=since)
    request = source.describe(sq, since_date)
    label = f"{query.id} · {source.name}"
    result = HarvestResult(query.id, source.key, None, "running", mode, since_date, None)
    with write_transaction(db):  # check and claim at once: two harvests cannot both start
        latest = _latest_run(db, query.id, source.key)
        busy = _running_elsewhere(latest)
        if busy:
            result.status = "failed"
            result.message = (f"{label}: another litrev harvest (pid {busy['pid']} on "
                              f"{busy['host']}) is fetching run {busy['id']}. Wait for it to "
                              "finish, or stop it and run again to resume.")
            return result
        run = _resumable(latest, version_id, request if (full or since) else None)
        owner = {"pid": os.getpid(), "host": socket.gethostname()}
        if run:
            update_run(db, run["id"], status="running", error=None, **owner)
        else:
            run_id = start_run(
                db, kind="harvest", source=source.key, source_name=source.name,
                query_id=query.id, query_version_id=version_id, mode=mode, since=since_date,
                request=request, details={"why": why}, cursor="*", position=0,
                cursor_saved_at=now(), **owner,
            )
    if run:
        run_id, cursor, position = run["id"], run["cursor"], run["position"] or 0
        mode, since_date = run["mode"], run["since"]
        result.mode, result.since, result.resumed = mode, since_date, True
        counts = SaveCounts(0, run["new"] or 0, run["updated"] or 0)
        if _cursor_expired(source, cursor, run["cursor_saved_at"]):
            progress.note(f"{label}: the stored {source.name} cursor has expired; fetching this "
                          "run's pages again (saved records are kept, not duplicated).")
            cursor, position = "*", 0
        progress.note(f"{label}: resuming run {run_id} at record {position + 1}.")
    else:
        cursor, position, counts = "*", 0, SaveCounts()
    result.run_id, result.counts = run_id, counts
    while True:
        try:
            status = _page_loop(db, run_id, source, sq, settings, retrier, progress, label,
                                result, counts, cursor=cursor, position=position,
                                max_records=max_records)
            break
        except UpdateFilterUnavailable as e:
            if result.since is None:
                return _failed(db, run_id, result, counts, e)
            # OpenAlex's from_updated_date is plan-gated: a full pass (upserts) instead.
            progress.note(f"{e}. Fetching the whole query instead; unchanged records stay "
                          "as they are.")
            update_run(db, run_id, mode="full", since=None, request=source.describe(sq, None),
                       details={"why": why, "fallback": str(e)})
            result.mode, result.since = "full", None
            cursor, position = "*", 0
        except SourceError as e:
            return _failed(db, run_id, result, counts, e)
        except KeyboardInterrupt:
            _finish(db, run_id, "interrupted", counts,
                    "Interrupted (Ctrl-C); run again to resume.")
            raise
        except BaseException as e:
            _finish(db, run_id, "failed", counts, f"{type(e).__name__}: {e}")
            raise
    result.status = status
    error = None
    if status == "stopped":
        error = f"Stopped by --max {max_records}; run again to continue."
        result.message = (f"{label}: stopped at --max {max_records} of "
                          f"{_fmt(result.reported_total)} reported. Run again without --max "
                          "to fetch the rest (it resumes where this stopped).")
    _finish(db, run_id, status, counts, error)
    return result


def _cursor_expired(source: Source, cursor: str, saved_at: str | None) -> bool:
    """A stored cursor past the source's lifetime (Crossref's scroll contexts expire)."""
    return (source.cursor_ttl_seconds is not None and cursor != "*"
            and _age_seconds(saved_at) > source.cursor_ttl_seconds)


def _failed(db, run_id, result, counts, error) -> HarvestResult:
    _finish(db, run_id, "failed", counts, str(error))
    result.status, result.message = "failed", str(error)
    return result


def _finish(db: Database, run_id: int, status: str, counts: SaveCounts, error: str | None):
    # fetched = distinct records this run found (a resumed page is not counted twice).
    counts.fetched = db.execute("select count(*) from provenance where run_id = ?",
                                [run_id]).fetchone()[0]
    finish_run(db, run_id, status, counts, error)


def _page_loop(db, run_id, source: Source, sq, settings, retrier, progress, label, result,
               counts, *, cursor, position, max_records) -> str:
    per_page = source.per_page
    for cap in (max_records, sq.max_results):
        if cap is not None:
            per_page = max(1, min(per_page, cap))
    taken = 0
    started = False
    pages = source.fetch_pages(sq, settings, since=result.since, cursor=cursor,
                               per_page=per_page, retrier=retrier)
    for page in guard_pages(pages, source.name, source.record_key,
                            scroll_cursor=source.scroll_cursor):
        if not started:
            result.reported_total = page.total
            goal = page.total if sq.max_results is None or page.total is None else min(
                page.total, sq.max_results)
            progress.start(label, goal, position)
            started = True
        results = page.results
        stopped = scope_hit = scope_reached = False
        next_cursor, next_position = page.next_cursor, position + len(results)
        scope_left = None if sq.max_results is None else sq.max_results - position
        max_left = None if max_records is None else max_records - taken
        if scope_left is not None and len(results) >= scope_left and (
                max_left is None or scope_left <= max_left):
            # The query's own max_results: the run is complete with the N most relevant.
            results = results[:max(scope_left, 0)]
            next_cursor, next_position = None, position + len(results)
            scope_hit = True
            scope_reached = page.next_cursor is not None or len(page.results) > len(results)
        elif max_records is not None and taken + len(results) >= max_records:
            keep = max_records - taken
            if keep < len(results):
                # Resume by fetching this page again: its first `keep` records are
                # already linked to the run and are upserted without change. A
                # scroll cursor (Crossref's) is server-side and cannot re-read a page,
                # so there the resumed run starts its pass again (no gap, no duplicate).
                results = results[:keep]
                next_cursor, next_position = (("*", 0) if source.scroll_cursor
                                              else (page.cursor, position))
            stopped = next_cursor is not None
        records = _normalised(source.normalise, results, progress, label)
        with write_transaction(db):
            saved = save_records(db, records, run_id, start_rank=position + 1)
            counts.new += saved.new
            counts.updated += saved.updated
            update_run(db, run_id, cursor=next_cursor, position=next_position,
                       cursor_saved_at=now(), reported_total=page.total, new=counts.new,
                       updated=counts.updated)
        taken += len(results)
        counts.fetched += len(results)
        position = next_position
        progress.advance(len(results))
        if stopped:
            return "stopped"
        if scope_hit:
            if scope_reached:
                result.message = (f"took the {sq.max_results:,} most relevant of "
                                  f"{_fmt(page.total)} reported (max_results in the query file).")
            return "complete"
    if not started:
        progress.start(label, 0, position)
    return "complete"


def _normalised(record_from, results, progress, label) -> list:
    records = []
    for raw in results:
        try:
            records.append(record_from(raw))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            # One malformed record must not stop a harvest of thousands.
            progress.note(f"{label}: skipped a record the normaliser rejected ({e}).")
    return records


def _age_seconds(stamp: str | None) -> float:
    if not stamp:
        return float("inf")
    then = datetime.datetime.fromisoformat(stamp)
    return (datetime.datetime.now(datetime.UTC) - then).total_seconds()


def _fmt(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def open_readonly(path: str | Path) -> Database | None:
    """The database for --dry-run: read-only, or None when it does not exist yet."""
    path = Path(path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    return Database(conn)


def dry_run(db: Database | None, queries: Iterable[Query], settings: Settings, *,
            sources: Iterable[str] | None = None, full: bool = False, since: str | None = None,
            max_records: int | None = None, progress: Progress | None = None,
            sleep: Callable[[float], None] | None = None) -> list[Estimate]:
    """What a harvest would fetch and cost, per query and source. Writes nothing."""
    progress = progress or NullProgress()
    retrier = Retrier(settings, on_wait=progress.note,
                      **({"sleep": sleep} if sleep is not None else {}))
    estimates = []
    for query in queries:
        version_id = _known_version(db, query)
        for source in _selected(sources):
            if source.key not in query.sources:
                continue
            estimates.append(_estimate_one(db, query, version_id, source,
                                           settings, retrier, full=full, since=since,
                                           max_records=max_records))
    return estimates


def _known_version(db: Database | None, query: Query) -> int | None:
    if db is None or "query_versions" not in db.table_names():
        return None
    row = db.execute("select id from query_versions where query_id = ? and sha256 = ?",
                     [query.id, query.sha256]).fetchone()
    return row[0] if row else -1  # -1: a version not stored yet (the file changed)


def _estimate_one(db, query: Query, version_id, source: Source, settings, retrier, *,
                  full, since, max_records) -> Estimate:
    sq: SourceQuery = query.sources[source.key]
    mode, since_date, why = _plan(db, query.id, source.key, version_id, full=full, since=since)
    note = why
    try:
        total = source.count(sq, settings, since=since_date, retrier=retrier)
    except UpdateFilterUnavailable as e:
        note = f"{e}; a run would fetch the whole query"
        mode, since_date = "full", None
        total = source.count(sq, settings, since=None, retrier=retrier)
    fetch = min(n for n in (total, max_records, sq.max_results) if n is not None)
    cost = source.estimate(sq, fetch, source.per_page)
    return Estimate(query.id, source.key, mode, since_date, total, cost["requests"], cost["usd"],
                    cost["tier"], note, cost.get("budget_usd"))


def check_since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise LitrevError(f"--since {value!r} is not a date. Use YYYY-MM-DD.")
