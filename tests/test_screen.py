import csv
import io
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.screen import add_works, settings, use, vote

from litrev.cli import cli
from litrev.db import open_db
from litrev.errors import InputFileError, LitrevError, UnknownIdError
from litrev.report.status import summarise
from litrev.screen import decisions as screen
from litrev.screen.settings import (
    DEFAULT_REASONS,
    NOT_RETRIEVED,
    SettingsError,
    load_settings,
    parse_settings,
    settings_for_db,
    sync_settings,
)

ROOT = Path(__file__).parents[1]
TA, FT = "title-abstract", "full-text"


def outcomes(db, stage=TA):
    return {r["work_id"]: (r["outcome"], r["reason"])
            for r in db.query("select * from screening_outcomes where stage = ?", [stage])}


def statuses(db):
    return {r["work_id"]: (r["status"], r["stage_reached"], r["exclusion_reason"])
            for r in db.query("select * from work_status")}


# --- views -------------------------------------------------------------------


def test_single_screener_outcomes_and_status_without_settings(db):
    add_works(db, 4)
    vote(db, 1, "sam", "include")
    vote(db, 2, "sam", "exclude", reason="Wrong population")
    vote(db, 3, "sam", "maybe")
    assert outcomes(db) == {1: ("include", None), 2: ("exclude", "Wrong population"), 3: ("maybe", None)}
    assert statuses(db) == {
        1: ("in-progress", "full-text", None),
        2: ("excluded", "title-abstract", "Wrong population"),
        3: ("maybe", "title-abstract", None),
        4: ("unscreened", "title-abstract", None),
    }


def test_dual_screening_pending_agreement_conflict(db):
    use(db, settings(ta=2))
    add_works(db, 4)
    vote(db, 1, "sam", "include")
    vote(db, 2, "sam", "include")
    vote(db, 2, "ali", "include")
    vote(db, 3, "sam", "include")
    vote(db, 3, "ali", "exclude", reason="Wrong population")
    vote(db, 4, "sam", "exclude", reason="Wrong outcomes")
    vote(db, 4, "ali", "exclude", reason="Wrong population")
    assert outcomes(db) == {
        1: ("pending", None), 2: ("include", None), 3: ("conflict", None),
        4: ("exclude", "Wrong outcomes"),  # agreed exclusion: the earliest vote's reason
    }
    assert statuses(db)[1][0] == "in-progress"
    assert statuses(db)[3][0] == "conflict"


def test_latest_vote_counts_and_undo_withdraws(db):
    add_works(db, 2)
    vote(db, 1, "sam", "exclude", reason="Wrong population")
    vote(db, 1, "sam", "include")
    vote(db, 2, "sam", "include")
    vote(db, 2, "sam", "undo")
    assert outcomes(db) == {1: ("include", None), 2: ("pending", None)}
    assert [dict(r) for r in db.query("select work_id, decision from screening_votes")] == [
        {"work_id": 1, "decision": "include"}]
    assert statuses(db)[2][0] == "in-progress"


def test_adjudication_overrides_votes_and_its_undo_restores_the_conflict(db):
    use(db, settings(ta=2))
    add_works(db, 1)
    vote(db, 1, "sam", "include")
    vote(db, 1, "ali", "exclude", reason="Wrong population")
    vote(db, 1, "kim", "exclude", reason="Wrong outcomes", kind="adjudication")
    assert outcomes(db) == {1: ("exclude", "Wrong outcomes")}
    vote(db, 1, "kim", "undo", kind="adjudication")
    assert outcomes(db) == {1: ("conflict", None)}


def test_decisions_on_merged_works_count_for_the_canonical_work(db):
    use(db, settings(ta=2))
    add_works(db, 3)
    vote(db, 2, "sam", "include")
    vote(db, 3, "ali", "include")
    db["works"].update(3, {"merged_into": 2})
    assert outcomes(db) == {2: ("include", None)}
    assert 3 not in statuses(db)
    vote(db, 1, "sam", "include")
    vote(db, 1, "ali", "include")
    db["works"].update(2, {"merged_into": 1})  # merges point at the final work (dedupe keeps them flat)
    db["works"].update(3, {"merged_into": 1})
    assert outcomes(db) == {1: ("include", None)}  # sam's and ali's later votes on 2/3 agree
    vote(db, 3, "sam", "exclude", reason="Wrong population")  # sam changes their mind via 3
    assert outcomes(db) == {1: ("conflict", None)}
    db["works"].update(2, {"merged_into": None})  # an unmerge: 2's votes are 2's again
    db["works"].update(3, {"merged_into": 2})
    assert outcomes(db)[2] == ("conflict", None) and outcomes(db)[1] == ("include", None)


