"""The public database and Datasette on it: contents, canned queries, privacy, determinism."""

import asyncio
import csv
import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from click.testing import CliRunner
from datasette.app import Datasette
from support.publish import REVIEWERS, SECRETS, fill

import litrev.report.publish as publish_module
from litrev.cli import cli
from litrev.cli.publish import PLUGINS, STATIC, TEMPLATES, datasette_args, load_metadata
from litrev.db import open_db
from litrev.errors import LitrevError
from litrev.report.publish import publish

ROOT = Path(__file__).parents[1]
METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text())


@pytest.fixture
def working(db):
    return fill(db)


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """One published fixture database, shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("publish")
    path = tmp / "out" / "public.db"
    publish(fill(open_db(tmp / "evidence.db")), path)
    return path


@pytest.fixture(scope="module")
def ds(public):
    return make_datasette(public)


def rows(path, sql, params=()):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def make_datasette(path, metadata=METADATA) -> Datasette:
    """Datasette as `litrev serve` runs it (templates, static files, litrev's plugin)."""
    return Datasette(immutables=[str(path)], metadata=metadata, template_dir=str(TEMPLATES),
                     static_mounts=[("litrev", str(STATIC))], plugins_dir=str(PLUGINS))


def get(ds: Datasette, url: str):
    return asyncio.run(ds.client.get(url))


def get_json(ds: Datasette, url: str):
    response = get(ds, url)
    assert response.status_code == 200, (url, response.text[:500])
    return response.json()


# --- contents ---------------------------------------------------------------


def test_public_tables(public):
    conn = sqlite3.connect(public)
    names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    conn.close()
    assert {"works", "work_countries", "work_designs", "work_sources", "searches", "prisma_counts",
            "gap_map", "gap_by_year", "designs", "works_fts"} <= names
    assert not names & {"records", "decisions", "tags", "provenance", "harvest_runs", "queries"}


def test_works_are_canonical_with_status_tags_and_links(public):
    works = {w["id"]: w for w in rows(public, "select * from works")}
    assert sorted(works) == [1, 2, 3, 4, 5, 6]  # work 7 was merged into work 1
    w1 = works[1]
    assert (w1["status"], w1["stage_reached"]) == ("included", "full-text")
    # JSON arrays, so a two-country study counts once in each (array facets, downloads)
    assert (w1["countries"], w1["uk_nations"], w1["designs"]) == (
        '["United Kingdom"]', '["Scotland"]', '["Qualitative"]')
    assert w1["sources"] == '["Crossref", "OpenAlex", "PubMed"]'  # PubMed via the merged work 7
    assert w1["authors"] == "Smith, Jo; Khan, Amir"
    assert w1["doi_url"] == "https://doi.org/10.1000/pm.1"
    assert w1["openalex_url"] == "https://openalex.org/W1001"
    assert (works[4]["status"], works[4]["stage_reached"], works[4]["exclusion_reason"]) == (
        "excluded", "full-text", "Wrong population")
    assert (works[5]["status"], works[5]["stage_reached"]) == ("excluded", "title-abstract")
    assert works[6]["status"] == "conflict"
    # a suggestion below the tagger's threshold (FR, 0.2) is not counted
    assert works[3]["countries"] == '["United States"]'
    assert works[5]["countries"] is None and works[5]["designs"] is None


def test_tag_and_source_tables(public):
    assert rows(public, "select * from work_countries order by work_id") == [
        {"work_id": 1, "country_code": "GB", "country": "United Kingdom", "uk_nations": '["Scotland"]',
         "origin": "suggested", "confidence": 0.9, "evidence": 'abstract: "drug services in Glasgow."'},
        {"work_id": 2, "country_code": "GB", "country": "United Kingdom", "uk_nations": None,
         "origin": "confirmed", "confidence": None, "evidence": None},
        {"work_id": 3, "country_code": "US", "country": "United States", "uk_nations": None,
         "origin": "suggested", "confidence": 0.85, "evidence": "US emergency departments"},
        {"work_id": 4, "country_code": "AU", "country": "Australia", "uk_nations": None,
         "origin": "suggested", "confidence": 0.8, "evidence": "Australian"},
    ]
    assert rows(public, "select origin, evidence from work_designs where work_id = 1") == [
        {"origin": "confirmed", "evidence": None}]  # a person's own words stay private
    designs = rows(public, "select work_id, design, design_label from work_designs")
    assert designs[:2] == [
        {"work_id": 1, "design": "qualitative", "design_label": "Qualitative"},
        {"work_id": 2, "design": "rct", "design_label": "Randomised controlled trial"},
    ]
    sources = rows(public, "select source, query_name, records from work_sources where work_id = 1")
    assert sources == [
        {"source": "Crossref", "query_name": "Peer mentors in alcohol and drug services", "records": 1},
        {"source": "OpenAlex", "query_name": "Peer mentors in alcohol and drug services", "records": 1},
        {"source": "PubMed", "query_name": None, "records": 1},
    ]
    searches = rows(public, "select * from searches order by id")
    assert [s["source"] for s in searches] == ["OpenAlex", "Crossref", "PubMed"]
    assert searches[0]["query_version"] == 1 and "peer mentor" in searches[0]["query_text"]
    assert "request" not in searches[0] and "error" not in searches[0]


def test_gap_map_counts(public):
    cells = rows(public, "select country_code, design, works, country_works, design_works "
                         "from gap_map where scope = 'included' and basis = 'counted'")
    assert cells == [  # UK first, then by count
        {"country_code": "GB", "design": "rct", "works": 1, "country_works": 2, "design_works": 2},
        {"country_code": "GB", "design": "qualitative", "works": 1, "country_works": 2,
         "design_works": 1},
        {"country_code": "US", "design": "rct", "works": 1, "country_works": 1, "design_works": 2},
    ]
    every = rows(public, "select country_code, design, works from gap_map where scope = 'all' "
                         "and basis = 'counted'")
    assert {"country_code": "", "design": "", "works": 1} in every  # work 5: no tags at all
    assert rows(public, "select year, works, uk_works from gap_by_year where scope = 'included' "
                        "and basis = 'counted'") == [
        {"year": 2019, "works": 1, "uk_works": 1}, {"year": 2021, "works": 2, "uk_works": 1},
    ]
    # reviewers' tags only: work 2's country and work 1's design are a person's
    confirmed = rows(public, "select country_code, design, works from gap_map "
                             "where scope = 'included' and basis = 'confirmed'")
    assert confirmed == [{"country_code": "GB", "design": "", "works": 1},
                         {"country_code": "", "design": "qualitative", "works": 1},
                         {"country_code": "", "design": "", "works": 1}]
    assert rows(public, "select basis, works, uk_works, on_suggestions from gap_totals "
                        "where scope = 'included'") == [
        {"basis": "confirmed", "works": 3, "uk_works": 1, "on_suggestions": 0},
        {"basis": "counted", "works": 3, "uk_works": 2, "on_suggestions": 3}]


def test_a_review_can_publish_reviewers_tags_only(working, tmp_path):
    path = tmp_path / "confirmed.db"
    summary = publish(working, path, suggestions=False)
    assert summary.as_dict()["suggestions"] is False
    assert {r["origin"] for r in rows(path, "select origin from work_countries union "
                                            "select origin from work_designs")} == {"confirmed"}
    assert rows(path, "select countries from works where id = 3") == [{"countries": None}]
    assert {r["basis"] for r in rows(path, "select basis from gap_map union select basis from gap_totals")} \
        == {"confirmed"}
    html = get(make_datasette(path), "/gap-map").text
    assert "does not publish litrev's suggestions" in html and 'data-basis="confirmed"' in html


def test_prisma_counts_are_litrev_prismas(working, public):  # same fixture data
    from litrev.report.prisma import prisma_counts

    expected = list(publish_module._flatten(prisma_counts(working)))
    got = rows(public, "select arm, box, item, count from prisma_counts order by position")
    assert len(got) == len(expected)
    assert {(r["box"], r["count"]) for r in got if r["arm"] == "databases"} >= {
        ("identified", 6), ("studies_included", 3), ("reports_excluded", 1)}
    assert {"arm": "", "box": "included", "item": "studies", "count": 3} in got


def test_same_working_db_gives_identical_file(working, tmp_path):
    a, b = tmp_path / "a" / "public.db", tmp_path / "b" / "public.db"
    publish(working, a)
    publish(working, b)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_publish_is_atomic(working, tmp_path, monkeypatch):
    public = tmp_path / "site" / "public.db"
    publish(working, public)
    before = public.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_module, "build", broken)
    with pytest.raises(RuntimeError):
        publish(working, public)
    assert public.read_bytes() == before
    assert sorted(p.name for p in public.parent.iterdir()) == ["public.db"]


