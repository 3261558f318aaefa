"""Dedupe storage and CLI: works, merges that never delete, verdicts, incremental == full."""

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from rich.console import Console
from support.dedupe import (
    ALL,
    BATROXOBIN,
    ERRATUM,
    OTHER,
    PNAS,
    PREPRINT,
    SERIES,
    bib_record,
    erratum_pair,
    rec,
    republished_pair,
)

from litrev.cli import cli
from litrev.cli.dedupe import run_review
from litrev.db import now, open_db
from litrev.dedupe import storage as dedupe
from litrev.dedupe.matching import block_keys, prepare, score_candidates
from litrev.errors import UnknownIdError
from litrev.harvest.store import save_records, start_run


def add(db, records):
    run = start_run(db, kind="import", source="test", source_name="Test")
    with db.atomic():
        save_records(db, records, run)


def groups(db) -> set[frozenset[str]]:
    by_work: dict[int, set[str]] = {}
    for record_id, work_id in db.execute(
        "select r.id, c.canonical_id from records r join canonical_works c on c.work_id = r.work_id"
    ):
        by_work.setdefault(work_id, set()).add(record_id)
    return {frozenset(g) for g in by_work.values()}


def work_of(db, record_id: str) -> int:
    return db.execute("select c.canonical_id from records r join canonical_works c "
                      "on c.work_id = r.work_id where r.id = ?", [record_id]).fetchone()[0]


def vote(db, work_id: int, decision: str, reviewer: str = "ana", stage: str = "title-abstract"):
    db["decisions"].insert({"work_id": work_id, "stage": stage, "reviewer": reviewer,
                            "decision": decision, "kind": "vote", "decided_at": now()})


EXPECTED = {
    frozenset(r.id for r in PNAS), frozenset(r.id for r in BATROXOBIN),
    *(frozenset([r.id]) for r in SERIES + ERRATUM + PREPRINT + OTHER),
}


def test_update_works_links_every_record(db):
    add(db, ALL)
    summary = dedupe.update_works(db)
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0
    assert groups(db) == EXPECTED
    assert summary.new_works == len(EXPECTED) and summary.new_records == len(ALL)


def test_work_gets_best_metadata_from_several_sources(db):
    add(db, PNAS)
    dedupe.update_works(db)
    work = db["works"].get(work_of(db, PNAS[2].id))
    assert work["doi"] == "10.1073/pnas.1604234114"  # normalised, from Crossref
    assert work["abstract"].startswith("Online platforms")  # only Crossref has one
    assert work["openalex_id"] == "W2751213400"  # only OpenAlex has one
    assert len(json.loads(work["authors"])) == 4  # the longest list, not Scopus's three


def test_errata_and_preprints_are_linked_as_related(db):
    add(db, ERRATUM + PREPRINT)
    dedupe.update_works(db)
    relations = {r["relation"] for r in db["work_relations"].rows}
    assert relations == {"erratum", "preprint"}
    assert len(groups(db)) == 4


def test_a_republication_under_two_dois_becomes_one_work(db):

    records = list(republished_pair())
    add(db, records)
    summary = dedupe.update_works(db)
    assert summary.pairs == {"merge": 1}
    assert groups(db) == {frozenset(r.id for r in records)}
    assert dedupe.explain(db, records[0].id)["pairs"][0]["method"] == "republication"


def test_an_erratum_copy_under_its_own_doi_joins_its_article(db):

    records = list(erratum_pair())
    add(db, records)
    dedupe.update_works(db)
    assert groups(db) == {frozenset(r.id for r in records)}
    assert dedupe.explain(db, records[1].id)["pairs"][0]["method"] == "erratum-copy"
    assert not list(db["work_relations"].rows)


def test_rerun_is_a_no_op(db):
    add(db, ALL)
    dedupe.update_works(db)
    before = list(db.query("select id, work_id from records order by id"))
    summary = dedupe.update_works(db)
    assert summary.new_works == summary.merged_works == 0
    assert list(db.query("select id, work_id from records order by id")) == before


def test_incremental_equals_full(db, tmp_path):
    batches = [[PNAS[0], BATROXOBIN[0], SERIES[0]], [PNAS[2], ERRATUM[0], OTHER[0]],
               [PNAS[1], BATROXOBIN[1], SERIES[1], ERRATUM[1]], PREPRINT + OTHER[1:]]
    for batch in batches:
        add(db, batch)
        dedupe.update_works(db)
    incremental = groups(db)
    full = open_db(tmp_path / "full.db")
    add(full, ALL)
    dedupe.update_works(full)
    assert incremental == groups(full) == EXPECTED
    dedupe.update_works(db, full=True)
    assert groups(db) == incremental


