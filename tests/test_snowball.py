"""Citation searching over real HTTP: pyalex (through harvest's client) against the replay server.

The replay server plays a small OpenAlex: `filter=openalex:W1|W2`, `cites:W1|W2` and
`doi:...|...` over a pool of works, cursor-paged like the real API (a non-null
`next_cursor` until the empty last page). The pools are the real recorded
`oa_snowball__*` responses when ../shared is present, else realistic inline works.
"""

import json
import socket
import time
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from support.replay import Reply, add_openalex_repeating_cursor, openalex_page

from litrev.cli import cli
from litrev.dedupe.storage import update_works
from litrev.errors import SourceError, UnknownIdError
from litrev.harvest import snowball as sb
from litrev.harvest.queries import settings_from_env
from litrev.harvest.store import finish_run, save_records, start_run
from litrev.sources.fetching import Retrier
from litrev.sources.normalise import normalise_doi, openalex_short_id, record_from_crossref, record_from_openalex

SNOWBALL = "openalex/extracted_json/oa_snowball__{:02d}.json"


def work(n: int, *, refs=(), doi: str | None = None, year: int = 2020) -> dict:
    """A realistic OpenAlex work (the fields litrev reads, shaped as the API gives them)."""
    wid = f"W{n}"
    return {
        "id": f"https://openalex.org/{wid}",
        "doi": f"https://doi.org/{doi or f'10.5555/test.{n}'}",
        "title": f"Peer recovery support study number {n}",
        "display_name": f"Peer recovery support study number {n}",
        "publication_year": year,
        "publication_date": f"{year}-03-01",
        "ids": {"openalex": f"https://openalex.org/{wid}", "doi": f"https://doi.org/{doi or f'10.5555/test.{n}'}"},
        "language": "en",
        "type": "article",
        "primary_location": {"landing_page_url": f"https://doi.org/10.5555/test.{n}",
                             "source": {"display_name": "Journal of Substance Use"}},
        "authorships": [{"author": {"display_name": f"Alex Author{n}"}, "countries": ["GB"],
                         "institutions": [{"country_code": "GB"}], "raw_author_name": f"Alex Author{n}"}],
        "biblio": {"volume": "1", "issue": "2", "first_page": "10", "last_page": "20"},
        "referenced_works": [f"https://openalex.org/W{r}" for r in refs],
        "referenced_works_count": len(refs),
        "abstract_inverted_index": {"Peer": [0], "support": [1], "helps": [2]},
        "updated_date": "2026-01-01T00:00:00",
    }


class FakeOpenAlex:
    """Answers /works filter requests from a pool of works, with cursor paging."""

    def __init__(self, pool: list[dict]):
        self.pool = {openalex_short_id(w["id"]): w for w in pool}
        self.fail_cursors: set[str] = set()

    def __call__(self, request) -> Reply:
        cursor = request.params.get("cursor")
        if cursor in self.fail_cursors:
            return Reply(status=503, json={"error": "Service unavailable"})
        name, _, values = request.params["filter"].partition(":")
        wanted = values.split("|")
        if name == "openalex":
            hits = [self.pool[w] for w in wanted if w in self.pool]
        elif name == "cites":
            hits = [w for w in self.pool.values()
                    if set(wanted) & {openalex_short_id(r) for r in w.get("referenced_works") or []}]
        elif name == "doi":
            dois = {normalise_doi(v) for v in wanted}
            hits = [w for w in self.pool.values() if normalise_doi(w.get("doi")) in dois]
        else:
            return Reply(status=400, json={"error": "Invalid query parameters",
                                           "message": f"{name} is not a valid field"})
        per_page = int(request.params.get("per-page") or 25)
        offset = 0 if cursor in (None, "*") else int(cursor[1:])
        page = hits[offset:offset + per_page]
        next_cursor = f"o{offset + per_page}" if page and cursor is not None else None
        return Reply(json=openalex_page(page, count=len(hits), per_page=per_page, next_cursor=next_cursor))


@pytest.fixture
def server(replay):
    return replay


