"""Citation searching ("snowballing"): the works the seeds cite, and the works citing them.

Backward: a seed's `referenced_works` (from its stored OpenAlex record) are
fetched with the `openalex:` filter, OR-ing up to 100 ids per request. Forward:
works citing the seeds come from the `cites:` filter, again up to 100 seeds per
request, cursor-paged to the end. Both go through the same OpenAlex client as
harvest (paging, politeness, retries), via a `PageFetcher`.

Results are ordinary records with provenance in a `harvest_runs` row of kind
`citations` (PRISMA: "Citation searching", the "other methods" arm); each
provenance row's context names the seed work(s) and the direction. A seed is
marked chased per direction (`snowball_seeds`) once all its batches finished,
so a re-run only chases new seeds (`full=True` chases everything again).
Referenced works already stored are linked from their stored JSON, not fetched
again. An interrupted forward batch resumes at its saved cursor.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.errors import LitrevError
from litrev.harvest.queries import Settings, SourceQuery
from litrev.harvest.store import SaveCounts, finish_run, save_records, start_run, update_run
from litrev.ids import resolve_work
from litrev.sources import SOURCES
from litrev.sources.fetching import Page, Retrier, guard_pages
from litrev.sources.normalise import Record, normalise_doi, openalex_short_id

DIRECTIONS = ("backward", "forward")
SOURCE_NAME = "Citation searching"
# OpenAlex: "You can combine up to 100 values with | in a single filter"
# (developers.openalex.org/guides/filtering, "Addition (OR)"; older docs said 50).
MAX_IDS_PER_FILTER = 100
# Citation searching needs `referenced_works` and the `cites:` filter: OpenAlex's, by nature.
OPENALEX = SOURCES.get_source("openalex")
record_from_openalex = OPENALEX.normalise


# (filter name, values OR-ed with `|`, starting cursor) -> pages in order. The default is
# harvest's OpenAlex client (`openalex_fetcher`); tests point it at the replay server.
PageFetcher = Callable[[str, list[str], str], Iterator[Page]]


def openalex_fetcher(settings: Settings, retrier: Retrier, *,
                     per_page: int = OPENALEX.per_page) -> PageFetcher:
    """Fetch `/works?filter=<name>:<v1|v2...>` pages with harvest's client (same paging and faults)."""

    def fetch(name: str, values: list[str], cursor: str) -> Iterator[Page]:
        query = SourceQuery(OPENALEX.key, filters={name: list(values)})
        return OPENALEX.fetch_pages(query, settings, cursor=cursor, per_page=per_page, retrier=retrier)

    return fetch


@dataclass
class Seed:
    work_id: int
    openalex_id: str | None = None
    doi: str | None = None
    references: list[str] | None = None  # short W ids; None = not known yet


@dataclass
class DirectionSummary:
    direction: str
    run_id: int | None = None
    seeds: int = 0  # seeds chased in this run
    already_chased: int = 0  # skipped: chased in an earlier run (use full to redo)
    unresolved: list[int] = field(default_factory=list)  # seed works OpenAlex does not know
    requests: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    reused: int = 0  # referenced works linked from stored JSON, not fetched
    missing: int = 0  # referenced ids OpenAlex no longer returns (merged/deleted works)
    resumed: bool = False
    status: str = "complete"


# --- choosing seeds -------------------------------------------------------------


def select_seeds(db: Database, chosen: Sequence[str]) -> list[int]:
    """Canonical work ids for `--from`: `included` (screening) and/or work ids, W ids, DOIs, record ids."""
    work_ids: list[int] = []
    for value in chosen:
        if value.strip().lower() == "included":
            rows = db.execute("select work_id from work_status where status = 'included' order by work_id")
            found = [r[0] for r in rows]
            if not found:
                raise LitrevError("No included works yet. Screen first (`litrev screen`) or name seeds by id.")
            work_ids.extend(found)
        else:
            work_ids.append(resolve_work(db, value.strip()))
    return list(dict.fromkeys(work_ids))


