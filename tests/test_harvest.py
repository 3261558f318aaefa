"""End to end: the real pyalex and habanero clients over real HTTP to the replay server."""

import datetime
import json
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from support.harvest import crossref_item, openalex_work
from support.replay import (
    Reply,
    add_crossref_pages,
    add_crossref_stuck_scroll,
    add_openalex_pages,
    add_openalex_repeating_cursor,
    add_openalex_stuck_page,
    crossref_page,
    html_error,
    openalex_page,
)

from litrev.cli import cli
from litrev.db import now
from litrev.errors import SourceError
from litrev.finish import finish_write
from litrev.harvest import run as harvest_stage
from litrev.harvest.queries import Settings, load_query
from litrev.sources import openalex as openalex_source
from litrev.sources.fetching import api_message, retry_after_seconds

QUERY = """name = "Peer mentors"
description = "test"

[openalex]
search = '"peer mentor" AND addiction'
filter = { from_publication_date = "2000-01-01", type = ["article", "review"] }

[crossref]
query_bibliographic = "peer mentor addiction"
filter = { from-pub-date = "2000-01-01", type = "journal-article" }
"""



@pytest.fixture
def query(tmp_path):
    path = tmp_path / "queries" / "peer.toml"
    path.parent.mkdir()
    path.write_text(QUERY)
    return load_query(path)


def settings(server, **changes):
    urls = {"openalex": server.url, "crossref": server.url + "/crossref"}
    for key in list(urls):  # settings(server, openalex_url=...) points one source elsewhere
        urls[key] = changes.pop(f"{key}_url", urls[key])
    values = {"base_urls": urls,
              "email": "me@example.org", "openalex_api_key": "SECRET",
              "retry_base_seconds": 0.5, "max_retries": 2, "max_wait_seconds": 30,
              "timeout_seconds": 5}
    values.update(changes)
    return Settings(**values)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def run(db, server, query, sources=("openalex",), **kwargs):
    sleeps = kwargs.pop("sleep", Sleeps())
    return harvest_stage.harvest(db, [query], settings(server, **kwargs.pop("settings", {})),
                                 sources=sources, sleep=sleeps, **kwargs)


def works_requests(server, prefix="/works"):
    return [r for r in server.requests if r.path == prefix]


def test_openalex_multi_page_run(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])
    [result] = run(db, replay, query)
    assert (result.status, result.mode, result.reported_total) == ("complete", "full", 450)
    assert (result.counts.fetched, result.counts.new, result.counts.updated) == (450, 450, 0)
    assert db["records"].count == 450
    cursors = [r.params["cursor"] for r in replay.requests]
    assert cursors == ["*", "c1", "c2", "c3"]  # three full pages, then the empty last page
    first = replay.requests[0]
    assert first.params["per-page"] == "200"
    assert first.params["search"] == '"peer mentor" AND addiction'
    assert first.params["filter"] == "from_publication_date:2000-01-01,type:article|review"
    assert first.params["api_key"] == "SECRET" and first.params["mailto"] == "me@example.org"
    assert first.headers["User-Agent"].startswith("litrev/")
    assert first.headers["Authorization"] == "Bearer SECRET"
    run_row = db["harvest_runs"].get(result.run_id)
    assert run_row["status"] == "complete" and run_row["cursor"] is None
    assert run_row["source_name"] == "OpenAlex" and run_row["query_id"] == "peer"
    assert json.loads(run_row["request"])["filter"]["type"] == "article|review"
    assert "SECRET" not in json.dumps(run_row)
    ranks = [r[0] for r in db.execute("select rank from provenance order by rank")]
    assert ranks == list(range(1, 451))
    record = db["records"].get("openalex:W4000000007")
    assert record["abstract"].startswith("peer recovery coaches support people")
    assert json.loads(record["raw"])["id"] == "https://openalex.org/W4000000007"