def test_new_record_bridging_two_works_merges_them(db, tmp_path):
    a = rec("scopus:1", "Peer navigators for people who use drugs", authors=["Kelly, Ann", "Byrne, Tom"],
            year=2021)
    b = rec("crossref:10.1111/add.2", "Peer navigators for people who use drugs: a randomised trial",
            doi="10.1111/add.2", authors=["Kelly, A.", "Byrne, T."], year=2021, venue="Addiction")
    add(db, [a, b])
    dedupe.update_works(db)
    wa, wb = work_of(db, a.id), work_of(db, b.id)
    assert wa != wb and dedupe.review_queue(db)  # a dropped subtitle alone is not certain
    vote(db, wa, "include")
    vote(db, wb, "exclude", reviewer="ben")
    c = rec("openalex:W9", "Peer navigators for people who use drugs", doi="10.1111/add.2",
            authors=["Kelly, Ann", "Byrne, Tom"], year=2021, venue="Addiction")
    add(db, [c])
    result = CliRunner().invoke(cli, ["dedupe", "--db", str(tmp_path / "evidence.db")])
    assert result.exit_code == 0
    assert f"Warning: merged works {min(wa, wb)}, {max(wa, wb)} carry conflicting title-abstract " \
           "decisions (exclude, include)" in result.output
    assert work_of(db, a.id) == work_of(db, b.id) == work_of(db, c.id) == min(wa, wb)
    assert db["works"].get(max(wa, wb))["merged_into"] == min(wa, wb)
    full = open_db(tmp_path / "full.db")
    add(full, [a, b, c])
    dedupe.update_works(full)
    assert groups(full) == groups(db)


def prison_pair():
    """Two records of one evaluation (near-miss titles, one with a DOI), for tests where a person joins them."""
    a = rec("scopus:1", "Peer mentoring for people leaving prison: a mixed methods evaluation",
            authors=["Kelly, Ann", "Byrne, Tom"], year=2021)
    b = rec("crossref:10.1111/add.1", "Peer mentoring for people leaving prison - a mixed-methods "
            "evaluation of a pilot", doi="10.1111/add.1", authors=["Kelly, Ann", "Byrne, Tom"], year=2021)
    return a, b


def test_a_person_joining_two_works_keeps_every_decision(db):
    a, b = prison_pair()
    add(db, [a, b])
    dedupe.update_works(db)
    wa, wb = work_of(db, "scopus:1"), work_of(db, "crossref:10.1111/add.1")
    assert wa != wb
    vote(db, wa, "include")
    vote(db, wb, "exclude", reviewer="ben")
    # ... until a person says they are the same study.
    dedupe.save_verdict(db, "scopus:1", "crossref:10.1111/add.1", "same", "ana")
    summary = dedupe.update_works(db, reviewer="ana")
    assert work_of(db, "scopus:1") == work_of(db, "crossref:10.1111/add.1") == min(wa, wb)
    merged = db["works"].get(max(wa, wb))
    assert merged["merged_into"] == min(wa, wb)  # kept, never deleted
    assert db.execute("select count(*) from decisions").fetchone()[0] == 2
    assert summary.conflicts and summary.conflicts[0]["decisions"] == ["exclude", "include"]
    canonical = {r[0] for r in db.execute(
        "select c.canonical_id from decisions d join canonical_works c on c.work_id = d.work_id")}
    assert canonical == {min(wa, wb)}


def test_human_verdicts_win_on_every_later_run(db):
    add(db, PNAS)
    dedupe.update_works(db)
    dedupe.save_verdict(db, PNAS[0].id, PNAS[2].id, "different", "ana")
    dedupe.update_works(db, reviewer="ana")
    assert work_of(db, PNAS[0].id) != work_of(db, PNAS[2].id)
    for full in (False, True):
        add(db, [rec("ris:99", "Peer recovery coaching in rural counties", authors=["Lee, K."], year=2020)])
        dedupe.update_works(db, full=full)
        assert work_of(db, PNAS[0].id) != work_of(db, PNAS[2].id)


def test_a_joined_pair_stays_joined(db):
    add(db, SERIES)
    dedupe.update_works(db)
    a, b = (r.id for r in SERIES)
    dedupe.save_verdict(db, a, b, "same", "ana")
    dedupe.update_works(db, reviewer="ana")
    dedupe.update_works(db, full=True)
    assert work_of(db, a) == work_of(db, b)