def load_seeds(db: Database, work_ids: Sequence[int]) -> list[Seed]:
    """What we know about each seed from its records: OpenAlex id, DOI, referenced works."""
    seeds = []
    sql = """
        select records.source, records.openalex_id, records.doi, records.raw from records
        join canonical_works on canonical_works.work_id = records.work_id
        where canonical_works.canonical_id = ?
        order by records.source = 'openalex' desc, records.last_seen desc
    """
    for work_id in work_ids:
        seed = Seed(work_id=work_id)
        for source, openalex_id, doi, raw in db.execute(sql, [work_id]):
            seed.doi = seed.doi or normalise_doi(doi)
            seed.openalex_id = seed.openalex_id or openalex_short_id(openalex_id)
            if source == OPENALEX.key and seed.references is None and raw:
                work = json.loads(raw)
                if "referenced_works" in work:
                    seed.references = _short_ids(work["referenced_works"])
        seeds.append(seed)
    return seeds


def chased(db: Database, direction: str) -> set[int]:
    rows = db.execute("select work_id from snowball_seeds where direction = ?", [direction])
    return {r[0] for r in rows}


# --- the run --------------------------------------------------------------------


def snowball(db: Database, work_ids: Sequence[int], fetch: PageFetcher, *,
             directions: Sequence[str] = DIRECTIONS, full: bool = False,
             progress: Callable[[str, int], None] | None = None) -> list[DirectionSummary]:
    """Chase citations of `work_ids` in each direction; one `citations` run per direction."""
    seeds = load_seeds(db, work_ids)
    summaries = []
    for direction in directions:
        if direction not in DIRECTIONS:
            raise LitrevError(f"Unknown direction {direction!r}. Use backward or forward.")
        summaries.append(_chase(db, seeds, fetch, direction, full, progress))
    return summaries


def _chase(db: Database, seeds: list[Seed], fetch: PageFetcher, direction: str, full: bool,
           progress: Callable[[str, int], None] | None) -> DirectionSummary:
    summary = DirectionSummary(direction)
    done = set() if full else chased(db, direction)
    todo = [s for s in seeds if s.work_id not in done]
    summary.already_chased = len(seeds) - len(todo)
    if not todo:
        summary.status = "nothing to do"
        return summary
    run_id = start_run(
        db, kind="citations", source=OPENALEX.key, source_name=SOURCE_NAME,
        mode="full" if full else "update",
        request={"direction": direction, "seed_work_ids": [s.work_id for s in todo]},
        details={"direction": direction},
    )
    summary.run_id = run_id
    counts = SaveCounts()
    try:
        _resolve(todo, fetch, summary, need_references=direction == "backward")
        ready = [s for s in todo if s.openalex_id and (direction == "forward" or s.references is not None)]
        summary.unresolved = [s.work_id for s in todo if s not in ready]
        summary.seeds = len(ready)
        chase = _backward if direction == "backward" else _forward
        chase(db, ready, fetch, run_id, summary, counts, full, progress)
    except KeyboardInterrupt:
        finish_run(db, run_id, "interrupted", counts, "Interrupted; run again to resume.")
        raise
    except LitrevError as e:
        finish_run(db, run_id, "failed", counts, str(e))
        raise
    summary.fetched, summary.new, summary.updated = counts.fetched, counts.new, counts.updated
    finish_run(db, run_id, "complete", counts)
    return summary


def _resolve(seeds: list[Seed], fetch: PageFetcher, summary: DirectionSummary, *,
             need_references: bool) -> None:
    """Ask OpenAlex for seeds it has not told us about yet (by DOI, or by id for references).

    These lookups only complete the seeds; they are not stored as citation-search records.
    """
    by_doi = [s for s in seeds if not s.openalex_id and s.doi and "|" not in s.doi and "," not in s.doi]
    for batch in _batches(by_doi):
        index = {s.doi: s for s in batch}
        for work in _all_results(fetch, "doi", [f"https://doi.org/{s.doi}" for s in batch], summary):
            seed = index.get(normalise_doi(work.get("doi")))
            if seed:
                seed.openalex_id = openalex_short_id(work.get("id"))
                seed.references = _short_ids(work.get("referenced_works") or [])
    if not need_references:
        return
    by_id = [s for s in seeds if s.openalex_id and s.references is None]
    for batch in _batches(by_id):
        index = {s.openalex_id: s for s in batch}
        for work in _all_results(fetch, "openalex", [s.openalex_id for s in batch], summary):
            seed = index.get(openalex_short_id(work.get("id")))
            if seed:
                seed.references = _short_ids(work.get("referenced_works") or [])


