"""Tags: storage of suggestions and people's tags, review, and the CLI."""

import io
import json

import pytest
from click.testing import CliRunner
from rich.console import Console

from litrev.cli import cli
from litrev.cli.tags import run_review
from litrev.db import open_db
from litrev.tags import storage as tags
from litrev.tags.suggest import Suggestion


def add_work(db, work_id, title, abstract="", **extra):
    db["works"].insert({"id": work_id, "title": title, "abstract": abstract, **extra})


def effective(db, work_id):
    return {(r["key"], r["value"], r["origin"]) for r in tags.effective_tags(db, work_id)}


@pytest.fixture
def tagged_db(db):
    add_work(db, 1, "Peer mentors in alcohol services in Scotland: a qualitative study",
             "Semi-structured interviews with 20 peer mentors in Glasgow.", year=2021)
    add_work(db, 2, "A randomised controlled trial of peer support in Dutch addiction care",
             "Clients were randomly assigned.", year=2019)
    add_work(db, 3, "Soil carbon", "", countries=json.dumps(["KE"]), type="article")
    db["records"].insert({"id": "openalex:W3", "source": "openalex", "work_id": 3,
                          "raw": json.dumps({"mesh": [{"descriptor_name": "Cross-Sectional Studies"}]})})
    return db


def test_auto_tag_suggests_for_every_work_with_evidence(tagged_db):
    counts = tags.auto_tag(tagged_db)
    assert counts["works"] == 3
    assert effective(tagged_db, 1) == {("country", "GB", "auto"), ("nation", "Scotland", "auto"),
                                       ("design", "qualitative", "auto")}
    assert effective(tagged_db, 2) == {("country", "NL", "auto"), ("design", "rct", "auto")}
    rows = {r["key"]: r for r in tags.effective_tags(tagged_db, 3)}
    assert rows["country"]["value"] == "KE" and rows["country"]["confidence"] == 0.4
    assert rows["design"]["value"] == "cross-sectional" and rows["design"]["evidence"].startswith("MeSH")
    assert all(r["status"] == "suggested" for r in tagged_db["tags"].rows)


def test_a_persons_tag_wins_and_survives_rerunning_auto(tagged_db):
    works = tagged_db.execute("select count(*) from works where merged_into is null").fetchone()[0]
    assert tags.unsuggested_count(tagged_db) == works
    tags.auto_tag(tagged_db)
    assert tags.unsuggested_count(tagged_db) == 0  # what the progress bar of a re-run counts
    tags.set_tags(tagged_db, 1, tags.parse_assignments(["country=IE", "setting=prison"]), "ann")
    assert effective(tagged_db, 1) == {("country", "IE", "manual"), ("setting", "prison", "manual"),
                                       ("design", "qualitative", "auto")}  # manual country hides the nation
    assert tags.auto_tag(tagged_db) == {"works": 0, "suggestions": 0}
    tagged_db["tags"].delete_where("origin = 'auto'")  # even a full re-suggest leaves the person's tag
    tags.auto_tag(tagged_db)
    assert ("country", "IE", "manual") in effective(tagged_db, 1)
    assert ("country", "GB", "auto") not in effective(tagged_db, 1)


def test_setting_a_key_again_replaces_and_empty_clears(tagged_db):
    tags.auto_tag(tagged_db)
    tags.set_tags(tagged_db, 2, [("design", "non-randomised")], "ann")
    tags.set_tags(tagged_db, 2, [("design", "cohort")], "bob")
    assert ("design", "cohort", "manual") in effective(tagged_db, 2)
    assert ("design", "non-randomised", "manual") not in effective(tagged_db, 2)
    tags.set_tags(tagged_db, 2, tags.parse_assignments(["design="]), "bob")
    assert ("design", "rct", "auto") in effective(tagged_db, 2)  # the suggestion shows again
    statuses = [r["status"] for r in tagged_db["tags"].rows_where("origin = 'manual'")]
    assert statuses == ["replaced", "replaced"]  # kept for the record


def test_multi_country_and_values_are_normalised():
    assert tags.parse_assignments(["country=uk", "country=Ireland", "design=RCT", "country=Scotland"]) == [
        ("country", "GB"), ("country", "IE"), ("design", "rct"), ("country", "GB"), ("nation", "Scotland")]
    with pytest.raises(tags.LitrevError, match="Unknown design"):
        tags.parse_assignments(["design=trialish"])
    with pytest.raises(tags.LitrevError, match="Unknown country"):
        tags.parse_assignments(["country=Atlantis"])
    with pytest.raises(tags.LitrevError, match="key=value"):
        tags.parse_assignments(["GB"])


