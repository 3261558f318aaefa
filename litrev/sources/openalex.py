"""OpenAlex `/works` through pyalex: the only module that imports pyalex.

What the current API asks of a client (developers.openalex.org, read 2026-11):

- An API key is required since 2026-02-13 (free at openalex.org/settings/api):
  `api_key=` on every call (pyalex 0.21 also sends it as `Authorization: Bearer`).
  Usage is metered against a daily budget in US dollars that resets at midnight
  UTC: with a free key $1/day; singletons are free, a list/filter call costs
  $0.0001 and a search call $0.001 (`search=` or a `*.search` filter), per page
  of results. The `/rate-limit` endpoint and `X-RateLimit-*` headers report it.
  When the budget is spent the API answers 429 ("Insufficient budget") with a
  Retry-After until the reset: litrev stops cleanly and the next run resumes.
- Cursor paging (`cursor=*`, then `meta.next_cursor`) reaches every result; page
  paging stops at 10,000. The run ends when `next_cursor` is null and `results`
  is empty. Cursors encode the sort position (base64 of sort key and work id),
  so a stored cursor stays valid for a later resume.
- Page size: the recorded 2025-26 responses show `per_page=200` answered with
  200 works; the current docs list 1-100 as the range. litrev asks for
  `PER_PAGE` (200) and reads `meta.per_page` back for its cost estimate.
- Search updates: `from_updated_date` (and `from_created_date`) exist but are
  plan-gated: a free key gets "Plan upgrade required" (seen as HTTP 429/403).
  litrev tries `from_updated_date` and, if refused, re-fetches the whole query
  (a few search calls for a review-sized query) and upserts: nothing is missed.
- Boolean search: `search` accepts AND, OR, NOT (upper case), parentheses and
  "quoted phrases"; words without an operator are ANDed; stemming and stop-word
  removal apply (`search.exact` turns them off). The request URL is limited to ~4 KB.

pyalex 0.21 quirks handled here: `BaseOpenAlex.url` hard-codes
`https://api.openalex.org` (its `config.openalex_url` is ignored for lists), so
`Works` rebuilds the URL on the configured base; `_get_requests_session()`
mounts retries for `https://` only and sets no timeout, so we pass our own
session (timeout, no adapter retries: `Retrier` does retries for every scheme);
`paginate(n_max=10000)` silently stops at 10,000, so we walk the cursor ourselves
(we must store each page's cursor with the page anyway).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import pyalex
import requests

from litrev import __version__
from litrev.sources.fetching import (
    Failure,
    Page,
    Retrier,
    UpdateFilterUnavailable,
    api_message,
    describe_body,
    filter_text,
    redact,
    retry_after_seconds,
    unreachable,
)
from litrev.sources.normalise import record_from_openalex
from litrev.sources.registry import Source

if TYPE_CHECKING:  # harvest.queries reads the registry, which imports this module
    from litrev.harvest.queries import Settings, SourceQuery

KEY = "openalex"
NAME = "OpenAlex"
DEFAULT_URL = "https://api.openalex.org"
URL_ENV = "LITREV_OPENALEX_URL"
# The 2026 developer docs list per_page 1-100, but the API recorded in March 2026
# (../shared/data/openalex/openalexPro_vcr) answers per_page=200 pages of 200, and a
# search page is billed per call: 200 halves the cost of a harvest.
PER_PAGE = 200
# The root-level fields litrev reads (normalise, tags, snowball), plus cheap ones a
# screener wants (retraction, open access). Asking only for these (`select=`)
# halves a real work's size (14 KB -> ~6 KB: `concepts`, `topics` and `locations`
# are most of the rest), so harvests download and parse half as much. A query
# file can add fields or ask for whole works: `select = "all"`.
FIELDS = (
    "id", "doi", "title", "display_name", "publication_year", "publication_date", "type",
    "language", "primary_location", "biblio", "authorships", "abstract_inverted_index", "ids",
    "keywords", "mesh", "referenced_works", "updated_date", "is_retracted", "open_access",
    "cited_by_count",
)
UPDATE_FILTER = "from_updated_date"
MANAGED_FILTERS = frozenset({UPDATE_FILTER, "to_updated_date"})
FILTER_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
SCROLL_CURSOR = False  # each page's cursor encodes its position: a repeat is a loop
PRICE_USD = {"list": 0.0001, "search": 0.001}  # per call, developers.openalex.org pricing
FREE_DAILY_BUDGET_USD = 1.0  # with a free API key


class Works(pyalex.Works):
    """`pyalex.Works` whose list URLs use our base URL instead of the hard-coded one.

    (pyalex takes the URL path from the class name, so this class is called `Works`.)
    """

    def __init__(self, params=None, *, base_url: str = "https://api.openalex.org"):
        super().__init__(params)
        self.base_url = base_url.rstrip("/")

    @property
    def url(self) -> str:
        built = urlsplit(super().url)
        base = urlsplit(self.base_url)
        path = base.path.rstrip("/") + "/" + built.path.lstrip("/")
        return urlunsplit((base.scheme, base.netloc, path, built.query, ""))


class _Session(requests.Session):
    """A session with a default timeout that remembers the last response (for errors)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.last_response: requests.Response | None = None

    def request(self, method, url, **kwargs):
        self.last_response = None
        kwargs.setdefault("timeout", self.timeout)
        response = super().request(method, url, **kwargs)
        # pyalex decodes with `response.json()`; orjson parses a page of works in
        # three quarters of the time (its errors are ValueErrors, like requests').
        response.json = lambda **_: orjson.loads(response.content)
        self.last_response = response
        return response


