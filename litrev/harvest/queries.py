"""Saved queries (`queries/*.toml`) and settings from the environment and flags.

A query file is one search, run against each source it has a section for:

    name = "Peer mentors in alcohol and drug services"
    description = "..."

    [openalex]
    search = '("peer mentor" OR "peer support worker") AND (addiction OR "substance use")'
    filter = { from_publication_date = "2000-01-01", type = ["article", "review"] }

    [crossref]
    query_bibliographic = "peer mentor peer support worker addiction substance use"
    filter = { from-pub-date = "2000-01-01", type = "journal-article" }

Everything is validated before anything is written: a broken file is one
`QueryFileError` line naming the file (and the line where we can tell), and the
CLI exits 2. The file's exact text is what gets versioned (sha256), so a
comment edit is a new version too: the record of what ran is the file itself.
"""

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litrev.errors import LitrevError, QueryFileError
from litrev.sources import SOURCES, Source

DEFAULT_QUERIES_DIR = "queries"

# What each source's section accepts lives on its `Source` (litrev.sources.SOURCES).
TOP_LEVEL_KEYS = {"name", "description"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR = re.compile(r"^[<>!]?\d{4}(-\d{4})?$")
# OpenAlex limits the whole request URL to about 4 KB; leave room for filters and cursor.
MAX_SEARCH_CHARS = 3000

FilterValue = str | int | bool | list[str | int | bool]


@dataclass(frozen=True)
class SourceQuery:
    """What one source is asked: search text and filters, exactly as in the file."""

    source: str
    search: str | None = None  # OpenAlex `search`, Crossref `query`
    query_bibliographic: str | None = None  # Crossref `query.bibliographic`
    filters: dict[str, FilterValue] = field(default_factory=dict)
    # Take only the N most relevant results (a search is sorted by relevance). Meant
    # for Crossref, whose relevance search matches any word: an explicit, logged scope.
    max_results: int | None = None
    # OpenAlex root-level fields to fetch beyond the ones litrev reads, or "all" for
    # whole works (see litrev.sources.openalex.FIELDS).
    select: str | tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"filter": dict(self.filters)}
        out[SOURCES.get_source(self.source).search_key] = self.search
        out["query_bibliographic"] = self.query_bibliographic
        out["max_results"] = self.max_results
        out["select"] = list(self.select) if isinstance(self.select, tuple) else self.select
        return {k: v for k, v in out.items() if v not in (None, {}, [])}


@dataclass(frozen=True)
class Query:
    """One saved query file. `id` is the file name without `.toml`."""

    id: str
    name: str
    description: str
    path: Path
    text: str
    sha256: str
    sources: dict[str, SourceQuery]


@dataclass(frozen=True)
class Settings:
    """Where the APIs are and who we are. Built from flags, then the environment."""

    # Each source's API base URL by source key (from its `url_env`); a source
    # missing here uses its public URL (`Source.base_url`).
    base_urls: dict[str, str] = field(default_factory=dict)
    email: str | None = None
    openalex_api_key: str | None = None
    retry_base_seconds: float = 1.0  # first backoff; doubles per attempt
    max_retries: int = 5
    max_wait_seconds: float = 120.0  # longest single wait we accept (Retry-After included)
    timeout_seconds: float = 60.0


