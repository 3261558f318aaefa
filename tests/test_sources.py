"""The source registry: a source is one object, and harvest never names one.

`FakeMed` is a source the way PubMed would be added: one `Source` with a tiny
in-memory API, registered in `SOURCES`. Query files, settings, harvest (paging,
--max, resume), dry runs and the CLI take it without a change to their code.
"""

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.errors import QueryFileError
from litrev.harvest import run as harvest_stage
from litrev.harvest.queries import Settings, load_query, settings_from_env
from litrev.sources import SOURCES, Source
from litrev.sources.fetching import Page
from litrev.sources.normalise import Record

ROOT = Path(__file__).parents[1]
ARTICLES = [{"pmid": str(1000 + i), "title": f"Peer mentors in recovery, study {i}",
             "year": 2015 + i} for i in range(5)]


class FakeMedApi:
    """Pages of `per_page` articles; the cursor is the position, as OpenAlex's encodes one."""

    def __init__(self, articles):
        self.articles = articles
        self.requests: list[tuple[str, int, str | None]] = []

    def fetch_pages(self, query, settings, *, since=None, cursor="*", per_page=2, retrier):
        while cursor:
            self.requests.append((cursor, per_page, query.search))
            start = 0 if cursor == "*" else int(cursor)
            results = self.articles[start:start + per_page]
            end = start + len(results)
            yield Page(results=results, cursor=cursor,
                       next_cursor=str(end) if end < len(self.articles) else None,
                       total=len(self.articles))
            cursor = str(end) if end < len(self.articles) else None

    def count(self, query, settings, *, since=None, retrier):
        return len(self.articles)


def normalise_fakemed(raw) -> Record:
    return Record(id=f"fakemed:{raw['pmid']}", source="fakemed", source_id=raw["pmid"], raw=raw,
                  title=raw["title"], year=raw["year"], pmid=raw["pmid"])


def fakemed_fields(section, texts, filters, fail):
    if "term" not in texts:
        fail("[fakemed] needs a `term`. Add one.", "fakemed")
    return {"search": texts["term"]}


@pytest.fixture
def api(monkeypatch):
    api = FakeMedApi(ARTICLES)
    source = Source(
        key="fakemed", name="FakeMed",
        query_keys=frozenset({"term", "filter", "max_results"}), text_keys=frozenset({"term"}),
        search_key="term", filter_name=re.compile(r"^[a-z]+$"),
        managed_filters=frozenset({"mindate"}), query_fields=fakemed_fields,
        default_url="https://fakemed.example.org", url_env="LITREV_FAKEMED_URL",
        per_page=2, scroll_cursor=False, cursor_ttl_seconds=None,
        fetch_pages=api.fetch_pages, count=api.count,
        estimate=lambda query, total, per_page: {"requests": -(-total // per_page),
                                                 "tier": "free", "usd": 0.0,
                                                 "budget_usd": None},
        describe=lambda query, since=None: {"term": query.search, "since": since},
        record_key=lambda raw: raw["pmid"], normalise=normalise_fakemed,
    )
    monkeypatch.setitem(SOURCES, "fakemed", source)
    return api


def query_file(tmp_path, body='term = "peer mentor"'):
    folder = tmp_path / "queries"
    folder.mkdir(exist_ok=True)
    path = folder / "pm.toml"
    path.write_text(f'name = "Peer mentors"\n[fakemed]\n{body}\n')
    return path


def test_a_registered_source_is_harvested_end_to_end(db, tmp_path, api):
    query = load_query(query_file(tmp_path))
    assert query.sources["fakemed"].as_dict() == {"term": "peer mentor"}
    [result] = harvest_stage.harvest(db, [query], Settings())
    assert (result.source, result.status, result.counts.fetched, result.counts.new) == (
        "fakemed", "complete", 5, 5)
    assert [r["id"] for r in db["records"].rows_where(order_by="id")] == [
        f"fakemed:{a['pmid']}" for a in ARTICLES]
    [run] = db["harvest_runs"].rows
    assert (run["source"], run["source_name"], run["request"], run["cursor"]) == (
        "fakemed", "FakeMed", '{"since": null, "term": "peer mentor"}', None)
    assert api.requests == [("*", 2, "peer mentor"), ("2", 2, "peer mentor"),
                            ("4", 2, "peer mentor")]


def test_a_registered_source_stops_at_max_and_resumes_at_its_page_cursor(db, tmp_path, api):
    query = load_query(query_file(tmp_path))
    [first] = harvest_stage.harvest(db, [query], Settings(), max_records=3)
    assert (first.status, first.counts.fetched) == ("stopped", 3)
    api.requests.clear()
    [second] = harvest_stage.harvest(db, [query], Settings())
    assert (second.status, second.resumed, second.counts.fetched) == ("complete", True, 5)
    # Not a scroll cursor: the page cut short by --max is fetched again at its own cursor.
    assert api.requests == [("2", 2, "peer mentor"), ("4", 2, "peer mentor")]
    assert db["records"].count == 5


def test_a_registered_source_validates_its_query_section(tmp_path, api):
    with pytest.raises(QueryFileError, match=r"unknown key 'search' in \[fakemed\] "
                                             r"\(allowed: filter, max_results, term\)"):
        load_query(query_file(tmp_path, 'search = "x"'))
    with pytest.raises(QueryFileError, match=r"filter 'mindate' is set by litrev"):
        load_query(query_file(tmp_path, 'term = "x"\nfilter = { mindate = "2020-01-01" }'))
    with pytest.raises(QueryFileError, match=r"needs a `term`"):
        load_query(query_file(tmp_path, "max_results = 3"))


def test_a_registered_source_gets_its_base_url_from_its_variable(api):
    settings = settings_from_env(None, {"LITREV_FAKEMED_URL": "http://127.0.0.1:9/"})
    assert SOURCES["fakemed"].base_url(settings) == "http://127.0.0.1:9"
    assert SOURCES["fakemed"].base_url(Settings()) == "https://fakemed.example.org"


def test_cli_harvests_and_estimates_a_registered_source(tmp_path, api, monkeypatch):
    query_file(tmp_path)
    monkeypatch.delenv("OPENALEX_API_KEY", raising=False)
    args = ["harvest", "--queries-dir", str(tmp_path / "queries"), "--db", str(tmp_path / "e.db")]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"], catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert dry.output == ("pm · FakeMed (full: first run): 5 records reported; "
                          "3 requests (FakeMed is not metered).\n")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "pm · FakeMed (full): 5 fetched of 5 reported, 5 new, 0 updated." in result.output
    assert "OPENALEX_API_KEY" not in result.output  # advice only for a source a query uses


@pytest.mark.parametrize("path", ["litrev/harvest/run.py", "litrev/harvest/queries.py",
                                  *sorted(str(p.relative_to(ROOT))
                                          for p in (ROOT / "litrev" / "cli").glob("*.py"))])
def test_harvest_config_and_cli_never_name_a_source(path):
    tree = ast.parse((ROOT / path).read_text())
    named = [node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and node.value in {"openalex", "crossref"}]
    assert named == []


def test_only_store_writes_harvest_runs():
    # Rows, that is: migrations.py owns the table's schema.
    writes = re.compile(r"""\[["']harvest_runs["']\]|(insert into|update)\s+\[?harvest_runs""", re.IGNORECASE)
    writers = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "litrev").rglob("*.py"))
               if p.name != "migrations.py" and writes.search(p.read_text())]
    assert writers == ["litrev/harvest/store.py"]