def user_agent(settings: Settings) -> str:
    contact = f"; mailto:{settings.email}" if settings.email else ""
    return f"litrev/{__version__} (+https://github.com/litrev/litrev{contact}) pyalex/{pyalex.__version__}"


def _configure(settings: Settings) -> None:
    # pyalex's auth reads its module-level config on every request.
    pyalex.config.email = settings.email
    pyalex.config.api_key = settings.openalex_api_key
    pyalex.config.user_agent = user_agent(settings)
    pyalex.config.openalex_url = SOURCE.base_url(settings)
    pyalex.config.max_retries = 0  # our Retrier retries (pyalex's only covers https)


def describe(query: SourceQuery, since: str | None = None) -> dict[str, Any]:
    """The request as litrev sends it (without identity or paging), for the run log."""
    out: dict[str, Any] = {}
    if query.search:
        out["search"] = query.search
    filters = _filters(query, since)
    if filters:
        out["filter"] = filters
    if query.max_results:
        out["max_results"] = query.max_results
    if query.select:
        out["select"] = query.as_dict()["select"]
    return out


def fields(query: SourceQuery) -> tuple[str, ...] | None:
    """The `select=` fields for `query`; None fetches whole works."""
    if query.select == "all":
        return None
    return tuple(dict.fromkeys(FIELDS + tuple(query.select)))


def _filters(query: SourceQuery, since: str | None) -> dict[str, Any]:
    # A TOML list means "any of": OpenAlex's OR is `|` inside one filter value.
    filters = {name: "|".join(filter_text(v) for v in value) if isinstance(value, list) else value
               for name, value in query.filters.items()}
    if since:
        filters[UPDATE_FILTER] = since
    return filters


def _works(query: SourceQuery, settings: Settings, since: str | None) -> Works:
    works = Works(base_url=SOURCE.base_url(settings))
    if query.search:
        works = works.search(query.search)
    filters = _filters(query, since)
    if filters:
        works = works.filter(**filters)
    selected = fields(query)
    if selected:
        works = works.select(",".join(selected))
    # The documented way to identify: api_key= (and mailto= for the contact).
    if settings.openalex_api_key:
        works._add_params("api_key", settings.openalex_api_key)
    if settings.email:
        works._add_params("mailto", settings.email)
    return works


def fetch_pages(query: SourceQuery, settings: Settings, *, since: str | None = None,
                cursor: str = "*", per_page: int = PER_PAGE, retrier: Retrier) -> Iterator[Page]:
    """Yield every page from `cursor` to the end (`next_cursor` null or an empty page)."""
    _configure(settings)
    works = _works(query, settings, since)
    session = _Session(settings.timeout_seconds)
    works._add_params("per-page", per_page)
    while cursor:
        works._add_params("cursor", cursor)
        url = works.url
        response = retrier.call(
            NAME, lambda url=url: works._get_from_url(url, session),
            lambda e: _classify(e, session, since, settings),
        )
        results = [dict(work) for work in response]
        meta = response.meta or {}
        next_cursor = meta.get("next_cursor") if results else None
        yield Page(results=results, cursor=cursor, next_cursor=next_cursor, total=meta.get("count"))
        cursor = next_cursor


def record_key(raw: dict[str, Any]) -> str:
    """What makes a raw record the same record on another page: its OpenAlex id (else its JSON)."""
    return raw.get("id") or json.dumps(raw, sort_keys=True, default=str)


def count(query: SourceQuery, settings: Settings, *, since: str | None = None,
          retrier: Retrier) -> int:
    """How many works the query matches (one list call with per-page=1)."""
    _configure(settings)
    works = _works(query, settings, since)
    works._add_params("per-page", 1)
    session = _Session(settings.timeout_seconds)
    url = works.url
    response = retrier.call(NAME, lambda url=url: works._get_from_url(url, session),
                            lambda e: _classify(e, session, since, settings))
    return int((response.meta or {}).get("count") or 0)


