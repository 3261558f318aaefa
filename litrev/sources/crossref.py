"""Crossref `/works` through habanero: the only module that imports habanero.

What the Crossref REST API offers (api.crossref.org docs and community forum):

- No boolean search: `query` and the field query `query.bibliographic` (titles,
  authors, venue, year, ...) rank every work by relevance, so a query matches
  far more than a boolean search would. Keep it precise with filters
  (`from-pub-date`, `type:journal-article`, ...) and treat Crossref as a
  complement to OpenAlex's boolean search.
- Deep paging with `cursor=*` then `next-cursor`, at most 1000 `rows` per page;
  the end is an empty `items` list. Cursors are server-side scroll contexts that
  expire about 5 minutes after last use, so an interrupted run resumed later
  starts its pass again (records are upserted: no duplicates, no gaps).
- Search updates: `from-update-date` (metadata deposited or updated by the
  member since that date, new works included); `from-index-date` would also
  return every work whose citation count changed, which is far more.
- Not metered; "polite" users identify with a mailto (habanero puts it in the
  User-Agent). Rate limits are reported in `X-Rate-Limit-*` headers; 429 carries
  `Retry-After`.

habanero quirks handled here: `limit` defaults to 20 rows (we ask for 1000);
`cursor_max` (default 5000) makes habanero follow cursors itself and return a
list of pages, and it can loop on a short final page when resuming. We pass
`cursor_max=0` so habanero makes exactly one request per call, and walk the
cursor here, one page (and one transaction) at a time. `progress_bar=False`:
litrev draws its own. `Crossref(base_url=...)` is honoured, so mirrors and the
test replay server work.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx2
from habanero import Crossref
from habanero.exceptions import RequestError

from litrev import __version__
from litrev.sources.fetching import (
    Failure,
    Page,
    Retrier,
    api_message,
    describe_body,
    filter_text,
    retry_after_seconds,
    unreachable,
)
from litrev.sources.normalise import record_from_crossref
from litrev.sources.registry import Source

if TYPE_CHECKING:  # harvest.queries reads the registry, which imports this module
    from litrev.harvest.queries import Settings, SourceQuery

KEY = "crossref"
NAME = "Crossref"
DEFAULT_URL = "https://api.crossref.org"
URL_ENV = "LITREV_CROSSREF_URL"
ROWS = 1000  # the API's maximum page size
UPDATE_FILTER = "from-update-date"
MANAGED_FILTERS = frozenset({UPDATE_FILTER, "until-update-date", "from-index-date",
                             "until-index-date"})
FILTER_NAME = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$")
SCROLL_CURSOR = True  # one scroll id, the same on every page (see guard_pages)
CURSOR_TTL_SECONDS = 240  # Crossref cursors expire after ~5 minutes unused


def _client(settings: Settings) -> Crossref:
    return Crossref(
        base_url=SOURCE.base_url(settings), mailto=settings.email,
        ua_string=f"litrev/{__version__} (+https://github.com/litrev/litrev)",
        timeout=settings.timeout_seconds,
    )


def describe(query: SourceQuery, since: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if query.search:
        out["query"] = query.search
    if query.query_bibliographic:
        out["query.bibliographic"] = query.query_bibliographic
    filters = _filters(query, since)
    if filters:
        out["filter"] = filters
    if query.max_results:
        out["max_results"] = query.max_results
    return out


def _filters(query: SourceQuery, since: str | None) -> dict[str, Any]:
    # habanero repeats a filter for a list value; Crossref ORs repeats of one filter.
    filters = {name: [filter_text(v) for v in value] if isinstance(value, list) else filter_text(value)
               for name, value in query.filters.items()}
    if since:
        filters[UPDATE_FILTER] = since
    return filters


def _works(cr: Crossref, query: SourceQuery, since: str | None, **kwargs) -> dict[str, Any]:
    filters = _filters(query, since)
    field_queries = ({"query_bibliographic": query.query_bibliographic}
                     if query.query_bibliographic else {})
    return cr.works(query=query.search, filter=filters or None, progress_bar=False,
                    **field_queries, **kwargs)


def fetch_pages(query: SourceQuery, settings: Settings, *, since: str | None = None,
                cursor: str = "*", per_page: int = ROWS, retrier: Retrier) -> Iterator[Page]:
    """Yield every page from `cursor` to the end (an empty page or no next cursor)."""
    cr = _client(settings)
    rows = max(1, min(per_page, ROWS))
    while cursor:
        current = cursor
        body = retrier.call(
            NAME,
            lambda current=current: _checked(
                _works(cr, query, since, limit=rows, cursor=current, cursor_max=0)),
            lambda e: _classify(e, settings),
        )
        message = body["message"]
        items = message.get("items") or []
        next_cursor = message.get("next-cursor") if items else None
        yield Page(results=items, cursor=current, next_cursor=next_cursor,
                   total=message.get("total-results"))
        cursor = next_cursor


def record_key(raw: dict[str, Any]) -> str:
    """What makes a raw record the same record on another page: its DOI (else its JSON)."""
    return (raw.get("DOI") or "").lower() or json.dumps(raw, sort_keys=True, default=str)


def count(query: SourceQuery, settings: Settings, *, since: str | None = None,
          retrier: Retrier) -> int:
    cr = _client(settings)
    body = retrier.call(NAME, lambda: _checked(_works(cr, query, since, limit=0)),
                        lambda e: _classify(e, settings))
    return int(body["message"].get("total-results") or 0)


def estimate(query: SourceQuery, total: int, per_page: int = ROWS) -> dict[str, Any]:
    return {"requests": math.ceil(total / per_page) + 1, "tier": "free", "usd": 0.0,
            "budget_usd": None}


def _checked(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict) \
            or "items" not in body["message"]:
        raise _Malformed(f"answered JSON without message.items: {str(body)[:120]!r}")
    return body


class _Malformed(ValueError):
    pass


def _response_in(error: BaseException) -> httpx2.Response | None:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, httpx2.HTTPStatusError):
            return error.response
        error = error.__cause__ or error.__context__
    return None


def _timeout_in(error: BaseException) -> BaseException | None:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (httpx2.TimeoutException, httpx2.TransportError)):
            return error
        error = error.__cause__ or error.__context__
    return None


def _classify(error: BaseException, settings: Settings) -> Failure:
    response = _response_in(error)
    if response is not None:
        status = response.status_code
        message = api_message(response.text, response.headers.get("Content-Type"))
        if status == 429:
            return Failure(f"rate limited (HTTP 429: {message})", True,
                           retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500:
            return Failure(f"server error HTTP {status}", True,
                           retry_after_seconds(response.headers.get("Retry-After")))
        return Failure(f"HTTP {status}: {message}. Check the query file's [crossref] section",
                       False)
    transport = _timeout_in(error)
    if transport is not None:
        cannot_reach = unreachable(transport, SOURCE.base_url(settings), URL_ENV)
        if cannot_reach:
            return cannot_reach
        kind = "timed out" if isinstance(transport, httpx2.TimeoutException) else \
            f"cannot connect ({type(transport).__name__})"
        return Failure(kind, True)
    if isinstance(error, RequestError):
        if error.status_code == 200:  # habanero: a 200 whose Content-Type is not JSON
            return Failure(describe_body(200, None, str(error.error)), True)
        return Failure(f"HTTP {error.status_code}: {error.error}", error.status_code >= 500)
    if isinstance(error, (json.JSONDecodeError, _Malformed)):
        return Failure(f"sent a body that is not the JSON expected (truncated?): {error}", True)
    if isinstance(error, (KeyError, TypeError)):  # habanero reads js["message"] unchecked
        return Failure(f"answered JSON that is not a Crossref works list ({error!r} missing); "
                       "wrong LITREV_CROSSREF_URL?", False)
    return Failure(f"request failed: {type(error).__name__}: {error}", False)



def query_fields(section: dict[str, Any], texts: dict[str, str], filters: dict[str, Any],
                 fail: Callable[..., None]) -> dict[str, Any]:
    """The [crossref] section's own fields: `query` and/or `query_bibliographic`."""
    if not texts:
        fail("[crossref] needs `query` or `query_bibliographic`. Add one.", KEY)
    return {"search": texts.get("query"), "query_bibliographic": texts.get("query_bibliographic")}


SOURCE = Source(
    key=KEY, name=NAME,
    query_keys=frozenset({"query", "query_bibliographic", "filter", "max_results"}),
    text_keys=frozenset({"query", "query_bibliographic"}), search_key="query",
    filter_name=FILTER_NAME, managed_filters=MANAGED_FILTERS, query_fields=query_fields,
    default_url=DEFAULT_URL, url_env=URL_ENV,
    per_page=ROWS, scroll_cursor=SCROLL_CURSOR, cursor_ttl_seconds=CURSOR_TTL_SECONDS,
    fetch_pages=fetch_pages, count=count, estimate=estimate, describe=describe,
    record_key=record_key, normalise=record_from_crossref,
)
