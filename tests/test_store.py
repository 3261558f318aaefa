from litrev.harvest.store import save_records, start_run
from litrev.sources.normalise import Record


def make(i, title="A title"):
    return Record(id=f"openalex:W{i}", source="openalex", source_id=f"W{i}",
                  raw={"id": f"W{i}", "title": title}, title=title, authors=["Smith, Ann"])


def test_save_is_idempotent_and_counts_changes(db):
    run1 = start_run(db, kind="harvest", source="openalex", source_name="OpenAlex")
    with db.atomic():
        first = save_records(db, [make(1), make(2)], run1)
    assert (first.fetched, first.new, first.updated) == (2, 2, 0)
    db["records"].update("openalex:W1", {"work_id": None})
    run2 = start_run(db, kind="harvest", source="openalex", source_name="OpenAlex")
    with db.atomic():
        again = save_records(db, [make(1), make(2, "A corrected title")], run2)
    assert (again.fetched, again.new, again.updated) == (2, 0, 1)
    assert db["records"].get("openalex:W2")["title"] == "A corrected title"
    assert db["records"].count == 2
    # Both runs found both records, each at its rank.
    ranks = {(r["record_id"], r["run_id"]): r["rank"] for r in db["provenance"].rows}
    assert ranks == {("openalex:W1", run1): 1, ("openalex:W2", run1): 2,
                     ("openalex:W1", run2): 1, ("openalex:W2", run2): 2}


def test_resave_keeps_first_seen_and_work_link(db):
    run = start_run(db, kind="harvest", source="openalex", source_name="OpenAlex")
    with db.atomic():
        save_records(db, [make(1)], run)
    db["works"].insert({"id": 5})
    db["records"].update("openalex:W1", {"work_id": 5, "first_seen": "2020-01-01T00:00:00+00:00"})
    with db.atomic():
        save_records(db, [make(1, "Changed")], run)
    row = db["records"].get("openalex:W1")
    assert row["work_id"] == 5 and row["first_seen"].startswith("2020")