def test_full_text_status_follows_title_abstract(db):
    use(db, settings(ta=1, ft=1))
    add_works(db, 4)
    for w in (1, 2, 3):
        vote(db, w, "sam", "include")
    vote(db, 1, "sam", "include", stage=FT)
    vote(db, 2, "sam", "exclude", stage=FT, reason=NOT_RETRIEVED)
    vote(db, 4, "sam", "include", stage=FT)  # stray: 4 was never included at title-abstract
    assert statuses(db) == {
        1: ("included", "full-text", None),
        2: ("excluded", "full-text", NOT_RETRIEVED),
        3: ("in-progress", "full-text", None),
        4: ("unscreened", "title-abstract", None),
    }


def test_review_without_full_text_stage_ends_at_title_abstract(db):
    s = settings(ta=1)
    del s.stages[FT]
    use(db, s)
    add_works(db, 1)
    vote(db, 1, "sam", "include")
    assert statuses(db)[1] == ("included", "title-abstract", None)


# --- decisions ---------------------------------------------------------------


def test_record_decision_checks_everything(db):
    s = use(db, settings(ta=1, reviewers=["sam", "ali"]))
    add_works(db, 2)
    with pytest.raises(SettingsError, match="not listed"):
        screen.record_decision(db, s, 1, TA, "Sam", "include")
    with pytest.raises(UnknownIdError):
        screen.record_decision(db, s, 99, TA, "sam", "include")
    with pytest.raises(LitrevError, match="Unknown exclusion reason"):
        screen.record_decision(db, s, 1, TA, "sam", "exclude", reason="too long")
    with pytest.raises(LitrevError, match="not been included at title-abstract"):
        screen.record_decision(db, s, 1, FT, "sam", "include")
    with pytest.raises(LitrevError, match="nothing|no vote"):
        screen.record_decision(db, s, 1, TA, "sam", "undo")
    screen.record_decision(db, s, 1, TA, "sam", "include", note="looks relevant")
    with pytest.raises(LitrevError, match="needs a reason"):
        screen.record_decision(db, s, 1, FT, "sam", "exclude")
    screen.record_decision(db, s, 1, FT, "sam", "exclude", reason="2")  # by number
    screen.record_decision(db, s, 2, TA, "ali", "exclude")  # no reason needed at title-abstract
    rows = [dict(r) for r in db.query("select work_id, stage, reviewer, decision, reason, note, kind "
                                      "from decisions order by id")]
    assert rows == [
        {"work_id": 1, "stage": TA, "reviewer": "sam", "decision": "include", "reason": None,
         "note": "looks relevant", "kind": "vote"},
        {"work_id": 1, "stage": FT, "reviewer": "sam", "decision": "exclude",
         "reason": "Wrong intervention", "note": None, "kind": "vote"},
        {"work_id": 2, "stage": TA, "reviewer": "ali", "decision": "exclude", "reason": None,
         "note": None, "kind": "vote"},
    ]


def test_decision_on_a_merged_work_is_stored_on_the_canonical_work(db):
    s = use(db, settings(ta=1))
    add_works(db, 2)
    db["works"].update(2, {"merged_into": 1})
    screen.record_decision(db, s, 2, TA, "sam", "include")
    assert db.execute("select work_id from decisions").fetchone()[0] == 1


# --- queue -------------------------------------------------------------------


def ids(q):
    return [w for w, _ in q]


def test_queue_is_blind_and_per_reviewer(db):
    s = use(db, settings(ta=2))
    s.prioritise = False
    add_works(db, 5)
    vote(db, 1, "sam", "include")
    vote(db, 2, "ali", "exclude", reason="Wrong population")
    vote(db, 3, "ali", "include")
    vote(db, 3, "kim", "include")  # has its two votes: done for everyone
    assert ids(screen.queue(db, s, TA, "sam")) == [2, 4, 5]
    assert ids(screen.queue(db, s, TA, "ali")) == [1, 4, 5]
    assert ids(screen.queue(db, s, TA, "new")) == [1, 2, 4, 5]