def test_crossref_multi_page_run(db, replay, query):
    add_crossref_pages(replay, [crossref_item(i) for i in range(25)], rows=10,
                       path="/crossref/works")
    [result] = run(db, replay, query, sources=("crossref",))
    assert (result.status, result.counts.new, result.reported_total) == ("complete", 25, 25)
    assert [r.params["cursor"] for r in replay.requests] == ["*", "x1", "x2", "x3"]
    first = replay.requests[0]
    assert first.params["rows"] == "1000"
    assert first.params["query.bibliographic"] == "peer mentor addiction"
    assert first.params["filter"] == "from-pub-date:2000-01-01,type:journal-article"
    assert "mailto:me@example.org" in first.headers["User-Agent"]
    assert "litrev/" in first.headers["User-Agent"]
    abstract = db["records"].get("crossref:10.1016/j.drugalcdep.3")["abstract"]
    assert "lived experience workers" in abstract and "<jats" not in abstract


def test_query_versions_and_runs_point_at_them(db, replay, query, tmp_path):
    add_openalex_pages(replay, [openalex_work(i) for i in range(3)])
    [first] = run(db, replay, query, full=True)
    [again] = run(db, replay, query, full=True)
    assert db["query_versions"].count == 1
    query.path.write_text(QUERY + "# edited\n")
    [edited] = run(db, replay, load_query(query.path), full=True)
    versions = list(db.query("select id, version from query_versions order by version"))
    assert [v["version"] for v in versions] == [1, 2]
    run_versions = [db["harvest_runs"].get(r.run_id)["query_version_id"]
                    for r in (first, again, edited)]
    assert run_versions == [versions[0]["id"], versions[0]["id"], versions[1]["id"]]


def test_update_fetches_only_changes_since_last_complete_run(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(5)],
                       filter=lambda f: "from_updated_date" not in f)
    run(db, replay, query)
    last = db["harvest_runs"].get(1)["started_at"][:10]
    replay.clear()
    changed = openalex_work(1, cited_by_count=99)
    add_openalex_pages(replay, [changed, openalex_work(5), openalex_work(6)],
                       filter=lambda f: f.endswith(f"from_updated_date:{last}"))
    [result] = run(db, replay, query)
    assert (result.mode, result.since) == ("update", last)
    assert replay.requests[0].params["filter"] == (
        f"from_publication_date:2000-01-01,type:article|review,from_updated_date:{last}")
    assert (result.counts.fetched, result.counts.new, result.counts.updated) == (3, 2, 1)
    assert db["records"].count == 7
    # nothing new: the same filter answers an empty list, and nothing changes
    replay.clear()
    add_openalex_pages(replay, [], filter=lambda f: "from_updated_date" in f)
    before = list(db.query("select id, raw_sha256, last_seen from records order by id"))
    [quiet] = run(db, replay, query)
    assert (quiet.status, quiet.counts.fetched, quiet.counts.new) == ("complete", 0, 0)
    assert list(db.query("select id, raw_sha256, last_seen from records order by id")) == before


def test_update_falls_back_to_full_when_filter_needs_a_paid_plan(db, replay, query):
    works = [openalex_work(i) for i in range(4)]
    add_openalex_pages(replay, works, filter=lambda f: "from_updated_date" not in f)
    run(db, replay, query)
    replay.add("/works", Reply(status=429, json={"error": "Plan upgrade required",
                                                 "message": "from_updated_date needs a plan"}),
               filter=lambda f: "from_updated_date" in f)
    notes = []

    class Notes(harvest_stage.NullProgress):
        def note(self, text):
            notes.append(text)

    [result] = run(db, replay, query, progress=Notes())
    assert (result.status, result.mode, result.counts.new) == ("complete", "full", 0)
    assert any("paid plan" in n for n in notes)
    assert db["records"].count == 4


def test_429_waits_as_retry_after_says(db, replay, query):
    replay.add("/works", Reply(status=429, json={"error": "Rate limit exceeded"},
                               headers={"Retry-After": "7"}), times=1)
    add_openalex_pages(replay, [openalex_work(i) for i in range(3)])
    sleeps = Sleeps()
    [result] = run(db, replay, query, sleep=sleeps)
    assert result.status == "complete" and sleeps == [7.0]


def test_retry_after_beyond_the_bound_stops_with_one_line(db, replay, query):
    replay.add("/works", Reply(status=429, json={"error": "Insufficient budget"},
                               headers={"Retry-After": "18000"}))
    with pytest.raises(SourceError) as e:
        run(db, replay, query)
    message = str(e.value)
    assert "daily budget" in message and "5 h 0 min" in message and "\n" not in message
    assert db["harvest_runs"].get(1)["status"] == "failed"


