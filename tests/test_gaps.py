"""The evidence gap map on a small, realistic database (works, decisions and tags inserted directly)."""

import json

import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.db import open_db
from litrev.errors import LitrevError
from litrev.report.gaps import gap_table, print_gaps

WORKS = [  # id, title, year
    (1, "Peer mentors in alcohol services in Scotland: a qualitative study", 2020),
    (2, "Peer support in addiction care in the UK and Ireland: a randomised trial", 2021),
    (3, "Recovery coaching and readmission: a US cohort", 2021),
    (4, "Peer support in substance use: a systematic review", 2019),
    (5, "Peer-led naloxone training in Amsterdam: a randomised trial", 2020),
    (6, "Mutual aid meetings", 2022),
    (7, "Peer mentors in Scotland (preprint of work 1)", 2020),
]


def tag(db, work_id, key, value, origin="auto", confidence=0.9, status=None):
    db["tags"].insert({"work_id": work_id, "key": key, "value": value, "origin": origin,
                       "status": status or ("set" if origin == "manual" else "suggested"),
                       "confidence": 1.0 if origin == "manual" else confidence, "evidence": "test",
                       "reviewer": "ann" if origin == "manual" else None, "created_at": "2026-01-01T00:00:00+00:00"})


def vote(db, work_id, stage, decision):
    db["decisions"].insert({"work_id": work_id, "stage": stage, "reviewer": "ann", "decision": decision,
                            "reason": "wrong population" if decision == "exclude" else None,
                            "kind": "vote", "decided_at": "2026-01-02T00:00:00+00:00"})


@pytest.fixture
def gap_db(db_path):
    db = open_db(db_path)
    db["works"].insert_all([{"id": i, "title": t, "year": y} for i, t, y in WORKS])
    db["works"].update(7, {"merged_into": 1})
    for work_id in (1, 2, 3, 4):
        vote(db, work_id, "title-abstract", "include")
        vote(db, work_id, "full-text", "include")
    vote(db, 5, "title-abstract", "exclude")
    tag(db, 1, "country", "US")  # a wrong suggestion...
    tag(db, 1, "country", "GB", origin="manual")  # ...that a person replaced
    tag(db, 1, "nation", "Scotland", origin="manual")
    tag(db, 1, "design", "qualitative", confidence=0.85)
    tag(db, 7, "design", "cohort", status="rejected")  # on the merged work, rejected: never counts
    tag(db, 2, "country", "GB")
    tag(db, 2, "country", "IE")
    tag(db, 2, "design", "rct")
    tag(db, 3, "country", "US", status="accepted")
    tag(db, 3, "design", "cohort", confidence=0.75)
    tag(db, 4, "design", "systematic-review")
    tag(db, 5, "country", "NL")
    tag(db, 5, "design", "rct")
    tag(db, 6, "country", "US", confidence=0.4)  # affiliation-only hint: too weak to count
    tag(db, 6, "design", "other", confidence=0.3)
    return db_path


def rows(summary):
    return {row["country"]: {k: v for k, v in row["cells"].items() if v} | {"total": row["total"]}
            for row in summary["rows"]}


def test_included_country_by_design(gap_db):
    summary = gap_table(open_db(gap_db), stage="included")
    assert summary["works"] == 4
    assert rows(summary) == {
        "GB": {"qualitative": 1, "rct": 1, "total": 2},
        "IE": {"rct": 1, "total": 1},
        "US": {"cohort": 1, "total": 1},
        None: {"systematic-review": 1, "total": 1},
    }
    assert [r["name"] for r in summary["rows"]] == ["United Kingdom", "Ireland", "United States",
                                                    "(no country tag)"]
    assert summary["columns"][:3] == ["rct", "non-randomised", "cohort"]  # every design, so gaps show
    assert summary["rows"][0]["cells"]["case-control"] == 0
    assert summary["column_totals"]["rct"] == 1 and summary["column_totals"]["qualitative"] == 1
    assert summary["uk"] == {"works": 2, "share_of_works": 0.5, "share_of_works_with_country": 0.667,
                             "nations": {"Scotland": 1}}
    assert summary["by_year"] == [{"year": 2019, "works": 1, "uk": 0}, {"year": 2020, "works": 1, "uk": 1},
                                  {"year": 2021, "works": 2, "uk": 1}]