def _backward(db: Database, seeds: list[Seed], fetch: PageFetcher, run_id: int,
              summary: DirectionSummary, counts: SaveCounts, full: bool,
              progress: Callable[[str, int], None] | None) -> None:
    cited_by: dict[str, list[int]] = {}
    for seed in seeds:
        for ref in seed.references or []:
            cited_by.setdefault(ref, []).append(seed.work_id)
    remaining = {s.work_id: set(s.references or []) for s in seeds}
    found = {s.work_id: 0 for s in seeds}
    seed_by_work = {s.work_id: s for s in seeds}
    rank = 1

    def settle(ids: Iterable[str]) -> None:
        finished = []
        for ref in ids:
            for work_id in cited_by.get(ref, []):
                remaining[work_id].discard(ref)
                if not remaining[work_id]:
                    finished.append(work_id)
        _mark_chased(db, [seed_by_work[w] for w in finished], "backward", run_id, found)

    _mark_chased(db, [s for s in seeds if not s.references], "backward", run_id, found)
    stored = {} if full else _stored_openalex(db, list(cited_by))
    if stored:
        records = [record_from_openalex(json.loads(raw)) for raw in stored.values()]
        rank = _save(db, records, run_id, rank, counts, "backward", cited_by, found)
        summary.reused = len(records)
        settle(stored)
    to_fetch = [ref for ref in cited_by if ref not in stored]
    for batch in _batches(to_fetch):
        returned: set[str] = set()
        redirected = 0
        for page in _pages(fetch, "openalex", batch, "*", summary):
            records = [record_from_openalex(w) for w in page.results]
            returned.update(r.source_id for r in records)
            # OpenAlex answers a merged id with the surviving work (another id): credit it
            # to the seeds whose references have not come back in this batch.
            links = dict(cited_by)
            absent = [ref for ref in batch if ref not in returned]
            for record in records:
                if record.source_id not in cited_by:
                    links[record.source_id] = sorted({w for ref in absent for w in cited_by[ref]})
                    redirected += 1
            rank = _save(db, records, run_id, rank, counts, "backward", links, found)
            if progress:
                progress("backward", len(records))
        summary.missing += max(len(set(batch) - returned) - redirected, 0)
        settle(batch)


def _forward(db: Database, seeds: list[Seed], fetch: PageFetcher, run_id: int,
             summary: DirectionSummary, counts: SaveCounts, full: bool,
             progress: Callable[[str, int], None] | None) -> None:
    by_work = {s.work_id: s for s in seeds}
    found = {s.work_id: 0 for s in seeds}
    batches: list[tuple[list[Seed], str]] = []
    resume = _resumable(db, "forward", set(by_work), run_id)
    if resume:
        batch_ids, cursor, done = resume
        batches.append(([by_work[w] for w in batch_ids], cursor, done))
        summary.resumed = True
    rest = [s for s in seeds if not resume or s.work_id not in resume[0]]
    batches += [(batch, "*", 0) for batch in _batches(rest)]
    rank = 1
    for batch, cursor, done in batches:
        cites = {s.openalex_id: s.work_id for s in batch}
        batch_ids = [s.work_id for s in batch]
        seen: set[str] = set()
        _set_cursor(db, run_id, batch_ids, cursor, done)
        for page in _pages(fetch, "cites", list(cites), cursor, summary, done):
            done += len(page.results)
            records = [record_from_openalex(w) for w in page.results]
            links = {}
            for record in records:
                refs = set(_short_ids(record.raw.get("referenced_works") or []))
                links[record.source_id] = [w for oa, w in cites.items() if oa in refs] or batch_ids
            with write_transaction(db):
                rank = _save(db, records, run_id, rank, counts, "forward", links, found,
                             atomic=False, seen=seen)
                _set_cursor(db, run_id, batch_ids, page.next_cursor, done)
            if progress:
                progress("forward", len(records))
        _set_cursor(db, run_id, None, None, 0)
        _mark_chased(db, batch, "forward", run_id, found)


# --- helpers --------------------------------------------------------------------