def test_503_retries_with_exponential_backoff(db, replay, query):
    replay.add("/works", Reply(status=503, body="<html>busy</html>", content_type="text/html"),
               times=2)
    add_openalex_pages(replay, [openalex_work(i) for i in range(3)])
    sleeps = Sleeps()
    [result] = run(db, replay, query, sleep=sleeps)
    assert result.status == "complete" and sleeps == [0.5, 1.0]


def test_slow_reply_times_out_and_is_retried(db, replay, query):
    replay.add("/works", Reply(json=openalex_page([], count=0, per_page=200, next_cursor=None),
                               delay=1.0), times=1)
    add_openalex_pages(replay, [openalex_work(i) for i in range(2)])
    [result] = run(db, replay, query, settings={"timeout_seconds": 0.2})
    assert result.status == "complete" and result.counts.new == 2


@pytest.mark.parametrize("reply,expected", [
    (Reply(body='{"meta": {"count": 3}, "results": [{"id": '), "not valid JSON"),
    (Reply(body="<!DOCTYPE html><html><body>Login</body></html>", content_type="text/html"),
     "HTML page"),
])
def test_broken_bodies_are_one_clear_line(db, replay, query, reply, expected):
    replay.add("/works", reply)
    with pytest.raises(SourceError) as e:
        run(db, replay, query)
    assert expected in str(e.value) and "\n" not in str(e.value)
    assert "SECRET" not in str(e.value)


def test_crossref_broken_json_and_429(db, replay, query):
    replay.add("/crossref/works", Reply(status=429, body="Too many requests",
                                        content_type="text/plain",
                                        headers={"Retry-After": "3"}), times=1)
    replay.add("/crossref/works", Reply(body='{"status": "ok", "message": {"items": ['))
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="Crossref: .*not the JSON expected"):
        run(db, replay, query, sources=("crossref",), sleep=sleeps)
    assert sleeps[0] == 3.0


def test_interrupted_run_resumes_without_duplicates_or_gaps(db, replay, query):
    works = [openalex_work(i) for i in range(450)]
    replay.add("/works", Reply(status=503), cursor="c2")  # page 3 keeps failing
    add_openalex_pages(replay, works)
    with pytest.raises(SourceError, match="gave up after 3 tries"):
        run(db, replay, query)
    failed = db["harvest_runs"].get(1)
    assert (failed["status"], failed["cursor"], failed["position"]) == ("failed", "c2", 400)
    assert db["records"].count == 400
    replay.routes.pop(0)  # the API is back
    replay.requests.clear()
    [result] = run(db, replay, query)
    assert result.resumed and result.run_id == 1 and result.status == "complete"
    assert [r.params["cursor"] for r in replay.requests] == ["c2", "c3"]
    assert db["records"].count == 450 and db["harvest_runs"].count == 1
    ranks = [r[0] for r in db.execute("select rank from provenance order by rank")]
    assert ranks == list(range(1, 451))
    assert db["harvest_runs"].get(1)["fetched"] == 450


def test_ctrl_c_marks_run_interrupted_and_next_run_resumes(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])

    class CtrlC(harvest_stage.NullProgress):
        def advance(self, n):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(db, replay, query, progress=CtrlC())
    assert db["harvest_runs"].get(1)["status"] == "interrupted"
    assert db["records"].count == 200  # the page was committed before Ctrl-C
    [result] = run(db, replay, query)
    assert result.resumed and db["records"].count == 450
    assert db.execute("select count(*) from provenance").fetchone()[0] == 450


def test_max_stops_and_says_so_and_next_run_continues(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])
    [stopped] = run(db, replay, query, max_records=250)
    assert stopped.status == "stopped" and "--max 250" in stopped.message
    assert db["records"].count == 250
    [rest] = run(db, replay, query)
    assert rest.resumed and rest.status == "complete" and db["records"].count == 450
    ranks = [r[0] for r in db.execute("select rank from provenance order by rank")]
    assert ranks == list(range(1, 451))


