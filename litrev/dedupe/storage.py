"""Deduplication storage: link every record to one work, keep the evidence, undo on demand.

Matching is pure (`litrev.dedupe.matching`); this module reads records, stores the
scored pairs in `duplicate_pairs`, applies people's verdicts (`dedupe_verdicts`,
which always win), and turns the resulting groups into `works`:

- A new record joins the work of its group, or gets a new work.
- When two existing works end up in one group, the newer one is merged into the
  older (canonical) one: `works.merged_into` is set, its records move, and the
  move is logged in `work_merges`. Nothing is deleted; decisions and tags keep
  their work ids and are resolved through the `canonical_works` view.
- A split (a person said "different", or `unmerge`) revives the merged-away work
  the records came from, so its decisions come back with it.

Matching is incremental (only pairs touching new records are scored); grouping
always replays every stored pair, so an incremental run and `--full` agree.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.dedupe.matching import (
    ABSTRACT_HEAD,
    MAX_BLOCK,
    ONE_TEXT_TWO_DOIS,
    WEAK_KEYS,
    Pair,
    Prepared,
    block_keys,
    cluster,
    doi_base,
    prepare,
    score_candidates,
)
from litrev.errors import LitrevError, UnknownIdError
from litrev.sources.normalise import author_list, normalise_doi

SOURCE_PRIORITY = {"crossref": 0, "openalex": 1, "pubmed": 2}  # then imports, alphabetically
WORK_FIELDS = ("title", "abstract", "authors", "year", "venue", "volume", "issue", "pages",
               "doi", "pmid", "openalex_id", "type", "language", "countries", "url")
HUMAN_SCORE = 10.0  # a person's "same" outranks every machine score when grouping
# Bump when matching.block_keys (or the prepare() fields it reads) changes what keys a
# record gets: every stored record is then re-keyed on its next incremental run.
KEYS_VERSION = 2  # 2: implausible volumes (matching.plausible_number) are no volume
# Rounds of one dedupe run: another round only when records arrived while it scored
# (a concurrent import or harvest); that process's own dedupe links them too.
MAX_ROUNDS = 5
SAVE_CHUNK = 2_000  # pairs, and records' keys, per write transaction of an incremental run


@dataclass
class DedupeSummary:
    records: int = 0
    new_records: int = 0
    pairs: dict[str, int] = field(default_factory=dict)
    new_works: int = 0
    merged_works: int = 0
    revived_works: int = 0
    moved_records: int = 0
    related: int = 0
    review_pending: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        return (f"Dedupe: {self.new_records:,} new records linked ({self.new_works:,} new works, "
                f"{self.merged_works:,} merged, {self.review_pending:,} pairs to review).")

    def conflict_warnings(self) -> list[str]:
        """One line per merge that brought together works with conflicting decisions."""
        return [
            f"Warning: merged works {', '.join(map(str, c['works']))} carry conflicting "
            f"{c['stage']} decisions ({', '.join(c['decisions'])}); see `litrev screen conflicts`."
            for c in self.conflicts
        ]


def update_works(db: Database, *, full: bool = False, reviewer: str = "litrev") -> DedupeSummary:
    """Link every record without a work to one (incremental), or recompute all pairs (`full`).

    Harvest, import and snowball call this at the end of a run. Pairs are scored
    and grouped outside any transaction (screeners keep saving meanwhile); each write
    is a short immediate transaction. A record saved by another process while this run scored
    has no pairs yet, so it is left out of the grouping and linked by another round.
    """
    summary = DedupeSummary()
    if not full and not works_out_of_date(db):
        return _counted(db, summary)  # nothing dedupe groups by changed since it last grouped
    for _ in range(MAX_ROUNDS):
        scored = _score_and_save(db, summary, full=full)
        group_and_save(db, summary, refresh_all=full, reviewer=reviewer, scored=scored,
                       replace_relations=full)
        full = False
        if not unlinked_ids(db):
            break
    return _counted(db, summary)


def works_out_of_date(db: Database) -> bool:
    """Whether a grouping has work to do: records without a work, or changes to regroup."""
    return bool(unlinked_ids(db)) or regroup_needed(db)


def regroup_needed(db: Database) -> bool:
    """Whether pairs, verdicts, records or works changed since dedupe last grouped them
    (`dedupe_state.regroup`, set by the triggers of migration m010)."""
    row = db.execute("select regroup from dedupe_state where id = 1").fetchone()
    return row is None or bool(row[0])


def _counted(db: Database, summary: DedupeSummary) -> DedupeSummary:
    summary.records = db.execute("select count(*) from records").fetchone()[0]
    summary.related = db.execute("select count(*) from work_relations").fetchone()[0]
    summary.review_pending = len(review_queue(db))
    return summary


def unlinked_ids(db: Database) -> set[str]:
    """Records without a work: new ones, or ones a crash or lock error left behind."""
    return {r[0] for r in db.execute("select id from records where work_id is null")}


def _score_and_save(db: Database, summary: DedupeSummary, *, full: bool) -> set[str]:
    """Score the pairs touching unlinked records (or all, `full`) and store them with their
    keys; return the ids scored, the only unlinked records this round may link."""
    new_ids = unlinked_ids(db)
    summary.new_records += len(new_ids)
    if not (full or new_ids):
        return set()
    if full:
        prepared = keyed = load_prepared(db)
        skip: set[tuple] = set()
    else:
        # Only the records sharing a block with a new one: the same pairs as a full read.
        prepared, keyed, skip = prepared_for(db, new_ids)
    pairs = score_candidates(prepared, None if full else new_ids, skip)
    for outcome, n in Counter(p.outcome for p in pairs).items():
        summary.pairs[outcome] = summary.pairs.get(outcome, 0) + n
    if full:
        with write_transaction(db):
            save_pairs(db, pairs, replace_all=True)
            save_keys(db, keyed, replace_all=True)
    else:
        # In short transactions, so screeners are not kept waiting (20,000 new records'
        # pairs and keys held the lock 5-8 s in one). Safe to cut: the records stay
        # unlinked until grouping links them, so a run cut short scores them again.
        for start in range(0, max(len(pairs), len(keyed)), SAVE_CHUNK):
            with write_transaction(db):
                save_pairs(db, pairs[start:start + SAVE_CHUNK])
                save_keys(db, keyed[start:start + SAVE_CHUNK])
    return new_ids | {p.id for p in prepared}


# --- reading ------------------------------------------------------------------


def load_prepared(db: Database, ids: list[str] | None = None) -> list[Prepared]:
    """Match keys of every record (or of `ids`), in id order."""
    # Only the abstract's head and length are read: enough to tell a republication (same_abstract).
    select = ("select id, doi, pmid, openalex_id, title, authors, year, venue, volume, issue, pages, "
              f"type, substr(abstract, 1, {ABSTRACT_HEAD}), length(abstract) from records")
    if ids is None:
        rows = db.execute(f"{select} order by id")
    else:
        rows = db.execute(f"{select} where id in (select value from json_each(?)) order by id",
                          [json.dumps(ids)])
    keys = ("id", "doi", "pmid", "openalex_id", "title", "authors", "year", "venue", "volume",
            "issue", "pages", "type", "abstract", "abstract_chars")
    out = []
    for row in rows:
        record = dict(zip(keys, row))
        record["authors"] = author_list(record["authors"])
        out.append(prepare(record))
    return out


def _encode(key: tuple) -> str:
    return "\x1f".join(map(str, key))


def prepared_for(db: Database, new_ids: set[str]) -> tuple[list[Prepared], list[Prepared], set[tuple]]:
    """(the new records and every record sharing a blocking key with one, in id order;
    the records whose keys must be stored: the new ones and any keyed from an older version;
    the weak blocks over MAX_BLOCK, which `candidate_pairs` must skip though only part is read).

    Keys are stored per record (`dedupe_keys`), so an incremental run reads only these
    records instead of preparing the whole database. Each block touching a new record
    is read whole, so `candidate_pairs` sees the same blocks, sizes and title-order
    neighbours as a full read and yields the same pairs touching new records.
    """
    stale = [r[0] for r in db.execute(
        """select r.id from records r left join dedupe_keyed k on k.record_id = r.id
           where r.work_id is not null and (k.record_id is null or k.raw_sha256 is not r.raw_sha256
                                            or k.keys_version is not ?)""", [KEYS_VERSION])]
    fresh = load_prepared(db, sorted(new_ids | set(stale)))
    fresh_ids = {p.id for p in fresh}
    if len(fresh) == db.execute("select count(*) from records").fetchone()[0]:
        return fresh, fresh, set()
    fresh_keys = {p.id: {_encode(k): k for k in block_keys(p)} for p in fresh}
    tuples = {code: key for keys in fresh_keys.values() for code, key in keys.items()}
    wanted = {k for i in new_ids for k in fresh_keys.get(i, ())}
    blocks: dict[str, set[str]] = defaultdict(set)
    for key, record_id in db.execute(
            "select key, record_id from dedupe_keys where key in (select value from json_each(?))",
            [json.dumps(sorted(wanted))]):
        if record_id not in fresh_ids:
            blocks[key].add(record_id)
    for record_id, keys in fresh_keys.items():
        for key in keys:
            if key in wanted:
                blocks[key].add(record_id)
    # A weak block (surname + year, volume + page) over MAX_BLOCK is skipped by
    # candidate_pairs, so its members need not be read; every other block is read whole.
    skip = {tuples[k] for k, m in blocks.items() if tuples[k][0] in WEAK_KEYS and len(m) > MAX_BLOCK}
    members = set().union(*(m for k, m in blocks.items() if tuples[k] not in skip))
    near = [p for p in fresh if p.id in members or p.id in new_ids]
    members -= fresh_ids
    prepared = sorted(near + load_prepared(db, sorted(members)), key=lambda p: p.id)
    return prepared, fresh, skip


def save_keys(db: Database, prepared: list[Prepared], *, replace_all: bool = False) -> None:
    """Store the blocking keys of these records (and the raw version they were computed from)."""
    if replace_all:
        db.execute("delete from dedupe_keys")
        db.execute("delete from dedupe_keyed")
    elif prepared:
        ids = json.dumps([p.id for p in prepared])
        db.execute("delete from dedupe_keys where record_id in (select value from json_each(?))", [ids])
    db.conn.executemany("insert or ignore into dedupe_keys (key, record_id) values (?, ?)",
                        ((_encode(k), p.id) for p in prepared for k in block_keys(p)))
    db.conn.executemany(
        "insert or replace into dedupe_keyed (record_id, raw_sha256, keys_version) "
        "select id, raw_sha256, ? from records where id = ?", ((KEYS_VERSION, p.id) for p in prepared))


# --- pairs ---------------------------------------------------------------------


def save_pairs(db: Database, pairs: list[Pair], *, replace_all: bool = False) -> None:
    if replace_all:
        db.execute("delete from duplicate_pairs")
    stamp = now()
    db["duplicate_pairs"].upsert_all(
        ({"record_a": p.a, "record_b": p.b, "score": p.score, "method": p.method,
          "outcome": p.outcome, "details": json.dumps(p.details, sort_keys=True), "created_at": stamp}
         for p in pairs),
        pk=("record_a", "record_b"), batch_size=1000,
    )


def _verdicts(db: Database) -> tuple[list[tuple[str, str, float]], list[tuple[str, str]]]:
    same, different = [], []
    for a, b, verdict in db.execute("select record_a, record_b, verdict from dedupe_verdicts"):
        (same.append((a, b, HUMAN_SCORE)) if verdict == "same" else different.append((a, b)))
    return same, different


# --- grouping records into works -------------------------------------------------
#
# Grouping replays every pair, so it reads every record: at 75,000 records, 25,000 of them
# new, it held the write lock 12.7 s, and a 200,000-record import's grouping would hold it
# far past the screeners' 30 s busy timeout. So the plan (groups, merges, moves, new works
# with their metadata) is computed from one read snapshot outside the lock, and written
# only if the grouping state is unchanged since that snapshot (`grouping_state`); new works
# whose records are all unlinked are then inserted SAVE_CHUNK at a time. A run cut short
# between chunks leaves only unlinked records, which the next round or run links.

PLAN_ATTEMPTS = 3  # plans made outside the lock before one is made under it


@dataclass
class WorksPlan:
    """The writes that make `works` match the groups, in the order the old single pass made them."""

    state: tuple
    steps: list[tuple] = field(default_factory=list)  # ("revive", work, into, members) | ("merge", ...)
    moves: list[tuple[int, str]] = field(default_factory=list)  # (work id, record id)
    logs: list[dict[str, Any]] = field(default_factory=list)
    new_works: dict[int, list[str]] = field(default_factory=dict)  # id -> members, in id order
    new_rows: dict[int, list] = field(default_factory=dict)  # id -> its insert_works row
    refresh_rows: list[list] = field(default_factory=list)
    new_linked: set[int] = field(default_factory=set)  # new works that take a linked record
    merged: dict[int, set[int]] = field(default_factory=dict)
    reviewer: str = "litrev"
    merged_works: int = 0
    revived_works: int = 0
    moved_records: int = 0
    _moves_by_work: dict[int, list[str]] | None = field(default=None, repr=False)

    def moves_into(self, works: Iterable[int]) -> list[tuple[int, str]]:
        """The planned moves of records into these works (indexed once: a scan of every
        move per chunk of new works cost 15 s at 500,000 records)."""
        if self._moves_by_work is None:
            self._moves_by_work = defaultdict(list)
            for work_id, record_id in self.moves:
                self._moves_by_work[work_id].append(record_id)
        return [(w, r) for w in works for r in self._moves_by_work.get(w, ())]


def grouping_state(db: Database) -> tuple:
    """A summary of the grouping's own writes (links, works, merges), which any of them changes.

    Only another grouping can make a plan unsafe to write (its works, links or merges).
    Other changes to what grouping reads do not need to be seen: records saved after this
    run scored are not grouped by it; pairs, verdicts and re-saved records are each written
    by a command that groups after writing them, and that later grouping replays every
    pair and record. So an import saving its chunks meanwhile does not make a plan stale.
    """
    return db.execute("""select
        (select printf('%d:%f', count(work_id), total(work_id)) from records),
        (select printf('%d:%d:%f:%d', count(*), coalesce(max(id), 0), total(merged_into),
                       count(merged_into)) from works),
        (select coalesce(max(id), 0) from work_merges)""").fetchone()


def group_and_save(db: Database, summary: DedupeSummary, *, refresh_all: bool, reviewer: str,
                   scored: set[str] | None, replace_relations: bool) -> None:
    """Plan outside the lock and write it in short transactions; see the section comment."""
    for _ in range(PLAN_ATTEMPTS):
        plan = plan_in_snapshot(db, refresh_all=refresh_all, reviewer=reviewer, scored=scored)
        with write_transaction(db):
            if grouping_state(db) != plan.state:
                continue  # another dedupe grouped meanwhile: plan again
            later = apply_plan(db, plan, summary)
            state = grouping_state(db)
        break
    else:
        with write_transaction(db):  # still changing under us: plan and write under the lock
            plan = plan_works(db, refresh_all=refresh_all, reviewer=reviewer, scored=scored)
            later = apply_plan(db, plan, summary)
            state = grouping_state(db)
    insert_new_works(db, plan, later, state, summary)
    with write_transaction(db):
        save_relations(db, replace_all=replace_relations)
        db.execute("update dedupe_state set regroup = 0 where id = 1")  # see regroup_needed


def plan_in_snapshot(db: Database, **options: Any) -> WorksPlan:
    """`plan_works` inside one read transaction: WAL gives it a snapshot without blocking writers."""
    if db.conn.in_transaction:  # the caller's transaction is the snapshot
        return plan_works(db, **options)
    db.execute("BEGIN DEFERRED")  # reads only: the one transaction that is not IMMEDIATE
    try:
        return plan_works(db, **options)
    finally:
        db.conn.rollback()


def insert_new_works(db: Database, plan: WorksPlan, later: list[int], state: tuple,
                     summary: DedupeSummary) -> None:
    """Insert the planned new works whose records are all unlinked, SAVE_CHUNK per transaction,
    each only while nobody else changed the grouping `state` since this run's previous write."""
    for start in range(0, len(later), SAVE_CHUNK):
        chunk = {w: plan.new_works[w] for w in later[start:start + SAVE_CHUNK]}
        with write_transaction(db):
            if grouping_state(db) != state:
                return  # their records stay unlinked: the next round links them
            _insert_planned_works(db, plan, chunk)
            summary.new_works += len(chunk)
            state = grouping_state(db)