def fetcher(server, per_page: int = 200, **env):
    settings = settings_from_env(env={"LITREV_OPENALEX_URL": server.url, "LITREV_MAX_RETRIES": "1",
                                      "LITREV_RETRY_BASE_SECONDS": "0", **env})
    return sb.openalex_fetcher(settings, Retrier(settings, sleep=lambda s: None), per_page=per_page)


def harvest(db, works: list[dict], *, crossref: list[dict] = ()) -> dict[str, int]:
    """Store works as a finished harvest run and deduplicate; return work id by record id."""
    run_id = start_run(db, kind="harvest", source="openalex", source_name="OpenAlex")
    with db.atomic():
        counts = save_records(db, [record_from_openalex(w) for w in works]
                              + [record_from_crossref(i) for i in crossref], run_id)
    finish_run(db, run_id, "complete", counts)
    update_works(db)
    return dict(db.execute("select id, work_id from records").fetchall())


def filters(server, name: str) -> list[list[str]]:
    return [r.params["filter"].split(":", 1)[1].split("|") for r in server.requests
            if r.params.get("filter", "").startswith(name + ":")]


def provenance(db) -> list[dict]:
    sql = """select provenance.record_id, provenance.context, harvest_runs.kind, harvest_runs.source_name
             from provenance join harvest_runs on harvest_runs.id = provenance.run_id
             where harvest_runs.kind = 'citations' order by provenance.record_id"""
    return [{"record_id": r[0], "context": json.loads(r[1]), "kind": r[2], "source_name": r[3]}
            for r in db.execute(sql)]


# --- inline fixtures (no ../shared needed) -----------------------------------------


def test_backward_batches_ids_with_pipes_and_links_seeds(db, server):
    refs = list(range(1000, 1250))  # 250 references -> batches of 100, 100, 50
    seeds = [work(1, refs=refs[:150]), work(2, refs=refs[100:])]
    ids = harvest(db, seeds)
    server.add("/works", FakeOpenAlex([work(r) for r in refs[:-3]]))  # 3 ids unknown to OpenAlex
    [summary] = sb.snowball(db, [ids["openalex:W1"], ids["openalex:W2"]], fetcher(server),
                            directions=["backward"])
    batches = filters(server, "openalex")
    assert [len(b) for b in batches] == [100, 100, 50]
    assert sorted(w for b in batches for w in b) == sorted(f"W{r}" for r in refs)
    assert all(r.params["per-page"] == "200" for r in server.requests)
    assert len(server.requests) == 3  # meta.count reached: no empty terminal page requested
    assert (summary.seeds, summary.fetched, summary.new, summary.missing) == (2, 247, 247, 3)
    rows = {p["record_id"]: p for p in provenance(db)}
    assert rows["openalex:W1000"]["context"] == {"direction": "backward", "seed_work_id": ids["openalex:W1"],
                                                 "seed_work_ids": [ids["openalex:W1"]]}
    both = sorted([ids["openalex:W1"], ids["openalex:W2"]])
    assert rows["openalex:W1120"]["context"]["seed_work_ids"] == both  # cited by both seeds
    assert {p["source_name"] for p in rows.values()} == {"Citation searching"}
    run = db["harvest_runs"].get(summary.run_id)
    assert (run["kind"], run["source"], run["status"], run["new"]) == ("citations", "openalex", "complete", 247)
    chased = {r["work_id"]: r for r in db["snowball_seeds"].rows}
    assert chased[ids["openalex:W1"]]["found"] == 150 and chased[ids["openalex:W2"]]["found"] == 147


