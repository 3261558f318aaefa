"""The curated snapshot (litrev/data/evidence_base.csv) and `litrev demo`, which builds from it."""

import json
import sqlite3
from pathlib import Path

import pycountry
import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.db import open_db
from litrev.errors import InputFileError, LitrevError
from litrev.finish import finish_write
from litrev.harvest import snapshot
from litrev.harvest.importing import import_file
from litrev.harvest.recall import load_known
from litrev.screen.decisions import record_decision
from litrev.screen.settings import load_settings
from litrev.sources.normalise import normalise_doi, normalise_title
from litrev.tags.designs import DESIGNS
from litrev.tags.storage import NATIONS, set_tags

ROOT = Path(__file__).parents[1]
REVIEW_TOML = ROOT / "review.toml"
KNOWN = ROOT / "queries" / "peer-mentors.known.csv"
STUDIES = snapshot.load_snapshot()
COUNTS = snapshot.snapshot_counts(STUDIES)
TABLES = ("records", "provenance", "harvest_runs", "works", "tags", "decisions")


# --- the snapshot file ------------------------------------------------------------------


def test_the_snapshot_says_how_and_when_it_was_built():
    header = [line for line in snapshot.SNAPSHOT.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = " ".join(header)
    assert "Built by the litrev team on 20" in text and "checked_url" in text
    assert f"{len(STUDIES)} studies" in text


def test_every_row_is_checked_metadata_with_a_reason_per_code():
    dois = [s.doi for s in STUDIES]
    assert len(dois) == len(set(dois))
    settings = load_settings(REVIEW_TOML)
    for s in STUDIES:
        assert normalise_doi(s.doi) == s.doi, s.line
        assert s.title and s.authors and s.venue and s.year >= 1950, s.line
        assert s.checked_url.startswith(("https://", "http://")), s.line
        assert all(pycountry.countries.get(alpha_2=c) for c in s.countries), s.line
        assert set(s.nations) <= NATIONS and (not s.nations or "GB" in s.countries), s.line
        assert s.design in DESIGNS and s.design_reason and s.country_reason, s.line
        assert (s.exclusion_reason in settings.reasons) if s.outcome == "excluded" else s.exclusion_reason is None
        # One sentence of the team's own, not a copied abstract.
        assert len(s.summary) <= 300 and s.summary.rstrip(".").count(". ") == 0, s.line


def test_the_demo_prisma_looks_like_a_real_review():
    assert COUNTS["included"] > COUNTS["excluded"] > 0
    assert 0 < COUNTS["uk"] < COUNTS["included"] / 4  # how few UK studies there are


def write_snapshot(tmp_path, *rows: dict) -> Path:
    good = {**STUDIES[0].as_raw(), "countries": "US", "nations": "", "exclusion_reason": "",
            "authors": "Bassuk EL; et al."}
    path = tmp_path / "snapshot.csv"
    lines = ["# a header line", ",".join(snapshot.COLUMNS)]
    for row in (good, *rows):
        values = {**good, **row}
        lines.append(",".join(f'"{values[c]}"' for c in snapshot.COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("change,problem", [
    ({"doi": "https://doi.org/10.1/x"}, "is not a bare DOI"),
    ({"doi": STUDIES[0].doi}, "is also on line 3"),
    ({"design": "survey"}, "design 'survey' is not one of"),
    ({"countries": "gb"}, "country 'gb' is not an ISO 3166"),
    ({"countries": "UK"}, "country 'UK' is not an ISO 3166"),
    ({"countries": "US", "nations": "Scotland"}, "need country GB"),
    ({"countries": "GB", "nations": "Cornwall"}, "need country GB"),
    ({"outcome": "excluded"}, "needs an exclusion_reason"),
    ({"exclusion_reason": "Wrong population"}, "needs an exclusion_reason, and only an excluded one"),
    ({"design_reason": ""}, "the design_reason is empty"),
    ({"country_reason": ""}, "the country_reason is empty"),
    ({"checked_url": "pubmed 123"}, "is not a web address"),
    ({"year": "n.d."}, "is not a plausible publication year"),
])
def test_a_bad_row_is_one_line_naming_file_and_line(tmp_path, change, problem):
    if change.get("doi") != STUDIES[0].doi:
        change = {"doi": "10.9999/other", **change}
    path = write_snapshot(tmp_path, change)
    with pytest.raises(InputFileError) as e:
        snapshot.load_snapshot(path)
    assert f"{path}:4: " in str(e.value) and problem in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_a_good_copy_loads_and_et_al_is_not_an_author(tmp_path):
    studies = snapshot.load_snapshot(write_snapshot(tmp_path, {"doi": "10.9999/other", "countries": "GB",
                                                           "nations": "Wales;Scotland"}))
    assert [s.line for s in studies] == [3, 4]
    assert studies[0].authors == ("Bassuk EL",) and studies[1].nations == ("Wales", "Scotland")


# --- litrev demo ------------------------------------------------------------------------


def run_demo(db_path, public, *extra):
    args = ["demo", "--no-serve", "--db", db_path, "-o", str(public), "--settings", str(REVIEW_TOML), *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def table_counts(db_path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def test_demo_builds_the_evidence_base_and_its_gap_map(db_path, tmp_path):
    result = run_demo(db_path, tmp_path / "public.db")
    assert result.exit_code == 0, result.output
    assert f"Snapshot of {len(STUDIES)} studies: {len(STUDIES)} new" in result.output
    gaps = CliRunner().invoke(cli, ["gaps", "--json", "--db", db_path], catch_exceptions=False)
    summary = json.loads(gaps.output)
    assert summary["works"] == COUNTS["included"]
    assert summary["uk"]["works"] == COUNTS["uk"] and summary["uk"]["nations"] == COUNTS["nations"]
    db = open_db(db_path)
    status = dict(db.execute("select status, count(*) from work_status group by status").fetchall())
    assert status == {"included": COUNTS["included"], "excluded": COUNTS["excluded"]}
    # Every code is a confirmed tag by the snapshot's reviewer, with its reason as evidence.
    bassuk = db.execute("select key, value, reviewer, evidence from work_tags where work_id = "
                        "(select work_id from records where id = ?) order by key",
                        ["litrev-snapshot:10.1016/j.jsat.2016.01.003"]).fetchall()
    assert bassuk == [("country", "US", snapshot.SNAPSHOT_REVIEWER, "title: in the United States"),
                      ("design", "systematic-review", snapshot.SNAPSHOT_REVIEWER, "title: systematic review")]
    sources = dict(db.execute("select source_name, records from records_by_source").fetchall())
    assert sources == {snapshot.SOURCE_NAME: len(STUDIES)}
    public = sqlite3.connect(tmp_path / "public.db")
    assert public.execute("select count(*) from works").fetchone()[0] == len(STUDIES)


def test_running_the_demo_again_changes_nothing(db_path, tmp_path):
    run_demo(db_path, tmp_path / "public.db")
    before = table_counts(db_path)
    again = run_demo(db_path, tmp_path / "public.db", "--json")
    assert json.loads(again.output)["demo"] == {
        "studies": len(STUDIES), "run_id": None, "records_new": 0, "records_updated": 0, "tags_set": 0,
        "tags_kept": 0, "decisions": 0, "decisions_kept": 0}
    assert table_counts(db_path) == before


def test_snapshot_records_dedupe_with_harvested_ones_and_people_keep_their_say(db, tmp_path):
    """A record already found (here an import) and judged by a person: the snapshot's copy
    joins its work, and the person's tag and decision stand."""
    study = next(s for s in STUDIES if s.outcome == "included" and s.design != "other")
    found = tmp_path / "found.csv"
    found.write_text(f'title,year,doi\n"{study.title.upper()}",{study.year},https://doi.org/{study.doi}\n')
    import_file(db, found, source="Scopus")
    finish_write(db)
    work = db.execute("select work_id from records where source = 'scopus'").fetchone()[0]
    settings = load_settings(REVIEW_TOML)
    set_tags(db, work, [("design", "other")], "ann")
    record_decision(db, settings, work, "title-abstract", "ann", "exclude", reason="Wrong population",
                    kind="adjudication")
    summary = snapshot.build_demo(db, settings)
    assert db.execute("select work_id from records where id = ?", [study.record_id]).fetchone()[0] == work
    designs = db.execute("select value, reviewer from work_tags where work_id = ? and key = 'design'", [work])
    assert designs.fetchall() == [("other", "ann")]
    assert db.execute("select status from work_status where work_id = ?", [work]).fetchone()[0] == "excluded"
    assert summary.tags_kept == 1 and summary.decisions_kept == 1
    # Both stages for every other study; none for the one ann excluded at title-abstract.
    assert summary.decisions == 2 * (len(STUDIES) - 1)


def test_an_exclusion_reason_the_review_does_not_offer_stops_before_writing(db):
    settings = load_settings(REVIEW_TOML)
    settings.reasons = ["Wrong population"]
    assert COUNTS["reasons"] != ["Wrong population"]
    with pytest.raises(LitrevError, match="does not offer. Add it to"):
        snapshot.build_demo(db, settings)
    assert db["records"].count == 0 and db["harvest_runs"].count == 0


# --- the known-studies file for check-recall grows from the snapshot --------------------


def test_every_known_study_is_an_included_snapshot_row():
    by_doi = {s.doi: s for s in STUDIES}
    known = load_known(KNOWN)
    assert len(known) >= 20
    for k in known:
        study = by_doi.get(k.doi)
        assert study is not None, f"{KNOWN}:{k.line} {k.doi} is not in the snapshot"
        assert study.outcome == "included" and study.year == k.year, k.line
        assert normalise_title(study.title) == normalise_title(k.title), k.line
        assert study.authors[0].split()[0] == k.first_author, k.line