def apply_plan(db: Database, plan: WorksPlan, summary: DedupeSummary) -> list[int]:
    """Write the plan's merges, revivals, moves and refreshes, and the new works that take a
    linked record; return the other new works' ids, left for `insert_new_works`."""
    stamp = now()
    for step in plan.steps:
        if step[0] == "revive":
            _, work_id, into, members = step
            db.execute("update works set merged_into = null, updated_at = ? where id = ?", [now(), work_id])
            db["work_merges"].insert({"action": "unmerge", "work_id": work_id, "into_work_id": into,
                                      "record_ids": json.dumps(members), "created_at": now()})
        else:
            _, work_id, into, record_ids = step
            db.execute("update works set merged_into = ?, updated_at = ? where id = ? or merged_into = ?",
                       [into, stamp, work_id, work_id])
            db.execute("update records set work_id = ? where work_id = ?", [into, work_id])
            db["work_merges"].insert({"action": "merge", "work_id": work_id, "into_work_id": into,
                                      "record_ids": json.dumps(record_ids), "method": "dedupe",
                                      "reviewer": plan.reviewer, "created_at": stamp})
    first = {w: plan.new_works[w] for w in sorted(plan.new_linked)}
    _insert_planned_works(db, plan, first)
    existing_moves = [(w, r) for w, r in plan.moves if w not in plan.new_works]
    db.conn.executemany("update records set work_id = ? where id = ?", existing_moves)
    if plan.logs:
        db["work_merges"].insert_all(plan.logs)
    db.conn.executemany(
        f"update works set {', '.join(f'[{c}] = ?' for c in WORK_FIELDS)}, updated_at = ? where id = ?",
        [[*row[:-1], stamp, row[-1]] for row in plan.refresh_rows])
    summary.merged_works += plan.merged_works
    summary.revived_works += plan.revived_works
    summary.moved_records += plan.moved_records
    summary.new_works += len(first)
    summary.conflicts.extend(decision_conflicts(db, plan.merged))
    return [w for w in plan.new_works if w not in first]


