"""What every source shares to fetch pages: `Page`, `Failure`, `Retrier`, `guard_pages`.

Faults are handled here once for every source: `Retrier` retries 429 (waiting as
`Retry-After` says, within a bound), 5xx, timeouts and broken bodies with
bounded exponential backoff, and turns everything else into one `SourceError` line.
A host that does not resolve or refuses the connection is not retried (`unreachable`):
waiting does not bring the network back. `guard_pages` stops a cursor walk that
does not move forward (a repeated cursor, a page of nothing new), for every loop
that pages through a source.
"""

import html
import math
import re
import socket
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from litrev.errors import SourceError

T = TypeVar("T")


@dataclass
class Page:
    results: list[dict[str, Any]]
    cursor: str  # the cursor that fetched this page (to fetch it again)
    next_cursor: str | None  # None: this was the last page
    total: int | None  # what the API reports for the whole query


@dataclass
class Failure:
    """How a source classified an exception: retry it, or stop with `message`."""

    message: str
    retryable: bool
    retry_after: float | None = None  # seconds, from the Retry-After header


class UpdateFilterUnavailable(SourceError):
    """The API refused the date filter used for search updates (e.g. a paid-plan filter)."""


class Retrier:
    """Bounded retries with injectable sleep, shared by every source call.

    `settings.retry_base_seconds` (env `LITREV_RETRY_BASE_SECONDS`) is the first
    backoff and doubles per attempt; no single wait exceeds `max_wait_seconds`.
    A `Retry-After` longer than that bound (OpenAlex's exhausted daily budget
    says "come back at midnight UTC") stops the run with a clear line instead:
    the pages already saved stay saved and the next run resumes.
    """

    def __init__(self, settings, *, sleep: Callable[[float], None] = time.sleep,
                 on_wait: Callable[[str], None] | None = None):
        self.settings = settings
        self.sleep = sleep
        self.on_wait = on_wait or (lambda message: None)

    def call(self, label: str, fn: Callable[[], T], classify: Callable[[BaseException], Failure],
             ) -> T:
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            try:
                return fn()
            except SourceError:
                raise
            except Exception as e:
                failure = classify(e)
                if not failure.retryable:
                    raise SourceError(f"{label}: {failure.message}") from e
                if attempt == attempts - 1:
                    raise SourceError(
                        f"{label}: {failure.message} (gave up after {attempts} tries). "
                        "Everything fetched so far is saved; run again later to resume."
                    ) from e
                if failure.retry_after is not None and failure.retry_after > self.settings.max_wait_seconds:
                    raise SourceError(
                        f"{label}: {failure.message}; the API asks to wait "
                        f"{_duration(failure.retry_after)}. Everything fetched so far is saved; "
                        "run again then to resume."
                    ) from e
                wait = failure.retry_after if failure.retry_after is not None else (
                    self.settings.retry_base_seconds * 2 ** attempt)
                wait = min(max(wait, 0.0), self.settings.max_wait_seconds)
                self.on_wait(f"{label}: {failure.message}; retrying in {wait:.1f} s "
                             f"(try {attempt + 2} of {attempts})")
                self.sleep(wait)
        raise AssertionError("unreachable")


def guard_pages(pages: Iterable[Page], label: str,
                record_key: Callable[[dict[str, Any]], Hashable], *,
                scroll_cursor: bool = False) -> Iterator[Page]:
    """`pages`, stopped with a `SourceError` when the walk does not move forward.

    A server that hands back a cursor it already gave (or pages of records this
    walk already has) would otherwise be followed forever, and on a metered API
    every request costs. A page with something new is yielded (and saved) before
    its repeated next cursor stops the walk, so nothing fetched is lost.
    `scroll_cursor`: the source's cursor is one scroll id for the whole walk
    (Crossref's stays the same from page to page), so only the records tell.
    """
    cursors: set[str] = set()
    keys: set[Hashable] = set()
    for page in pages:
        cursors.add(page.cursor)
        page_keys = {record_key(raw) for raw in page.results}
        if page_keys and page_keys <= keys:
            raise SourceError(
                f"{label}: the page at cursor {_short(page.cursor)} brought no new record (only "
                f"{len(page.results)} already fetched in this run); stopped instead of paging "
                "forever. Everything new is saved; run again later, and if it repeats the API "
                "(or its URL setting) is misbehaving.")
        keys |= page_keys
        yield page
        if not scroll_cursor and page.next_cursor is not None and page.next_cursor in cursors:
            raise SourceError(
                f"{label}: the API sent cursor {_short(page.next_cursor)} again; stopped instead of "
                "paging forever. Everything fetched is saved; run again later, and if it "
                "repeats the API (or its URL setting) is misbehaving.")


