"""What a source is, in one object: everything harvest, config and the CLI ask of an API.

Harvest, query-file parsing, dry runs and the CLI loop over `litrev.sources.SOURCES`
and never name a source: adding one (PubMed, Europe PMC) is one module that
builds a `Source` and is registered in `litrev/sources/__init__.py`, plus its tests.
"""

import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from litrev.sources.fetching import Page

# (section, search texts by key, validated filters, fail) -> the source's own SourceQuery
# fields beyond `filters`/`max_results` (e.g. {"search": ..., "select": ...}).
QueryFields = Callable[[dict[str, Any], dict[str, str], dict[str, Any], Callable[..., None]],
                       dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class Source:
    """One API litrev harvests from.

    `key` is the query file's section, the records' `source` and the runs' `source`;
    `name` is what people read (progress, PRISMA's database label).
    """

    key: str
    name: str
    # The query file's [key] section: the keys it accepts, which of them are search
    # text, the one held in `SourceQuery.search`, and its filter names.
    query_keys: frozenset[str]
    text_keys: frozenset[str]
    search_key: str
    filter_name: re.Pattern[str]
    managed_filters: frozenset[str]  # set by litrev for search updates; a file must not pin them
    query_fields: QueryFields
    # Where the API is: `default_url`, or the environment variable `url_env`.
    default_url: str
    url_env: str
    # Paging: the largest page litrev asks for; whether the cursor is one scroll id for
    # the whole walk (Crossref), which cannot re-read a page (a stopped run restarts its
    # pass instead of re-fetching the page at its cursor); how long a stored cursor lives.
    per_page: int
    scroll_cursor: bool
    cursor_ttl_seconds: float | None
    # The calls (see litrev.sources.fetching for the contract of each).
    fetch_pages: Callable[..., Iterator[Page]]
    count: Callable[..., int]
    estimate: Callable[..., dict[str, Any]]
    describe: Callable[..., dict[str, Any]]
    record_key: Callable[[dict[str, Any]], Hashable]
    normalise: Callable[[dict[str, Any]], Any]  # raw dict -> normalise.Record
    # A line for the user before a harvest (e.g. a missing API key), or None.
    advice: Callable[[Any], str | None] = lambda settings: None

    def base_url(self, settings: Any) -> str:
        """The API's base URL in `settings` (from `url_env`), else the public one."""
        urls: Mapping[str, str] = settings.base_urls
        return urls.get(self.key) or self.default_url


class Registry(dict[str, Source]):
    """The sources by key, in the order they run."""

    def register(self, source: Source) -> Source:
        self[source.key] = source
        return source

    def get_source(self, key: str) -> Source:
        try:
            return self[key]
        except KeyError:
            raise KeyError(f"no source {key!r} (litrev knows {', '.join(self)})") from None
