"""The schema: the only place tables are defined.

Each migration is named and applied once (sqlite-utils records it in
``_sqlite_migrations``), so opening an older database upgrades it in place.
Never edit a migration that has shipped: add a new one below it.

Conventions: tables are plural, foreign keys are ``<thing>_id``, timestamps are
ISO 8601 UTC text, lists and dicts are JSON text. What people write (decisions,
tags, verdicts) lives in its own tables and is never touched by a harvest.
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("litrev")


# --- foundation: queries, runs, records, works (issue 2) -------------------


@migrations()
def m001_foundation(db: Database) -> None:
    db["queries"].create(
        {"id": str, "name": str, "description": str, "path": str, "created_at": str},
        pk="id",
    )
    # Every distinct text of a query file is a version; runs point at the one that ran.
    db["query_versions"].create(
        {
            "id": int,
            "query_id": str,
            "version": int,
            "sha256": str,
            "text": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("query_id", "queries", "id")],
    )
    db["query_versions"].create_index(["query_id", "sha256"], unique=True)
    # One row for everything that brings records in: an API harvest, a file
    # import, a citation search. `source_name` is the PRISMA identification label.
    db["harvest_runs"].create(
        {
            "id": int,
            "kind": str,  # harvest | import | citations
            "source": str,  # openalex | crossref | import | citations
            "source_name": str,  # e.g. "OpenAlex", "Crossref", "PubMed", "Citation searching"
            "query_id": str,
            "query_version_id": int,
            "mode": str,  # update | full | since
            "since": str,
            "request": str,  # JSON: search text and filters as sent
            "file": str,
            "details": str,  # JSON
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | complete | failed | interrupted
            "reported_total": int,
            "fetched": int,
            "new": int,
            "updated": int,
            "cursor": str,  # where to resume an interrupted run
            "error": str,
        },
        pk="id",
        foreign_keys=[
            ("query_id", "queries", "id"),
            ("query_version_id", "query_versions", "id"),
        ],
    )
    db["works"].create(
        {
            "id": int,
            "title": str,
            "abstract": str,
            "authors": str,
            "year": int,
            "venue": str,
            "volume": str,
            "issue": str,
            "pages": str,
            "doi": str,
            "pmid": str,
            "openalex_id": str,
            "type": str,
            "language": str,
            "countries": str,
            "url": str,
            "merged_into": int,  # set when this work was merged into another; never deleted
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("merged_into", "works", "id")],
    )
    db["records"].create(
        {
            "id": str,  # openalex:W123 | crossref:10.1000/x | <import source>:<original id>
            "source": str,
            "source_id": str,
            "doi": str,
            "pmid": str,
            "pmcid": str,
            "openalex_id": str,
            "title": str,
            "abstract": str,
            "authors": str,  # JSON list of "Family, Given"
            "year": int,
            "publication_date": str,
            "venue": str,
            "volume": str,
            "issue": str,
            "pages": str,
            "type": str,
            "language": str,
            "countries": str,  # JSON list of ISO 3166 alpha-2 affiliation countries
            "keywords": str,  # JSON list
            "identifiers": str,  # JSON dict of every identifier the source gave
            "url": str,
            "source_updated": str,  # the source's own last-updated stamp
            "raw": str,  # the source record exactly as received (JSON)
            "raw_sha256": str,
            "first_seen": str,
            "last_seen": str,
            "work_id": int,
        },
        pk="id",
        foreign_keys=[("work_id", "works", "id")],
    )
    db["records"].create_index(["doi"])
    db["records"].create_index(["work_id"])
    db["records"].create_index(["source"])
    # Which run found which record, and at what rank: a record found by three
    # queries has three rows. `context` holds extras (e.g. a citation seed).
    db["provenance"].create(
        {"record_id": str, "run_id": int, "rank": int, "context": str, "found_at": str},
        pk=("record_id", "run_id"),
        foreign_keys=[("record_id", "records", "id"), ("run_id", "harvest_runs", "id")],
    )
    db["provenance"].create_index(["run_id"])


# --- dedupe (issue 3) -------------------------------------------------------


@migrations()
def m002_dedupe(db: Database) -> None:
    # Machine judgements about pairs of records, kept for audit and --explain.
    db["duplicate_pairs"].create(
        {
            "record_a": str,
            "record_b": str,
            "score": float,
            "method": str,  # doi | pmid | openalex | fuzzy | ...
            "outcome": str,  # merge | review | distinct | related
            "details": str,  # JSON: per-field scores
            "created_at": str,
        },
        pk=("record_a", "record_b"),
    )
    # What a person said about a pair; always wins over the machine.
    db["dedupe_verdicts"].create(
        {
            "record_a": str,
            "record_b": str,
            "verdict": str,  # same | different
            "reviewer": str,
            "decided_at": str,
        },
        pk=("record_a", "record_b"),
    )
    # Preprint/published versions and errata: linked, not merged.
    db["work_relations"].create(
        {"work_id": int, "related_work_id": int, "relation": str, "created_at": str},
        pk=("work_id", "related_work_id", "relation"),
        foreign_keys=[("work_id", "works", "id"), ("related_work_id", "works", "id")],
    )
    # An audit log of merges and unmerges, so any merge can be undone.
    db["work_merges"].create(
        {
            "id": int,
            "action": str,  # merge | unmerge | move
            "work_id": int,
            "into_work_id": int,
            "record_ids": str,  # JSON
            "method": str,
            "score": float,
            "reviewer": str,
            "created_at": str,
        },
        pk="id",
    )


# --- screening (issue 4) ----------------------------------------------------


@migrations()
def m003_screening(db: Database) -> None:
    # Append-only: the current state is derived in views (litrev/views.py).
    db["decisions"].create(
        {
            "id": int,
            "work_id": int,
            "stage": str,  # title-abstract | full-text
            "reviewer": str,
            "decision": str,  # include | exclude | maybe | undo
            "reason": str,
            "note": str,  # private: never published
            "kind": str,  # vote | adjudication
            "decided_at": str,
        },
        pk="id",
        foreign_keys=[("work_id", "works", "id")],
    )
    db["decisions"].create_index(["work_id", "stage"])
    db["decisions"].create_index(["reviewer", "stage"])


# --- tags (issue 5) ---------------------------------------------------------


@migrations()
def m004_tags(db: Database) -> None:
    # Suggestions (origin=auto) and people's tags (origin=manual) side by side;
    # the effective tag is derived in a view: manual always wins.
    db["tags"].create(
        {
            "id": int,
            "work_id": int,
            "key": str,  # country | nation | design | any custom key (setting, ...)
            "value": str,
            "origin": str,  # auto | manual
            "status": str,  # suggested | accepted | rejected (for auto); set (for manual)
            "confidence": float,
            "evidence": str,
            "reviewer": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("work_id", "works", "id")],
    )
    db["tags"].create_index(["work_id", "key"])


# --- screening: review settings (issue 4) -----------------------------------


@migrations()
def m005_screening_review_settings(db: Database) -> None:
    # One row per screening stage, synced from review.toml by litrev.screen.settings.sync_settings,
    # so the screening views know how many independent screeners each stage needs.
    # An empty table means the defaults: both stages, one screener each.
    db["review_settings"].create(
        {
            "stage": str,  # title-abstract | full-text
            "position": int,  # 1 = first stage
            "screeners": int,  # independent votes needed (1 or 2)
            "reason_required": int,  # 1 when an exclusion needs a reason
            "reasons": str,  # JSON list of exclusion reasons offered at this stage
            "updated_at": str,
        },
        pk="stage",
    )


# --- citation searching (issue 9) -------------------------------------------


@migrations()
def m006_citations_snowball_seeds(db: Database) -> None:
    # One row per seed work and direction once its citations were fully chased, so a
    # re-run fetches only for new seeds (`litrev snowball --full` chases all again).
    db["snowball_seeds"].create(
        {
            "work_id": int,
            "direction": str,  # backward (works it cites) | forward (works citing it)
            "openalex_id": str,  # the seed as OpenAlex knows it (W...)
            "run_id": int,  # the harvest_runs row (kind=citations) that completed it
            "found": int,  # works found for this seed in that run
            "chased_at": str,
        },
        pk=("work_id", "direction"),
        foreign_keys=[("work_id", "works", "id"), ("run_id", "harvest_runs", "id")],
    )


# --- harvest: resume bookkeeping (issue 2) ----------------------------------


@migrations()
def m007_harvest_resume(db: Database) -> None:
    # `cursor` is where an unfinished run resumes; these say how fresh it is
    # (Crossref cursors expire after ~5 minutes) and where in the result list
    # the next page starts, so provenance ranks continue without a gap.
    db["harvest_runs"].add_column("cursor_saved_at", str)
    db["harvest_runs"].add_column("position", int)


@migrations()
def m008_harvest_owner(db: Database) -> None:
    # Which process is fetching a `running` run, so a second `litrev harvest` of the
    # same query and source (cron and a person at once) waits its turn instead of
    # paging through the same cursor twice.
    db["harvest_runs"].add_column("pid", int)
    db["harvest_runs"].add_column("host", str)


# --- dedupe: stored blocking keys for cheap incremental runs (issue 3) -------


@migrations()
def m009_dedupe_match_keys(db: Database) -> None:
    # Each record's blocking keys (litrev.dedupe.matching.block_keys, encoded as text), so an
    # incremental dedupe reads only the records that share a block with the new ones
    # instead of preparing every record. `dedupe_keyed` says which raw version of a
    # record its keys were computed from, and by which version of the key rules
    # (litrev.dedupe.storage.KEYS_VERSION): a re-harvest that changed the record, or new rules,
    # re-key it on the next run.
    db["dedupe_keys"].create({"key": str, "record_id": str}, pk=("key", "record_id"))
    db["dedupe_keys"].create_index(["record_id"])
    db["dedupe_keyed"].create({"record_id": str, "raw_sha256": str, "keys_version": int},
                              pk="record_id")


# --- dedupe: a run with nothing new skips regrouping (issue 19) --------------


REGROUP_TRIGGERS = [
    # Every input of dedupe's grouping: the machine's pairs, people's verdicts, the records
    # (which exist, their DOIs, their works) and merges of works.
    ("duplicate_pairs", "insert", ""), ("duplicate_pairs", "delete", ""),
    ("duplicate_pairs", "update", ("old.outcome is not new.outcome or old.score is not new.score "
                                   "or old.method is not new.method")),
    ("dedupe_verdicts", "insert", ""), ("dedupe_verdicts", "delete", ""),
    ("dedupe_verdicts", "update", "old.verdict is not new.verdict"),
    ("records", "insert", ""), ("records", "delete", ""),
    ("records", "update", "old.doi is not new.doi or old.work_id is not new.work_id"),
    ("works", "insert", ""), ("works", "delete", ""),
    ("works", "update", "old.merged_into is not new.merged_into"),
]


@migrations()
def m010_dedupe_regroup_flag(db: Database) -> None:
    # `regroup` is set by triggers whenever something dedupe groups by changed, and cleared by
    # dedupe once it has regrouped, so a run with nothing new (most days of a living map)
    # need not replay every stored pair: at 100,000 records that replay took seconds.
    db["dedupe_state"].create({"id": int, "regroup": int}, pk="id")
    db["dedupe_state"].insert({"id": 1, "regroup": 1})
    for table, event, when in REGROUP_TRIGGERS:
        db.execute(
            f"create trigger dedupe_regroup_{table}_{event} after {event} on {table} for each row "
            f"{'when ' + when if when else ''} "
            "begin update dedupe_state set regroup = 1 where id = 1 and regroup = 0; end")


# --- team screening in the browser (issue 17) --------------------------------


@migrations()
def m011_team_members(db: Database) -> None:
    # Who may sign in to `litrev team serve`. `name` is the reviewer name decisions are
    # recorded under (as in review.toml); `role` is reviewer (screens) or lead (also
    # adjudicates and sees every vote); the password is an argon2id hash, never the text.
    db["team_members"].create(
        {"name": str, "role": str, "password_hash": str, "created_at": str},
        pk="name",
        not_null={"role", "password_hash", "created_at"},
    )


@migrations()
def m012_works_merged_into_index(db: Database) -> None:
    # The screening session checks one work's votes before showing it (a teammate or a
    # terminal may have decided it): finding the records merged into it must not scan works.
    db["works"].create_index(["merged_into"], if_not_exists=True)