def test_tags_of_merged_works_belong_to_the_canonical_work(tagged_db):
    tags.auto_tag(tagged_db)
    tagged_db["works"].update(2, {"merged_into": 1})
    tags.set_tags(tagged_db, 2, [("design", "mixed-methods")], "ann")  # set on the merged id
    assert ("design", "mixed-methods", "manual") in effective(tagged_db, 1)
    assert {r["work_id"] for r in tagged_db.query("select work_id from work_tags")} == {1, 3}


def test_review_accepts_changes_and_rejects(tagged_db):
    tags.auto_tag(tagged_db)
    answers = iter([("accept", None), ("change", "cohort"), ("reject", None),  # work 1: country, design, nation
                    ("skip", None), ("quit", None)])
    seen = []

    def decide(row):
        seen.append((row["work_id"], row["key"], row["value"]))
        return next(answers)

    counts = tags.review(tagged_db, "ann", decide)
    assert counts == {"accepted": 1, "rejected": 1, "changed": 1, "skipped": 1}
    assert seen[:4] == [(1, "country", "GB"), (1, "design", "qualitative"), (1, "nation", "Scotland"),
                        (2, "country", "NL")]
    rows = {(r["key"], r["value"]): r for r in tags.effective_tags(tagged_db, 1)}
    assert rows[("country", "GB")]["status"] == "accepted" and rows[("country", "GB")]["reviewer"] == "ann"
    assert rows[("design", "cohort")]["origin"] == "manual" and rows[("design", "cohort")]["reviewer"] == "ann"
    assert ("design", "qualitative") not in rows  # changed: the suggestion is rejected
    assert ("nation", "Scotland") not in rows  # rejected suggestions never show
    pending = {(r["work_id"], r["key"]) for r in tags.pending_reviews(tagged_db)}
    assert pending == {(2, "country"), (2, "design"), (3, "country"), (3, "design")}


def test_review_needs_a_reviewer(tagged_db):
    with pytest.raises(tags.LitrevError, match="reviewer"):
        tags.review(tagged_db, "", lambda row: ("accept", None))


def invoke(args, db_path, **kw):
    return CliRunner().invoke(cli, [*args, "--db", db_path], catch_exceptions=False, **kw)


@pytest.fixture
def cli_db(db_path):
    db = open_db(db_path)
    add_work(db, 1, "Peer mentors in drug services in Wales: a qualitative study", "Focus groups in Cardiff.")
    add_work(db, 2, "Double-blind trial of naltrexone", "Patients were randomized to naltrexone or placebo.")
    return db_path


def test_cli_tag_auto_set_list(cli_db):
    result = invoke(["tag", "--auto", "--quiet"], cli_db)
    assert result.exit_code == 0 and "Suggested" in result.output
    listed = invoke(["tag", "list", "1", "--json"], cli_db)
    assert {(r["key"], r["value"]) for r in json.loads(listed.output)} == {
        ("country", "GB"), ("nation", "Wales"), ("design", "qualitative")}
    result = invoke(["tag", "set", "1", "design=mixed-methods", "setting=prison", "--reviewer", "ann"], cli_db)
    assert result.exit_code == 0, result.output
    text = invoke(["tag", "list", "1"], cli_db).output
    assert "design=mixed-methods  (person, by ann)" in text and "setting=prison" in text
    again = invoke(["tag", "--auto", "--json"], cli_db)
    assert json.loads(again.output) == {"works": 0, "suggestions": 0}
    assert "design=mixed-methods" in invoke(["tag", "list", "1"], cli_db).output


def test_cli_tag_review_with_typed_answers(cli_db):
    invoke(["tag", "--auto", "-q"], cli_db)
    result = invoke(["tag", "review", "--reviewer", "sam", "--key", "design", "--stage", "all"], cli_db,
                    input="c\ntrial-ish\ncohort\na\n")
    assert result.exit_code == 0, result.output
    assert "Unknown design 'trial-ish'" in result.output  # asked again, not aborted
    assert "1 accepted, 0 rejected, 1 changed, 0 skipped" in result.output
    assert "design=cohort  (person, by sam)" in invoke(["tag", "list", "1"], cli_db).output
    assert "design=rct  (accepted, by sam)" in invoke(["tag", "list", "2"], cli_db).output


def test_cli_tag_review_takes_one_key_per_answer_without_enter(cli_db):
    invoke(["tag", "--auto", "-q"], cli_db)
    result = invoke(["tag", "review", "--reviewer", "sam", "--key", "design", "--stage", "all"], cli_db,
                    input="ar")
    assert result.exit_code == 0, result.output
    assert "1 accepted, 1 rejected, 0 changed, 0 skipped" in result.output


def include(db_path, work_id):
    for stage in ("title-abstract", "full-text"):
        for reviewer in ("ann", "bea"):  # two screeners per stage by default
            result = invoke(["screen", "decide", str(work_id), "--include", "--reviewer", reviewer,
                             "--stage", stage], db_path)
            assert result.exit_code == 0, result.output


