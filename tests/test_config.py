from pathlib import Path

import pytest

from litrev.errors import QueryFileError
from litrev.harvest.queries import load_queries, load_query, settings_from_env

REPO = Path(__file__).parents[1]

GOOD = """name = "Peer"
description = "test"

[openalex]
search = '"peer mentor" AND addiction'
filter = { from_publication_date = "2000-01-01", type = ["article", "review"] }

[crossref]
query_bibliographic = "peer mentor addiction"
filter = { from-pub-date = "2000-01-01" }
"""


def write(tmp_path, text, name="q.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_query_file_is_valid():
    query = load_query(REPO / "queries" / "peer-mentors.toml")
    assert query.id == "peer-mentors"
    assert set(query.sources) == {"openalex", "crossref"}
    search = query.sources["openalex"].search
    assert '"peer mentor"' in search and " AND " in search and "\n" not in search
    assert query.sources["crossref"].query_bibliographic
    assert query.sources["crossref"].max_results and not query.sources["openalex"].max_results


def test_good_file(tmp_path):
    query = load_query(write(tmp_path, GOOD))
    assert query.name == "Peer" and query.id == "q"
    assert query.sources["openalex"].filters == {
        "from_publication_date": "2000-01-01", "type": ["article", "review"]}
    assert query.sources["crossref"].filters == {"from-pub-date": "2000-01-01"}
    assert len(query.sha256) == 64


def test_sha_changes_with_text(tmp_path):
    a = load_query(write(tmp_path, GOOD)).sha256
    b = load_query(write(tmp_path, GOOD + "# a comment\n")).sha256
    assert a != b


@pytest.mark.parametrize("text,expected", [
    ("name = 'x'\n[openalex\nsearch = 'a'\n", "not valid TOML"),
    ("name = 'x'\ncolour = 'red'\n[openalex]\nsearch = 'a'\n", "q.toml:2: unknown key 'colour'"),
    ("name = 'x'\n[scopus]\nsearch = 'a'\n", "q.toml:2: unknown source [scopus]"),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nquery = 'b'\n", "q.toml:4: unknown key 'query' in [openalex]"),
    ("name = 'x'\n[openalex]\nsearch = 3\n", "q.toml:3: [openalex] search must be a non-empty string"),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nfilter = { from_publication_date = '2020/01/01' }\n",
     "q.toml:4: [openalex] filter 'from_publication_date' must be a date YYYY-MM-DD"),
    ("name = 'x'\n[crossref]\nquery = 'a'\nfilter = { from-pub-date = '2020-13-40' }\n",
     "must be a date YYYY-MM-DD"),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nfilter = { publication_year = 'recent' }\n",
     "must be a year"),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nfilter = { from_updated_date = '2020-01-01' }\n",
     "is set by litrev"),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nfilter = { type = 'a,b' }\n", "contains a comma"),
    ("name = 'x'\n", "no source section"),
    ("name = 'x'\n[crossref]\nquery = 'a'\nmax_results = 0\n",
     "q.toml:4: [crossref] max_results must be a whole number above 0"),
    ("name = 'x'\n[crossref]\nquery = 'a'\nmax_results = '100'\n", "max_results must be"),
    ("description = 'x'\n[openalex]\nsearch = 'a'\n", "`name`"),
    ("name = 'x'\n[crossref]\nfilter = { type = 'journal-article' }\n", "needs `query`"),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nselect = 'topics'\n",
     'q.toml:4: [openalex] select must be "all" or a list of root-level field names'),
    ("name = 'x'\n[openalex]\nsearch = 'a'\nselect = ['open_access.is_oa']\n", "root-level"),
])
def test_broken_files_name_file_and_line(tmp_path, text, expected):
    with pytest.raises(QueryFileError) as e:
        load_query(write(tmp_path, text))
    message = str(e.value)
    assert expected in message
    assert "q.toml" in message and "\n" not in message
    assert e.value.exit_code == 2


def test_toml_syntax_error_has_line(tmp_path):
    with pytest.raises(QueryFileError, match=r"line 2"):
        load_query(write(tmp_path, "name = 'x'\n[openalex\n"))


def test_toml_date_values_are_accepted(tmp_path):
    query = load_query(write(tmp_path, "name = 'x'\n[openalex]\nsearch = 'a'\n"
                                      "filter = { from_publication_date = 2020-01-01 }\n"))
    assert query.sources["openalex"].filters["from_publication_date"] == "2020-01-01"


def test_load_queries_by_name_and_all(tmp_path):
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD, "b.toml")
    assert [q.id for q in load_queries(tmp_path)] == ["a", "b"]
    assert [q.id for q in load_queries(tmp_path, ["b"])] == ["b"]
    with pytest.raises(QueryFileError, match="No query file .*c.toml .*a, b"):
        load_queries(tmp_path, ["c"])
    with pytest.raises(QueryFileError, match="No query files"):
        load_queries(tmp_path / "empty")


def test_settings_from_env():
    s = settings_from_env(None, {"LITREV_OPENALEX_URL": "http://127.0.0.1:9/",
                                 "LITREV_EMAIL": "a@b.org", "OPENALEX_API_KEY": "k",
                                 "LITREV_RETRY_BASE_SECONDS": "0"})
    assert s.base_urls["openalex"] == "http://127.0.0.1:9"
    assert s.base_urls["crossref"] == "https://api.crossref.org"
    assert (s.email, s.openalex_api_key, s.retry_base_seconds) == ("a@b.org", "k", 0.0)
    assert settings_from_env("flag@b.org", {"LITREV_EMAIL": "a@b.org"}).email == "flag@b.org"


def test_openalex_select_adds_fields_or_asks_for_whole_works(tmp_path):
    default = load_query(write(tmp_path, GOOD)).sources["openalex"]
    extra = load_query(write(tmp_path, GOOD.replace(
        "[crossref]", "select = ['topics', 'counts_by_year', 'topics']\n\n[crossref]")))
    whole = load_query(write(tmp_path, GOOD.replace("[crossref]", "select = 'all'\n\n[crossref]")))
    assert default.select == () and "select" not in default.as_dict()
    assert extra.sources["openalex"].select == ("topics", "counts_by_year")
    assert whole.sources["openalex"].as_dict()["select"] == "all"