def test_rerun_skips_chased_seeds_and_reuses_stored_references(db, server):
    ids = harvest(db, [work(1, refs=[10, 11]), work(2, refs=[11, 12])])
    server.add("/works", FakeOpenAlex([work(10), work(11), work(12)]))
    fetch = fetcher(server)
    sb.snowball(db, [ids["openalex:W1"]], fetch, directions=["backward"])
    assert filters(server, "openalex") == [["W10", "W11"]]
    [again] = sb.snowball(db, [ids["openalex:W1"]], fetch, directions=["backward"])
    assert again.status == "nothing to do" and again.already_chased == 1 and again.run_id is None
    assert len(server.requests) == 1
    # A new seed: W11 is already stored (linked from its JSON), only W12 is fetched.
    [second] = sb.snowball(db, [ids["openalex:W1"], ids["openalex:W2"]], fetch, directions=["backward"])
    assert filters(server, "openalex")[1:] == [["W12"]]
    assert (second.seeds, second.already_chased, second.reused, second.new) == (1, 1, 1, 1)
    links = [p for p in provenance(db) if p["record_id"] == "openalex:W11"]
    assert len(links) == 2  # found by both citation runs, each naming its seed
    assert [p["context"]["seed_work_ids"] for p in links] == [[ids["openalex:W1"]], [ids["openalex:W2"]]]
    # --full chases both seeds again and fetches everything.
    server.requests.clear()
    [full] = sb.snowball(db, [ids["openalex:W1"], ids["openalex:W2"]], fetch, directions=["backward"],
                         full=True)
    assert full.seeds == 2 and full.reused == 0 and sorted(filters(server, "openalex")[0]) == ["W10", "W11", "W12"]
    assert full.new == 0 and full.fetched == 3


def test_forward_pages_with_cursor_and_batches_cites(db, server):
    seeds = [work(n) for n in range(1, 131)]  # 130 seeds -> cites batches of 100 and 30
    ids = harvest(db, seeds)
    order = [int(rid.split(":W")[1]) for rid, _ in sorted(ids.items(), key=lambda kv: kv[1])]
    first_batch, second_batch = order[:100], order[100:]  # seeds are batched in work id order
    citing = [work(500 + i, refs=[first_batch[i], second_batch[i]]) for i in range(7)]
    server.add("/works", FakeOpenAlex(citing))
    [summary] = sb.snowball(db, sorted(ids.values()), fetcher(server, per_page=3), directions=["forward"])
    batches = filters(server, "cites")
    assert sorted({len(b) for b in batches}) == [30, 100]
    first = [r for r in server.requests if len(r.params["filter"].split("|")) == 100]
    assert [r.params.get("cursor") for r in first] == ["*", "o3", "o6"]  # 7 works, 3 per page
    assert summary.fetched == 14 and summary.new == 7  # each citing work found by both batches
    ctx = {p["record_id"]: p["context"] for p in provenance(db)}
    assert ctx["openalex:W500"]["direction"] == "forward"
    # One provenance row per record and run: the batch that found it first names its seed.
    assert ctx["openalex:W500"]["seed_work_ids"] == [ids[f"openalex:W{first_batch[0]}"]]
    assert db["snowball_seeds"].count == 130


def test_forward_resumes_at_saved_cursor_after_a_failure(db, server):
    ids = harvest(db, [work(1), work(2)])
    citing = [work(600 + i, refs=[1 if i % 2 else 2]) for i in range(5)]
    fake = FakeOpenAlex(citing)
    fake.fail_cursors = {"o2"}
    server.add("/works", fake)
    fetch = fetcher(server, per_page=2)
    with pytest.raises(SourceError, match="503|server error"):
        sb.snowball(db, list(ids.values()), fetch, directions=["forward"])
    failed = db.execute("select status, cursor, error from harvest_runs where kind = 'citations'").fetchone()
    assert failed[0] == "failed" and failed[1] == "o2" and "run again" in failed[2].lower()
    assert db["snowball_seeds"].count == 0
    saved = db.execute("select count(*) from records where id like 'openalex:W6%'").fetchone()[0]
    assert saved == 2
    fake.fail_cursors = set()
    server.requests.clear()
    [resumed] = sb.snowball(db, list(ids.values()), fetch, directions=["forward"])
    assert resumed.resumed
    assert [r.params["cursor"] for r in server.requests] == ["o2", "o4"]  # no restart at "*"
    assert db.execute("select count(*) from records where id like 'openalex:W6%'").fetchone()[0] == 5
    assert db["snowball_seeds"].count == 2