def test_dry_run_reports_count_and_cost_and_writes_nothing(tmp_path, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])
    add_crossref_pages(replay, [crossref_item(i) for i in range(25)], rows=10,
                       path="/crossref/works")
    replay.add("/crossref/works", Reply(json=crossref_page([], total=25, rows=0,
                                                           next_cursor=None)), rows="0")
    estimates = harvest_stage.dry_run(None, [query], settings(replay))
    by_source = {e.source: e for e in estimates}
    assert by_source["openalex"].reported_total == 450
    assert by_source["openalex"].requests == 4 and by_source["openalex"].tier == "search"
    assert by_source["openalex"].usd == pytest.approx(0.004)
    assert by_source["crossref"].reported_total == 25 and by_source["crossref"].usd == 0
    assert replay.requests[0].params["per-page"] == "1"


def test_cli_harvest_dry_run_and_run(tmp_path, replay, query, monkeypatch):
    add_openalex_pages(replay, [openalex_work(i) for i in range(3)])
    add_crossref_pages(replay, [crossref_item(i) for i in range(2)], path="/crossref/works")
    replay.add("/crossref/works", Reply(json=crossref_page([], total=2, rows=0,
                                                           next_cursor=None)), rows="0")
    monkeypatch.setenv("LITREV_OPENALEX_URL", replay.url)
    monkeypatch.setenv("LITREV_CROSSREF_URL", replay.url + "/crossref")
    monkeypatch.setenv("OPENALEX_API_KEY", "SECRET")
    monkeypatch.setenv("LITREV_RETRY_BASE_SECONDS", "0")
    db_path = tmp_path / "e.db"
    args = ["harvest", "--queries-dir", str(query.path.parent), "--db", str(db_path)]
    dry = CliRunner().invoke(cli, [*args, "--dry-run", "--email", "me@example.org"])
    assert dry.exit_code == 0, dry.output
    assert "peer · OpenAlex (full: first run): 3 records reported" in dry.output
    assert "$0.0020" in dry.output and not db_path.exists()
    result = CliRunner().invoke(cli, [*args, "--quiet", "--no-dedupe"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    result = CliRunner().invoke(cli, [*args, "peer", "--source", "crossref", "--full",
                                      "--no-dedupe"])
    assert "peer · Crossref (full): 2 fetched of 2 reported, 0 new" in result.output


def test_cli_broken_query_file_exits_2_and_writes_nothing(tmp_path):
    qdir = tmp_path / "queries"
    qdir.mkdir()
    (qdir / "bad.toml").write_text("name = 'x'\n[openalex]\nsearch = 'a'\nsort = 'year'\n")
    db_path = tmp_path / "e.db"
    result = CliRunner().invoke(cli, ["harvest", "--queries-dir", str(qdir), "--db", str(db_path)])
    assert result.exit_code == 2
    assert "bad.toml:4: unknown key 'sort' in [openalex]" in result.output
    assert not db_path.exists()


def test_cli_max_tells_the_user(tmp_path, replay, query, monkeypatch):
    add_openalex_pages(replay, [openalex_work(i) for i in range(10)])
    monkeypatch.setenv("LITREV_OPENALEX_URL", replay.url)
    result = CliRunner().invoke(cli, ["harvest", "--queries-dir", str(query.path.parent),
                                      "--db", str(tmp_path / "e.db"), "--source", "openalex",
                                      "--max", "4", "--no-dedupe", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "stopped at --max 4 of 10 reported" in result.output


def test_real_recorded_openalex_and_crossref_chains(db, replay, query, shared_data):
    oa = shared_data / "openalex" / "extracted_json"
    page1 = json.loads((oa / "pro_snowball__02.json").read_text())
    last = json.loads((oa / "pro_snowball__04.json").read_text())
    replay.add("/works", Reply(json=page1), cursor="*")
    replay.add("/works", Reply(json=last), cursor=page1["meta"]["next_cursor"])
    cr = shared_data / "crossref" / "extracted_json_habanero"
    chain = [json.loads((cr / f"test_cursor_max__0{i}.json").read_text()) for i in range(3)]
    # Crossref's cursor is a server-side scroll id: it stays the same from page to
    # page (as recorded), so each page is served once, in order.
    scroll = chain[0]["message"]["next-cursor"]
    assert chain[1]["message"]["next-cursor"] == scroll
    replay.add("/crossref/works", Reply(json=chain[0]), cursor="*")
    replay.add("/crossref/works", Reply(json=chain[1]), cursor=scroll, times=1)
    end = dict(chain[2], message=dict(chain[2]["message"], items=[]))
    replay.add("/crossref/works", Reply(json=end), cursor=scroll, times=1)
    results = run(db, replay, query, sources=("openalex", "crossref"))
    assert [r.status for r in results] == ["complete", "complete"]
    assert results[0].counts.new == len(page1["results"]) == 2
    assert results[1].reported_total == 454
    assert db.execute("select count(*) from records where source = 'crossref'").fetchone()[0] \
        == len({i["DOI"].lower() for c in chain[:2] for i in c["message"]["items"]})


def test_new_records_are_linked_to_works_unless_no_dedupe(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(3)])
    harvest_stage.harvest(db, [query], settings(replay), sources=("openalex",))
    # Linking is the command's post-write step, not the stage's.
    unlinked = "select count(*) from records where work_id is null"
    assert db.execute(unlinked).fetchone()[0] == 3
    assert finish_write(db, link=False) is None  # --no-dedupe
    assert db.execute(unlinked).fetchone()[0] == 3
    assert finish_write(db, records_saved=True).new_records == 3
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0
    assert db["works"].count == 3


def test_cli_reports_a_failed_source_in_one_line_and_exits_1(tmp_path, replay, query,
                                                              monkeypatch):
    add_openalex_pages(replay, [openalex_work(i) for i in range(2)])
    replay.add("/crossref/works", Reply(status=400, json={
        "status": "failed", "message-type": "validation-failure",
        "message": [{"type": "filter-not-available", "value": "frm-pub-date",
                     "message": "Filter frm-pub-date specified but there is no such filter"}]}))
    monkeypatch.setenv("LITREV_OPENALEX_URL", replay.url)
    monkeypatch.setenv("LITREV_CROSSREF_URL", replay.url + "/crossref")
    result = CliRunner().invoke(cli, ["harvest", "--queries-dir", str(query.path.parent),
                                      "--db", str(tmp_path / "e.db"), "--no-dedupe"])
    assert result.exit_code == 1
    assert "peer · OpenAlex (full): 2 fetched of 2 reported, 2 new" in result.output
    assert "Error: 1 of 2 harvests failed: Crossref: HTTP 400" in result.output
    assert "no such filter" in result.output


def test_plain_run_finishes_an_unfinished_full_run(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)],
                       filter=lambda f: "from_updated_date" not in f)
    run(db, replay, query)  # complete: the next plain run would be an update...
    [stopped] = run(db, replay, query, full=True, max_records=10)
    assert stopped.status == "stopped"
    replay.requests.clear()
    [rest] = run(db, replay, query)  # ...but first it finishes the stopped full run
    assert rest.resumed and rest.run_id == stopped.run_id and rest.mode == "full"
    assert replay.requests[0].params["cursor"] == "*"  # page 1 again, its first 10 kept
    assert db["harvest_runs"].get(stopped.run_id)["fetched"] == 450


def test_crossref_max_mid_page_resumes_from_the_start_without_gaps(db, replay, query):
    items = [crossref_item(i) for i in range(25)]
    add_crossref_pages(replay, items, rows=10, path="/crossref/works")
    [stopped] = run(db, replay, query, sources=("crossref",), max_records=15)
    assert stopped.status == "stopped" and db["records"].count == 15
    assert db["harvest_runs"].get(stopped.run_id)["cursor"] == "*"
    [rest] = run(db, replay, query, sources=("crossref",))
    assert rest.resumed and rest.status == "complete" and db["records"].count == 25
    assert db["harvest_runs"].get(stopped.run_id)["fetched"] == 25


def test_max_results_in_the_query_takes_the_most_relevant_and_completes(db, replay, tmp_path):
    path = tmp_path / "q" / "cr.toml"
    path.parent.mkdir()
    path.write_text("name = 'cr'\n[crossref]\nquery_bibliographic = 'peer mentor'\n"
                    "max_results = 15\n")
    query = load_query(path)
    add_crossref_pages(replay, [crossref_item(i) for i in range(25)], rows=10,
                       path="/crossref/works")
    [result] = run(db, replay, query, sources=("crossref",))
    assert (result.status, result.counts.new) == ("complete", 15)
    assert "took the 15 most relevant of 25 reported" in result.message
    assert replay.requests[0].params["rows"] == "15"
    assert len(replay.requests) == 2  # no request past the scope
    row = db["harvest_runs"].get(result.run_id)
    assert row["cursor"] is None and json.loads(row["request"])["max_results"] == 15
    [estimate] = harvest_stage.dry_run(db, [query], settings(replay), sources=("crossref",))
    assert estimate.reported_total == 25 and estimate.requests == 2


def test_crossref_resume_after_the_cursor_expired_restarts_the_pass(db, replay, query):
    items = [crossref_item(i) for i in range(25)]
    replay.add("/crossref/works", Reply(status=500), cursor="x2")
    add_crossref_pages(replay, items, rows=10, path="/crossref/works")
    with pytest.raises(SourceError):
        run(db, replay, query, sources=("crossref",))
    assert db["harvest_runs"].get(1)["cursor"] == "x2"
    db["harvest_runs"].update(1, {"cursor_saved_at": "2026-01-01T00:00:00+00:00"})  # long ago
    replay.routes.pop(0)
    replay.requests.clear()
    [result] = run(db, replay, query, sources=("crossref",))
    assert result.resumed and result.status == "complete"
    assert replay.requests[0].params["cursor"] == "*"
    assert db["records"].count == 25 and db["harvest_runs"].get(1)["fetched"] == 25


def ended_process_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_crashed_run_left_running_is_resumed(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])
    run(db, replay, query, max_records=200)
    # as after kill -9: still "running", owned by a process that is gone
    db["harvest_runs"].update(1, {"status": "running", "pid": ended_process_pid()})
    replay.requests.clear()
    [result] = run(db, replay, query)
    assert result.resumed and replay.requests[0].params["cursor"] == "c1"
    assert db["records"].count == 450


