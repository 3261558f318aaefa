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

from litrev.errors import LitrevError
from litrev.screen import decisions as screen_stage
from litrev.screen import session as session_stage
from litrev.screen.settings import ReviewSettings
from litrev.sources.normalise import author_list

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
    """The key loop over a reviewer's queue for one stage; the logic is litrev.screen.session's."""

    def __init__(
        self, db: Database, settings: ReviewSettings, stage: str, reviewer: str,
        queue: list[tuple[int, float | None]], *, read_key: KeyReader | None = None,
        read_line: LineReader | None = None, console: Console | None = None,
        prioritise: bool = False,
    ) -> None:
        self.session = session_stage.ScreeningSession(db, settings, stage, reviewer, queue,
                                                      prioritise=prioritise)
        self.db, self.settings, self.stage = db, settings, stage
        self.reviewer = self.session.reviewer
        self.read_key = read_key or (lambda: click.getchar())
        self.read_line = read_line or (lambda prompt: click.prompt(prompt, default="", show_default=False))
        self.console = console or Console()
        self.note: str | None = None
        self.message = ""

    @property
    def queue(self) -> list[tuple[int, float | None]]:
        return self.session.queue

    @property
    def counts(self) -> dict[str, int]:
        return self.session.counts

    @property
    def signal(self):
        return self.session.signal

    # -- the loop --

    def run(self) -> dict[str, int]:
        while (item := self.session.current()) is not None:
            work_id, score = item
            self.render(work_id, score)
            key = (self.read_key() or "").lower()
            if key == "q":
                break
            self.handle(key, work_id)
        else:
            if not self.queue and not self.session.history:
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
            self.session.skip()
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
            self.session.decide(work_id, decision, reason=reason, note=self.note)
        except LitrevError as e:
            self.message = str(e)
            return
        self.note = None
        self.message = f"Saved: {decision}" + (f" ({reason})" if reason else "") + f" on work {work_id}."

    def undo(self) -> None:
        try:
            work_id = self.session.undo()
        except LitrevError as e:
            self.message = str(e)
            return
        self.message = f"Undone: your decision on work {work_id} is withdrawn; decide again."

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
        current = self.session.tags(work_id)
        shown = ", ".join(f"{t['key']}={t['value']}" + (" (suggested)" if t["origin"] == "auto" else "")
                          for t in current) or "none"
        self.console.print(f"Tags: {shown}", markup=False)
        answer = self.read_line("Enter confirms the suggestions; or type e.g. country=GB design=rct").strip()
        try:
            pairs = self.session.accept_tags(work_id, answer)
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
        position = f"{self.session.pos + 1} of {remaining} left · {self.stage} · {self.reviewer}"
        if score is not None:
            position += f" · relevance {score:.2f}"

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
        line = f"Stopping signal: excludes in a row since your last include: {self.signal.consecutive_excludes}"
        if self.signal.estimated_remaining is not None:
            line += f"; relevant works left, estimated: ~{self.signal.estimated_remaining:.0f}"
        return line

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
    screen = ScreeningSession(db, settings, stage, reviewer, work_queue, read_key=read_key,
                              read_line=read_line, console=console,
                              prioritise=settings.prioritise and not pilot)
    return screen.run()