def test_seeds_without_openalex_records_are_resolved_by_doi(db, server):
    crossref_item = {"DOI": "10.5555/seed.crossref", "title": ["A seed only Crossref knows"],
                     "issued": {"date-parts": [[2019, 5]]}, "type": "journal-article"}
    no_ids = {"DOI": "10.5555/nowhere", "title": ["Not in OpenAlex"], "issued": {"date-parts": [[2018]]}}
    ids = harvest(db, [], crossref=[crossref_item, no_ids])
    seed_in_openalex = work(77, refs=[78], doi="10.5555/seed.crossref")
    server.add("/works", FakeOpenAlex([seed_in_openalex, work(78)]))
    [summary] = sb.snowball(db, list(ids.values()), fetcher(server), directions=["backward"])
    assert filters(server, "doi")[0] == ["https://doi.org/10.5555/seed.crossref", "https://doi.org/10.5555/nowhere"]
    assert summary.seeds == 1 and summary.unresolved == [ids["crossref:10.5555/nowhere"]]
    assert db["records"].get("openalex:W78")
    assert not db.execute("select 1 from records where id = 'openalex:W77'").fetchone()  # a lookup, not a find
    assert [r["openalex_id"] for r in db["snowball_seeds"].rows] == ["W77"]


def test_select_seeds_by_every_kind_of_id(db):
    ids = harvest(db, [work(5, doi="10.5555/ABC")])
    w = ids["openalex:W5"]
    for value in [str(w), "W5", "openalex:W5", "https://openalex.org/W5", "10.5555/abc",
                  "https://doi.org/10.5555/ABC"]:
        assert sb.select_seeds(db, [value]) == [w], value
    with pytest.raises(UnknownIdError):
        sb.select_seeds(db, ["W999"])
    with pytest.raises(Exception, match="No included works"):
        sb.select_seeds(db, ["included"])


