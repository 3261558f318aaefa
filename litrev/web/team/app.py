"""The team server's state: one database thread, the sessions of signed-in reviewers, a retrainer.

Every database call of the web app runs on one thread with one connection (`TeamApp.call`):
SQLite serialises writers anyway, and a decision is a few milliseconds, so twenty reviewers
queue for each other only briefly while the event loop stays free. Rankers are refitted on
the retrainer's worker process (litrev.screen.session.Retrainer), never in a request. The terminal
can screen the same file at the same time: every write is an
immediate transaction through litrev.screen.decisions, as the CLI's are.
"""

import asyncio
import json
import math
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from sqlite_utils import Database

from litrev.db import open_db
from litrev.report import prisma as prisma_stage
from litrev.screen import decisions as screen_stage
from litrev.screen.session import Retrainer, ScreeningSession
from litrev.screen.settings import ReviewSettings
from litrev.sources.normalise import author_list
from litrev.web.team.accounts import LoginThrottle

LEAD = "lead"


class TeamApp:
    """What `litrev team serve` keeps between requests."""

    def __init__(self, db_path: str | Path, settings: ReviewSettings) -> None:
        self.db_path = str(db_path)
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="litrev-db")
        # Building a queue reads every work (~1 s at 10,000): on its own thread, so a reviewer
        # opening a stage never holds up the others' decisions.
        self.starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="litrev-queue")
        self._starter_db: Database | None = None
        self._starting: dict[tuple[str, str], asyncio.Future] = {}
        self._db: Database | None = None
        self.retrainer = Retrainer(self.db_path)
        self.sessions: dict[tuple[str, str], ScreeningSession] = {}
        self.throttle = LoginThrottle()
        # Members are re-read at most once a second, not once per request: a removed account
        # or a changed role takes effect within that second, and a request does not queue for
        # the database thread twice.
        self.member_ttl = 1.0
        self._members: dict[str, dict[str, Any]] = {}
        self._members_read = -math.inf

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(db, *args)` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(self.db(), *args, **kwargs))

    def db(self) -> Database:
        if self._db is None:
            self._db = open_db(self.db_path, create=False)
        return self._db

    def close(self) -> None:
        self.retrainer.close()
        self.starter.shutdown(wait=True)
        self.pool.shutdown(wait=True)

    async def open_session(self, reviewer: str, stage: str) -> None:
        """Make sure `reviewer` has a session at `stage`, building its queue off the database thread."""
        key = (reviewer, stage)
        if key in self.sessions:
            return
        if key not in self._starting:
            loop = asyncio.get_running_loop()
            self._starting[key] = loop.run_in_executor(self.starter, self._start, reviewer, stage)
        try:
            session = await asyncio.shield(self._starting[key])
        finally:
            self._starting.pop(key, None)
        await self.call(self._adopt, key, session)

    def _start(self, reviewer: str, stage: str) -> ScreeningSession:
        if self._starter_db is None:
            self._starter_db = open_db(self.db_path, create=False)
        return ScreeningSession.start(self._starter_db, self.settings, stage, reviewer,
                                      retrainer=self.retrainer)

    def _adopt(self, db: Database, key: tuple[str, str], session: ScreeningSession) -> None:
        """From now on the session reads and writes with the database thread's connection."""
        if key not in self.sessions:
            session.db = db
            self.sessions[key] = session

    # -- on the database thread --

    async def member(self, name: str | None) -> dict[str, Any] | None:
        """The signed-in member as stored (at most `member_ttl` seconds ago)."""
        if time.monotonic() - self._members_read >= self.member_ttl:
            self._members = await self.call(_all_members)
            self._members_read = time.monotonic()
        return self._members.get(name) if name else None

    def session(self, db: Database, reviewer: str, stage: str) -> ScreeningSession:
        key = (reviewer, stage)
        found = self.sessions.get(key)
        if found is None:
            found = ScreeningSession.start(db, self.settings, stage, reviewer, retrainer=self.retrainer)
            self.sessions[key] = found
        return found

    def state(self, db: Database, reviewer: str, stage: str) -> dict[str, Any]:
        """The work to screen now, with progress and tags: the screening page's JSON."""
        session = self.session(db, reviewer, stage)
        item = session.current()
        if item is None and not session.queue:
            session.reload()
            item = session.current()
        work = None
        if item is not None:
            work = work_view(db, self.settings, item[0])
            # The model's margin once it has learnt from both classes; only its order means anything.
            work["score"] = None if item[1] is None else round(item[1], 2)
            work["tags"] = tag_view(session.tags(item[0]))
            if not self.settings.blind:
                work["votes"] = others_votes(db, item[0], stage, reviewer)
        return {"work": work, "progress": session.progress(),
                "reasons": self.settings.reasons_for(stage),
                "reason_required": self.settings.stage(stage).reason_required}

    def act(self, db: Database, reviewer: str, stage: str, action: str,
            form: dict[str, str]) -> dict[str, Any]:
        """One screening action (decide, undo, skip, back, tags); returns the next state."""
        session = self.session(db, reviewer, stage)
        message = ""
        if action == "decide":
            work_id = int(form.get("work_id") or 0)
            decision = form.get("decision", "")
            session.decide(work_id, decision, reason=form.get("reason") or None,
                           note=form.get("note") or None)
            message = f"Saved: {decision} on work {work_id}."
        elif action == "undo":
            message = f"Undone: your decision on work {session.undo()} is withdrawn; decide again."
        elif action == "skip":
            session.skip()
        elif action == "back":
            session.back()
        elif action == "tags":
            pairs = session.accept_tags(int(form.get("work_id") or 0), form.get("tags", ""))
            message = "Tags saved: " + ", ".join(f"{k}={v}" for k, v in pairs if v)
        return {**self.state(db, reviewer, stage), "message": message}

    def conflicts(self, db: Database) -> list[dict[str, Any]]:
        """Every open conflict with each vote's reason and note (the lead sees everything)."""
        rows = screen_stage.conflicts(db)
        for row in rows:
            row["votes"] = [dict(v) for v in db.query(
                """select v.reviewer, v.decision, v.reason, d.note, v.decided_at
                   from screening_votes v join decisions d on d.id = v.decision_id
                   where v.work_id = ? and v.stage = ? order by v.reviewer""",
                [row["work_id"], row["stage"]])]
        return rows

    def resolve(self, db: Database, lead: str, form: dict[str, str]) -> str:
        work_id, stage = int(form.get("work_id") or 0), form.get("stage", "")
        decision = form.get("decision", "")
        screen_stage.resolve(db, self.settings, work_id, stage, lead, decision,
                             reason=form.get("reason") or None, note=form.get("note") or None)
        return f"Adjudicated {decision}: work {work_id} at {stage}."

    def agreement(self, db: Database) -> dict[str, Any]:
        return {"pairs": screen_stage.agreement(db),
                "progress": list(db.query("select * from screening_progress order by stage desc, reviewer"))}

    def prisma_svg(self, db: Database) -> Markup:
        return Markup(prisma_stage.render(prisma_stage.prisma_counts(db), "svg"))


def _all_members(db: Database) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in db.query("select name, role from team_members")}


# --- what the pages show ---------------------------------------------------------


def highlight_html(text: str | None, include: list[str], exclude: list[str]) -> Markup:
    """`text`, HTML-escaped, with the review's keywords in <mark class="include|exclude">.

    Keywords match case-insensitively at word starts, as in the terminal.
    """
    text = text or ""
    marks: list[tuple[int, int, str]] = []
    for words, kind in ((include, "include"), (exclude, "exclude")):
        for word in (w.strip() for w in words):
            if word:
                marks += [(m.start(), m.end(), kind)
                          for m in re.finditer(r"(?i)\b" + re.escape(word), text)]
    out, at = [], 0
    for start, end, kind in sorted(marks):
        if start < at:
            continue  # overlapping keywords: the first one wins
        out += [escape(text[at:start]), Markup(f'<mark class="{kind}">'), escape(text[start:end]),
                Markup("</mark>")]
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def work_view(db: Database, settings: ReviewSettings, work_id: int) -> dict[str, Any]:
    row = next(db.query(
        "select id, title, authors, year, venue, abstract, doi, pmid, openalex_id from works where id = ?",
        [work_id]), None) or {"id": work_id}
    inc, exc = settings.include_keywords, settings.exclude_keywords
    return {
        "id": work_id,
        "title_html": str(highlight_html(row.get("title") or "(no title)", inc, exc)),
        "abstract_html": str(highlight_html(row.get("abstract") or "(no abstract)", inc, exc)),
        "authors": author_list(row.get("authors")),
        "year": row.get("year"), "venue": row.get("venue"),
        "links": links(db, row),
    }


def links(db: Database, work: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    if work.get("doi"):
        out.append({"label": "DOI", "url": f"https://doi.org/{work['doi']}"})
    if work.get("pmid"):
        out.append({"label": "PubMed", "url": f"https://pubmed.ncbi.nlm.nih.gov/{work['pmid']}/"})
    if work.get("openalex_id"):
        out.append({"label": "OpenAlex", "url": f"https://openalex.org/{work['openalex_id']}"})
    pdf = open_access_pdf(db, work["id"])
    if pdf:
        out.append({"label": "Open-access PDF", "url": pdf})
    return out


def open_access_pdf(db: Database, work_id: int) -> str | None:
    """An open-access PDF link from the work's OpenAlex records, where OpenAlex gives one."""
    for (raw,) in db.execute(
        "select raw from records where work_id = ? and source = 'openalex'", [work_id]
    ):
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            continue
        for location in (data.get("best_oa_location"), data.get("primary_location")):
            if isinstance(location, dict) and location.get("is_oa") and location.get("pdf_url"):
                return location["pdf_url"]
    return None


def tag_view(tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": t["key"], "value": t["value"], "suggested": t["origin"] == "auto",
             "confidence": t.get("confidence"), "evidence": t.get("evidence")}
            for t in tags if t["key"] in ("country", "design", "nation")]


def others_votes(db: Database, work_id: int, stage: str, reviewer: str) -> list[dict[str, Any]]:
    """Teammates' current votes (shown only when review.toml sets [screen] blind = false)."""
    return [dict(r) for r in db.query(
        "select reviewer, decision, reason from screening_votes where work_id = ? and stage = ? "
        "and reviewer != ? order by reviewer", [work_id, stage, reviewer])]