def test_single_screening_queue_drops_works_anyone_decided(db):
    s = use(db, settings(ta=1))
    s.prioritise = False
    add_works(db, 3)
    vote(db, 1, "sam", "include")
    assert ids(screen.queue(db, s, TA, "ali")) == [2, 3]


def test_full_text_queue_only_has_works_included_at_title_abstract(db):
    s = use(db, settings(ta=1, ft=2))
    s.prioritise = False
    add_works(db, 4)
    vote(db, 2, "sam", "include")
    vote(db, 3, "sam", "exclude")
    vote(db, 4, "sam", "include")
    vote(db, 4, "sam", "include", stage=FT)
    assert ids(screen.queue(db, s, FT, "sam")) == [2]
    assert ids(screen.queue(db, s, FT, "ali")) == [2, 4]


def test_queue_is_ordered_by_the_prioritisation_stage(db, monkeypatch):
    s = use(db, settings(ta=1))
    add_works(db, 3)
    calls = []

    def order(db_, stage, reviewer, work_ids, settings_, cache=None):
        assert settings_ is s  # the review's settings are passed in, not read from a global
        calls.append((stage, reviewer, list(work_ids)))
        return [(w, 0.1 * w) for w in reversed(list(work_ids))]

    monkeypatch.setattr("litrev.screen.rank.order_queue", order)
    assert screen.queue(db, s, TA, "sam") == [(3, pytest.approx(0.3)), (2, 0.2), (1, 0.1)]
    assert calls == [(TA, "sam", [1, 2, 3])]


def test_pilot_sample_is_the_same_for_everyone_and_stable(db):
    s = use(db, settings(ta=2))
    add_works(db, 40)
    sample = screen.pilot_sample(db, s, TA, 10)
    assert len(sample) == 10 and len(set(sample)) == 10
    assert ids(screen.queue(db, s, TA, "sam", pilot=10)) == sample
    assert ids(screen.queue(db, s, TA, "ali", pilot=10)) == sample
    vote(db, sample[0], "sam", "include")
    assert ids(screen.queue(db, s, TA, "sam", pilot=10)) == sample[1:]
    add_works(db, 10, start=41)
    grown = screen.pilot_sample(db, s, TA, 10)
    assert len(set(grown) & set(sample)) >= 7  # adding works mostly keeps the sample
    s.pilot_seed = 7
    assert screen.pilot_sample(db, s, TA, 10) != sample


# --- conflicts, adjudication, agreement ---------------------------------------


def test_conflicts_and_resolve(db):
    s = use(db, settings(ta=2))
    add_works(db, 3)
    vote(db, 1, "sam", "include")
    vote(db, 1, "ali", "exclude", reason="Wrong population")
    vote(db, 2, "sam", "include")
    vote(db, 2, "ali", "maybe")
    vote(db, 3, "sam", "include")
    vote(db, 3, "ali", "include")
    found = screen.conflicts(db)
    assert [c["work_id"] for c in found] == [1, 2]
    assert found[0]["votes"] == [
        {"reviewer": "ali", "decision": "exclude", "reason": "Wrong population"},
        {"reviewer": "sam", "decision": "include", "reason": None},
    ]
    screen.resolve(db, s, 1, TA, "kim", "include")
    with pytest.raises(LitrevError, match="must include or exclude"):
        screen.resolve(db, s, 2, TA, "kim", "maybe")
    screen.resolve(db, s, 2, TA, "kim", "exclude", reason="Wrong setting")
    assert screen.conflicts(db) == []
    assert outcomes(db) == {1: ("include", None), 2: ("exclude", "Wrong setting"), 3: ("include", None)}


def test_cohen_kappa_against_hand_computed_values():
    # 10 works: both include 3, both exclude 5, one each way 1 + 1.
    # po = 0.8; pe = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = 0.28 / 0.48 = 0.58333
    pairs = [("include", "include")] * 3 + [("exclude", "exclude")] * 5 + \
        [("include", "exclude"), ("exclude", "include")]
    assert screen.cohen_kappa(pairs) == pytest.approx(0.583333, abs=1e-6)
    # Three categories, 20 works (a standard worked example):
    # rows a, columns b: inc (4,1,1) exc (1,9,0) maybe (0,1,3)
    # po = 16/20 = 0.8; a marg 6,10,4; b marg 5,11,4
    # pe = (6*5 + 10*11 + 4*4)/400 = 156/400 = 0.39; kappa = 0.41/0.61 = 0.672131
    table = {("include", "include"): 4, ("include", "exclude"): 1, ("include", "maybe"): 1,
             ("exclude", "include"): 1, ("exclude", "exclude"): 9,
             ("maybe", "exclude"): 1, ("maybe", "maybe"): 3}
    pairs = [k for k, n in table.items() for _ in range(n)]
    assert screen.cohen_kappa(pairs) == pytest.approx(0.672131, abs=1e-6)
    assert screen.cohen_kappa([("include", "include")] * 4) is None  # chance agreement is 1
    assert screen.cohen_kappa([("include", "exclude"), ("exclude", "include")]) == pytest.approx(-1)
    assert screen.cohen_kappa([]) is None