def test_unmerge_restores_the_original_work_and_its_decisions(db):
    add(db, PNAS[:1])
    dedupe.update_works(db)
    first = work_of(db, PNAS[0].id)
    add(db, [PNAS[2]])
    dedupe.update_works(db)
    assert work_of(db, PNAS[2].id) == first
    add(db, [rec("ris:5", "Peer mentors and naloxone distribution", authors=["Ode, J."], year=2019)])
    dedupe.update_works(db)
    other = work_of(db, "ris:5")
    vote(db, other, "include")
    dedupe.save_verdict(db, PNAS[0].id, "ris:5", "same", "ana")
    dedupe.update_works(db, reviewer="ana")
    assert db["works"].get(other)["merged_into"] == first
    dedupe.unmerge(db, str(other), "ana")
    assert work_of(db, "ris:5") == other and db["works"].get(other)["merged_into"] is None
    assert db.execute("select work_id from decisions").fetchone()[0] == other
    dedupe.update_works(db, full=True)
    assert work_of(db, "ris:5") == other
    actions = [r["action"] for r in db["work_merges"].rows]
    assert "merge" in actions and "unmerge" in actions


def test_unmerge_a_record_splits_it_off(db):
    add(db, PNAS)
    dedupe.update_works(db)
    dedupe.unmerge(db, PNAS[2].id, "ana")
    assert work_of(db, PNAS[2].id) != work_of(db, PNAS[0].id)
    assert work_of(db, PNAS[0].id) == work_of(db, PNAS[1].id)
    dedupe.update_works(db, full=True)
    assert work_of(db, PNAS[2].id) != work_of(db, PNAS[0].id)


def test_explain_says_why(db):
    add(db, PNAS)
    dedupe.update_works(db)
    report = dedupe.explain(db, PNAS[2].id)
    assert {r["id"] for r in report["records"]} == {r.id for r in PNAS}
    assert {p["method"] for p in report["pairs"]} >= {"doi", "fuzzy"}
    assert report == dedupe.explain(db, str(report["work"]["id"]))
    with pytest.raises(UnknownIdError):
        dedupe.explain(db, "ris:nope")


# --- CLI ------------------------------------------------------------------------------------


def run(*args, input=None):
    result = CliRunner().invoke(cli, ["dedupe", *args], input=input, catch_exceptions=False)
    return result