def test_cli_tag_review_takes_included_works_and_can_keep_the_uncertain(cli_db):
    invoke(["tag", "--auto", "-q"], cli_db)
    result = invoke(["tag", "review", "--reviewer", "sam"], cli_db)
    assert "0 accepted, 0 rejected, 0 changed, 0 skipped" in result.output
    assert "No suggestions wait among included works; 4 wait among all works (--stage all" in result.output
    include(cli_db, 2)
    sure = min(r["confidence"] for r in tags.pending_reviews(open_db(cli_db), stage="included"))
    assert not tags.pending_reviews(open_db(cli_db), stage="included", below=sure)
    result = invoke(["tag", "review", "--reviewer", "sam", "--below", str(sure)], cli_db)
    assert "[2]" not in result.output and "0 accepted" in result.output
    result = invoke(["tag", "review", "--reviewer", "sam"], cli_db, input="a\n" * 5)
    assert "[2] Double-blind trial of naltrexone" in result.output and "[1]" not in result.output
    assert "1 accepted" in result.output


def test_cli_errors_are_one_line(cli_db):
    result = CliRunner().invoke(cli, ["tag", "set", "99", "design=rct", "--reviewer", "a", "--db", cli_db])
    assert result.exit_code == 1 and result.output.startswith("Error: No work '99'")
    result = CliRunner().invoke(cli, ["tag", "set", "1", "design=trial", "--reviewer", "a", "--db", cli_db])
    assert result.exit_code == 1 and "Unknown design" in result.output


def test_auto_tag_saves_in_short_batches_and_skips_works_another_run_tagged(tagged_db, monkeypatch):
    """Screeners beside `litrev tag auto` wait for one batch, not the whole run."""
    add_work(tagged_db, 4, "Peer recovery coaches in Kenyan hospitals: a cohort study", year=2022)
    add_work(tagged_db, 5, "Peer support workers in Canadian harm reduction: interviews", year=2020)
    path = tagged_db.execute("pragma database_list").fetchone()[2]
    real = tags.suggest_for_work

    def suggest_while_another_run_tags_work_5(work, *args):
        if work["id"] == 5:  # a second `litrev tag auto` saves work 5 first
            other = open_db(path)
            tags.save_suggestions(other, 5, [Suggestion("country", "CA", 0.9, "title")])
            other.conn.commit()
            other.close()
        return real(work, *args)

    monkeypatch.setattr(tags, "suggest_for_work", suggest_while_another_run_tags_work_5)
    monkeypatch.setattr(tags, "TAG_BATCH", 2, raising=False)
    begins = []
    tagged_db.conn.set_trace_callback(lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None)
    counts = tags.auto_tag(tagged_db)
    tagged_db.conn.set_trace_callback(None)
    assert counts["works"] == 4 and begins == ["BEGIN IMMEDIATE"] * 3
    assert effective(tagged_db, 1) == {("country", "GB", "auto"), ("nation", "Scotland", "auto"),
                                       ("design", "qualitative", "auto")}
    assert effective(tagged_db, 5) == {("country", "CA", "auto")}


# --- the review screen fits an 80x24 terminal (issue 16) --------------------------------------


def test_tag_review_frames_fit_80x24_and_long_evidence_is_paged(tagged_db):
    tags.auto_tag(tagged_db)
    first = tags.pending_reviews(tagged_db, "design")[0]
    words = [f"e{i:04d}" for i in range(1, 3001)]
    tagged_db["tags"].update(first["id"], {"evidence": " ".join(words)})
    console = Console(record=True, width=80, height=24, color_system=None, file=io.StringIO())
    keys, frames = [" "] * 40 + ["\x1b[5~", "a", "q"], []

    def read_key():
        frames.append(console.export_text(clear=True))
        return keys.pop(0)

    counts = run_review(tagged_db, "sam", console, read_key=read_key, key="design", stage="all")
    total = int(frames[0].split("page 1 of ")[1].split()[0])
    assert total >= 5
    for n, frame in enumerate(frames, 1):
        assert len(frame.splitlines()) <= 24, frame
        assert "[a]ccept, [c]hange, [r]eject, [s]kip, [q]uit" in frame
        assert ("Peer mentors in alcohol services in Scotland" in frame) == (n <= 42)
        assert ("suggestion 1 of 3 · design = qualitative" in frame) == (n <= 42)
    assert [f"page {n} of {total}" in f for n, f in enumerate(frames[:total], 1)] == [True] * total
    assert f"page {total - 1} of {total}" in frames[41]  # accepted on the page before last
    assert set(words) <= set(" ".join(frames).split())
    assert "suggestion 2 of 3" in frames[42] and "page " not in frames[42]
    assert counts == {"accepted": 1, "rejected": 0, "changed": 0, "skipped": 0}
    assert tagged_db["tags"].get(first["id"])["status"] == "accepted"
