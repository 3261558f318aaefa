"""The screening terminal: one work at a time, one key per decision.

Keys: i include, e exclude (then the reason's number), m maybe, s skip, u undo,
n note, t tags, q quit. Every decision is saved the moment the key is pressed
(one short transaction), so quitting or a crash loses nothing and the next
session resumes with what is left. The key reader and line reader are injected,
so tests drive the loop with a list of keys.
"""

import re
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text
from sqlite_utils import Database

from . import screen as screen_stage
from . import tags as tags_stage
from .errors import LitrevError
from .normalise import author_list
from .review import ReviewSettings

KeyReader = Callable[[], str]
LineReader = Callable[[str], str]
HELP = "[i]nclude  [e]xclude  [m]aybe  [s]kip  [u]ndo  [n]ote  [t]ags  [q]uit"
MAX_AUTHORS = 6


def highlight(text: str, include: list[str], exclude: list[str]) -> Text:
    """`text` with include keywords in bold green and exclude keywords in bold red.

    Keywords match case-insensitively at word starts ("drug" also marks "drugs").
    """
    out = Text(text or "")
    for words, style in ((include, "bold green"), (exclude, "bold red")):
        for word in words:
            if word.strip():
                out.highlight_regex(re.compile(r"(?i)\b" + re.escape(word.strip())), style)
    return out


def _authors(value: Any) -> str:
    names = author_list(value)
    if not names:
        return "(no authors)"
    shown = ", ".join(str(n) for n in names[:MAX_AUTHORS])
    return shown + (f" et al. ({len(names)} authors)" if len(names) > MAX_AUTHORS else "")