def test_cli_dedupe_json_and_explain(db_path):
    db = open_db(db_path)
    add(db, ALL)
    result = run("--db", db_path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["new_works"] == len(EXPECTED)
    result = run("--db", db_path, "--explain", PNAS[0].id, "--json")
    report = json.loads(result.output)
    assert PNAS[2].id in {r["id"] for r in report["records"]}
    result = run("--db", db_path, "--explain", PNAS[0].id)
    assert result.exit_code == 0 and "Why: scored pairs" in result.output and "doi" in result.output


def test_cli_review_same_then_quit_and_resume(db_path):
    db = open_db(db_path)
    pair = [rec("ris:1", "Peer support workers in methadone clinics: a qualitative study of roles",
                authors=["Ho, Lin"], year=2018),
            rec("ris:2", "Peer support workers in methadone clinic: qualitative study of their role",
                authors=["Ho, L."], year=2018)]
    add(db, pair + SERIES)
    dedupe.update_works(db)
    assert len(dedupe.review_queue(db)) == 1
    result = run("--db", db_path, "--review", "--reviewer", "ana", input="q\n")
    assert result.exit_code == 0 and "1 left" in result.output and "record A" in result.output
    result = run("--db", db_path, "--review", "--reviewer", "ana", input="s\n")
    assert "1 same" in result.output and "0 left" in result.output
    assert work_of(db, "ris:1") == work_of(db, "ris:2")
    verdict = db["dedupe_verdicts"].get(("ris:1", "ris:2"))
    assert (verdict["verdict"], verdict["reviewer"]) == ("same", "ana")


def test_cli_review_different(db_path):
    db = open_db(db_path)
    add(db, [rec("ris:1", "Peer support workers in methadone clinics: a qualitative study of roles",
                 authors=["Ho, Lin"], year=2018),
             rec("ris:2", "Peer support workers in methadone clinic: qualitative study of their role",
                 authors=["Ho, L."], year=2018)])
    dedupe.update_works(db)
    result = run("--db", db_path, "--review", input="x\nd\n")
    assert "1 different" in result.output
    dedupe.update_works(db, full=True)
    assert work_of(db, "ris:1") != work_of(db, "ris:2") and not dedupe.review_queue(db)


def test_cli_unmerge_and_errors(db_path):
    db = open_db(db_path)
    add(db, PNAS)
    run("--db", db_path)
    result = run("--db", db_path, "--unmerge", PNAS[2].id)
    assert result.exit_code == 0 and "Split" in result.output
    result = CliRunner().invoke(cli, ["dedupe", "--db", db_path, "--explain", "ris:missing"])
    assert result.exit_code == 1 and result.output.startswith("Error: No record ris:missing")
    result = CliRunner().invoke(cli, ["dedupe", "--db", db_path, "--unmerge", "9999"])
    assert result.exit_code == 1 and "No work 9999" in result.output


def test_incremental_equals_full_on_a_labelled_set(shared_data, tmp_path):
    import csv
    import random

    with open(shared_data / "dedup" / "stroke" / "records_pre_merged.csv", newline="") as f:
        records = [bib_record(row) for row in csv.DictReader(f)]
    random.Random(3).shuffle(records)
    incremental, full = open_db(tmp_path / "inc.db"), open_db(tmp_path / "full.db")
    for k in range(3):
        add(incremental, records[k::3])
        dedupe.update_works(incremental)
    add(full, records)
    dedupe.update_works(full)
    assert groups(incremental) == groups(full)
    assert len(groups(full)) < len(records) - 250  # stroke has 314 duplicates to remove


def test_incremental_reads_only_the_blocks_of_new_records_and_finds_the_same_pairs(shared_data, tmp_path):
    import csv
    import random

    with open(shared_data / "dedup" / "digital_work" / "records_pre_merged.csv", newline="") as f:
        records = [bib_record(row) for row in csv.DictReader(f)]
    random.Random(5).shuffle(records)
    records = records[:2500]
    db = open_db(tmp_path / "keys.db")
    add(db, records[:-40])
    dedupe.update_works(db)
    assert db.execute("select count(*) from dedupe_keyed").fetchone()[0] == len(records) - 40
    add(db, records[-40:])
    new_ids = {r.id for r in records[-40:]}

    def judged(prepared):
        return {(p.a, p.b, p.outcome, p.score) for p in score_candidates(prepared, new_ids, skip)}

    skip = set()

    prepared, keyed, skip = dedupe.prepared_for(db, new_ids)
    assert {p.id for p in keyed} == new_ids
    assert new_ids <= {p.id for p in prepared} and len(prepared) < len(records) / 5
    assert judged(prepared) == judged(dedupe.load_prepared(db))
    # Keys lost (a database from before they were stored) or from older key rules are rebuilt.
    db.execute("delete from dedupe_keyed where record_id in (select record_id from dedupe_keyed limit 100)")
    db.execute("update dedupe_keyed set keys_version = 0 where record_id in "
               "(select record_id from dedupe_keyed limit 10)")
    prepared, keyed, skip = dedupe.prepared_for(db, new_ids)
    assert len(keyed) == 150 and judged(prepared) == judged(dedupe.load_prepared(db))


def test_a_changed_record_is_keyed_again(db):
    add(db, [PNAS[0], OTHER[0]])
    dedupe.update_works(db)
    changed = rec(PNAS[0].id, "Reputation offsets trust judgments: a different title now",
                  doi=PNAS[0].doi, authors=["Abrahao, Bruno", "Parigi, Paolo"], year=2017)
    add(db, [changed])  # a re-harvest brings a new version of a record that has a work
    add(db, [PNAS[1]])
    _prepared, keyed, _skip = dedupe.prepared_for(db, {PNAS[1].id})
    assert {p.id for p in keyed} == {PNAS[0].id, PNAS[1].id}
    dedupe.update_works(db)
    keys = {k for (k,) in db.execute("select key from dedupe_keys where record_id = ?", [PNAS[0].id])}
    assert keys == {"\x1f".join(map(str, k)) for k in block_keys(prepare(changed))}


def test_incremental_skips_a_big_weak_block_like_a_full_run(db, tmp_path):
    # 70 papers by one author in one year: their surname + year block is too big to pair
    # (MAX_BLOCK), in a full run and in an incremental one that reads only some of them.
    prolific = [rec(f"ris:{i}", f"Topic {i} {'abcdefghij'[i % 10] * 3} in the {i}th cohort of patients",
                    authors=["Smith, J."], year=2010, venue=f"Journal {i}") for i in range(70)]
    prolific[7] = rec("ris:7", "A study of peer support in recovery services among veterans",
                      authors=["Smith, J."], year=2010, venue="Journal 7")
    # n2 shares only its title start with ris:7 (so ris:7 is read); n1 shares only the
    # author-year block with it, so no run may pair n1 with ris:7.
    n1 = rec("new:1", "The study of peer support in recovery services among veteran",
             authors=["Smith, J."], year=2010)
    n2 = rec("new:2", "A study of peer support in recovery services: methods of a new trial",
             authors=["Jones, K."], year=2015)
    add(db, prolific)
    dedupe.update_works(db)
    add(db, [n1, n2])
    new_ids = {"new:1", "new:2"}
    prepared, _keyed, skip = dedupe.prepared_for(db, new_ids)
    assert "ris:7" in {p.id for p in prepared} and len(prepared) < 10
    assert skip == {("ay", "smith", 2010)}
    unskipped = {(p.a, p.b) for p in score_candidates(prepared, new_ids)}
    assert ("new:1", "ris:7") in unskipped  # what reading part of the block would wrongly add
    dedupe.update_works(db)
    full = open_db(tmp_path / "full.db")
    add(full, prolific + [n1, n2])
    dedupe.update_works(full)
    pairs = "select record_a, record_b, outcome from duplicate_pairs order by 1, 2"
    assert list(db.execute(pairs)) == list(full.execute(pairs))
    assert ("new:1", "ris:7", "review") not in list(db.execute(pairs))


def test_an_undone_vote_is_no_conflict_when_works_merge(db):
    a, b = prison_pair()
    add(db, [a, b])
    dedupe.update_works(db)
    wa, wb = work_of(db, a.id), work_of(db, b.id)
    vote(db, wa, "include")
    vote(db, wb, "exclude", reviewer="ben")
    vote(db, wb, "undo", reviewer="ben")  # ben withdrew his vote: he has none
    dedupe.save_verdict(db, a.id, b.id, "same", "ana")
    summary = dedupe.update_works(db, reviewer="ana")
    assert summary.merged_works == 1
    assert summary.conflicts == []
    assert not list(db.query("select * from screening_outcomes where outcome = 'conflict'"))


def test_records_saved_while_a_dedupe_scores_are_linked_with_their_pairs(db, tmp_path, monkeypatch):
    """A concurrent import commits a duplicate after this run read its new records: it must
    not become a work of its own (its pairs were never scored), nor stay unlinked."""
    add(db, [PNAS[0]])
    path = db.execute("pragma database_list").fetchone()[2]
    real_score = dedupe.score_candidates
    late = []

    def score_then_another_process_saves(*args, **kwargs):
        pairs = real_score(*args, **kwargs)
        if not late:
            other = open_db(path)
            add(other, [PNAS[1]])
            other.close()
            late.append(PNAS[1].id)
        return pairs

    monkeypatch.setattr(dedupe, "score_candidates", score_then_another_process_saves)
    summary = dedupe.update_works(db)
    assert late and summary.new_records == 2
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0
    assert work_of(db, PNAS[0].id) == work_of(db, PNAS[1].id)
    assert db["works"].count == 1


def test_an_incremental_run_saves_pairs_in_short_transactions_with_the_same_result(db, tmp_path,
                                                                                    monkeypatch):
    add(db, [PNAS[0], BATROXOBIN[0], SERIES[0]])
    dedupe.update_works(db)
    add(db, [r for r in ALL if r.id not in {PNAS[0].id, BATROXOBIN[0].id, SERIES[0].id}])
    monkeypatch.setattr(dedupe, "SAVE_CHUNK", 2, raising=False)
    begins = []
    db.conn.set_trace_callback(lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None)
    dedupe.update_works(db)
    db.conn.set_trace_callback(None)
    pairs = db["duplicate_pairs"].count
    assert pairs > 2 and len(begins) >= pairs // 2 + 1  # one per chunk, then the grouping
    assert groups(db) == EXPECTED


# --- a review queue worth a person's time (issue 19) ---------------------------------------


MENTORS = "Peer mentors in drug treatment: a qualitative study of roles"
# One work from two sources (same DOI), and a DOI-less record whose title is close to it.
QUEUED = [
    rec("crossref:10.1000/m.1", MENTORS, doi="10.1000/m.1", authors=["Ho, Lin", "Park, Min"],
        year=2018, venue="Addiction", volume="113", pages="100-110"),
    rec("openalex:W1", MENTORS, doi="10.1000/M.1", authors=["Ho, L.", "Park, M."], year=2018,
        venue="Addiction", volume="113", pages="100-110"),
    rec("ris:1", "Peer mentors in drug treatment services: qualitative study of their roles",
        authors=["Ho, Lin", "Park, Min"], year=2018),
]
# The same title in two issues of one volume: a reprint or an erratum; identical titles,
# so the highest title score, but the weaker case.
REPRINT = [
    rec(f"embase:{issue}", "Anti-factor H autoantibodies in a fifth renal transplant recipient",
        authors=["Le Quintrec, M.", "Zuber, J."], year=2009, venue="American Journal of Transplantation",
        volume="9", issue=issue, pages=pages)
    for issue, pages in (("5", "1223-1229"), ("9", "2205"))
]


def test_review_queue_holds_one_entry_per_two_works_likeliest_first(db):
    add(db, QUEUED + REPRINT)
    dedupe.update_works(db)
    queue = dedupe.review_queue(db)
    assert [(p["record_a"], p["record_b"]) for p in queue] == [
        ("crossref:10.1000/m.1", "ris:1"), ("embase:5", "embase:9")]
    assert [p["pairs"] for p in queue] == [2, 1]  # ris:1 against both records of one work
    assert queue[0]["likelihood"] > queue[1]["likelihood"] and queue[0]["score"] < queue[1]["score"]


def test_a_different_verdict_on_one_record_pair_clears_the_two_works_from_the_queue(db):
    add(db, QUEUED)
    dedupe.update_works(db)
    dedupe.save_verdict(db, "crossref:10.1000/m.1", "ris:1", "different", "ana")
    dedupe.update_works(db, reviewer="ana")
    assert dedupe.review_queue(db) == []  # openalex:W1 ~ ris:1 is between the same two works
    assert work_of(db, "ris:1") != work_of(db, "openalex:W1")


def test_explain_keeps_why_a_near_miss_was_decided_distinct(db):
    common = {"authors": ["Graham, R.", "Teasell, R."], "year": 2010}
    title = "Aphasia and cognitive communication rehabilitation: state of the evidence"
    add(db, [rec("embase:1", title, venue="Canadian Journal of Neurological Sciences", volume="37",
                 pages="S99", **common),
             rec("embase:2", title, venue="Stroke", volume="41", pages="e494", **common)])
    summary = dedupe.update_works(db)
    assert summary.review_pending == 0 and work_of(db, "embase:1") != work_of(db, "embase:2")
    pairs = dedupe.explain(db, "embase:1")["pairs"]
    assert [(p["outcome"], p["details"]["decided"]) for p in pairs] == [
        ("distinct", "printed in two places: pages differ, venues differ, volumes differ")]


# --- a run with nothing new (issue 19) -------------------------------------------------------


def test_a_run_with_nothing_new_does_not_replay_the_stored_pairs(db, monkeypatch):
    add(db, ALL)
    first = dedupe.update_works(db)

    def replay(*args, **kwargs):
        raise AssertionError("regrouped with nothing new")

    monkeypatch.setattr(dedupe, "group_and_save", replay)
    again = dedupe.update_works(db)
    assert (again.new_records, again.review_pending, again.related) == (0, first.review_pending, first.related)
    assert groups(db) == EXPECTED


def test_a_verdict_or_a_doi_changed_outside_dedupe_is_grouped_on_the_next_run(db):
    add(db, ALL)
    dedupe.update_works(db)
    db["dedupe_verdicts"].insert({"record_a": PNAS[0].id, "record_b": PNAS[2].id, "verdict": "different",
                                  "reviewer": "ana", "decided_at": now()})
    dedupe.update_works(db)
    assert work_of(db, PNAS[0].id) != work_of(db, PNAS[2].id)
    assert not dedupe.regroup_needed(db)
    db.execute("update records set doi = ? where id = ?", ["10.1016/j.jsat.2019.01.001", OTHER[0].id])
    assert dedupe.regroup_needed(db)


# --- the review screen (issue 19) -------------------------------------------------------------


def test_review_screen_shows_both_abstracts_and_marks_the_fields_that_differ(db):
    first, second = (rec(r.id, r.title, authors=r.authors, year=r.year, venue=r.venue, volume=r.volume,
                         issue=r.issue, pages=r.pages, abstract=text)
                     for r, text in zip(REPRINT, ("Reprinted: the fifth graft failed.",
                                                  "A woman with atypical HUS had a fifth graft.")))
    add(db, [first, second])
    dedupe.update_works(db)
    console = Console(record=True, width=220, color_system=None)
    counts = run_review(db, "ana", ask=lambda _prompt: "q", console=console)
    screen = console.export_text()
    assert "Reprinted: the fifth graft failed." in screen and "had a fifth graft." in screen
    marked = {line.split("│")[1].strip() for line in screen.splitlines() if "≠" in line}
    assert marked == {"issue ≠", "pages ≠", "abstract ≠"}  # title, authors, venue, volume agree
    assert counts["left"] == 1


def test_review_takes_one_key_at_a_terminal(db_path):
    # A real pseudo-terminal: "d" alone, no Enter, stores the verdict and the queue is done.
    db = open_db(db_path)
    add(db, REPRINT)
    dedupe.update_works(db)
    db.close()
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from litrev.cli import cli; cli()", "dedupe", "--db", db_path,
         "--review", "--reviewer", "ana"], stdin=follower, stdout=follower, stderr=follower,
        )
    os.close(follower)
    screen, deadline, sent = b"", time.monotonic() + 60, False
    while process.poll() is None and time.monotonic() < deadline:
        if select.select([leader], [], [], 0.2)[0]:
            try:
                screen += os.read(leader, 4096)
            except OSError:
                break
        if not sent and b"[q]uit" in screen:
            time.sleep(1)  # a person reads first; the terminal turns raw once the prompt is out
            os.write(leader, b"d")
            sent = True
    process.wait(timeout=max(1, deadline - time.monotonic()))
    os.close(leader)
    assert process.returncode == 0, screen.decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.decode(errors="replace"))  # bold survives NO_COLOR
    assert "1 different" in text and "0 left" in text
    verdict = open_db(db_path)["dedupe_verdicts"].get(("embase:5", "embase:9"))
    assert (verdict["verdict"], verdict["reviewer"]) == ("different", "ana")