def test_dry_run_says_when_the_update_filter_needs_a_paid_plan(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(3)],
                       filter=lambda f: "from_updated_date" not in f)
    run(db, replay, query)
    replay.add("/works", Reply(status=429, json={"error": "Plan upgrade required"}),
               filter=lambda f: "from_updated_date" in f)
    [estimate] = harvest_stage.dry_run(db, [query], settings(replay), sources=("openalex",))
    assert estimate.mode == "full" and estimate.reported_total == 3
    assert "paid plan" in estimate.note


def test_openalex_asks_only_for_the_fields_litrev_reads(db, replay, query, tmp_path):
    add_openalex_pages(replay, [openalex_work(i, concepts=[{"id": "C1"}]) for i in range(3)])
    run(db, replay, query)
    selected = works_requests(replay)[0].params["select"].split(",")
    assert selected == list(openalex_source.FIELDS)
    raw = json.loads(db["records"].get("openalex:W4000000001")["raw"])
    assert set(raw) <= set(selected) and "concepts" not in raw  # the replay honours select=
    assert raw["abstract_inverted_index"] and raw["authorships"]  # what litrev reads is there

    replay.clear()
    path = tmp_path / "queries" / "whole.toml"
    path.write_text(QUERY.replace("[crossref]", "select = 'all'\n\n[crossref]"))
    add_openalex_pages(replay, [openalex_work(i, concepts=[{"id": "C1"}]) for i in range(3)])
    run(db, replay, load_query(path), full=True)
    assert "select" not in works_requests(replay)[0].params
    raw = json.loads(db["records"].get("openalex:W4000000001")["raw"])
    assert raw["concepts"] == [{"id": "C1"}]