def estimate(query: SourceQuery, total: int, per_page: int = PER_PAGE) -> dict[str, Any]:
    """Calls and budget a full fetch of `total` works takes (the empty last page included)."""
    tier = "search" if query.search or any(n.endswith(".search") or ".search." in n
                                           for n in query.filters) else "list"
    calls = math.ceil(total / per_page) + 1
    return {"requests": calls, "tier": tier, "usd": round(calls * PRICE_USD[tier], 4),
            "budget_usd": FREE_DAILY_BUDGET_USD}


def _classify(error: BaseException, session: _Session, since: str | None,
              settings: Settings) -> Failure:
    if isinstance(error, requests.Timeout):
        return Failure("timed out", retryable=True)
    if isinstance(error, requests.ConnectionError):
        return unreachable(error, SOURCE.base_url(settings), URL_ENV) or Failure(
            f"cannot connect ({type(error).__name__})", retryable=True)
    response = session.last_response
    if response is None:
        return Failure(redact(f"request failed: {error}"), retryable=False)
    status = response.status_code
    text = response.text
    message = redact(api_message(text, response.headers.get("Content-Type")))
    lowered = text.lower()
    if status == 429 and ("budget" in lowered or "credit" in lowered):
        # Checked first: a spent budget's message may also suggest upgrading.
        return Failure(f"the daily budget is used up (HTTP 429: {message})", True,
                       retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 400 and ("plan upgrade" in lowered or "upgrade your plan" in lowered
                          or "premium" in lowered):
        if since:
            raise UpdateFilterUnavailable(
                f"{NAME}: the {UPDATE_FILTER} filter needs a paid plan ({message})")
        return Failure(f"HTTP {status}: {message}. This needs a paid OpenAlex plan", False)
    if status == 429:
        return Failure(f"rate limited (HTTP 429: {message})", True,
                       retry_after_seconds(response.headers.get("Retry-After")))
    if status == 403 and "key" not in lowered:  # the docs: 403 = too many requests per second
        return Failure(f"HTTP 403: {message}", True,
                       retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500:
        return Failure(f"server error HTTP {status}", True,
                       retry_after_seconds(response.headers.get("Retry-After")))
    if status in (401, 403):
        return Failure(f"HTTP {status}: {message}. Set OPENALEX_API_KEY to a valid key "
                       "(free at openalex.org/settings/api)", False)
    if status >= 400:
        return Failure(f"HTTP {status}: {message}. Check the query file's [openalex] section",
                       False)
    try:
        body = json.loads(text)
    except ValueError:
        return Failure(describe_body(status, response.headers.get("Content-Type"), text), True)
    if not isinstance(body, dict) or "results" not in body:
        return Failure(f"answered JSON without `results` (HTTP {status}); wrong base URL?", False)
    return Failure(redact(f"unexpected response: {error}"), False)


def query_fields(section: dict[str, Any], texts: dict[str, str], filters: dict[str, Any],
                 fail: Callable[..., None]) -> dict[str, Any]:
    """The [openalex] section's own fields: a `search` or a `filter`, and `select`."""
    if not texts and not filters:
        fail("[openalex] needs a `search` or a `filter`. Add one.", KEY)
    return {"search": texts.get("search"), "select": _select(section.get("select", ()), fail)}


def _select(value: Any, fail: Callable[..., None]) -> str | tuple[str, ...]:
    if value == "all":
        return value
    names = value if isinstance(value, (list, tuple)) else None
    if names is None or not all(isinstance(n, str) and FILTER_NAME.match(n)
                                and "." not in n for n in names):
        fail('[openalex] select must be "all" or a list of root-level field names, e.g. '
             'select = ["topics", "counts_by_year"]. Fix it.', "select", KEY)
    return tuple(dict.fromkeys(names))


def advice(settings: Settings) -> str | None:
    if settings.openalex_api_key:
        return None
    return ("Note: OPENALEX_API_KEY is not set; OpenAlex allows only a tiny daily "
            "budget without a key (free at openalex.org/settings/api).")


SOURCE = Source(
    key=KEY, name=NAME,
    query_keys=frozenset({"search", "filter", "max_results", "select"}),
    text_keys=frozenset({"search"}), search_key="search",
    filter_name=FILTER_NAME, managed_filters=MANAGED_FILTERS, query_fields=query_fields,
    default_url=DEFAULT_URL, url_env=URL_ENV,
    per_page=PER_PAGE, scroll_cursor=SCROLL_CURSOR, cursor_ttl_seconds=None,
    fetch_pages=fetch_pages, count=count, estimate=estimate, describe=describe,
    record_key=record_key, normalise=record_from_openalex, advice=advice,
)