def test_grouping_writes_new_works_in_short_transactions_a_screener_deciding_between(db, monkeypatch):
    """Grouping is planned outside the lock and its new works written SAVE_CHUNK at a time: a
    screener with a 0.2 s busy timeout records a decision before each of those transactions
    and sees the links arrive part by part (it held the lock seconds at 75,000 records)."""
    from litrev.screen.decisions import record_decision
    from litrev.screen.settings import ReviewSettings
    add(db, [PNAS[0]])
    dedupe.update_works(db)
    add(db, [r for r in ALL if r.id != PNAS[0].id])
    monkeypatch.setattr(dedupe, "SAVE_CHUNK", 2)
    screener = open_db(db.execute("pragma database_list").fetchone()[2])
    screener.execute("PRAGMA busy_timeout = 200")
    linked_seen, errors = [], []

    def decide(sql):
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            try:
                record_decision(screener, ReviewSettings(), 1, "title-abstract", "sam", "include")
                linked_seen.append(screener.execute(
                    "select count(work_id) from records").fetchone()[0])
            except Exception as e:  # noqa: BLE001 (a trace callback's exceptions are swallowed)
                errors.append(e)

    db.conn.set_trace_callback(decide)
    dedupe.update_works(db)
    db.conn.set_trace_callback(None)
    assert errors == [] and screener["decisions"].count == len(linked_seen)
    assert any(1 < n < len(ALL) for n in linked_seen), linked_seen  # links committed part by part
    assert groups(db) == EXPECTED


