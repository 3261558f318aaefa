"""One resolver for every way a person names a work."""

import pytest
from click.testing import CliRunner
from support.screen import add_works

from litrev.cli import cli
from litrev.db import open_db
from litrev.errors import LitrevError, UnknownIdError
from litrev.ids import resolve_work


@pytest.fixture
def db(db):
    add_works(db, 3)
    db["works"].update(3, {"merged_into": 2})
    db["records"].insert_all([
        {"id": "openalex:W1", "doi": "10.1111/add.15002", "pmid": "31234567", "openalex_id": "W1", "work_id": 2},
        {"id": "scopus:2-s2.0-1", "doi": None, "work_id": 3},
        {"id": "ris:file:1", "doi": "10.1/shared", "work_id": 1},
        {"id": "ris:file:2", "doi": "10.1/shared", "work_id": 2},
        {"id": "crossref:10.9/orphan", "doi": "10.9/orphan", "work_id": None},
    ], alter=True)
    return db


@pytest.mark.parametrize("value", [
    "2", 2, "3",  # a work id; a merged work names the work it was merged into
    "10.1111/add.15002", "10.1111/ADD.15002", "doi:10.1111/add.15002", "https://doi.org/10.1111/add.15002",
    "pmid:31234567", "PMID 31234567", "https://pubmed.ncbi.nlm.nih.gov/31234567/",
    "W1", "openalex:W1", "https://openalex.org/W1", "https://api.openalex.org/works/w1",
    "scopus:2-s2.0-1",
])
def test_every_spelling_names_the_canonical_work(db, value):
    assert resolve_work(db, value) == 2


@pytest.mark.parametrize("value,error", [
    ("99", UnknownIdError), ("10.1/nothing", UnknownIdError), ("pmid:1", UnknownIdError),
    ("10.1/shared", UnknownIdError),  # two works share it: ask for a work id
    ("crossref:10.9/orphan", LitrevError),  # stored but not linked yet: says to run dedupe
])
def test_unknown_ambiguous_and_unlinked_ids_are_one_line_errors(db, value, error):
    with pytest.raises(error) as caught:
        resolve_work(db, value)
    assert "\n" not in str(caught.value)


def test_tag_set_and_list_take_a_doi(tmp_path):
    path = tmp_path / "e.db"
    db = open_db(path)
    add_works(db, 1)
    db["records"].insert({"id": "openalex:W1", "doi": "10.1111/add.15002", "work_id": 1}, alter=True)
    runner = CliRunner()
    result = runner.invoke(cli, ["tag", "set", "https://doi.org/10.1111/ADD.15002", "country=GB",
                                 "--reviewer", "ann", "--db", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Set 1 tags on work 1." in result.output
    result = runner.invoke(cli, ["tag", "list", "doi:10.1111/add.15002", "--db", str(path), "--json"])
    assert '"GB"' in result.output
    result = runner.invoke(cli, ["tag", "list", "10.1/none", "--db", str(path)])
    assert result.exit_code == 1 and result.output.startswith("Error: No work '10.1/none'")
