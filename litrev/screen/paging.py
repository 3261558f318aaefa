"""Frames that fit the terminal: a fixed head and foot, the body between them paged.

`litrev screen`, `litrev dedupe --review` and `litrev tag review` draw one frame per
question. The heading (title, position) and the key legend always stay on screen; a body
too long for the rows left (a 3,000-word abstract, two abstracts side by side) is cut into
pages by its rendered lines, so the title never scrolls off the top of an 80x24 terminal.
"""

from collections.abc import Callable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text

NEXT_PAGE_KEYS = (" ", "\x1b[6~")  # space, PgDn (click.getchar returns the whole escape sequence)
PREVIOUS_PAGE_KEYS = ("b", "\x1b[5~")  # b, PgUp
PAGE_HELP = "space/PgDn next page, b/PgUp previous"
PROMPT_ROWS = 1  # the row under the legend where the cursor (or a question's prompt) sits
MIN_BODY_ROWS = 3  # a frame whose heading alone fills the screen still shows some body

Line = list[Segment]
Wrap = Callable[[RenderableType, str], RenderableType]  # (body page, page label) -> the whole frame


class Lines:
    """Already rendered lines, drawn as they are (no second wrap)."""

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()


def render_lines(console: Console, renderable: RenderableType, width: int) -> list[Line]:
    """`renderable` as the console would draw it `width` cells wide, one list per line."""
    options = console.options.update(width=max(1, width), height=None)
    return console.render_lines(renderable, options, pad=False)


def page_key(key: str) -> int:
    """+1 for a next-page key, -1 for a previous-page key, 0 for any other key."""
    if key in NEXT_PAGE_KEYS:
        return 1
    if key in PREVIOUS_PAGE_KEYS:
        return -1
    return 0


def shorten(console: Console, text: Text, width: int, max_lines: int) -> Text:
    """`text` cut to its first `max_lines` wrapped lines (with …), so a heading cannot fill the screen."""
    wrapped = text.wrap(console, max(1, width))
    if len(wrapped) <= max_lines:
        return text
    kept = Text("\n").join(wrapped[:max_lines])
    kept.right_crop(1)
    kept.append("…")
    return kept


class PagedFrame:
    """One screen: `wrap(body page)` with the body cut into pages that fit `console.height`.

    `wrap(body, label)` builds the whole frame around a body (heading, borders, the page
    label, the legend); the body is rendered `body_width` cells wide. Pages are measured by
    rendering, never guessed.
    """

    def __init__(self, console: Console, wrap: Wrap, body: RenderableType, body_width: int,
                 *, measure: Wrap | None = None) -> None:
        self.console, self.wrap, self.measure = console, wrap, measure or wrap
        rows = self.body_rows()
        lines = render_lines(console, body, body_width)
        self.pages = [lines[i:i + rows] for i in range(0, len(lines), rows)] or [[]]

    def body_rows(self) -> int:
        """Rows left for the body once the frame around a one-line body is drawn."""
        frame = self.measure(Text(""), f"page 99 of 99 · {PAGE_HELP}")
        chrome = len(render_lines(self.console, frame, self.console.width)) - 1
        return max(MIN_BODY_ROWS, self.console.height - PROMPT_ROWS - chrome)

    def __len__(self) -> int:
        return len(self.pages)

    def clamp(self, page: int) -> int:
        return min(max(page, 0), len(self.pages) - 1)

    def label(self, page: int) -> str:
        """"page 2 of 5 · space/PgDn next page, b/PgUp previous", or "" when one page holds it all."""
        return f"page {page + 1} of {len(self.pages)} · {PAGE_HELP}" if len(self.pages) > 1 else ""

    def draw(self, page: int) -> None:
        """Clear the screen and draw page `page` (0-based) inside the frame."""
        self.console.clear()
        page = self.clamp(page)
        self.console.print(self.wrap(Lines(self.pages[page]), self.label(page)))
