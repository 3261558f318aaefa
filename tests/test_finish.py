"""The one post-write path: stages write their rows; the command then links and reshapes.

`finish_write` links every record without a work (dedupe's incremental update) and
runs `ensure_shape`, once, at the end of every command that writes, so records a
`--no-dedupe` run left behind are linked by whichever command writes next.
"""

import json

import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.db import open_db
from litrev.finish import finish_write
from litrev.harvest.importing import import_file

UNLINKED = "select count(*) from records where work_id is null"


def csv_file(path, titles):
    rows = [f'{i},"{title}",20{10 + i}' for i, title in enumerate(titles, start=1)]
    path.write_text("record_id,title,year\n" + "\n".join(rows) + "\n")
    return str(path)


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def half_linked(tmp_path, monkeypatch):
    """A database with work 1 linked and one record a `--no-dedupe` import left unlinked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LITREV_SETTINGS", raising=False)
    db_path = str(tmp_path / "e.db")
    invoke("import", csv_file(tmp_path / "a.csv", ["Peer mentors in alcohol services"]),
           "--db", db_path)
    invoke("import", csv_file(tmp_path / "b.csv", ["Recovery coaches in emergency care"]),
           "--no-dedupe", "--db", db_path)
    assert open_db(db_path).execute(UNLINKED).fetchone()[0] == 1
    return db_path


@pytest.mark.parametrize("command", [
    ["screen", "decide", "1", "--include", "--reviewer", "sam"],
    ["screen", "resolve", "1", "--include", "--reviewer", "lee"],
    ["tag", "set", "1", "country=GB", "--reviewer", "sam"],
    ["tag", "--auto"],
])
def test_every_command_that_writes_links_what_no_dedupe_left(half_linked, command):
    invoke(*command, "--db", half_linked)
    db = open_db(half_linked)
    assert db.execute(UNLINKED).fetchone()[0] == 0
    assert db["works"].count == 2


def test_screen_import_links_what_no_dedupe_left(half_linked, tmp_path):
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("work_id,stage,reviewer,decision,reason\n1,title-abstract,sam,include,\n")
    invoke("screen", "import", str(decisions), "--db", half_linked)
    assert open_db(half_linked).execute(UNLINKED).fetchone()[0] == 0


def test_the_import_stage_writes_and_the_command_links(db, tmp_path):
    result = import_file(db, csv_file(tmp_path / "a.csv", ["Peer mentors", "Recovery coaches"]))
    assert result.counts.new == 2
    assert db.execute(UNLINKED).fetchone()[0] == 2  # the stage itself never calls dedupe
    assert finish_write(db).new_records == 2
    assert finish_write(db) is None  # all linked, nothing saved: dedupe is not run again


def test_import_no_dedupe_leaves_records_and_says_nothing_about_dedupe(tmp_path):
    db_path = str(tmp_path / "e.db")
    path = csv_file(tmp_path / "a.csv", ["Peer mentors"])
    out = json.loads(invoke("import", path, "--no-dedupe", "--json", "--db", db_path).output)
    assert "dedupe" not in out
    assert open_db(db_path).execute(UNLINKED).fetchone()[0] == 1
    out = json.loads(invoke("import", path, "--json", "--db", db_path).output)
    assert out["dedupe"]["new_records"] == 1
    assert open_db(db_path).execute(UNLINKED).fetchone()[0] == 0