def test_agreement_per_stage_and_pair(db):
    use(db, settings(ta=2))
    add_works(db, 10)
    a = ["include"] * 3 + ["exclude"] * 5 + ["include", "exclude"]
    b = ["include"] * 3 + ["exclude"] * 5 + ["exclude", "include"]
    for w, (x, y) in enumerate(zip(a, b), start=1):
        vote(db, w, "sam", x)
        vote(db, w, "ali", y)
        if w <= 4:
            vote(db, w, "kim", "include")
    rows = screen.agreement(db)
    assert rows == [
        {"stage": TA, "reviewer_a": "ali", "reviewer_b": "kim", "n": 4, "agree": 3, "percent": 75.0,
         "kappa": 0.0},
        {"stage": TA, "reviewer_a": "ali", "reviewer_b": "sam", "n": 10, "agree": 8, "percent": 80.0,
         "kappa": 0.583},
        {"stage": TA, "reviewer_a": "kim", "reviewer_b": "sam", "n": 4, "agree": 3, "percent": 75.0,
         "kappa": 0.0},
    ]
    assert screen.agreement(db, work_ids=[1, 2])[1]["n"] == 2


# --- CSV ---------------------------------------------------------------------


def write_csv(path, rows, header=("work_id", "stage", "reviewer", "decision", "reason", "note")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_csv_import_appends_in_file_order(db, tmp_path):
    s = use(db, settings(ta=1, ft=1))
    add_works(db, 3)
    path = write_csv(tmp_path / "d.csv", [
        (1, TA, "sam", "Include", "", "from Rayyan"),
        (2, TA, "sam", "exclude", "wrong population", ""),
        (1, FT, "sam", "exclude", "Report not retrieved", ""),  # needs the first row of this file
        ("", "", "", "", "", ""),  # blank rows are skipped
    ])
    assert screen.import_decisions(db, s, path) == 3
    assert outcomes(db, FT) == {1: ("exclude", NOT_RETRIEVED)}
    assert outcomes(db)[2] == ("exclude", "Wrong population")


def test_csv_import_reports_line_numbers_and_writes_nothing(db, tmp_path):
    s = use(db, settings(ta=1))
    add_works(db, 3)
    path = write_csv(tmp_path / "bad.csv", [
        (1, TA, "sam", "include", "", ""),
        (99, TA, "sam", "include", "", ""),
        (2, "abstract", "sam", "include", "", ""),
        (3, FT, "sam", "exclude", "Wrong outcomes", ""),
        (2, TA, "sam", "perhaps", "", "a note with\na line break"),
    ])
    with pytest.raises(InputFileError) as e:
        screen.import_decisions(db, s, path)
    message = str(e.value)
    assert "4 bad row(s), nothing imported" in message
    assert "line 3: No work '99'" in message
    assert "line 4: Unknown stage 'abstract'" in message
    assert "line 5: Work 3 has not been included" in message
    assert "line 7: Unknown decision 'perhaps'" in message  # multi-line field: its last line
    assert db["decisions"].count == 0


def test_csv_import_refuses_rows_with_too_many_or_too_few_fields(db, tmp_path):
    s = use(db, settings(ta=1))
    add_works(db, 3)
    path = tmp_path / "shifted.csv"
    path.write_text("work_id,stage,reviewer,decision,reason\n"
                    f"1,{TA},sam,include,\n"
                    f"2,{TA},sam,exclude,Wrong population,extra\n"  # a comma in the reason
                    f"3,{TA},sam\n"  # cut short
                    "   \n")  # a blank line is still skipped
    with pytest.raises(InputFileError) as e:
        screen.import_decisions(db, s, path)
    message = str(e.value)
    assert "2 bad row(s), nothing imported" in message
    assert "line 3: row has 6 fields but the header has 5" in message
    assert "line 4: row has 3 fields but the header has 5" in message
    assert db["decisions"].count == 0


def test_csv_import_errors_escape_control_characters(db, tmp_path, db_path):
    add_works(db, 1)
    path = tmp_path / "evil.csv"
    path.write_text("work_id,stage,reviewer,decision\n"
                    "1,title-abstract,\x1b[2Jsam\u202e,undo\n")
    result = CliRunner().invoke(cli, ["screen", "import", str(path), "--db", db_path])
    assert result.exit_code == 1
    error = result.output.strip()
    assert error.startswith("Error: ") and "\n" not in error
    assert "\x1b" not in error and "\u202e" not in error
    assert "\\x1b[2Jsam\\u202e has no vote" in error


def test_csv_import_needs_the_documented_columns(db, tmp_path):
    s = use(db, settings(ta=1))
    path = write_csv(tmp_path / "x.csv", [], header=("id", "stage", "who", "decision"))
    with pytest.raises(InputFileError, match=r"missing column\(s\) work_id \(or doi\), reviewer"):
        screen.import_decisions(db, s, path)


def test_csv_export_round_trip_by_doi(db, tmp_path):
    s = use(db, settings(ta=1))
    add_works(db, 2)
    screen.record_decision(db, s, 1, TA, "sam", "include", note="n1")
    screen.record_decision(db, s, 2, TA, "sam", "exclude", reason="Wrong outcomes")
    assert screen.export_decisions(db, tmp_path / "out.csv") == 2
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert list(rows[0]) == screen.CSV_COLUMNS
    assert rows[1]["doi"] == "10.1111/add.15002" and rows[1]["reason"] == "Wrong outcomes"
    other = open_db(tmp_path / "other.db")
    use(other, s)
    add_works(other, 2)
    for row in rows:
        row["work_id"] = ""  # another database: match by DOI
    write_csv(tmp_path / "by_doi.csv", [[r[c] for c in screen.CSV_COLUMNS] for r in rows],
              header=screen.CSV_COLUMNS)
    assert screen.import_decisions(other, s, tmp_path / "by_doi.csv") == 2
    assert outcomes(other) == outcomes(db)


def test_csv_export_neutralises_formula_notes(db, tmp_path):
    s = use(db, settings(ta=1))
    add_works(db, 1)
    screen.record_decision(db, s, 1, TA, "sam", "include", note='=HYPERLINK("http://x","y")')
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["screen", "export", str(out), "--db", str(tmp_path / "evidence.db")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["note"] == '\'=HYPERLINK("http://x","y")' and row["work_id"] == "1"
    screen.export_decisions(db, out, keep_formulas=True)
    assert next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))["note"] == \
        '=HYPERLINK("http://x","y")'