def test_refuses_to_overwrite_the_working_db(working, db_path):
    with pytest.raises(LitrevError, match="working database"):
        publish(working, db_path)


# --- privacy ------------------------------------------------------------------


def all_text(path) -> str:
    """Every value of every table (FTS shadow tables too) and every schema statement."""
    conn = sqlite3.connect(path)
    chunks = [str(r) for r in conn.execute("select * from sqlite_master")]
    for (table,) in conn.execute("select name from sqlite_master where type = 'table'").fetchall():
        for row in conn.execute(f"select * from [{table}]"):
            chunks.extend(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row)
    conn.close()
    return "\n".join(chunks)


def test_nothing_private_in_any_table(public):
    text = all_text(public)
    raw = public.read_bytes()
    for secret in SECRETS:
        assert secret not in text, secret
        assert secret.encode() not in raw, secret
    for reviewer in REVIEWERS:
        assert reviewer not in text


def test_nothing_private_through_datasette_sql(ds):
    tables = get_json(ds, "/public.json")["tables"]
    seen = []
    for table in tables:
        data = get_json(ds, f"/public/{table['name']}.json?_shape=array&_size=max")
        seen.append(json.dumps(data, ensure_ascii=False))
    data = get_json(ds, "/public.json?sql=select+*+from+sqlite_master&_shape=array")
    seen.append(json.dumps(data))
    text = "\n".join(seen)
    assert "Smith, Jo" in text  # the scan did read the data
    for secret in SECRETS:
        assert secret not in text, secret


