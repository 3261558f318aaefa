"""Sources: API clients that yield raw pages and never touch the database.

Each API module (`openalex`, `crossref`) exposes the same small surface:

- `fetch_pages(query, settings, *, since, cursor, per_page, retrier)` yields `Page`s
  (the raw dicts, the cursor that fetched the page, the next cursor, the API's total);
- `count(query, settings, *, since, retrier)` -> the number of records the API reports;
- `describe(query, since)` -> the request as sent (search text and filters), for the run log;
- `estimate(query, total, per_page)` -> requests and metered cost of fetching `total` records.

Faults are handled here once for both: `Retrier` retries 429 (waiting as
`Retry-After` says, within a bound), 5xx, timeouts and broken bodies with
bounded exponential backoff, and turns everything else into one `SourceError` line.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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


def filter_text(value: Any) -> str:
    """A filter value as both APIs write it: TOML booleans as `true`/`false`."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or odd."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def describe_body(status: int | None, content_type: str | None, text: str) -> str:
    """One line about a body that is not the JSON we expected."""
    snippet = " ".join(text.split())[:120]
    if "html" in (content_type or "").lower() or snippet.lower().startswith(("<!doctype", "<html")):
        return (f"answered with an HTML page instead of JSON (HTTP {status}); a proxy, captive "
                "portal or wrong base URL?")
    if not snippet:
        return f"answered with an empty body (HTTP {status})"
    return f"sent a body that is not valid JSON (HTTP {status}, truncated?): {snippet!r}"


def api_message(text: str) -> str:
    """The error message inside an API's JSON error body, or the text itself, on one line."""
    import json

    try:
        body = json.loads(text)
    except ValueError:
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
