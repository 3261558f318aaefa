import sqlite3

from click.testing import CliRunner

from litrev.cli import cli
from litrev.db import open_db
from litrev.migrations import migrations


def test_new_database_has_every_migration_and_table(db):
    assert not migrations.pending(db)
    assert {"queries", "query_versions", "harvest_runs", "records", "works", "provenance",
            "decisions", "tags"} <= set(db.table_names())
    assert "canonical_works" in db.view_names()
    assert db["works"].detect_fts() == "works_fts"


def test_older_database_is_upgraded_in_place_without_loss(tmp_path):
    from sqlite_utils import Database

    path = tmp_path / "old.db"
    # A database made by a litrev that only had the first migration.
    db = Database(path)
    migrations.apply(db, stop_before="m002_dedupe")
    db["works"].insert({"id": 7, "title": "Peer mentors in recovery"})
    assert "tags" not in db.table_names()
    db.close()
    upgraded = open_db(path)
    assert not migrations.pending(upgraded)
    assert "tags" in upgraded.table_names()
    assert upgraded["works"].get(7)["title"] == "Peer mentors in recovery"


def test_not_a_database_is_a_one_line_error(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_text("this is not sqlite " * 100)
    result = CliRunner().invoke(cli, ["status", "--db", str(bogus)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_views_are_rebuilt_when_missing(tmp_path):
    db = open_db(tmp_path / "e.db")
    db.execute("drop view canonical_works")
    db.conn.commit()
    assert "canonical_works" in open_db(tmp_path / "e.db").view_names()


def test_wal_mode(db):
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert isinstance(db.conn, sqlite3.Connection)