def test_openalex_select_list_adds_to_litrevs_fields(db, replay, tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text(QUERY.replace("[crossref]", "select = ['topics', 'id']\n\n[crossref]"))
    add_openalex_pages(replay, [openalex_work(0)])
    run(db, replay, load_query(path))
    selected = works_requests(replay)[0].params["select"].split(",")
    assert selected == [*openalex_source.FIELDS, "topics"]


def test_a_second_harvest_of_a_query_being_fetched_waits_its_turn(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])
    run(db, replay, query, max_records=200)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        db["harvest_runs"].update(1, {"status": "running", "pid": other.pid})
        replay.requests.clear()
        with pytest.raises(SourceError, match=rf"another litrev harvest \(pid {other.pid} "):
            run(db, replay, query)
        other.kill()
    assert works_requests(replay) == []
    assert db["harvest_runs"].count == 1 and db["harvest_runs"].get(1)["status"] == "running"
    [result] = run(db, replay, query)  # the other process has gone: resume its run
    assert result.resumed and result.run_id == 1 and db["records"].count == 450


def test_a_run_on_another_machine_is_busy_until_its_cursor_goes_stale(db, replay, query):
    add_openalex_pages(replay, [openalex_work(i) for i in range(450)])
    run(db, replay, query, max_records=200)
    db["harvest_runs"].update(1, {"status": "running", "pid": 1, "host": "lab-server",
                                  "cursor_saved_at": now()})
    with pytest.raises(SourceError, match="on lab-server"):
        run(db, replay, query)
    stale = datetime.datetime.now(datetime.UTC) - datetime.timedelta(
        seconds=harvest_stage.OTHER_HOST_STALE_SECONDS + 60)
    db["harvest_runs"].update(1, {"cursor_saved_at": stale.isoformat(timespec="seconds")})
    [result] = run(db, replay, query)
    assert result.resumed and db["records"].count == 450
    assert db["harvest_runs"].get(1)["host"] != "lab-server"


