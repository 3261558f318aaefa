"""Sources: API clients that yield raw pages and never touch the database.

Each API module (`openalex`, `crossref`) builds one `Source` (litrev.sources.registry)
and is registered in `SOURCES` below, in the order harvests run. A `Source` exposes
the same small surface for every API:

- `fetch_pages(query, settings, *, since, cursor, per_page, retrier)` yields `Page`s
  (the raw dicts, the cursor that fetched the page, the next cursor, the API's total);
- `count(query, settings, *, since, retrier)` -> the number of records the API reports;
- `describe(query, since)` -> the request as sent (search text and filters), for the run log;
- `estimate(query, total, per_page)` -> requests and metered cost of fetching `total` records;
- `record_key(raw)` -> what identifies a raw record across pages (for `guard_pages`);
- `normalise(raw)` -> a `normalise.Record`;

plus what its query-file section accepts, its base URL setting, page size and
cursor behaviour. Harvest, query parsing and the CLI loop over `SOURCES`; adding a
source is one module plus one line here.

The fetching helpers shared by every source (`Page`, `Retrier`, `guard_pages`, ...)
live in `litrev.sources.fetching`.
"""

from litrev.sources.registry import Registry, Source

SOURCES = Registry()


def _register_builtin() -> None:
    from litrev.sources import crossref, openalex

    for module in (openalex, crossref):
        SOURCES.register(module.SOURCE)


_register_builtin()

__all__ = ["SOURCES", "Registry", "Source"]