def _short(cursor: str) -> str:
    return repr(cursor if len(cursor) <= 24 else cursor[:20] + "...")


def unreachable(error: BaseException, url: str, setting: str) -> Failure | None:
    """A `Failure` that is not retried when `error` means the host cannot be reached at all.

    A name that does not resolve (offline, a typo in the URL) or a refused
    connection (nothing listens there) does not heal in the minutes of backoff;
    timeouts, resets and 5xx still are retried.
    """
    for link in _chain(error):
        if isinstance(link, socket.gaierror):
            reason = "its name does not resolve"
        elif isinstance(link, ConnectionRefusedError):
            reason = "the connection was refused"
        else:
            continue
        host = urlsplit(url).netloc or url
        return Failure(f"cannot reach {host} ({reason}). Check the network connection "
                       f"(and {setting}, if set)", retryable=False)
    return None


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """`error` and what caused it: `__cause__`/`__context__`, urllib3's `.reason`, a wrapped arg."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        link = todo.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        wrapped = [getattr(link, "reason", None), *getattr(link, "args", ())]
        todo += [e for e in wrapped if isinstance(e, BaseException)]
        todo += [link.__context__, link.__cause__]


def filter_text(value: Any) -> str:
    """A filter value as both APIs write it: TOML booleans as `true`/`false`."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or odd.

    `float()` also reads "NaN" and "inf", which no server means: absent too.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def describe_body(status: int | None, content_type: str | None, text: str) -> str:
    """One line about a body that is not the JSON we expected."""
    snippet = " ".join(text.split())[:120]
    if _is_html(content_type, text):
        return (f"answered with an HTML page instead of JSON (HTTP {status}); a proxy, captive "
                "portal or wrong base URL?")
    if not snippet:
        return f"answered with an empty body (HTTP {status})"
    return f"sent a body that is not valid JSON (HTTP {status}, truncated?): {snippet!r}"


def api_message(text: str, content_type: str | None = None) -> str:
    """The error message inside an API's JSON error body, or the text itself, on one line.

    An HTML error page (a proxy's or a gateway's 429/5xx page) is named by its
    title, never pasted as markup.
    """
    import json

    try:
        body = json.loads(text)
    except ValueError:
        if _is_html(content_type, text):
            return _html_summary(text)
        return " ".join(text.split())[:200]
    if isinstance(body, dict):
        parts = []
        for key in ("error", "message"):
            value = body.get(key)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                value = value[0].get("message")
            if isinstance(value, str) and value not in parts:
                parts.append(value)
        if parts:
            return ": ".join(parts)[:300]
    return " ".join(text.split())[:200]


def _is_html(content_type: str | None, text: str) -> bool:
    start = text.lstrip()[:15].lower()
    return "html" in (content_type or "").lower() or start.startswith(("<!doctype", "<html"))


def _html_summary(text: str) -> str:
    found = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    title = " ".join(html.unescape(found.group(1)).split())[:120] if found else ""
    return f"an HTML page {title!r} instead of JSON" if title else "an HTML page instead of JSON"


def redact(text: str) -> str:
    """Never let an API key reach a message, a log line or the database."""
    return re.sub(r"(api_key=)[^&\s'\"]+", r"\1***", text)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds} s"