def test_reviewer_names_only_when_the_review_opts_in(working, tmp_path):
    path = tmp_path / "named.db"
    summary = publish(working, path, reviewer_names=True)
    assert summary.reviewer_names
    screened = rows(path, "select screened_by from works where id = 1")[0]["screened_by"]
    assert screened == "; ".join(sorted(REVIEWERS))
    assert rows(path, "select tagged_by from work_designs where work_id = 1")[0]["tagged_by"] == \
        REVIEWERS[0]
    text = all_text(path)
    assert "PRIVATE-NOTE-7731" not in text and "RAW-JSON-SECRET-5512" not in text


def test_an_accepted_suggestion_is_published_as_a_persons_tag(working, tmp_path):
    from litrev.tags.storage import review

    def accept_us(row):
        return ("accept", None) if (row["work_id"], row["value"]) == (3, "US") else ("skip", None)

    assert review(working, REVIEWERS[1], accept_us, key="country")["accepted"] == 1
    path = tmp_path / "accepted.db"
    publish(working, path, reviewer_names=True)
    countries = {r["work_id"]: r for r in rows(path, "select * from work_countries")}
    assert (countries[3]["origin"], countries[3]["tagged_by"]) == ("confirmed", REVIEWERS[1])
    assert (countries[4]["origin"], countries[4]["tagged_by"]) == ("suggested", None)  # still open