# --- settings ----------------------------------------------------------------


def test_shipped_review_toml_parses():
    s = load_settings(ROOT / "review.toml")
    assert list(s.stages) == [TA, FT]
    assert s.stages[TA].screeners == 2 and s.stages[FT].reason_required
    assert NOT_RETRIEVED in s.reasons_for(FT) and NOT_RETRIEVED not in s.reasons_for(TA)
    assert s.publish_reviewer_names is False and s.prioritise and s.blind_priority
    assert "peer mentor" in s.include_keywords and "rats" in s.exclude_keywords
    assert (s.recall_target, s.confidence) == (0.95, 0.95)


def test_stopping_rule_settings(tmp_path):
    path = tmp_path / "review.toml"
    path.write_text("[screen]\nrecall_target = 0.9\nconfidence = 0.99\n")
    s = load_settings(path)
    assert (s.recall_target, s.confidence) == (0.9, 0.99)


def test_default_settings_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LITREV_SETTINGS", raising=False)
    s = load_settings()
    assert s.reasons == DEFAULT_REASONS and s.stages[TA].screeners == 1
    with pytest.raises(SettingsError, match="No review settings file"):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize("text,error", [
    ("[stages.title-abstract]\nscreeners = 3\n", "use 1 or 2"),
    ("[stages.full-text]\nscreeners = 1\n", "needs a title-abstract stage"),
    ("[stages.full-text]\nreason_required = false\n[stages.title-abstract]\n", "reason_required = false"),
    ("[screen]\nprioritize = true\n", "unknown key 'prioritize' in \\[screen\\]"),
    ("[keywords]\ninclude = 'peer'\n", "must be a list"),
    ("[sceen]\n", "unknown section"),
    ("[review\n", "not valid TOML"),
    ("[screen]\nrecall_target = 95\n", r"recall_target = 95 is not a proportion .* 0.95"),
    ("[screen]\nconfidence = 1.0\n", r"confidence = 1.0 is not a proportion between 0 and 1"),
    ("[screen]\nconfidence = '95%'\n", "confidence = '95%' is not a proportion"),
])
def test_bad_settings_say_what_to_fix(tmp_path, text, error):
    path = tmp_path / "review.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=error):
        load_settings(path)


