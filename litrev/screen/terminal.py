"""The screening terminal: one work at a time, one key per decision.

Keys: i include, e exclude (then the reason's number), m maybe, s skip, u undo,
n note, t tags, q quit; space/PgDn and b/PgUp page a long abstract. Each frame fits
the console (80x24 at least): the title, the position and the legend stay on screen
while the abstract is paged (litrev.screen.paging). Every decision is saved the moment the key is pressed
(one short transaction), so quitting or a crash loses nothing and the next
session resumes with what is left. The key reader and line reader are injected,
so tests drive the loop with a list of keys.
"""

import re
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from sqlite_utils import Database

from litrev.errors import LitrevError
from litrev.screen import decisions as screen_stage
from litrev.screen import paging
from litrev.screen import session as session_stage
from litrev.screen.settings import ReviewSettings
from litrev.sources.normalise import author_list

KeyReader = Callable[[], str]
LineReader = Callable[[str], str]
HELP = "[i]nclude  [e]xclude  [m]aybe  [s]kip  [u]ndo  [n]ote  [t]ags  [q]uit"
MAX_AUTHORS = 6
MAX_TITLE_LINES = 3
MAX_AUTHOR_LINES = 2
PANEL_CHROME = 4  # the panel's two borders and its padding of one cell each side


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
        self.page = 0

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
        shown = None
        while (item := self.session.current()) is not None:
            work_id, score = item
            if work_id != shown:
                shown, self.page = work_id, 0
            self.render(work_id, score)
            raw = self.read_key() or ""
            if step := paging.page_key(raw):
                self.page += step
                continue
            key = raw.lower()
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
            self.message = f"Unknown key {key!r}: the keys are listed below."

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
        menu = Text("Exclusion reason (number, any other key cancels):\n" + "\n".join(lines))
        self.render(*self.session.current(), body=menu, legend="number: the reason; any other key cancels")
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
        self.message = f"Tags: {shown}"
        self.render(*self.session.current())
        answer = self.read_line("Enter confirms the suggestions; or type e.g. country=GB design=rct").strip()
        try:
            pairs = self.session.accept_tags(work_id, answer)
        except LitrevError as e:
            self.message = str(e)
            return
        self.message = "Tags saved: " + ", ".join(f"{k}={v}" for k, v in pairs if v)

    # -- drawing --

    def render(self, work_id: int, score: float | None, *, body: Text | None = None,
               legend: str = HELP) -> None:
        """Draw the work's frame: heading and legend fixed, the abstract paged at `self.page`.

        `body` (the reason menu) replaces the abstract, on one page, leaving `self.page` as it was.
        """
        work = self.db.execute(
            "select title, authors, year, venue, abstract, doi from works where id = ?", [work_id]
        ).fetchone()
        title, authors, year, venue, abstract, doi = work or ("(missing work)", None, None, None, None, None)
        inc, exc = self.settings.include_keywords, self.settings.exclude_keywords
        width = self.console.width - PANEL_CHROME
        heading = highlight(title or "(no title)", inc, exc)
        heading.stylize("bold")
        head = [
            paging.shorten(self.console, heading, width, MAX_TITLE_LINES),
            paging.shorten(self.console, Text(_authors(authors), style="cyan"), width, MAX_AUTHOR_LINES),
            Text(" · ".join(str(p) for p in (year, venue, f"doi:{doi}" if doi else None) if p), style="dim"),
            Text(""),
        ]
        position = f"{self.session.pos + 1} of {len(self.queue)} left · {self.stage} · {self.reviewer}"
        if self.signal is not None and self.signal.test.sampling:
            position += " · random order, for the stopping test"
        elif score is not None:  # the model's margin: only its order means anything
            position += f" · model score {score:+.2f}"

        def wrap(page: RenderableType, label: str, *, reserve: bool = False) -> RenderableType:
            panel = Panel(Group(*head, page), title=f"work {work_id}", subtitle=Text(position),
                          subtitle_align="right")
            return Group(panel, *self.foot(label, legend, reserve=reserve))

        def measure(page: RenderableType, label: str) -> RenderableType:
            return wrap(page, label, reserve=True)

        if body is not None:  # a question in place of the abstract: its own single page
            paging.PagedFrame(self.console, wrap, body, width).draw(0)
            return
        abstract_text = highlight(abstract or "(no abstract)", inc, exc)
        frame = paging.PagedFrame(self.console, wrap, abstract_text, width, measure=measure)
        self.page = frame.clamp(self.page)
        frame.draw(self.page)

    def foot(self, label: str, legend: str, *, reserve: bool = False) -> list[Text]:
        """The lines under the panel: signal, note, last message, page, key legend.

        `reserve` keeps a row for the note and the message even when there is none, so the
        abstract's pages do not shift when a message comes or goes.
        """
        lines = [(self.stopping_line() if self.signal is not None else "", "dim"),
                 (f"Note: {self.note}" if self.note else " " * reserve, "yellow"),
                 (self.message or " " * reserve, "magenta"), (label, "dim"), (legend, "bold")]
        return [Text(text, style=style) for text, style in lines if text]

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
    screen = ScreeningSession(db, settings, stage, reviewer, work_queue, read_key=read_key,
                              read_line=read_line, console=console,
                              prioritise=settings.prioritise and not pilot)
    return screen.run()