def test_cli_reads_publish_reviewer_names_from_review_toml(working, db_path, tmp_path):
    settings = tmp_path / "review.toml"
    settings.write_text("[review]\npublish_reviewer_names = true\n")
    out = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["publish", "--db", db_path, "-o", str(out),
                                      "--settings", str(settings), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["reviewer_names"] is True and summary["works"] == 6
    assert REVIEWERS[0] in all_text(out)


# --- Datasette: metadata, canned queries, pages -----------------------------------


def test_every_canned_query_runs(ds):
    queries = METADATA["databases"]["public"]["queries"]
    params = {"search": "?q=coach", "gap_map": "?scope=included",
              "works_in_cell": "?country=GB&design=rct&scope=included"}
    for name in queries:
        data = get_json(ds, f"/public/{name}.json?_shape=array" + params.get(name, "").replace("?", "&"))
        assert isinstance(data, list) and data, name


def test_gap_map_pivot_query(ds):
    data = get_json(ds, "/public/gap_map_pivot.json?_shape=array")
    assert [r["country"] for r in data] == ["United Kingdom", "United States"]
    uk = data[0]
    assert (uk["All designs"], uk["RCT"], uk["Qualitative"], uk["Cohort"]) == (2, 1, 1, None)


def test_uk_studies_query(ds):
    data = get_json(ds, "/public/uk_studies.json?_shape=array")
    assert [r["id"] for r in data] == [2, 1]


def test_studies_by_year_query(ds):
    data = get_json(ds, "/public/studies_by_year.json?_shape=array")
    assert {r["year"]: (r["included"], r["included_uk"], r["all_works"]) for r in data} == {
        2015: (0, 0, 1), 2018: (0, 0, 1), 2019: (1, 1, 1), 2021: (2, 1, 2), 2023: (0, 0, 1)}


def test_prisma_query(ds):
    data = get_json(ds, "/public/prisma.json?_shape=array")
    assert {"label": "Included: studies", "count": 3, "arm": "", "box": "included",
            "item": "studies"} in data


def test_search_query_and_table_search(ds):
    found = get_json(ds, "/public/search.json?_shape=array&q=coach")
    assert sorted(r["id"] for r in found) == [2, 3]
    assert "[" in found[0]["matches"]
    # punctuation a person types must not break the query
    assert get(ds, "/public/search.json?q=peer-support%20%22drug").status_code == 200
    table = get_json(ds, "/public/works.json?_search=coach&_shape=array")
    assert sorted(r["id"] for r in table) == [2, 3]


def test_default_facets_and_sort(ds):
    data = get_json(ds, "/public/works.json")
    facets = data["facet_results"]
    assert {"status", "year"} <= set(facets)
    statuses = {f["value"]: f["count"] for f in facets["status"]["results"]}
    assert statuses == {"included": 3, "excluded": 2, "conflict": 1}
    # one value per study and country (a JSON array facet), not "A; B" combined
    arrays = get_json(ds, "/public/works.json?_facet_array=countries&_facet_array=designs")["facet_results"]
    countries = {f["value"]: f["count"] for f in arrays["countries"]["results"]}
    assert countries == {"United Kingdom": 2, "United States": 1, "Australia": 1}
    assert data["rows"][0][2] == 2023 or data["sort_desc"] == "year"


def test_facet_filter(ds):
    data = get_json(ds, "/public/works.json?_shape=array&countries__arraycontains=United+Kingdom"
                        "&status=included")
    assert sorted(r["id"] for r in data) == [1, 2]


def test_works_in_cell_query(ds):

    def ids(query):
        return sorted(r["id"] for r in get_json(ds, f"/public/works_in_cell.json?_shape=array&{query}"))

    assert ids("country=GB&design=rct&scope=included") == [2]
    assert ids("country=GB&design=qualitative&scope=") == [1]
    assert ids("country=US&design=rct&scope=all") == [3]
    assert ids("country=&design=&scope=all") == [5]
    assert ids("country=&design=commentary&scope=all") == [6]


def test_gap_map_page(ds):
    response = get(ds, "/gap-map")
    assert response.status_code == 200, response.text[:2000]
    html = response.text
    assert 'data-country="GB"' in html and 'class="uk"' in html
    assert 'data-design="rct" data-count="1"' in html
    assert 'class="uk-count">2<' in html
    assert "Scotland <strong>1</strong>" in html
    assert 'class="suggested-count">3<' in html  # every included study rests on a suggestion
    confirmed = get(ds, "/gap-map?basis=confirmed").text
    assert 'class="uk-count">1<' in confirmed and 'data-basis="confirmed"' in confirmed
    assert "<svg" in html and 'data-year="2021" data-count="2" data-uk="1"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # no CDN assets
    everything = get(ds, "/gap-map?scope=all").text
    assert 'data-country="AU"' in everything and 'data-country="none"' in everything
    css = get(ds, "/litrev/litrev.css")
    assert css.status_code == 200 and "gap-map" in css.text


def test_home_page_has_the_review_description(ds):
    html = get(ds, "/").text
    assert "Peer mentors in alcohol and drug services" in html
    assert "/gap-map" in html


# --- CLI -----------------------------------------------------------------------


def test_publish_command(working, db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no review.toml here: the defaults apply
    out = tmp_path / "site" / "public.db"
    result = CliRunner().invoke(cli, ["publish", "--db", db_path, "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Published 6 works (3 included) and 3 searches" in result.output
    assert out.exists()


def test_publish_without_a_working_db(tmp_path):
    result = CliRunner().invoke(cli, ["publish", "--db", str(tmp_path / "none.db"),
                                      "-o", str(tmp_path / "p.db")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: No database at")


def test_serve_without_a_public_db(tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "missing.db")])
    assert result.exit_code == 1
    assert "Run `litrev publish" in result.output


def test_serve_arguments(public, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = datasette_args(str(public), port=8123, host="127.0.0.1", metadata_path=None)
    assert args[:3] == ["serve", "-i", str(public)]
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert args[args.index("--template-dir") + 1] == str(TEMPLATES)
    assert args[args.index("--plugins-dir") + 1] == str(PLUGINS)
    metadata = json.loads(Path(args[args.index("--metadata") + 1]).read_text())
    assert "public" in metadata["databases"]


def test_metadata_is_renamed_for_another_file_name():
    metadata = load_metadata(str(ROOT / "metadata.yml"), database="evidence-2026")
    assert list(metadata["databases"]) == ["evidence-2026"]
    assert "gap_map_pivot" in metadata["databases"]["evidence-2026"]["queries"]


def test_bad_metadata_file(tmp_path):
    bad = tmp_path / "m.yml"
    bad.write_text("title: [unclosed")
    with pytest.raises(LitrevError, match="not valid YAML"):
        load_metadata(str(bad))
    with pytest.raises(LitrevError, match="No metadata file"):
        load_metadata(str(tmp_path / "none.yml"))


def test_gap_map_matches_litrev_gaps(working, tmp_path):
    """The published gap map shows the numbers `litrev gaps` prints."""
    from litrev.report.gaps import NO_DESIGN, gap_table

    path = tmp_path / "public.db"
    publish(working, path)
    for scope in ("included", "all"):
        expected = gap_table(working, scope, "design")
        cells = {(r["country"] or "", design if design != NO_DESIGN else ""): n
                 for r in expected["rows"] for design, n in r["cells"].items() if n}
        got = {(r["country_code"], r["design"]): r["works"]
               for r in rows(path, "select * from gap_map where scope = ? and basis = 'counted'", [scope])}
        assert got == cells, scope
        totals = {r["country"] or "": r["total"] for r in expected["rows"]}
        got_totals = {r["country_code"]: r["country_works"] for r in rows(
            path, "select distinct country_code, country_works from gap_map where scope = ? "
                  "and basis = 'counted'", [scope])}
        assert got_totals == totals
        years = [(y["year"], y["works"], y["uk"]) for y in expected["by_year"]]
        assert [(r["year"], r["works"], r["uk_works"]) for r in rows(
            path, "select * from gap_by_year where scope = ? and basis = 'counted' order by rowid",
            [scope])] == years


# --- the public server's limits, paths, CSV and error pages (litrev's plugin) ---------


def post(ds: Datasette, url: str, **kwargs):
    return asyncio.run(ds.client.post(url, **kwargs))


def test_one_huge_value_is_refused_not_built(ds):
    response = get(ds, "/public.json?sql=select+randomblob(400000000)")
    assert response.status_code == 400
    assert "too big" in response.json()["error"] and len(response.content) < 2000


def test_many_large_values_hit_the_result_budget(ds):
    rows_of = "with+recursive+n(i)+as+(select+1+union+all+select+i%2B1+from+n+limit+{})"
    response = get(ds, "/public.json?sql=" + rows_of.format(1000)
                   + "+select+randomblob(200000),+randomblob(200000)+from+n")
    assert response.status_code == 400
    assert "query result too large" in response.json()["error"]
    assert len(response.content) < 5000
    # researchers' SQL still runs: every column of every work, and a value of 100 kB
    works = get_json(ds, "/public.json?sql=select+*+from+works+join+work_sources+on+"
                         "work_sources.work_id+=+works.id&_shape=array")
    assert len(works) == 13 and all(w["abstract"] for w in works)
    blob = get_json(ds, "/public.json?sql=select+length(randomblob(100000))+as+n&_shape=array")
    assert blob == [{"n": 100000}]


def test_no_endpoint_shows_the_servers_path(ds, public):
    folder = str(Path(public).parent.resolve())
    listing = get_json(ds, "/-/databases.json")
    assert [d["name"] for d in listing] == ["public"] and "path" not in listing[0]
    for url in ("/-/databases", "/-/databases.json", "/-/metadata.json", "/-/settings.json",
                "/-/versions.json", "/-/plugins.json", "/-/config.json", "/public.json", "/.json"):
        response = get(ds, url)
        assert folder not in response.text, url


def test_error_pages_are_4xx_not_crashes(ds):
    for url in ("/public/works?_sort=nosuchcol", "/public/works.json?_sort_desc=nosuchcol"):
        response = get(ds, url)
        assert response.status_code == 400, (url, response.text[:300])
        assert "Cannot sort table by nosuchcol" in response.text
    assert post(ds, "/public/works", data={"title": "x"}).status_code == 405
    for url in ("/public/works/-/insert", "/public/works/-/drop", "/public/-/create"):
        response = post(ds, url, json={"row": {"title": "x"}})  # no write API: not found
        assert response.status_code in (404, 405), url
        assert "Traceback" not in response.text
    assert get(ds, "/public/nosuchtable").status_code == 404


def test_datasette_csv_downloads_neutralise_formulas(public):
    sql = ("select '=HYPERLINK(\"http://x\",\"y\")' as a, '+cmd|'' /C calc''!A0' as b, "
           "'@SUM(1)' as c, -5 as d, 'line one' || char(10) || '=two' as e, title from works "
           "where id = 1")
    url = "/public.csv?" + urlencode({"sql": sql})
    table = list(csv.reader(io.StringIO(get(make_datasette(public), url).text)))
    assert table[1] == ["'=HYPERLINK(\"http://x\",\"y\")", "'+cmd|' /C calc'!A0", "'@SUM(1)", "-5",
                        "line one\n=two", WORK_1_TITLE]
    canned = get(make_datasette(public), "/public/uk_studies.csv?_dl=1")
    assert canned.status_code == 200 and canned.text.startswith("id,title,year")
    keep = dict(METADATA, plugins={"litrev": {"keep_formulas": True}})
    raw = list(csv.reader(io.StringIO(get(make_datasette(public, keep), url).text)))
    assert raw[1][:3] == ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1)"]


WORK_1_TITLE = "Peer mentors in a Scottish recovery community: a qualitative study"


def test_csv_stream_is_rewritten_record_by_record():
    from litrev.web.plugins.litrev_public import CsvNeutraliser

    body = 'a,b\r\n"=x\r\nstill ""quoted"" é",@y\r\n-3,+z\r\n'.encode()
    for split in range(len(body) + 1):  # every chunk boundary, inside quotes and characters too
        rewriter = CsvNeutraliser()
        out = rewriter.feed(body[:split], False) + rewriter.feed(body[split:], True)
        assert out.decode() == 'a,b\r\n"\'=x\r\nstill ""quoted"" é",\'@y\r\n-3,\'+z\r\n', split


def test_serve_on_a_busy_port_fails_before_saying_it_serves(public):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", str(public), "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: Cannot serve on 127.0.0.1:{port}")
    assert "Serving" not in result.output and "Traceback" not in result.output


def test_a_killed_publish_leaves_no_temporary_file_behind(working, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "site" / "public.db"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    out.parent.mkdir()
    stale = out.parent / f".public.db.{dead}.tmp"  # what a publish killed mid-build leaves
    stale.write_bytes(b"half a database")
    live = out.parent / f".public.db.{os.getppid()}.tmp"  # a publish running right now
    live.write_bytes(b"being built")
    publish(working, out)
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(["public.db", live.name])


def test_outputs_in_missing_folders_and_files_in_the_way(working, db_path, tmp_path):
    run = CliRunner().invoke
    for args in (["export", "--format", "csv", "-o", str(tmp_path / "a" / "works.csv")],
                 ["prisma", "-o", str(tmp_path / "b" / "prisma.svg")],
                 ["screen", "export", str(tmp_path / "c" / "decisions.csv")],
                 ["publish", "-o", str(tmp_path / "d" / "public.db")]):
        result = run(cli, [*args, "--db", db_path], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "b" / "prisma.svg").read_text().startswith("<svg")
    assert (tmp_path / "c" / "decisions.csv").read_text().startswith("work_id,")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for args in (["export", "--format", "ris", "-o", str(blocker / "x.ris"), "--db", db_path],
                 ["prisma", "-o", str(blocker / "x.svg"), "--db", db_path],
                 ["screen", "export", str(blocker / "x.csv"), "--db", db_path],
                 ["publish", "-o", str(blocker / "x.db"), "--db", db_path],
                 ["dedupe", "--db", str(blocker / "evidence.db")]):
        result = run(cli, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith(f"Error: Cannot make the folder {blocker}: a file is in the way")


def test_read_only_commands_create_no_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LITREV_DB", raising=False)
    for args in (["status"], ["gaps"], ["prisma"], ["tag", "list", "1"], ["screen", "conflicts"],
                 ["screen", "agreement"], ["screen", "export", "x.csv"], ["export", "--format",
                                                                          "csv", "-o", "-"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error: No database at data/evidence.db" in result.output, args
    assert list(tmp_path.iterdir()) == []


# --- the public pages: search, study, PRISMA (litrev's templates) -------------------------


def result_ids(html: str) -> list[int]:
    import re
    return [int(i) for i in re.findall(r'<li class="result" data-id="(\d+)"', html)]


def test_search_page_filters_without_sql(ds):
    page = get(ds, "/search?q=coach")
    assert page.status_code == 200
    assert sorted(result_ids(page.text)) == [2, 3] and "<mark>" in page.text
    assert "works_fts" not in page.text and "from works" not in page.text  # no SQL on the page
    assert result_ids(get(ds, "/search?q=coach&country=GB").text) == [2]
    assert result_ids(get(ds, "/search?country=GB&design=qualitative&outcome=included").text) == [1]
    assert sorted(result_ids(get(ds, "/search?from=2020&to=2021").text)) == [2, 3]
    assert result_ids(get(ds, "/search?country=none&design=none").text) == [5]
    # reviewers' tags only: work 1's country is a suggestion, work 2's a person's
    assert result_ids(get(ds, "/search?country=GB&basis=confirmed").text) == [2]
    # what people type cannot break it
    assert get(ds, '/search?q=peer-support%20%22drug&from=abc&page=-3').status_code == 200


def test_study_page_shows_tags_with_their_origin(ds):
    html = get(ds, "/study/1").text
    assert "Peer mentors in a Scottish recovery community" in html
    assert "https://doi.org/10.1000/pm.1" in html and "https://openalex.org/W1001" in html
    assert "litrev's suggestion (confidence 90%)" in html and "drug services in Glasgow." in html
    assert "Confirmed by a reviewer" in html  # the qualitative design
    assert "PubMed" in html  # a source, through the merged work 7
    assert get(ds, "/study/999").status_code == 404
    assert get(ds, "/study/abc").status_code == 404


def test_prisma_page_and_downloads_are_litrev_prismas(working, ds):
    from litrev.report.prisma import prisma_counts, render

    counts = prisma_counts(working)
    page = get(ds, "/prisma")
    assert page.status_code == 200 and render(counts, "svg") in page.text
    svg = get(ds, "/prisma.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text == render(counts, "svg")
    assert get(ds, "/prisma.json").json() == json.loads(render(counts, "json"))


def test_canned_queries_hide_their_sql(ds):
    head, body = get(ds, "/public/search?q=coach").text.split("</title>", 1)
    assert "works_fts match" not in body and "coach" in body
    assert head.split("<title>", 1)[1] == "Search titles and abstracts"  # its title, not its SQL


# --- hosting: litrev publish --deploy-dir ---------------------------------------------


def test_deploy_dir_is_complete_and_its_command_checks(working, db_path, tmp_path, monkeypatch):
    """The deploy folder alone serves the whole site (no litrev import, no other file), and its
    Cloud Run command parses with the installed Datasette's own CLI."""
    import shlex

    from litrev.cli.publish import SETTINGS
    from litrev.report.deploy import check_cloudrun_command

    monkeypatch.chdir(ROOT)  # ./metadata.yml, as a review runs it
    site = tmp_path / "site"
    result = CliRunner().invoke(cli, ["publish", "--db", db_path, "-o", str(tmp_path / "p.db"),
                                      "--deploy-dir", str(site), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["deploy_files"]
    for needed in ("public.db", "metadata.json", "requirements.txt", "Dockerfile", "deploy.sh",
                   "plugins/litrev_public.py", "static/litrev.css", "templates/index.html",
                   "templates/pages/gap-map.html", "templates/pages/search.html",
                   "templates/pages/prisma.html", "templates/pages/study/{id}.html"):
        assert needed in files, needed
    assert "datasette-template-sql>=1.0" in (site / "requirements.txt").read_text()
    # the Dockerfile serves with litrev serve's settings, on the host's $PORT
    cmd = (site / "Dockerfile").read_text().split("CMD ", 1)[1]
    assert "--port $PORT" in cmd
    args = shlex.split(cmd.replace("$PORT", "8001"))
    for name, value in SETTINGS.items():
        assert f"--setting {name} {value}" in " ".join(args)
    for path in ("public.db", "metadata.json", "templates", "plugins"):
        assert path in args and (site / path).exists()
    assert "litrev:static" in args and "publish cloudrun public.db" in (site / "deploy.sh").read_text()
    # served from the folder's files only, every page of the site works
    metadata = json.loads((site / "metadata.json").read_text())
    assert list(metadata["databases"]) == ["public"]
    ds = Datasette(immutables=[str(site / "public.db")], metadata=metadata,
                   template_dir=str(site / "templates"), static_mounts=[("litrev", str(site / "static"))],
                   plugins_dir=str(site / "plugins"))
    for url in ("/", "/search?q=coach", "/study/1", "/gap-map", "/prisma", "/prisma.svg",
                "/litrev/litrev.css", "/public/works", "/public/search?q=coach"):
        assert get(ds, url).status_code == 200, url
    # an option the installed Datasette does not know is caught before any deploy
    import litrev.report.deploy as deploy_module
    real = deploy_module.cloudrun_command
    monkeypatch.setattr(deploy_module, "cloudrun_command", lambda s: real(s) + ["--no-such-option"])
    with pytest.raises(LitrevError, match="refuses the deploy command"):
        check_cloudrun_command(site, SETTINGS)
    monkeypatch.setattr(deploy_module, "cloudrun_command", real)
    # a folder missing a part is refused in one line
    (site / "metadata.json").unlink()
    with pytest.raises(LitrevError, match="lacks metadata.json"):
        check_cloudrun_command(site, SETTINGS)


def test_deploy_dir_that_is_a_file(working, db_path, tmp_path):
    (tmp_path / "site").write_text("x")
    result = CliRunner().invoke(cli, ["publish", "--db", db_path, "-o", str(tmp_path / "p.db"),
                                      "--deploy-dir", str(tmp_path / "site")])
    assert result.exit_code != 0


def test_works_table_links_titles_and_cuts_abstracts(working, tmp_path):
    working["works"].update(2, {"abstract": "Adults in England " + "word " * 100 + "END-OF-ABSTRACT"})
    path = tmp_path / "public.db"
    publish(working, path)
    site = make_datasette(path)
    html = get(site, "/public/works").text
    assert '<a href="/study/2">A randomised controlled trial' in html
    assert "END-OF-ABSTRACT" not in html and "&hellip;" in html
    data = get_json(site, "/public/works/2.json?_shape=array")
    assert data[0]["abstract"].endswith("END-OF-ABSTRACT")  # downloads keep it whole


def test_studies_over_time_fits_its_box_at_any_span(working, tmp_path):
    """77 years of studies: the chart keeps its 760-unit box (scaled to the page, no fixed
    width), bars inside it, and labels thinned to every 5th year so they never overlap."""
    import re

    working["works"].update(5, {"year": 1950})
    path = tmp_path / "public.db"
    publish(working, path)
    html = get(make_datasette(path), "/gap-map?scope=all").text
    svg = html[html.index('<svg class="by-year"'):html.index("</svg>", html.index('<svg class="by-year"'))]
    assert 'viewBox="0 0 760 ' in svg and " width=" not in svg.split(">", 1)[0]
    bars = [(float(x), float(w)) for x, w in re.findall(r'class="all" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)]
    assert len(bars) == 2023 - 1950 + 1 and max(x + w for x, w in bars) <= 760
    labels = re.findall(r'class="label"[^>]*>(\d+)<', svg)
    assert labels[0] == "1950" and all(int(y) % 5 == 0 for y in labels) and len(labels) <= 16