def test_without_a_settings_file_the_database_keeps_its_stages(db, tmp_path, monkeypatch):
    sync_settings(db, parse_settings({"stages": {"title-abstract": {"screeners": 2}}}, "review.toml"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LITREV_SETTINGS", raising=False)
    s = settings_for_db(db, load_settings())
    assert list(s.stages) == [TA] and s.stages[TA].screeners == 2
    assert db.execute("select count(*) from review_settings").fetchone()[0] == 1


def test_sync_settings_writes_only_changes(db):
    s = parse_settings({"stages": {"title-abstract": {"screeners": 2}}})
    sync_settings(db, s)
    rows = list(db.query("select stage, position, screeners, reason_required from review_settings"))
    assert rows == [{"stage": TA, "position": 1, "screeners": 2, "reason_required": 0}]
    stamp = db.execute("select updated_at from review_settings").fetchone()[0]
    sync_settings(db, s)
    assert db.execute("select updated_at from review_settings").fetchone()[0] == stamp


# --- status ------------------------------------------------------------------


def test_status_reports_per_stage_counts(db):
    use(db, settings(ta=2, ft=1))
    add_works(db, 6)
    for w in (1, 2):
        vote(db, w, "sam", "include")
        vote(db, w, "ali", "include")
    vote(db, 3, "sam", "exclude")
    vote(db, 3, "ali", "exclude")
    vote(db, 4, "sam", "include")
    vote(db, 4, "ali", "exclude")
    vote(db, 5, "sam", "maybe")
    vote(db, 1, "sam", "include", stage=FT)
    screening = summarise(db)["screening"]
    assert screening[TA] == {
        "works_with_decisions": 5, "decisions": 9,
        "included": 2, "excluded": 1, "maybe": 0, "conflict": 1, "pending": 1, "unscreened": 1,
    }
    assert screening[FT] == {
        "works_with_decisions": 1, "decisions": 1,
        "included": 1, "excluded": 0, "maybe": 0, "conflict": 0, "pending": 0, "unscreened": 1,
    }


# --- CLI and concurrency -------------------------------------------------------


def invoke(args, db_path, settings_path=None):
    extra = ["--db", db_path] + (["--settings", str(settings_path)] if settings_path else [])
    return CliRunner().invoke(cli, [*args, *extra], catch_exceptions=False)


@pytest.fixture
def review_toml(tmp_path):
    path = tmp_path / "review.toml"
    path.write_text("[stages.title-abstract]\nscreeners = 2\n[stages.full-text]\nscreeners = 1\n")
    return path


def test_cli_decide_conflicts_resolve_agreement(db_path, review_toml, tmp_path):
    add_works(open_db(db_path), 3)
    assert invoke(["screen", "decide", "1", "--include", "--reviewer", "sam"], db_path, review_toml).exit_code == 0
    r = invoke(["screen", "decide", "1", "--exclude", "1", "--reviewer", "ali", "--note", "adult only"],
               db_path, review_toml)
    assert r.exit_code == 0
    r = invoke(["screen", "decide", "2", "--include", "--maybe", "--reviewer", "ali"], db_path, review_toml)
    assert r.exit_code == 1 and "exactly one of" in r.output
    r = invoke(["screen", "decide", "2", "--include", "--reviewer", "ali", "--stage", "full-text"],
               db_path, review_toml)
    assert r.exit_code == 1 and r.output.startswith("Error: Work 2 has not been included")
    r = invoke(["screen", "conflicts", "--json"], db_path, review_toml)
    assert [c["work_id"] for c in json.loads(r.output)] == [1]
    r = invoke(["screen", "conflicts"], db_path, review_toml)
    assert "ali: exclude (Wrong population)" in r.output
    r = invoke(["screen", "agreement", "--json"], db_path, review_toml)
    assert json.loads(r.output)[0] | {} == {"stage": TA, "reviewer_a": "ali", "reviewer_b": "sam",
                                            "n": 1, "agree": 0, "percent": 0.0, "kappa": 0.0}
    r = invoke(["screen", "resolve", "1", "--include", "--reviewer", "kim"], db_path, review_toml)
    assert r.exit_code == 0
    assert invoke(["screen", "conflicts"], db_path, review_toml).output.strip() == "No conflicts."
    r = invoke(["screen", "decide", "1", "--undo", "--reviewer", "sam"], db_path, review_toml)
    assert r.exit_code == 0
    out = tmp_path / "all.csv"
    assert invoke(["screen", "export", str(out)], db_path).exit_code == 0
    decisions = [row["decision"] for row in csv.DictReader(io.StringIO(out.read_text()))]
    assert decisions == ["include", "exclude", "include", "undo"]
    other = str(tmp_path / "other.db")
    add_works(open_db(other), 3)
    r = invoke(["screen", "import", str(out)], other, review_toml)
    assert r.exit_code == 0 and "Imported 4 decisions" in r.output
    assert outcomes(open_db(other)) == outcomes(open_db(db_path)) == {1: ("include", None)}


def test_cli_reviewer_is_the_flag_else_litrev_reviewer_else_the_login(db_path, monkeypatch):
    add_works(open_db(db_path), 3)
    monkeypatch.setattr("getpass.getuser", lambda: "login-name")
    monkeypatch.setenv("LITREV_REVIEWER", "env-name")
    assert invoke(["screen", "decide", "1", "--include", "--reviewer", "flag-name"], db_path).exit_code == 0
    assert invoke(["screen", "decide", "2", "--include"], db_path).exit_code == 0
    monkeypatch.delenv("LITREV_REVIEWER")
    assert invoke(["screen", "decide", "3", "--include"], db_path).exit_code == 0
    rows = open_db(db_path).execute("select work_id, reviewer from decisions order by work_id").fetchall()
    assert rows == [(1, "flag-name"), (2, "env-name"), (3, "login-name")]


def _screener(db_path: str, reviewer: str, work_ids: list[int], barrier) -> None:
    s = settings(ta=2)
    db = open_db(db_path)
    barrier.wait()
    for w in work_ids:
        screen.record_decision(db, s, w, TA, reviewer, "include" if w % 2 else "exclude",
                               reason=None)


def test_two_screener_processes_at_once_lose_nothing(db_path):
    db = open_db(db_path)
    use(db, settings(ta=2))
    add_works(db, 150)
    barrier = multiprocessing.get_context("fork").Barrier(2)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_screener, args=(db_path, r, list(range(1, 151)), barrier))
             for r in ("sam", "ali")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert db.execute("select reviewer, count(*) from decisions group by reviewer").fetchall() == [
        ("ali", 150), ("sam", 150)]
    assert db.execute("select count(*) from screening_outcomes where outcome in ('include', 'exclude')"
                      ).fetchone()[0] == 150


def test_two_cli_processes_deciding_at_once(db_path, review_toml):
    add_works(open_db(db_path), 3)
    script = (
        "import sys\nfrom click.testing import CliRunner\nfrom litrev.cli import cli\n"
        "for w in range(1, 4):\n"
        "    r = CliRunner().invoke(cli, ['screen', 'decide', str(w), '--include', '--reviewer', sys.argv[1],"
        " '--db', sys.argv[2], '--settings', sys.argv[3]])\n"
        "    assert r.exit_code == 0, (r.output, r.exception)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, name, db_path, str(review_toml)])
             for name in ("sam", "ali")]
    assert [p.wait(60) for p in procs] == [0, 0]
    db = open_db(db_path)
    assert db["decisions"].count == 6
    assert {r[0] for r in db.execute("select outcome from screening_outcomes")} == {"include"}


def test_queue_with_the_real_prioritisation_stage(db):
    s = use(db, settings(ta=1))
    add_works(db, 6)
    vote(db, 6, "sam", "include")
    q = screen.queue(db, s, TA, "sam")
    assert sorted(ids(q)) == [1, 2, 3, 4, 5]
    assert all(score is None or 0 <= score <= 1 for _, score in q)
