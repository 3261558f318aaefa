import json

from click.testing import CliRunner

from litrev.cli import cli
from litrev.harvest.store import finish_run, save_records, start_run
from litrev.sources.normalise import Record


def test_status_json_counts_records_runs_and_works(db_path):
    from litrev.db import open_db

    db = open_db(db_path)
    run_id = start_run(db, kind="harvest", source="openalex", source_name="OpenAlex")
    with db.atomic():
        counts = save_records(db, [Record(id="openalex:W1", source="openalex", source_id="W1", raw={"id": "W1"}),
                                   Record(id="openalex:W2", source="openalex", source_id="W2",
                                          raw={"id": "W2"})], run_id)
    finish_run(db, run_id, "complete", counts)
    db["works"].insert_all([{"id": 1}, {"id": 2, "merged_into": 1}])
    result = CliRunner().invoke(cli, ["status", "--db", db_path, "--json"], catch_exceptions=False)
    summary = json.loads(result.output)
    assert summary["records"] == {"total": 2, "by_source": {"openalex": 2}, "without_work": 2}
    assert summary["works"] == {"total": 1, "merged_away": 1}
    assert summary["runs"]["by_status"] == {"complete": 1}
    assert summary["runs"]["latest"][0]["new"] == 2