class Notes(harvest_stage.NullProgress):
    def __init__(self):
        self.notes = []

    def note(self, text):
        self.notes.append(text)


# --- an API that does not move forward, odd Retry-After, HTML errors, no network -------


def test_a_repeating_openalex_cursor_stops_after_one_loop(db, replay, query):
    add_openalex_repeating_cursor(replay, [openalex_work(i) for i in range(4)], per_page=2)
    with pytest.raises(SourceError) as e:
        run(db, replay, query)
    message = str(e.value)
    assert "OpenAlex: the API sent cursor 'c1' again; stopped" in message and "\n" not in message
    assert [r.params["cursor"] for r in replay.requests] == ["*", "c1"]
    assert db["records"].count == 4  # the page before the repeat is saved, not lost
    assert db["harvest_runs"].get(1)["status"] == "failed"


def test_a_page_of_only_seen_records_stops_openalex(db, replay, query):
    add_openalex_stuck_page(replay, [openalex_work(i) for i in range(3)])
    with pytest.raises(SourceError, match=r"OpenAlex: the page at cursor 'c1' brought no new "
                                          r"record \(only 3 already fetched"):
        run(db, replay, query)
    assert [r.params["cursor"] for r in replay.requests] == ["*", "c1"]
    assert db["records"].count == 3


def test_a_crossref_scroll_serving_the_same_items_stops(db, replay, query):
    # Crossref's scroll id is the same on every page (see the recorded chain above), so
    # only the records tell that the walk is stuck.
    add_crossref_stuck_scroll(replay, [crossref_item(i) for i in range(5)],
                              path="/crossref/works")
    with pytest.raises(SourceError, match="Crossref: the page at cursor 'scroll-1' brought no new"):
        run(db, replay, query, sources=("crossref",))
    assert [r.params["cursor"] for r in replay.requests] == ["*", "scroll-1"]
    assert db["records"].count == 5


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity"])
def test_retry_after_nan_or_infinite_is_treated_as_absent(db, replay, query, value):
    replay.add("/works", Reply(status=429, json={"error": "Rate limit exceeded"},
                               headers={"Retry-After": value}), times=1)
    replay.add("/crossref/works", Reply(status=429, json={"message": "slow down"},
                                        headers={"Retry-After": value}), times=1)
    add_openalex_pages(replay, [openalex_work(i) for i in range(2)])
    add_crossref_pages(replay, [crossref_item(i) for i in range(2)], path="/crossref/works")
    sleeps = Sleeps()
    results = run(db, replay, query, sources=("openalex", "crossref"), sleep=sleeps)
    assert [r.status for r in results] == ["complete", "complete"]
    assert sleeps == [0.5, 0.5]  # the ordinary first backoff, as with no Retry-After


def test_retry_after_parsing():
    assert [retry_after_seconds(v) for v in ("7", " 2.5 ", "-3", "nan", "inf", "", None, "soon")] \
        == [7.0, 2.5, 0.0, None, None, None, None, None]