def test_cli_snowball_from_included_then_dedupes(db_path, server, monkeypatch):
    from litrev.db import open_db

    db = open_db(db_path)
    ids = harvest(db, [work(1, refs=[2])])
    db["decisions"].insert_all([
        {"work_id": ids["openalex:W1"], "stage": stage, "reviewer": "ann", "decision": "include",
         "kind": "vote", "decided_at": "2026-01-01T00:00:00+00:00"}
        for stage in ("title-abstract", "full-text")])
    server.add("/works", FakeOpenAlex([work(2), work(3, refs=[1])]))
    monkeypatch.setenv("LITREV_OPENALEX_URL", server.url)
    result = CliRunner().invoke(cli, ["snowball", "--db", db_path, "--quiet", "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [d["direction"] for d in out["directions"]] == ["backward", "forward"]
    assert [d["new"] for d in out["directions"]] == [1, 1]
    assert out["dedupe"]["new_records"] == 2
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0
    text = CliRunner().invoke(cli, ["snowball", "--db", db_path, "-q"], catch_exceptions=False).output
    assert "nothing new" in text


# --- the real recorded responses ------------------------------------------------------


def test_real_recorded_snowball(db, server, shared_data):
    seeds = json.loads((shared_data / SNOWBALL.format(1)).read_text())["results"]
    citing = json.loads((shared_data / SNOWBALL.format(3)).read_text())["results"]
    cited = json.loads((shared_data / SNOWBALL.format(5)).read_text())["results"]
    ids = harvest(db, seeds)
    server.add("/works", FakeOpenAlex(citing + cited))
    back, fwd = sb.snowball(db, [ids["openalex:W3046863325"], ids["openalex:W3045921891"]], fetcher(server))
    refs = {openalex_short_id(r) for s in seeds for r in s["referenced_works"]}
    assert sorted(filters(server, "openalex")[0]) == sorted(refs)  # 42 ids in one OR-ed filter
    assert (back.fetched, back.missing) == (38, 4)  # as recorded: 38 of the 42 references exist
    assert fwd.new == 5 and filters(server, "cites") == [["W3046863325", "W3045921891"]]
    ctx = {p["record_id"]: p["context"] for p in provenance(db) if p["context"]["direction"] == "forward"}
    assert {c["seed_work_id"] for c in ctx.values()} == {ids["openalex:W3046863325"]}


def test_real_cursor_sequence_ends_on_empty_page(db, server, shared_data):
    """pro_snowball: page 1 (2 works, a next_cursor), then the empty page with a null cursor."""
    first = json.loads((shared_data / "openalex/extracted_json/pro_snowball__02.json").read_text())
    last = json.loads((shared_data / "openalex/extracted_json/pro_snowball__04.json").read_text())
    server.add("/works", Reply(json=first), cursor="*")
    server.add("/works", Reply(json=last), cursor=first["meta"]["next_cursor"])
    fetch = fetcher(server)
    pages = list(fetch("openalex", ["W3045921891", "W3046863325"], "*"))
    assert [len(p.results) for p in pages] == [2, 0]
    assert parse_qs(server.requests[0].url.split("?", 1)[1])["filter"] == ["openalex:W3045921891|W3046863325"]
    # litrev's own loop stops after meta.count works: the terminal request is saved.
    summary = sb.DirectionSummary("backward")
    assert [len(p.results) for p in sb._pages(fetch, "openalex", ["W3045921891", "W3046863325"], "*", summary)] == [2]
    assert summary.requests == 1


def test_interrupt_marks_the_run_and_keeps_saved_pages(db):
    ids = harvest(db, [work(1)])

    def fetch(name, values, cursor):
        yield sb.Page(results=[work(700, refs=[1])], cursor=cursor, next_cursor="o1", total=3)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sb.snowball(db, [ids["openalex:W1"]], fetch, directions=["forward"])
    run = db.execute("select status, cursor from harvest_runs where kind = 'citations'").fetchone()
    assert run == ("interrupted", "o1")
    assert db["records"].get("openalex:W700")
    assert db["snowball_seeds"].count == 0


def test_backward_credits_a_merged_reference_to_its_seed(db, server):
    """OpenAlex answers `openalex:W1999` (merged away) with the surviving W2000."""
    ids = harvest(db, [work(1, refs=[1998, 1999])])
    fake = FakeOpenAlex([work(1998), work(2000)])
    fake.pool["W1999"] = fake.pool.pop("W2000")
    server.add("/works", fake)
    [summary] = sb.snowball(db, [ids["openalex:W1"]], fetcher(server), directions=["backward"])
    assert (summary.fetched, summary.missing) == (2, 0)
    ctx = {p["record_id"]: p["context"] for p in provenance(db)}
    assert ctx["openalex:W2000"]["seed_work_ids"] == [ids["openalex:W1"]]


# --- an API that does not move forward, no network (the same guard as harvest) ---------


def test_forward_stops_when_openalex_repeats_its_cursor(db, server):
    ids = harvest(db, [work(1)])
    citing = [work(700 + i, refs=[1]) for i in range(4)]
    add_openalex_repeating_cursor(server, citing, per_page=2,
                                  filter=lambda f: f.startswith("cites:"))
    with pytest.raises(SourceError, match="OpenAlex: the API sent cursor 'c1' again; stopped"):
        sb.snowball(db, list(ids.values()), fetcher(server, per_page=2), directions=["forward"])
    assert [r.params["cursor"] for r in server.requests] == ["*", "c1"]
    run = db.execute("select status, error from harvest_runs where kind = 'citations'").fetchone()
    assert run[0] == "failed" and "again" in run[1]
    assert db.execute("select count(*) from records where id like 'openalex:W70%'").fetchone()[0] == 4
    assert db["snowball_seeds"].count == 0  # not marked chased: the next run tries again


def test_cli_snowball_offline_fails_fast_in_one_line(db_path, monkeypatch):
    from litrev.db import open_db

    ids = harvest(open_db(db_path), [work(1, refs=[2])])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LITREV_OPENALEX_URL", f"http://127.0.0.1:{port}")  # nothing listens
    for name in ("LITREV_RETRY_BASE_SECONDS", "LITREV_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["snowball", "--db", db_path, "--backward",
                                      "--from", str(ids["openalex:W1"])])
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert line == (f"Error: OpenAlex: cannot reach 127.0.0.1:{port} (the connection was "
                    "refused). Check the network connection (and LITREV_OPENALEX_URL, if set)")