def _insert_planned_works(db: Database, plan: WorksPlan, works: dict[int, list[str]]) -> None:
    """New works with their metadata in one statement (one full-text index write each),
    before their records point at them."""
    if not works:
        return
    stamp = now()
    db.conn.executemany(
        f"insert into works (id, {', '.join(WORK_FIELDS)}, created_at, updated_at) "
        f"values ({', '.join('?' * (len(WORK_FIELDS) + 3))})",
        [[*plan.new_rows[w], stamp, stamp] for w in sorted(works)])
    db.conn.executemany("update records set work_id = ? where id = ?", plan.moves_into(sorted(works)))


def plan_works(db: Database, *, refresh_all: bool = False, reviewer: str = "litrev",
               scored: set[str] | None = None) -> WorksPlan:
    """Replay every merge pair and verdict into groups; plan the minimal moves that make
    `works` match them. Reads only.

    Unlinked records not in `scored` (saved after this run scored its pairs) are left
    unlinked: linking them now, without their pairs, would make each its own work for good.
    `scored=None` links every record.
    """
    plan = WorksPlan(state=grouping_state(db), reviewer=reviewer)
    groups = _groups(db, scored)
    raw = dict(db.execute("select id, work_id from records"))
    current = dict(db.execute(
        "select records.id, coalesce(works.merged_into, works.id) from records "
        "left join works on works.id = records.work_id"))
    merged_into = dict(db.execute("select id, merged_into from works"))
    by_group: dict[str, list[str]] = defaultdict(list)
    for record_id, root in groups.items():
        by_group[root].append(record_id)
    owned = _owned_works(current, groups)
    homes = _home_works(db)
    stamp = now()
    touched: set[int] = set()
    next_id = max(merged_into, default=0) + 1
    for root in sorted(by_group):
        members = sorted(by_group[root])
        works = sorted(owned.get(root, []))
        if works:
            target = works[0]
        else:
            target = _plan_revive(plan, members, homes, merged_into)
            if target is None:
                target, next_id = next_id, next_id + 1
                plan.new_works[target] = members
                if any(current.get(r) is not None for r in members):
                    plan.new_linked.add(target)
        for other in works[1:]:
            _plan_merge(plan, other, target, current, raw, merged_into)
        moving = defaultdict(list)
        for record_id in members:
            if current.get(record_id) != target:
                moving[current.get(record_id)].append(record_id)
        for from_work, record_ids in sorted(moving.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
            plan.moves.extend((target, r) for r in record_ids)
            if from_work is not None:
                plan.moved_records += len(record_ids)
                plan.logs.append({"action": "move", "work_id": from_work, "into_work_id": target,
                                  "record_ids": json.dumps(record_ids), "method": "dedupe",
                                  "reviewer": reviewer, "created_at": stamp})
            for record_id in record_ids:
                current[record_id] = raw[record_id] = target
        if moving or works[1:] or not works:
            touched.add(target)
    if refresh_all:
        touched = {w for w, into in merged_into.items() if into is None}
    _plan_metadata(db, plan, raw, touched - set(plan.new_works))
    return plan


def _groups(db: Database, scored: set[str] | None) -> dict[str, str]:
    """Each record to be linked -> its group's root, from the merge pairs, verdicts and DOIs."""
    prepared_ids, doi_bases = [], {}
    for record_id, doi, work_id in db.execute("select id, doi, work_id from records order by id"):
        if work_id is None and scored is not None and record_id not in scored:
            continue
        prepared_ids.append(record_id)
        base = doi_base(doi)
        if base:
            doi_bases[record_id] = base
    machine, bridges = [], []
    for a, b, s, method in db.execute(
            "select record_a, record_b, score, method from duplicate_pairs where outcome = 'merge'"):
        machine.append((a, b, s))
        if method in ONE_TEXT_TWO_DOIS:  # may join the two DOIs' groups
            bridges.append((a, b))
    same, different = _verdicts(db)
    return cluster(prepared_ids, machine, different, doi_bases, forced=[(a, b) for a, b, _ in same],
                   doi_bridges=bridges)


def _owned_works(current: dict[str, int | None], groups: dict[str, str]) -> dict[str, list[int]]:
    """Each existing canonical work belongs to the group holding most of its records."""
    counts: dict[int, Counter] = defaultdict(Counter)
    for record_id, work_id in current.items():
        if work_id is not None:
            counts[work_id][groups[record_id]] += 1
    owner = {w: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for w, c in counts.items()}
    owned: dict[str, list[int]] = defaultdict(list)
    for work_id, root in owner.items():
        owned[root].append(work_id)
    return owned


def _plan_revive(plan: WorksPlan, members: list[str], homes: dict[str, int],
                 merged_into: dict[int, int | None]) -> int | None:
    """A split-off group gets back the merged-away work its records came from, if any."""
    candidates = sorted({homes[m] for m in members if m in homes and homes[m] is not None})
    for work_id in candidates:
        if merged_into.get(work_id) is not None:
            plan.steps.append(("revive", work_id, merged_into[work_id], members))
            merged_into[work_id] = None
            plan.revived_works += 1
            return work_id
    return None


def _plan_merge(plan: WorksPlan, work_id: int, into: int, current: dict[str, int | None],
                raw: dict[str, int | None], merged_into: dict[int, int | None]) -> None:
    record_ids = sorted(r for r, w in current.items() if w == work_id)
    plan.steps.append(("merge", work_id, into, record_ids))
    for w, target in merged_into.items():
        if w == work_id or target == work_id:
            merged_into[w] = into
    for record_id, w in raw.items():
        if w == work_id:
            raw[record_id] = into
    for record_id in record_ids:
        current[record_id] = into
    plan.merged_works += 1
    plan.merged.setdefault(into, set()).add(work_id)


def _plan_metadata(db: Database, plan: WorksPlan, raw: dict[str, int | None],
                   refresh: set[int]) -> None:
    """Each new work's row, and each refreshed work's metadata, by `best_metadata` from the
    records it will hold (a record counts for the work its `work_id` names, as stored)."""
    members = {r for m in plan.new_works.values() for r in m}
    held = {r for r, w in raw.items() if w in refresh}
    rows = {row["record_id"]: row for row in _record_rows(db, "id", sorted(members | held))}
    for work_id, record_ids in sorted(plan.new_works.items()):
        best = best_metadata([rows[r] for r in record_ids if r in rows])
        plan.new_rows[work_id] = [work_id, *(best[c] for c in WORK_FIELDS)]
    by_work: dict[int, list[dict]] = defaultdict(list)
    for record_id in held:
        if record_id in rows:
            by_work[raw[record_id]].append(rows[record_id])
    for work_id in sorted(refresh):
        if work_id in by_work:
            best = best_metadata(by_work[work_id])
            plan.refresh_rows.append([*(best[c] for c in WORK_FIELDS), work_id])


def _home_works(db: Database) -> dict[str, int]:
    """Each record's first work: where it lived before any merge moved it."""
    homes: dict[str, int] = {}
    for work_id, record_ids in db.execute(
        "select work_id, record_ids from work_merges where action in ('merge', 'move') order by id"
    ):
        for record_id in json.loads(record_ids or "[]"):
            homes.setdefault(record_id, work_id)
    return homes


def decision_conflicts(db: Database, merged: dict[int, set[int]]) -> list[dict[str, Any]]:
    """Stages where a canonical work that absorbed others (`merged`: canonical -> works merged
    into it) now has a screening conflict, with the current votes that disagree.

    "Current vote" and "conflict" are the screening views' (`screening_votes`,
    `screening_outcomes`), the same as `litrev screen conflicts` shows: an undone
    vote is no vote, and an adjudicated stage is no conflict.
    """
    if not merged:
        return []
    rows = db.execute(
        """select o.work_id, o.stage, v.decision from screening_outcomes o
           join screening_votes v on v.work_id = o.work_id and v.stage = o.stage
           where o.outcome = 'conflict' and o.work_id in (select value from json_each(?))
           group by o.work_id, o.stage, v.decision order by o.work_id, o.stage, v.decision""",
        [json.dumps(sorted(merged))]).fetchall()
    by_stage: dict[tuple[int, str], list[str]] = defaultdict(list)
    for work_id, stage, decision in rows:
        by_stage[(work_id, stage)].append(decision)
    return [{"works": sorted({work_id, *merged[work_id]}), "stage": stage, "decisions": decisions}
            for (work_id, stage), decisions in by_stage.items()]


# --- best metadata ---------------------------------------------------------------


def _record_rows(db: Database, key: str, values: list) -> list[dict]:
    select = f"select id as record_id, source, work_id, {', '.join(WORK_FIELDS)} from records"
    if len(values) > 20_000:
        wanted, field = set(values), "record_id" if key == "id" else key
        return [row for row in db.query(select) if row[field] in wanted]
    return list(db.query(f"{select} where {key} in (select value from json_each(?))",
                         [json.dumps(values)]))


def best_metadata(rows: list[dict]) -> dict[str, Any]:
    """A work's metadata from its records' rows, by one deterministic rule.

    Records are ranked Crossref, OpenAlex, PubMed, then imports; within a rank the
    most complete record first, then by id. Each field takes the first non-empty
    value in that order, except the abstract (the longest) and the authors (the
    longest list: imports often truncate with "et al.").
    """

    def rank(row: dict) -> tuple:
        filled = sum(1 for f in WORK_FIELDS if row.get(f) not in (None, "", "[]"))
        return (SOURCE_PRIORITY.get(row["source"], 9), row["source"] or "", -filled, row["record_id"])

    ordered = sorted(rows, key=rank)
    best: dict[str, Any] = {}
    for name in WORK_FIELDS:
        values = [r[name] for r in ordered if r.get(name) not in (None, "", "[]")]
        if name == "abstract":
            best[name] = max(values, key=len) if values else None
        elif name == "authors":
            best[name] = max(values, key=lambda v: len(author_list(v))) if values else None
        elif name == "doi":
            best[name] = next((normalise_doi(v) for v in values if normalise_doi(v)), None)
        else:
            best[name] = values[0] if values else None
    return best


# --- relations ---------------------------------------------------------------------


def save_relations(db: Database, *, replace_all: bool = False) -> None:
    """Errata, retractions, comments and preprints: link their works, never merge them."""
    if replace_all:
        db.execute("delete from work_relations")
    rows = db.execute(
        """select ca.canonical_id, cb.canonical_id, p.details, p.record_a, p.record_b
           from duplicate_pairs p
           join records ra on ra.id = p.record_a join records rb on rb.id = p.record_b
           join canonical_works ca on ca.work_id = ra.work_id
           join canonical_works cb on cb.work_id = rb.work_id
           where p.outcome = 'related'""").fetchall()
    stamp = now()
    out = []
    for wa, wb, details, _a, _b in rows:
        if wa != wb:
            relation = json.loads(details or "{}").get("relation", "related")
            out.append({"work_id": wa, "related_work_id": wb, "relation": relation, "created_at": stamp})
    if out:
        db["work_relations"].insert_all(out, ignore=True)


# --- review queue, verdicts, unmerge -------------------------------------------------


def review_queue(db: Database) -> list[dict[str, Any]]:
    """Uncertain pairs nobody has judged, one per two works still apart, likeliest first.

    A person judges works, not records: of the record pairs between the same two works
    only the likeliest is shown (`pairs` says how many there are), and none once any
    record pair between them was judged "different". Order: `likelihood`
    (matching.duplicate_likelihood, kept in the pair's details), then the score.
    """
    rows = db.query(
        """select p.record_a, p.record_b, p.score, p.method, p.details,
                  ca.canonical_id as work_a, cb.canonical_id as work_b
           from duplicate_pairs p
           join records ra on ra.id = p.record_a join records rb on rb.id = p.record_b
           join canonical_works ca on ca.work_id = ra.work_id
           join canonical_works cb on cb.work_id = rb.work_id
           left join dedupe_verdicts v on v.record_a = p.record_a and v.record_b = p.record_b
           where p.outcome = 'review' and v.verdict is null and ca.canonical_id != cb.canonical_id""")
    judged = _works_judged_different(db)
    best: dict[tuple[int, int], dict[str, Any]] = {}
    counts: Counter = Counter()
    for row in rows:
        works = (min(row["work_a"], row["work_b"]), max(row["work_a"], row["work_b"]))
        if works in judged:
            continue
        row["likelihood"] = json.loads(row["details"] or "{}").get("likelihood", row["score"])
        counts[works] += 1
        if works not in best or _queue_order(row) < _queue_order(best[works]):
            best[works] = row
    for works, row in best.items():
        row["pairs"] = counts[works]
    return sorted(best.values(), key=_queue_order)


def _queue_order(row: dict[str, Any]) -> tuple:
    return (-row["likelihood"], -row["score"], row["record_a"], row["record_b"])


def _works_judged_different(db: Database) -> set[tuple[int, int]]:
    """Pairs of canonical works (smaller id first) with a "different" verdict between them."""
    rows = db.execute(
        """select ca.canonical_id, cb.canonical_id from dedupe_verdicts v
           join records ra on ra.id = v.record_a join records rb on rb.id = v.record_b
           join canonical_works ca on ca.work_id = ra.work_id
           join canonical_works cb on cb.work_id = rb.work_id
           where v.verdict = 'different'""")
    return {(min(x, y), max(x, y)) for x, y in rows}


def save_verdict(db: Database, a: str, b: str, verdict: str, reviewer: str) -> None:
    """Store a person's verdict on a pair; it wins on every later run, from the next grouping
    (`update_works`) on. A review session regroups once per round (`litrev.dedupe.review`)."""
    if verdict not in ("same", "different"):
        raise LitrevError(f"Unknown verdict {verdict!r}. Use same or different.")
    a, b = sorted((a, b))
    for record_id in (a, b):
        _require_record(db, record_id)
    with write_transaction(db):
        db["dedupe_verdicts"].upsert({"record_a": a, "record_b": b, "verdict": verdict,
                                      "reviewer": reviewer, "decided_at": now()},
                                     pk=("record_a", "record_b"))


def unmerge(db: Database, target: str, reviewer: str) -> DedupeSummary:
    """Undo a merge: split a record (id) or a merged-away work (number) from its group.

    Stored as "different" verdicts, so no later run merges them again.
    """
    if target.isdigit():
        work = db.execute("select merged_into from works where id = ?", [int(target)]).fetchone()
        if work is None:
            raise UnknownIdError(f"No work {target}. Check the id with `litrev dedupe --explain`.")
        if work[0] is None:
            raise LitrevError(f"Work {target} was not merged into another. Give a record id to split one record off.")
        homes = _home_works(db)
        mine = sorted(r for r, w in homes.items() if w == int(target))
        group = [r[0] for r in db.execute("select id from records where work_id = ?", [work[0]])]
        others = sorted(set(group) - set(mine))
    else:
        _require_record(db, target)
        work_id = db.execute("select work_id from records where id = ?", [target]).fetchone()[0]
        mine = [target]
        others = sorted(r[0] for r in db.execute(
            "select id from records where work_id = ? and id != ?", [work_id, target]))
    if not mine or not others:
        raise LitrevError(f"{target} is not grouped with anything. Nothing to undo.")
    stamp = now()
    with write_transaction(db):
        db["dedupe_verdicts"].upsert_all(
            ({"record_a": min(x, y), "record_b": max(x, y), "verdict": "different",
              "reviewer": reviewer, "decided_at": stamp} for x in mine for y in others),
            pk=("record_a", "record_b"))
    return update_works(db, reviewer=reviewer)


def _require_record(db: Database, record_id: str) -> None:
    if not db.execute("select 1 from records where id = ?", [record_id]).fetchone():
        raise UnknownIdError(f"No record {record_id}. Check the id with `litrev dedupe --explain`.")


# --- explain ----------------------------------------------------------------------------


def explain(db: Database, target: str) -> dict[str, Any]:
    """Why records were grouped: the work, its records, the pairs, verdicts and merge history."""
    if target.isdigit():
        row = db.execute("select coalesce(merged_into, id) from works where id = ?", [int(target)]).fetchone()
        if row is None:
            raise UnknownIdError(f"No work {target}. Give a work id or a record id (e.g. openalex:W123).")
        work_id = row[0]
    else:
        _require_record(db, target)
        work_id = db.execute(
            "select coalesce(w.merged_into, w.id) from records r left join works w on w.id = r.work_id "
            "where r.id = ?", [target]).fetchone()[0]
        if work_id is None:
            raise LitrevError(f"{target} is not linked to a work yet. Run `litrev dedupe` first.")
    work = next(db.query("select * from works where id = ?", [work_id]))
    records = [dict(r) for r in db.query(
        "select id, source, doi, year, title, venue from records where work_id = ? order by id", [work_id])]
    ids = json.dumps([r["id"] for r in records])
    pairs = [dict(r, details=json.loads(r["details"] or "{}")) for r in db.query(
        """select record_a, record_b, score, method, outcome, details from duplicate_pairs
            where record_a in (select value from json_each(:ids))
               or record_b in (select value from json_each(:ids))
            order by score desc, record_a, record_b""", {"ids": ids})]
    verdicts = [dict(r) for r in db.query(
        """select * from dedupe_verdicts where record_a in (select value from json_each(:ids))
           or record_b in (select value from json_each(:ids)) order by decided_at""", {"ids": ids})]
    merged = [dict(r) for r in db.query(
        "select * from work_merges where work_id = :w or into_work_id = :w order by id", {"w": work_id})]
    relations = [dict(r) for r in db.query(
        "select * from work_relations where work_id = :w or related_work_id = :w", {"w": work_id})]
    return {"work": work, "records": records, "pairs": pairs, "verdicts": verdicts,
            "merges": merged, "relations": relations}