def settings_from_env(email: str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from `LITREV_*` / `OPENALEX_API_KEY`; `email` (from `--email`) wins."""
    env = os.environ if env is None else env

    def number(name: str, default: float) -> float:
        value = env.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except ValueError:
            raise LitrevError(f"${name} must be a number, not {value!r}. Fix the variable.")

    return Settings(
        base_urls={source.key: (env.get(source.url_env) or source.default_url).rstrip("/")
                   for source in SOURCES.values()},
        email=email or env.get("LITREV_EMAIL") or None,
        openalex_api_key=env.get("OPENALEX_API_KEY") or None,
        retry_base_seconds=number("LITREV_RETRY_BASE_SECONDS", 1.0),
        max_retries=int(number("LITREV_MAX_RETRIES", 5)),
        max_wait_seconds=number("LITREV_MAX_WAIT_SECONDS", 120.0),
        timeout_seconds=number("LITREV_TIMEOUT_SECONDS", 60.0),
    )


def queries_dir(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("LITREV_QUERIES") or DEFAULT_QUERIES_DIR)


def load_queries(directory: str | Path, names: list[str] | tuple[str, ...] = ()) -> list[Query]:
    """Every `*.toml` in `directory` (or just `names`, by file stem or path), validated."""
    directory = Path(directory)
    if names:
        paths = []
        for name in names:
            path = Path(name)
            if path.suffix != ".toml":
                path = directory / f"{name}.toml"
            if not path.is_file():
                known = ", ".join(sorted(p.stem for p in directory.glob("*.toml"))) or "none"
                raise QueryFileError(f"No query file {path} (queries in {directory}: {known}). "
                                     "Check the name.")
            paths.append(path)
    else:
        paths = sorted(directory.glob("*.toml"))
        if not paths:
            raise QueryFileError(f"No query files (*.toml) in {directory}. "
                                 "Add one (see docs/harvest.md, Saved queries) or give --queries-dir.")
    return [load_query(path) for path in paths]


def load_query(path: str | Path) -> Query:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise QueryFileError(f"{path}: cannot be read ({e}). Check the file.")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib's message ends with "(at line L, column C)".
        raise QueryFileError(f"{path}: not valid TOML: {e}. Fix the file.")
    return parse_query(data, text=text, path=path)


def parse_query(data: dict[str, Any], *, text: str, path: Path) -> Query:
    def fail(message: str, key: str | None = None, section: str | None = None):
        where = _line_of(text, key, section) if key else None
        at = f"{path}:{where}" if where else str(path)
        raise QueryFileError(f"{at}: {message}")

    for key, value in data.items():
        if key not in TOP_LEVEL_KEYS and key not in SOURCES:
            hint = (f"unknown source [{key}] (litrev knows {', '.join(SOURCES)})"
                    if isinstance(value, dict) else f"unknown key {key!r}")
            fail(f"{hint}. Remove or rename it.", key)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        fail("`name` (a non-empty string) is required. Add it.", "name" if "name" in data else None)
    description = data.get("description", "")
    if not isinstance(description, str):
        fail("`description` must be a string. Quote it.", "description")
    sources = {}
    for source in SOURCES.values():
        if source.key not in data:
            continue
        section = data[source.key]
        if not isinstance(section, dict):
            fail(f"`{source.key}` must be a [{source.key}] table. Make it a section.", source.key)
        sources[source.key] = _parse_source(source, section, fail)
    if not sources:
        fail(f"no source section: add {' and/or '.join(f'[{key}]' for key in SOURCES)}.")
    return Query(
        id=path.stem, name=name.strip(), description=description.strip(), path=path, text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), sources=sources,
    )


def _parse_source(source: Source, section: dict[str, Any], fail) -> SourceQuery:
    """The generic part of a source section (keys, texts, filters, max_results), then its own."""
    key = source.key
    for name in section:
        if name not in source.query_keys:
            allowed = ", ".join(sorted(source.query_keys))
            fail(f"unknown key {name!r} in [{key}] (allowed: {allowed}). Remove or rename it.",
                 name, key)
    texts = {}
    for name in sorted(source.text_keys & source.query_keys):
        value = section.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            fail(f"[{key}] {name} must be a non-empty string. Quote it.", name, key)
        if len(value) > MAX_SEARCH_CHARS:
            fail(f"[{key}] {name} is {len(value)} characters; the API limits a request to about "
                 f"4 KB. Split it into two query files.", name, key)
        texts[name] = " ".join(value.split())  # TOML multi-line strings: newlines are spaces
    raw_filters = section.get("filter", {})
    if not isinstance(raw_filters, dict):
        fail(f"[{key}] filter must be a table, e.g. filter = {{ type = \"article\" }}.",
             "filter", key)
    filters = {name: _filter_value(source, name, value, fail)
               for name, value in raw_filters.items()}
    max_results = section.get("max_results")
    if max_results is not None and (isinstance(max_results, bool)
                                    or not isinstance(max_results, int) or max_results < 1):
        fail(f"[{key}] max_results must be a whole number above 0, not {max_results!r}.",
             "max_results", key)
    own = source.query_fields(section, texts, filters, fail)
    return SourceQuery(key, filters=filters, max_results=max_results, **own)


def _filter_value(source: Source, name: str, value: Any, fail) -> FilterValue:
    key = source.key
    if not source.filter_name.match(name):
        fail(f"[{key}] filter name {name!r} is not a valid {key} filter name. Fix it.",
             name, key)
    if name in source.managed_filters:
        fail(f"[{key}] filter {name!r} is set by litrev for search updates (see --since, "
             "--full). Remove it.", name, key)
    values = value if isinstance(value, list) else [value]
    if not values:
        fail(f"[{key}] filter {name!r} is an empty list. Give a value or remove it.",
             name, key)
    out = []
    for v in values:
        if hasattr(v, "isoformat") and not isinstance(v, str):  # a bare TOML date
            v = v.isoformat()
        if isinstance(v, (dict, list, float)) or v is None:
            fail(f"[{key}] filter {name!r} has a bad value {v!r}: use a string, an integer, "
                 "true/false, or a list of those.", name, key)
        if isinstance(v, str) and ("," in v or not v.strip()):
            fail(f"[{key}] filter {name!r} value {v!r} is empty or contains a comma; for "
                 "several values use a list.", name, key)
        if "date" in name and not (isinstance(v, str) and DATE.match(v) and _real_date(v)):
            fail(f"[{key}] filter {name!r} must be a date YYYY-MM-DD, not {v!r}. Fix it.",
                 name, key)
        if name.endswith("year") and not isinstance(v, bool) and not (
                isinstance(v, int) or (isinstance(v, str) and YEAR.match(v))):
            fail(f"[{key}] filter {name!r} must be a year like 2020, \">2014\" or "
                 f"\"2015-2026\", not {v!r}. Fix it.", name, key)
        out.append(v)
    return out if isinstance(value, list) else out[0]


def _real_date(value: str) -> bool:
    import datetime

    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _line_of(text: str, key: str | None, section: str | None = None) -> int | None:
    """Best-effort line number of `key` (inside `[section]` if given), for error messages.

    tomllib reports positions only for syntax errors; for a valid file with a bad
    key or value we look the key up ourselves.
    """
    if key is None:
        return None
    lines = text.splitlines()
    start = 0
    if section:
        header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
    pattern = re.compile(
        rf"(^|[\s{{,\[.])[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)"
    )
    for i in range(start, len(lines)):
        if pattern.search(lines[i].split("#", 1)[0]):
            return i + 1
    return None