def test_a_grouping_plan_another_dedupe_made_stale_is_made_again(db, monkeypatch):
    """Another process's dedupe links the records after this run planned, before it wrote:
    the plan is not written (it would make every new work twice) but made again."""
    add(db, ALL)
    path = db.execute("pragma database_list").fetchone()[2]
    real_plan, plans = dedupe.plan_works, []

    def plan_then_another_dedupe_writes(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        plans.append(plan)
        if len(plans) == 1:
            other = open_db(path)
            dedupe.update_works(other)
            other.close()
        return plan

    monkeypatch.setattr(dedupe, "plan_works", plan_then_another_dedupe_writes)
    summary = dedupe.update_works(db)
    assert len(plans) == 3  # ours, the other run's, ours again on the state it left
    assert summary.new_works == 0 and groups(db) == EXPECTED
    assert db["works"].count == len(EXPECTED)
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0


# --- the review screen fits an 80x24 terminal (issue 16) --------------------------------------


class ReviewFrames:
    """Answers from a list; photographs the 80x24 screen drawn before each answer."""

    def __init__(self, answers):
        self.answers, self.frames = list(answers), []
        self.console = Console(record=True, width=80, height=24, color_system=None)

    def ask(self, _prompt):
        self.frames.append(self.console.export_text(clear=True))
        return self.answers.pop(0)


def long_pair(db):
    texts = [" ".join(f"{side}{i:04d}" for i in range(1, 3001)) for side in ("a", "b")]
    first, second = (rec(r.id, r.title, authors=r.authors, year=r.year, venue=r.venue, volume=r.volume,
                         issue=r.issue, pages=r.pages, abstract=text) for r, text in zip(REPRINT, texts))
    add(db, [first, second])
    dedupe.update_works(db)
    return [set(t.split()) for t in texts]


def test_review_frames_fit_80x24_and_page_both_abstracts(db):
    words_a, words_b = long_pair(db)
    feed = ReviewFrames([" "] * 60 + ["\x1b[5~", "b", "q"])
    run_review(db, "ana", ask=feed.ask, console=feed.console)
    total = int(feed.frames[0].split("page 1 of ")[1].split()[0])
    assert total >= 5
    for frame in feed.frames:
        assert len(frame.splitlines()) <= 24, frame
        assert "Same work? likelihood" in frame and "1 in queue" in frame
        assert frame.count("Anti-factor H") == 2  # both titles
        assert "[s]ame / [d]ifferent / s[k]ip / [q]uit" in frame and "\nfield scores: " in frame
    assert [f"page {n} of {total}" in f for n, f in enumerate(feed.frames[:total], 1)] == [True] * total
    assert f"page {total - 2} of {total}" in feed.frames[-1]  # PgUp and b go back
    seen = set(" ".join(feed.frames).replace("│", " ").split())
    assert words_a <= seen and words_b <= seen  # every word of both abstracts is on some page


def test_review_verdict_on_page_two_is_stored(db):
    long_pair(db)
    feed = ReviewFrames([" ", "d"])
    counts = run_review(db, "ana", ask=feed.ask, console=feed.console)
    assert "page 2 of" in feed.frames[1]
    assert counts == {"same": 0, "different": 1, "skipped": 0, "left": 0}
    verdict = db.execute("select verdict, reviewer from dedupe_verdicts").fetchone()
    assert verdict == ("different", "ana")


# --- a review session regroups once per round, not after each key (issue 19) ----------------


def three_queued_works(db):
    """Three records, three works, and a queued pair between each two (likeliest: A-B, then A-C)."""
    records = [rec(f"ris:{x}", f"Peer recovery coaching study {x} in {place}", authors=["Smith, A."], year=2020)
               for x, place in (("a", "Leeds"), ("b", "Derby"), ("c", "Hull"))]
    add(db, records)
    dedupe.update_works(db)
    for (a, b), likelihood in ((("ris:a", "ris:b"), 0.9), (("ris:a", "ris:c"), 0.8), (("ris:b", "ris:c"), 0.7)):
        db["duplicate_pairs"].upsert({"record_a": a, "record_b": b, "score": 0.9, "method": "fuzzy",
                                      "outcome": "review", "details": json.dumps({"likelihood": likelihood}),
                                      "created_at": now()}, pk=("record_a", "record_b"))
    dedupe.update_works(db)
    assert len(dedupe.review_queue(db)) == 3


def test_a_review_round_saves_each_verdict_and_regroups_once(db, monkeypatch):
    three_queued_works(db)
    real, groupings = dedupe.update_works, []

    def counted(*args, **kwargs):
        groupings.append(db["dedupe_verdicts"].count)  # verdicts saved when it regroups
        return real(*args, **kwargs)

    monkeypatch.setattr(dedupe, "update_works", counted)
    feed = ReviewFrames(["s", "d"])
    counts = run_review(db, "ana", ask=feed.ask, console=feed.console)
    # "same" joined A and B: their pairs with C are one pair of two works now, shown once.
    assert "3 in queue" in feed.frames[0] and "1 in queue" in feed.frames[1]
    assert "Peer recovery coaching study c" in feed.frames[1]
    assert groupings == [2]  # one grouping, after both verdicts were saved
    assert counts == {"same": 1, "different": 1, "skipped": 0, "left": 0}
    assert work_of(db, "ris:a") == work_of(db, "ris:b") != work_of(db, "ris:c")


def test_a_review_quit_mid_round_keeps_and_applies_its_verdicts(db):
    three_queued_works(db)
    feed = ReviewFrames(["s", "q"])
    counts = run_review(db, "ana", ask=feed.ask, console=feed.console)
    assert counts == {"same": 1, "different": 0, "skipped": 0, "left": 1}
    assert work_of(db, "ris:a") == work_of(db, "ris:b")
    assert not dedupe.regroup_needed(db)


def test_queue_round_settles_pairs_by_works_as_a_grouping_would():
    from litrev.dedupe.review import QueueRound

    def pair(a, b, wa, wb):
        return {"record_a": a, "record_b": b, "work_a": wa, "work_b": wb}

    queue = [pair("r1", "r2", 1, 2), pair("r3", "r4", 3, 4), pair("r2", "r4", 2, 4),
             pair("r1", "r3", 1, 3), pair("r5", "r6", 1, 4)]
    round_ = QueueRound(queue)
    round_.answered(queue[0], "same")  # works 1 and 2 are one now
    round_.answered(queue[1], "different")  # 3 and 4 settled apart
    assert round_.pending() == [queue[2], queue[3]]  # (1+2, 4) once, its likeliest pair first
    round_.answered(queue[2], "different")
    assert round_.pending() == [queue[3]]
    assert round_.pending({("r1", "r3")}) == []  # skipped
    round_.answered(queue[3], "same")  # 1+2+3 against 4: 3-4 and (1+2)-4 were both settled
    assert round_.pending() == [] and round_.verdicts == 4


def test_a_review_applies_an_interrupted_sessions_verdicts_before_its_queue(db):
    three_queued_works(db)
    dedupe.save_verdict(db, "ris:a", "ris:b", "same", "ana")  # saved; Ctrl-C came before the regroup
    feed = ReviewFrames(["q"])
    run_review(db, "ana", ask=feed.ask, console=feed.console)
    assert work_of(db, "ris:a") == work_of(db, "ris:b")
    assert "1 in queue" in feed.frames[0]  # A and B are one work: their pairs with C are one