def _save(db: Database, records: list[Record], run_id: int, rank: int, counts: SaveCounts,
          direction: str, seeds_of: dict[str, list[int]], found: dict[int, int], *,
          atomic: bool = True, seen: set[str] | None = None) -> int:
    """Save records grouped by the seeds that led to them; returns the next rank."""
    groups: dict[tuple[int, ...], list[Record]] = {}
    for record in records:
        seeds = tuple(sorted(set(seeds_of.get(record.source_id) or [])))
        groups.setdefault(seeds, []).append(record)
        for work_id in seeds:
            if seen is None or (record.source_id, work_id) not in seen:
                found[work_id] = found.get(work_id, 0) + 1
                if seen is not None:
                    seen.add((record.source_id, work_id))

    def write() -> int:
        next_rank = rank
        for seeds, group in groups.items():
            context = {"direction": direction, "seed_work_id": seeds[0] if seeds else None,
                       "seed_work_ids": list(seeds)}
            counts.add(save_records(db, group, run_id, start_rank=next_rank, context=context))
            next_rank += len(group)
        return next_rank

    if not atomic:
        return write()
    with write_transaction(db):
        return write()


def _pages(fetch: PageFetcher, name: str, values: list[str], cursor: str,
           summary: DirectionSummary, seen: int = 0) -> Iterator[Page]:
    """Pages of one filter. Stops once `meta.count` works have come (`seen` counts those
    before `cursor`), which saves the empty terminal request (OpenAlex meters every call),
    and stops with an error (harvest's `guard_pages`) when the cursor walk does not move."""
    for page in guard_pages(fetch(name, values, cursor), OPENALEX.name, OPENALEX.record_key,
                            scroll_cursor=OPENALEX.scroll_cursor):
        summary.requests += 1
        seen += len(page.results)
        yield page
        if not page.next_cursor or not page.results or (page.total is not None and seen >= page.total):
            return


def _all_results(fetch: PageFetcher, name: str, values: list[str],
                 summary: DirectionSummary) -> Iterator[dict[str, Any]]:
    for page in _pages(fetch, name, values, "*", summary):
        yield from page.results


def _batches(items: Sequence[Any], size: int = MAX_IDS_PER_FILTER) -> Iterator[list[Any]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _short_ids(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in (openalex_short_id(v) for v in values) if i))


def _stored_openalex(db: Database, ids: list[str]) -> dict[str, str]:
    """Raw JSON of referenced works already stored as OpenAlex records, by short id."""
    out = {}
    for batch in _batches(ids, 500):
        sql = "select source_id, raw from records where id in (select 'openalex:' || value from json_each(?))"
        out.update(db.execute(sql, [json.dumps(batch)]).fetchall())
    return out


def _mark_chased(db: Database, seeds: Iterable[Seed], direction: str, run_id: int,
                 found: dict[int, int]) -> None:
    rows = [{"work_id": s.work_id, "direction": direction, "openalex_id": s.openalex_id,
             "run_id": run_id, "found": found.get(s.work_id, 0), "chased_at": now()} for s in seeds]
    if rows:
        with write_transaction(db):
            db["snowball_seeds"].upsert_all(rows, pk=("work_id", "direction"))


def _set_cursor(db: Database, run_id: int, batch: list[int] | None, cursor: str | None,
                done: int) -> None:
    """Remember where a forward batch is (and how many works came before), to resume there."""
    details = {"direction": "forward", "batch": batch, "done": done} if batch else {"direction": "forward"}
    update_run(db, run_id, cursor=cursor if batch else None, details=details)


def _resumable(db: Database, direction: str, todo: set[int],
               run_id: int) -> tuple[list[int], str, int] | None:
    """The batch and cursor of the latest unfinished run in `direction`, if its seeds are still to do."""
    sql = """
        select details, cursor from harvest_runs
        where kind = 'citations' and status in ('interrupted', 'failed', 'running') and id != ?
          and cursor is not null and cursor != '*'
        order by id desc limit 1
    """
    row = db.execute(sql, [run_id]).fetchone()
    if not row:
        return None
    details = json.loads(row[0] or "{}")
    batch = details.get("batch") or []
    if details.get("direction") != direction or not batch or not set(batch) <= todo:
        return None
    return batch, row[1], int(details.get("done") or 0)


def summary_dict(summary: DirectionSummary) -> dict[str, Any]:
    return asdict(summary)