@pytest.mark.parametrize("source,path", [("openalex", "/works"), ("crossref", "/crossref/works")])
def test_429_with_an_html_page_names_it_without_markup(db, replay, query, source, path):
    replay.add(path, html_error(429, "429 Too Many Requests", {"Retry-After": "1"}))
    notes = Notes()
    with pytest.raises(SourceError) as e:
        run(db, replay, query, sources=(source,), progress=notes)
    message = str(e.value)
    assert "rate limited (HTTP 429: an HTML page '429 Too Many Requests' instead of JSON)" \
        in message
    assert "gave up after 3 tries" in message
    assert all("<" not in text and "nginx" not in text for text in [message, *notes.notes])


def test_api_message_reads_json_errors_and_names_html_pages():
    assert api_message('{"error": "Invalid query", "message": "bad filter"}') == \
        "Invalid query: bad filter"
    assert api_message("<html><body>busy</body></html>") == "an HTML page instead of JSON"
    assert api_message("<h1>x</h1>", "text/html") == "an HTML page instead of JSON"
    assert api_message("Too many requests") == "Too many requests"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_offline_fails_fast_with_one_line_saying_check_the_network(tmp_path, query,
                                                                      monkeypatch):
    port = closed_port()
    monkeypatch.setenv("LITREV_OPENALEX_URL", "http://nonexistent.invalid")  # reserved TLD
    monkeypatch.setenv("LITREV_CROSSREF_URL", f"http://127.0.0.1:{port}")  # nothing listens
    monkeypatch.setenv("OPENALEX_API_KEY", "SECRET")
    for name in ("LITREV_RETRY_BASE_SECONDS", "LITREV_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)  # the real backoff: retrying would take a minute
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["harvest", "--queries-dir", str(query.path.parent),
                                      "--db", str(tmp_path / "e.db"), "--no-dedupe"])
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "retrying" not in result.output
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert line == (
        "Error: 2 of 2 harvests failed: OpenAlex: cannot reach nonexistent.invalid (its name "
        "does not resolve). Check the network connection (and LITREV_OPENALEX_URL, if set); "
        f"Crossref: cannot reach 127.0.0.1:{port} (the connection was refused). Check the "
        "network connection (and LITREV_CROSSREF_URL, if set)")


def test_offline_fails_every_query_in_one_message_and_5xx_still_retries(db, replay, tmp_path):
    paths = tmp_path / "qs"
    paths.mkdir()
    queries = []
    for name in ("one", "two"):
        (paths / f"{name}.toml").write_text('name = "x"\n[openalex]\nsearch = "peer"\n')
        queries.append(load_query(paths / f"{name}.toml"))
    notes, sleeps = Notes(), Sleeps()
    with pytest.raises(SourceError) as e:
        harvest_stage.harvest(db, queries, settings(replay, openalex_url=f"http://127.0.0.1:"
                                                                          f"{closed_port()}"),
                              sources=("openalex",), progress=notes, sleep=sleeps)
    assert str(e.value).count("cannot reach") == 1 and str(e.value).startswith("2 of 2 harvests")
    assert sleeps == [] and notes.notes == []
    replay.add("/works", Reply(status=502, body="Bad gateway", content_type="text/plain"),
               times=1)
    add_openalex_pages(replay, [openalex_work(1)])
    [result] = run(db, replay, queries[0], sleep=sleeps)
    assert result.status == "complete" and sleeps == [0.5]


def test_a_harvest_with_nothing_new_links_records_a_crash_left_without_a_work(db, replay, query,
                                                                             monkeypatch):
    # A harvest killed (kill -9) during its final dedupe: records saved, none linked.
    add_openalex_pages(replay, [openalex_work(i) for i in range(4)],
                       filter=lambda f: "from_updated_date" not in f)
    run(db, replay, query)
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 4
    replay.clear()
    add_openalex_pages(replay, [], filter=lambda f: "from_updated_date" in f)
    monkeypatch.setenv("LITREV_OPENALEX_URL", replay.url)
    result = CliRunner().invoke(cli, ["harvest", "--queries-dir", str(query.path.parent),
                                      "--source", "openalex", "--db", str(db.conn.execute(
                                          "pragma database_list").fetchone()[2])])
    assert result.exit_code == 0, result.output
    assert "0 fetched" in result.output
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0
    assert db["works"].count == 4