def test_screened_and_all_stages(gap_db):
    screened = gap_table(open_db(gap_db), stage="screened")
    assert screened["works"] == 5 and rows(screened)["NL"] == {"rct": 1, "total": 1}
    everything = gap_table(open_db(gap_db), stage="all")
    assert everything["works"] == 6  # the merged work 7 is not counted twice
    # work 6: its affiliation-only country (0.4) and "other" design (0.3) are too weak to count
    assert rows(everything)[None] == {"systematic-review": 1, "untagged": 1, "total": 2}
    assert rows(everything)["US"] == {"cohort": 1, "total": 1}
    assert everything["columns"][-1] == "untagged"


def test_by_year_columns_are_a_continuous_span(gap_db):
    summary = gap_table(open_db(gap_db), stage="all", by="year")
    assert summary["columns"] == ["2019", "2020", "2021", "2022"]
    assert rows(summary)["GB"] == {"2020": 1, "2021": 1, "total": 2}


def test_printed_table_marks_empty_cells(gap_db, capsys):
    from rich.console import Console
    console = Console(width=250, record=True)
    print_gaps(gap_table(open_db(gap_db)), console=console)
    text = console.export_text()
    assert "GB United Kingdom" in text and "·" in text and "rev = systematic-review" in text
    assert "UK studies: 2 of 4 works (50%), 67% of works with a country; 1 Scotland" in text
    assert "2021: 2 (1 UK)" in text
    assert "4 of 4 works are placed by at least one of litrev's suggestions" in text


def test_cli_gaps_json_and_table(gap_db):
    result = CliRunner().invoke(cli, ["gaps", "--json", "--db", gap_db], catch_exceptions=False)
    data = json.loads(result.output)
    assert data["stage"] == "included" and data["works"] == 4 and data["uk"]["works"] == 2
    result = CliRunner().invoke(cli, ["gaps", "--stage", "all", "--by", "year", "--db", gap_db])
    assert result.exit_code == 0 and "Works by country x year" in result.output


def test_empty_database_and_bad_arguments(db):
    assert gap_table(db)["works"] == 0
    with pytest.raises(LitrevError, match="Unknown stage"):
        gap_table(db, stage="final")


def test_the_datasette_view_has_the_same_numbers(gap_db):
    db = open_db(gap_db)
    for stage in ("included", "screened", "all"):
        summary = gap_table(db, stage=stage)
        expected = {(row["country"] or "", "" if column == "untagged" else column): n
                    for row in summary["rows"] for column, n in row["cells"].items() if n}
        view = {(r["country"], r["design"]): r["works"]
                for r in db.query("select * from gap_map where stage = ? and basis = 'counted'", [stage])}
        assert view == expected, stage


def test_confirmed_only_counts_what_a_person_stands_behind(gap_db):
    """Work 1's country is a person's, work 3's an accepted suggestion; every design is a suggestion."""
    db = open_db(gap_db)
    counted = gap_table(db)
    assert (counted["basis"], counted["works_on_suggestions"]) == ("counted", 4)
    confirmed = gap_table(db, basis="confirmed")
    assert confirmed["works"] == 4 and confirmed["works_on_suggestions"] == 0
    assert rows(confirmed) == {"GB": {"untagged": 1, "total": 1}, "US": {"untagged": 1, "total": 1},
                               None: {"untagged": 2, "total": 2}}
    assert confirmed["uk"] == {"works": 1, "share_of_works": 0.25, "share_of_works_with_country": 0.5,
                               "nations": {"Scotland": 1}}
    result = CliRunner().invoke(cli, ["gaps", "--confirmed-only", "--json", "--db", gap_db])
    assert json.loads(result.output) == confirmed
    with pytest.raises(LitrevError, match="Unknown basis"):
        gap_table(db, basis="guessed")
