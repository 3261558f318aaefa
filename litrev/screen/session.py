"""A reviewer's screening session without any drawing: queue, decide, undo, rerank, stop, tags.

The terminal (litrev.screen.terminal) and the team web app (litrev.web.team) both drive
this object, so a key in either does the same thing. Every write goes through
litrev.screen.decisions / litrev.tags.storage (append-only, immediate transactions).
This is also the one place the ranker and the stopping signal are called from.

Retraining: without a `Retrainer` the order is refitted in the caller's thread after each
include/exclude (the terminal: ~110 ms at 10,000 works, between two key presses). With one,
the refit runs in the retrainer's worker process and the new order is swapped in when it
is ready, so a decision returns at once (the web app).
"""

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from litrev import views
from litrev.errors import LitrevError
from litrev.screen import decisions as screen_stage
from litrev.screen.settings import ReviewSettings
from litrev.tags import storage as tags_stage

Item = tuple[int, float | None]
# A session's model is refitted at most this often in the background: a decision every second
# from each of twenty reviewers would otherwise keep a core busy refitting (~110 ms at 10,000
# works each) for orders nobody has looked at yet.
REFIT_MIN_SECONDS = 3.0
TAG_KEYS = ("country", "design")


def rank_order(db: Database, settings: ReviewSettings, stage: str, reviewer: str, work_ids: list[int],
               cache: Any = None) -> list[Item]:
    """The ranker's order of `work_ids` (most likely includes first), with the model's score;
    `cache` (a rank.FeatureCache) keeps the feature matrix between refits."""
    from litrev.screen.rank import order_queue

    return order_queue(db, stage, reviewer, work_ids, settings, cache=cache)


def _feature_cache() -> Any:
    from litrev.screen.rank import FeatureCache  # scikit-learn loads in seconds: only when ranking

    return FeatureCache()


def stopping(db: Database, settings: ReviewSettings, stage: str, reviewer: str, work_ids: list[int]) -> Any:
    """The stopping rule's verdict (litrev.screen.stopping) on this reviewer's decisions so far:
    a few hypergeometric terms, cheap enough to compute after every decision."""
    from litrev.screen.rank import stopping_signal

    return stopping_signal(db, stage, reviewer, work_ids, recall_target=settings.recall_target,
                           confidence=settings.confidence)


