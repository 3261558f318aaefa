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


def _hold_write_lock(path):
    """A second, real connection (another litrev process) holding the write lock."""
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _unlinked(path):
    return sqlite3.connect(str(path)).execute(
        "select count(*) from records where work_id is null").fetchone()[0]


def test_dedupe_waiting_past_the_busy_timeout_is_one_line_exit_1_and_writes_nothing(
        tmp_path, monkeypatch):
    import litrev.db
    from litrev.harvest.store import save_records, start_run
    from litrev.sources.normalise import Record

    path = tmp_path / "evidence.db"
    db = open_db(path)
    run = start_run(db, kind="import", source="import", source_name="Test")
    with litrev.db.write_transaction(db):
        save_records(db, [Record(id=f"ris:{i}", source="ris", source_id=str(i), raw={"i": i},
                                 title=f"Peer mentors in alcohol services, part {i}") for i in range(3)],
                     run)
    db.close()
    monkeypatch.setattr(litrev.db, "BUSY_TIMEOUT_MS", 300)
    other = _hold_write_lock(path)
    try:
        result = CliRunner().invoke(cli, ["dedupe", "--db", str(path)])
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 1
    assert result.output.startswith("Error: The database is locked: ")
    assert "Run the command again" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _unlinked(path) == 3  # all or nothing: no half-written works
    again = CliRunner().invoke(cli, ["dedupe", "--db", str(path)], catch_exceptions=False)
    assert again.exit_code == 0 and _unlinked(path) == 0


def test_a_screening_decision_waiting_past_the_busy_timeout_is_one_line_exit_1(
        tmp_path, monkeypatch):
    import litrev.db

    path = tmp_path / "evidence.db"
    db = open_db(path)
    db["works"].insert({"id": 1, "title": "Peer mentors in alcohol services"})
    db.close()
    settings = tmp_path / "review.toml"
    settings.write_text("[stages.title-abstract]\nscreeners = 2\n")
    monkeypatch.setattr(litrev.db, "BUSY_TIMEOUT_MS", 300)
    other = _hold_write_lock(path)
    try:
        result = CliRunner().invoke(cli, ["screen", "decide", "1", "--include", "--reviewer", "ana",
                                          "--db", str(path), "--settings", str(settings)])
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: The database is locked: ")
    assert len(result.output.strip().splitlines()) == 1


def test_every_write_of_an_import_and_its_dedupe_takes_the_write_lock_first(tmp_path):
    """A deferred BEGIN that reads before it writes fails at once ("database is locked")
    when another process commits in between; the busy timeout cannot help it."""
    from litrev.finish import finish_write
    from litrev.harvest.importing import import_file

    ris = tmp_path / "found.ris"
    ris.write_text("".join(
        f"TY  - JOUR\nTI  - Peer mentors in alcohol and drug services {i}\nAU  - Kelly, Ann\n"
        f"PY  - 2021\nER  - \n" for i in range(3)) * 2)
    db = open_db(tmp_path / "evidence.db")
    begins, read_only = [], []

    def trace(sql):
        statement = sql.strip().upper()
        if statement.startswith("BEGIN"):
            begins.append(statement)
        elif begins and begins[-1] == "BEGIN DEFERRED" and db.conn.in_transaction:
            read_only.append(statement.split()[0])

    db.conn.set_trace_callback(trace)
    import_file(db, ris)
    linked = finish_write(db, records_saved=True)
    assert linked.new_records == 6 and db["works"].count == 3
    # Every write takes the lock first; dedupe plans its grouping in a read-only snapshot.
    assert begins and set(begins) == {"BEGIN IMMEDIATE", "BEGIN DEFERRED"}
    assert "SELECT" in read_only
    assert not set(read_only) & {"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP"}


def test_opening_a_current_database_writes_nothing(tmp_path, monkeypatch):
    """A screener opening the database must not need the write lock a harvest holds."""
    import litrev.db

    path = tmp_path / "evidence.db"
    open_db(path).close()
    monkeypatch.setattr(litrev.db, "BUSY_TIMEOUT_MS", 300)
    other = _hold_write_lock(path)
    try:
        db = open_db(path)
        assert "screening_votes" in db.view_names()
    finally:
        other.rollback()
        other.close()
