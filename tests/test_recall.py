"""Known-studies check: matching, the recall arithmetic, the CSV and the command."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.errors import InputFileError, LitrevError
from litrev.harvest.recall import Candidate, KnownStudy, check_recall, load_known, match_known, recall_report
from litrev.harvest.store import finish_run, save_records, start_run
from litrev.sources.normalise import Record

SHIPPED = Path(__file__).parents[1] / "queries" / "peer-mentors.known.csv"
HEADER = "doi,title,year,first_author,journal,taken_from,note\n"


def known(tmp_path, rows: str) -> Path:
    path = tmp_path / "known.csv"
    path.write_text(HEADER + rows)
    return path


def record(rid: str, *, doi=None, title=None, year=None) -> Record:
    source = rid.split(":", 1)[0]
    return Record(id=rid, source=source, source_id=rid.split(":", 1)[1], raw={"id": rid}, doi=doi,
                  title=title, year=year)


def harvest_run(db, query_id: str, records: list[Record], *, kind="harvest", source_name="OpenAlex") -> None:
    db["queries"].insert({"id": query_id, "name": query_id}, ignore=True)
    run_id = start_run(db, kind=kind, source="openalex", source_name=source_name,
                       query_id=query_id if kind == "harvest" else None)
    with db.atomic():
        counts = save_records(db, records, run_id)
    finish_run(db, run_id, "complete", counts)


STUDIES = """\
10.1016/j.drugalcdep.2004.07.006,Brief motivational intervention at a clinic visit reduces cocaine and heroin use,2005,Bernstein,Drug Alcohol Depend,Bassuk 2016,
,"A peer-support, group intervention to reduce substance use and criminality among persons with severe mental illness",2007,Rowe,Psychiatr Serv,Bassuk 2016,title only
10.1002/oti.257,Effectiveness of a peer-support community in addiction recovery,2008,Boisvert,Occup Ther Int,Bassuk 2016,
10.1111/acem.13545,Adoption and utilization of an emergency department naloxone distribution and peer recovery coach consultation program,2019,Samuels,Acad Emerg Med,Eddie 2019,
"""


# --- pure parts -----------------------------------------------------------------


def test_match_by_doi_then_fuzzy_title_and_year(tmp_path):
    studies = load_known(known(tmp_path, STUDIES))
    candidates = [
        Candidate("openalex:W1", "10.1016/j.drugalcdep.2004.07.006", "whatever title", 2004, "work:1"),
        # No DOI, title differs only by punctuation/case/a typo; year within one.
        Candidate("crossref:x", None, "a peer support group intervention to reduce substance use and "
                  "criminality among persons with severe mental ilness", 2008, "work:2"),
        # Same title but ten years off: a different paper.
        Candidate("pubmed:9", None, "effectiveness of a peer support community in addiction recovery",
                  2018, "work:3"),
    ]
    assert match_known(studies, candidates) == [{"work:1"}, {"work:2"}, set(), set()]


def test_recall_arithmetic_per_query_overall_and_database():
    studies = [KnownStudy(line=i + 2, doi=f"10.1/{i}", title=None, year=2020) for i in range(4)]
    matches = [{"work:1"}, {"work:2"}, {"work:3"}, set()]
    report = recall_report(studies, matches, {"broad": {"work:1", "work:2", "work:9"},
                                              "narrow": {"work:2"}}, {"work:1", "work:2", "work:3"})
    by_query = {q["query"]: q for q in report["queries"]}
    assert (by_query["broad"]["found"], by_query["broad"]["recall"]) == (2, 0.5)
    assert (by_query["narrow"]["found"], by_query["narrow"]["recall"]) == (1, 0.25)
    assert by_query["narrow"]["missed_lines"] == [2, 4, 5]
    assert (report["overall"]["found"], report["overall"]["total"], report["overall"]["recall"]) == (2, 4, 0.5)
    assert report["database"]["found"] == 3 and report["database"]["missed_lines"] == [5]
    assert [s["found_by"] for s in report["studies"]] == [["broad"], ["broad", "narrow"], [], []]
    assert [s["in_database"] for s in report["studies"]] == [True, True, True, False]


def test_no_queries_means_zero_recall_not_a_crash():
    studies = [KnownStudy(line=2, doi="10.1/a", title=None, year=None)]
    report = recall_report(studies, [set()], {}, set())
    assert report["queries"] == [] and report["overall"]["recall"] == 0.0


@pytest.mark.parametrize("rows,message", [
    ("not-a-doi,Some title,2020,,,,\n", "is not a DOI"),
    (",,2020,Smith,,,\n", "needs a DOI or a title"),
    ("10.1000/x,Title,twenty,,,,\n", "is not a number"),
    ("", "no studies"),
])
def test_broken_known_files_name_the_line(tmp_path, rows, message):
    with pytest.raises(InputFileError, match=message):
        load_known(known(tmp_path, rows))


def test_broken_row_error_has_file_and_line(tmp_path):
    path = known(tmp_path, "10.1000/ok,Fine,2020,,,,\nbad doi,T,2020,,,,\n")
    with pytest.raises(InputFileError, match=rf"{path.name}:3:"):
        load_known(path)


# --- the shipped list -------------------------------------------------------------


def test_shipped_known_studies_file_is_well_formed():
    studies = load_known(SHIPPED)
    assert len(studies) >= 4
    for s in studies:
        assert s.doi and s.title and s.year and s.first_author and s.journal, s
        # A review's table of included studies (cited with its DOI), or litrev's curated
        # snapshot, which test_demo checks row by row.
        if not s.taken_from.startswith("litrev snapshot"):
            assert s.taken_from.startswith(("Bassuk et al. 2016", "Eddie et al. 2019")), s
            assert "doi:10." in s.taken_from
    assert len({s.doi for s in studies}) == len(studies)


# --- against a database, and the command --------------------------------------------


@pytest.fixture
def filled(db):
    harvest_run(db, "peer-mentors", [
        record("openalex:W1", doi="10.1016/j.drugalcdep.2004.07.006", title="Brief motivational...", year=2005),
        record("openalex:W2", title="A Peer-Support, Group Intervention to Reduce Substance Use and "
                                    "Criminality Among Persons With Severe Mental Illness", year=2007),
        record("openalex:W3", doi="10.9999/unrelated", title="Something else entirely here", year=2010),
    ])
    harvest_run(db, "recovery-coaches", [
        record("crossref:10.1111/acem.13545", doi="10.1111/acem.13545", title="Adoption and utilization", year=2018),
    ])
    # Found only by citation searching: in the database, but no query found it.
    harvest_run(db, "unused", [record("openalex:W4", doi="10.1002/oti.257", title="Effectiveness", year=2008)],
                kind="citations", source_name="Citation searching")
    return db


def test_check_recall_reads_runs_and_provenance(filled, tmp_path):
    report = check_recall(filled, known(tmp_path, STUDIES))
    by_query = {q["query"]: q for q in report["queries"]}
    assert set(by_query) == {"peer-mentors", "recovery-coaches"}
    assert by_query["peer-mentors"]["found"] == 2 and by_query["recovery-coaches"]["found"] == 1
    assert report["overall"]["found"] == 3 and report["overall"]["recall"] == 0.75
    assert report["database"]["found"] == 4
    missed = [s for s in report["studies"] if not s["found_by"]]
    assert [(s["first_author"], s["in_database"]) for s in missed] == [("Boisvert", True)]
    only = check_recall(filled, known(tmp_path, STUDIES), "recovery-coaches")
    assert [q["query"] for q in only["queries"]] == ["recovery-coaches"]
    with pytest.raises(LitrevError, match="has not been harvested"):
        check_recall(filled, known(tmp_path, STUDIES), "nope")


def test_records_of_one_work_count_together(filled, tmp_path):
    """A query that found the Crossref twin of a known study found the study (same work)."""
    filled["works"].insert_all([{"id": 1}, {"id": 2}])
    filled.execute("update records set work_id = 1 where id = 'openalex:W4'")
    filled.execute("update records set work_id = 2 where id = 'openalex:W3'")
    filled.execute("update works set merged_into = 2 where id = 1")  # W4 is the same work as W3
    report = check_recall(filled, known(tmp_path, STUDIES), "peer-mentors")
    assert report["queries"][0]["found"] == 3


def test_cli_check_recall_text_json_and_threshold(filled, db_path, tmp_path):
    path = known(tmp_path, STUDIES)
    run = CliRunner().invoke(cli, ["check-recall", "--db", db_path, "--known", str(path)],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert "peer-mentors" in run.output and "75.0%" in run.output
    assert "line 4: Boisvert 2008" in run.output and "another source" in run.output
    out = json.loads(CliRunner().invoke(cli, ["check-recall", "--db", db_path, "--known", str(path),
                                              "--json"]).output)
    assert out["overall"]["found"] == 3
    low = CliRunner().invoke(cli, ["check-recall", "--db", db_path, "--known", str(path), "--min-recall", "0.9"])
    assert low.exit_code == 1
    queries = tmp_path / "q"
    queries.mkdir()
    (queries / "peer-mentors.known.csv").write_text(path.read_text())
    default = CliRunner().invoke(cli, ["check-recall", "peer-mentors", "--db", db_path,
                                       "--queries-dir", str(queries), "--json"])
    assert json.loads(default.output)["overall"]["found"] == 2
    missing = CliRunner().invoke(cli, ["check-recall", "--db", db_path, "--queries-dir", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "No known-studies file" in missing.output


def test_cli_without_database_is_one_line(tmp_path):
    path = known(tmp_path, STUDIES)
    run = CliRunner().invoke(cli, ["check-recall", "--db", str(tmp_path / "missing.db"), "--known", str(path)])
    assert run.exit_code == 1 and run.output.startswith("Error: No database")