class Retrainer:
    """Refits rankers away from the requests: in a worker process, coordinated by one thread.

    The refit (~110 ms at 10,000 works) is CPU-bound Python and
    numpy; on a thread of the server it would hold the GIL that every request needs, so it
    runs in a process of its own with its own connection. Jobs for one session coalesce:
    while a refit runs, further decisions only mark it stale, and one more refit follows
    with everything decided meanwhile.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="litrev-rank")
        # spawn, not fork: the server has threads, and a forked child would inherit their locks
        self.process = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_start_worker)
        self.errors: list[str] = []
        self.closed = False

    def rank(self, settings: ReviewSettings, stage: str, reviewer: str, work_ids: list[int]) -> list[Item]:
        return self.process.submit(_rank_in_worker, self.db_path, settings, stage, reviewer, work_ids).result()

    def submit(self, job: Callable[["Retrainer"], None]) -> None:
        if self.closed:  # a delayed refit's timer may fire after the server closed
            return
        self.thread.submit(self._run, job)

    def _run(self, job: Callable[["Retrainer"], None]) -> None:
        try:
            job(self)
        # Whatever a refit raises, the old order stays and screening goes on; the error is kept
        # for the server log. Nothing here writes, so nothing is left half done.
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"{type(e).__name__}: {e}")

    def wait(self) -> None:
        """Block until every job submitted so far has finished (tests, benchmarks)."""
        self.thread.submit(lambda: None).result()

    def close(self) -> None:
        self.closed = True
        self.thread.shutdown(wait=True)
        self.process.shutdown(wait=True)


# The refit worker process's own state: its connections and feature caches, one per database
# (a process pool runs module-level functions, so this is where a worker keeps them).
_worker_dbs: dict[str, tuple[Database, Any]] = {}
RANKED_HEAD = 500
WORKER_NICENESS = 10


def _start_worker() -> None:
    """The refit worker yields the CPU to the server answering reviewers (a fresher order can
    wait), and ends when the server does, even one that was killed."""
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="litrev-parent-watch").start()


def _worker_db(db_path: str) -> tuple[Database, Any]:
    if db_path not in _worker_dbs:
        from litrev.db import open_db
        from litrev.screen.rank import FeatureCache

        _worker_dbs[db_path] = (open_db(db_path, create=False), FeatureCache())
    return _worker_dbs[db_path]


def _rank_in_worker(db_path: str, settings: ReviewSettings, stage: str, reviewer: str,
                    work_ids: list[int]) -> list[Item]:
    # Only the head of the new order travels back: unpickling and merging 10,000 pairs would
    # cost the server ~10 ms per refit, and nobody screens 500 works before the next refit.
    db, cache = _worker_db(db_path)
    return rank_order(db, settings, stage, reviewer, work_ids, cache)[:RANKED_HEAD]


class ScreeningSession:
    """One reviewer's queue at one stage and what they did in it (for undo)."""

    def __init__(
        self, db: Database, settings: ReviewSettings, stage: str, reviewer: str,
        queue: list[Item], *, prioritise: bool = False, retrainer: Retrainer | None = None,
    ) -> None:
        self.db, self.settings, self.stage = db, settings, stage
        settings.stage(stage)
        self.reviewer = settings.check_reviewer(reviewer)
        self.queue = list(queue)
        self.pos = 0
        self.history: list[Item] = []  # decided in this session, newest last
        self.counts = {"include": 0, "exclude": 0, "maybe": 0, "undo": 0, "skip": 0}
        self.prioritise = prioritise
        self.retrainer = retrainer
        self.signal: Any = None
        self.features = _feature_cache() if prioritise and retrainer is None else None
        self.order_version = 0  # counts the orders swapped in by the retrainer
        self.lock = threading.RLock()
        self._refit_running = False
        self._refit_stale = False
        self._refit_order = False
        self._last_refit = -math.inf
        if prioritise:
            self.refresh_signal()

    @classmethod
    def start(cls, db: Database, settings: ReviewSettings, stage: str, reviewer: str, *,
              pilot: int | None = None, retrainer: Retrainer | None = None) -> "ScreeningSession":
        """The reviewer's blind queue (or the pilot sample), ranked when review.toml says so."""
        work_queue = screen_stage.queue(db, settings, stage, reviewer, pilot=pilot)
        return cls(db, settings, stage, reviewer, work_queue, retrainer=retrainer,
                   prioritise=settings.prioritise and not pilot)

    # -- where we are --

    def current(self) -> Item | None:
        """The work to show now; works others finished meanwhile leave the queue first."""
        with self.lock:
            while self.pos < len(self.queue):
                item = self.queue[self.pos]
                if self.still_open(item[0]):
                    return item
                self.queue.pop(self.pos)
            return None

    def still_open(self, work_id: int) -> bool:
        """Not yet voted on by this reviewer, short of the votes the stage needs, not adjudicated
        (the queue's rule, for one work: a terminal or a teammate may have decided it since)."""
        needed = self.settings.stage(self.stage).screeners
        params = {"work": work_id, "stage": self.stage, "reviewer": self.reviewer}
        row = self.db.execute(
            f"""select coalesce(sum(reviewer = :reviewer), 0), count(*),
                       exists(select 1 from ({views.ONE_WORK_ADJUDICATIONS}))
                from ({views.ONE_WORK_VOTES})""", params).fetchone()
        return row[0] == 0 and row[1] < needed and not row[2]

    def reload(self) -> None:
        """Rebuild the queue from the database (e.g. new full-text works arrived)."""
        fresh = screen_stage.queue(self.db, self.settings, self.stage, self.reviewer)
        with self.lock:
            self.queue, self.pos = fresh, 0

    def progress(self) -> dict[str, Any]:
        signal = self.signal
        screened = self.db.execute(f"select count(*) from ({views.REVIEWER_VOTES})",
                                   {"stage": self.stage, "reviewer": self.reviewer}).fetchone()[0]
        return {
            "stage": self.stage, "reviewer": self.reviewer, "screened": screened,
            "remaining": len(self.queue), "position": self.pos + 1, "counts": dict(self.counts),
            "signal": signal.as_dict() if signal is not None else None,
        }

    # -- moving --

    def skip(self) -> None:
        with self.lock:
            if self.pos < len(self.queue):
                self.pos += 1
                self.counts["skip"] += 1

    def back(self) -> None:
        with self.lock:
            self.pos = max(self.pos - 1, 0)

    # -- writing --

    def decide(self, work_id: int, decision: str, reason: str | None = None,
               note: str | None = None) -> None:
        """Record the reviewer's vote on `work_id`; raises LitrevError when it is refused."""
        if decision not in screen_stage.VOTE_LABELS:
            raise LitrevError(f"Unknown decision {decision!r}. Use include, exclude or maybe.")
        screen_stage.record_decision(self.db, self.settings, work_id, self.stage, self.reviewer,
                                     decision, reason=reason, note=note)
        with self.lock:
            item = self._take(work_id)
            self.history.append(item)
            self.counts[decision] += 1
        if self.prioritise:
            if decision in ("include", "exclude"):
                self.rerank()
            self.refresh_signal()  # a maybe counts for the stopping test too

    def undo(self) -> int:
        """Withdraw the last decision of this session and put its work back in front."""
        with self.lock:
            if not self.history:
                raise LitrevError("Nothing to undo in this session.")
            item = self.history[-1]
        screen_stage.undo(self.db, self.settings, item[0], self.stage, self.reviewer)
        with self.lock:
            self.history.pop()
            self.queue.insert(self.pos, item)
            self.counts["undo"] += 1
        if self.prioritise:
            self.refresh_signal()
        return item[0]

    def tags(self, work_id: int) -> list[dict[str, Any]]:
        """The work's effective tags (the work_tags view's rows, read for this work only)."""
        work = tags_stage.resolve_work(self.db, work_id)
        return list(self.db.query(f"select * from ({views.ONE_WORK_TAGS}) order by key, confidence desc, value",
                                  {"work": work}))

    def accept_tags(self, work_id: int, answer: str = "") -> list[tuple[str, str]]:
        """Confirm the suggested country/design (empty answer) or set typed `key=value` pairs."""
        if answer.strip():
            pairs = tags_stage.parse_assignments(answer.split())
        else:
            pairs = [(t["key"], t["value"]) for t in self.tags(work_id)
                     if t["origin"] == "auto" and t["key"] in TAG_KEYS]
        if not pairs:
            raise LitrevError("No tags to confirm. Type e.g. country=GB design=rct.")
        tags_stage.set_tags(self.db, work_id, pairs, self.reviewer)
        return pairs

    def _take(self, work_id: int) -> Item:
        for i, item in enumerate(self.queue):
            if item[0] == work_id:
                if i < self.pos:
                    self.pos -= 1
                return self.queue.pop(i)
        return (work_id, None)

    # -- ranking and the stopping signal --

    def rerank(self) -> None:
        """Retrain on the decisions so far and put the likeliest includes next."""
        if self.retrainer is not None:
            self._start_refit(order=True)
            return
        rest = [work_id for work_id, _ in self.queue[self.pos:]]
        if rest:
            self.queue[self.pos:] = rank_order(self.db, self.settings, self.stage, self.reviewer, rest,
                                               self.features)

    def refresh_signal(self) -> None:
        with self.lock:
            left = [work_id for work_id, _ in self.queue[self.pos:]]
        self.signal = stopping(self.db, self.settings, self.stage, self.reviewer, left)

    def _start_refit(self, order: bool) -> None:
        with self.lock:
            self._refit_order = self._refit_order or order
            if self._refit_running:
                self._refit_stale = True
                return
            self._refit_running = True
        self._schedule_refit()

    def _schedule_refit(self) -> None:
        """Refit now, or once REFIT_MIN_SECONDS have passed since this session's last refit."""
        delay = self._last_refit + REFIT_MIN_SECONDS - time.monotonic()
        if delay <= 0:
            self.retrainer.submit(self._refit)
            return
        timer = threading.Timer(delay, self.retrainer.submit, [self._refit])
        timer.daemon = True
        timer.start()

    def _refit(self, retrainer: Retrainer) -> None:
        """On the retrainer's thread: one refit with every decision so far; another follows
        (no sooner than REFIT_MIN_SECONDS) when decisions arrived meanwhile."""
        again = False
        try:
            with self.lock:
                self._refit_stale = False
                self._last_refit = time.monotonic()
                order, self._refit_order = self._refit_order, False
                shown = self.pos + 1  # the work on screen keeps its place
                rest = [work_id for work_id, _ in self.queue[shown:]]
            if order and rest:
                self._swap_order(retrainer.rank(self.settings, self.stage, self.reviewer, rest))
        finally:
            with self.lock:
                again = self._refit_stale
                self._refit_running = again
        if again:
            self._schedule_refit()

    def _swap_order(self, ranked: list[Item]) -> None:
        """Put the ranked works (the head of the new order) next; the rest keep their order."""
        with self.lock:
            shown = self.pos + 1
            waiting = {work_id for work_id, _ in self.queue[shown:]}
            ordered = [item for item in ranked if item[0] in waiting]
            seen = {work_id for work_id, _ in ordered}
            ordered += [item for item in self.queue[shown:] if item[0] not in seen]
            self.queue[shown:] = ordered
            self.order_version += 1