class ScreeningSession:
    """The key loop over a reviewer's queue for one stage."""

    def __init__(
        self, db: Database, settings: ReviewSettings, stage: str, reviewer: str,
        queue: list[tuple[int, float | None]], *, read_key: KeyReader | None = None,
        read_line: LineReader | None = None, console: Console | None = None,
        prioritise: bool = False,
    ) -> None:
        self.db, self.settings, self.stage = db, settings, stage
        self.reviewer = settings.check_reviewer(reviewer)
        self.queue = list(queue)
        self.read_key = read_key or (lambda: click.getchar())
        self.read_line = read_line or (lambda prompt: click.prompt(prompt, default="", show_default=False))
        self.console = console or Console()
        self.pos = 0
        self.history: list[tuple[int, float | None]] = []  # decided in this session, for undo
        self.note: str | None = None
        self.message = ""
        self.counts = {"include": 0, "exclude": 0, "maybe": 0, "undo": 0, "skip": 0}
        # Active learning: retrain on each include/exclude and re-rank what is left.
        self.prioritise = prioritise
        self.signal = None
        if prioritise:
            self.refresh_signal()

    # -- the loop --

    def run(self) -> dict[str, int]:
        while self.pos < len(self.queue):
            work_id, score = self.queue[self.pos]
            self.render(work_id, score)
            key = (self.read_key() or "").lower()
            if key == "q":
                break
            self.handle(key, work_id)
        else:
            if not self.queue and not self.history:
                self.console.print("Nothing left to screen at this stage.")
            elif not self.queue:
                self.console.print("Queue done: every work here has your decision.")
            else:
                self.console.print("End of the queue (skipped works stay for next time).")
        self.console.print(self.summary(), markup=False)
        return self.counts

    def handle(self, key: str, work_id: int) -> None:
        self.message = ""
        if key == "i":
            self.decide(work_id, "include")
        elif key == "e":
            reason = self.ask_reason()
            if reason is None:
                self.message = "Exclusion cancelled."
            else:
                self.decide(work_id, "exclude", reason)
        elif key == "m":
            self.decide(work_id, "maybe")
        elif key == "s":
            self.pos += 1
            self.counts["skip"] += 1
        elif key == "u":
            self.undo()
        elif key == "n":
            text = self.read_line("Note (saved with your decision on this work)").strip()
            self.note = text or None
            self.message = "Note kept for your decision." if text else "Note cleared."
        elif key == "t":
            self.tag(work_id)
        else:
            self.message = f"Unknown key {key!r}. {HELP}"

    def decide(self, work_id: int, decision: str, reason: str | None = None) -> None:
        try:
            screen_stage.record_decision(self.db, self.settings, work_id, self.stage, self.reviewer,
                                         decision, reason=reason, note=self.note)
        except LitrevError as e:
            self.message = str(e)
            return
        self.counts[decision] += 1
        self.history.append(self.queue.pop(self.pos))
        self.note = None
        self.message = f"Saved: {decision}" + (f" ({reason})" if reason else "") + f" on work {work_id}."
        if self.prioritise:
            if decision in ("include", "exclude"):
                self.rerank()
            self.refresh_signal()  # a maybe counts for the stopping test too

    def rerank(self) -> None:
        """Retrain on the decisions so far and put the likeliest includes next."""
        from .rank import order_queue  # scikit-learn loads in seconds: only when screening

        rest = [work_id for work_id, _ in self.queue[self.pos:]]
        if rest:
            self.queue[self.pos:] = order_queue(self.db, self.stage, self.reviewer, rest)

    def refresh_signal(self) -> None:
        """The stopping test: a few hypergeometric terms over this reviewer's decisions,
        cheap enough for every decision."""
        from .rank import stopping_signal

        self.signal = stopping_signal(
            self.db, self.stage, self.reviewer, [work_id for work_id, _ in self.queue],
            recall_target=self.settings.recall_target, confidence=self.settings.confidence)

    def undo(self) -> None:
        if not self.history:
            self.message = "Nothing to undo in this session."
            return
        item = self.history.pop()
        screen_stage.undo(self.db, self.settings, item[0], self.stage, self.reviewer)
        self.queue.insert(self.pos, item)
        self.counts["undo"] += 1
        if self.prioritise:
            self.refresh_signal()
        self.message = f"Undone: your decision on work {item[0]} is withdrawn; decide again."

    def ask_reason(self) -> str | None:
        reasons = self.settings.reasons_for(self.stage)
        lines = [f"  {i}. {r}" for i, r in enumerate(reasons, 1)]
        self.console.print("Exclusion reason (number, any other key cancels):\n" + "\n".join(lines),
                           markup=False)
        if len(reasons) <= 9:
            choice = self.read_key()
        else:
            choice = self.read_line("Reason number")
        choice = (choice or "").strip()
        if choice.isdigit() and 1 <= int(choice) <= len(reasons):
            return reasons[int(choice) - 1]
        return None

    def tag(self, work_id: int) -> None:
        """Confirm the suggested country/design (Enter) or type key=value pairs to change them."""
        current = tags_stage.effective_tags(self.db, work_id)
        shown = ", ".join(f"{t['key']}={t['value']}" + (" (suggested)" if t["origin"] == "auto" else "")
                          for t in current) or "none"
        self.console.print(f"Tags: {shown}", markup=False)
        answer = self.read_line("Enter confirms the suggestions; or type e.g. country=GB design=rct").strip()
        try:
            if answer:
                pairs = tags_stage.parse_assignments(answer.split())
            else:
                pairs = [(t["key"], t["value"]) for t in current
                         if t["origin"] == "auto" and t["key"] in ("country", "design")]
            if not pairs:
                self.message = "No tags to confirm."
                return
            tags_stage.set_tags(self.db, work_id, pairs, self.reviewer)
        except LitrevError as e:
            self.message = str(e)
            return
        self.message = "Tags saved: " + ", ".join(f"{k}={v}" for k, v in pairs if v)

    # -- drawing --

    def render(self, work_id: int, score: float | None) -> None:
        work = self.db.execute(
            "select title, authors, year, venue, abstract, doi from works where id = ?", [work_id]
        ).fetchone()
        title, authors, year, venue, abstract, doi = work or ("(missing work)", None, None, None, None, None)
        inc, exc = self.settings.include_keywords, self.settings.exclude_keywords
        heading = highlight(title or "(no title)", inc, exc)
        heading.stylize("bold")
        body = Group(
            heading,
            Text(_authors(authors), style="cyan"),
            Text(" · ".join(str(p) for p in (year, venue, f"doi:{doi}" if doi else None) if p), style="dim"),
            Text(""),
            highlight(abstract or "(no abstract)", inc, exc),
        )
        remaining = len(self.queue)
        position = f"{self.pos + 1} of {remaining} left · {self.stage} · {self.reviewer}"
        if self.signal is not None and self.signal.test.sampling:
            position += " · random order, for the stopping test"
        elif score is not None:  # the model's margin: only its order means anything
            position += f" · model score {score:+.2f}"

        self.console.clear()
        self.console.print(Panel(body, title=f"work {work_id}", subtitle=Text(position), subtitle_align="right"))
        if self.signal is not None:
            self.console.print(self.stopping_line(), style="dim", markup=False)
        if self.note:
            self.console.print(f"Note: {self.note}", style="yellow", markup=False)
        if self.message:
            self.console.print(self.message, style="magenta", markup=False)
        self.console.print(HELP, style="bold", markup=False)

    def stopping_line(self) -> str:
        return (f"Stopping rule: {self.signal.test.message()}.\n"
                f"Excludes in a row since your last include: {self.signal.consecutive_excludes}.")

    def summary(self) -> str:
        c = self.counts
        return (f"This session: {c['include']} included, {c['exclude']} excluded, {c['maybe']} maybe, "
                f"{c['undo']} undone, {c['skip']} skipped. {len(self.queue)} left at {self.stage}.")


def run_session(
    db: Database, settings: ReviewSettings, stage: str, reviewer: str, *, pilot: int | None = None,
    read_key: KeyReader | None = None, read_line: LineReader | None = None,
    console: Console | None = None,
) -> dict[str, int]:
    """Build the reviewer's blind queue (or pilot sample) and run the key loop."""
    work_queue = screen_stage.queue(db, settings, stage, reviewer, pilot=pilot)
    session = ScreeningSession(db, settings, stage, reviewer, work_queue, read_key=read_key,
                               read_line=read_line, console=console,
                               prioritise=settings.prioritise and not pilot)
    return session.run()
