"""A small, realistic working database for the publish tests, written row by row.

Six canonical works (plus one merged into work 1) found by an OpenAlex and a
Crossref harvest of one saved query and a PubMed import; screened at both
stages by two reviewers with private notes; tagged by the tagger and by people.
Everything that must never be public carries a marker from SECRETS.
"""

import json

from sqlite_utils import Database

from litrev.db import ensure_shape

REVIEWERS = ("Alice Zebedee-Secret", "Bob Quimby-Secret")
SECRETS = (
    "PRIVATE-NOTE-7731", "RAW-JSON-SECRET-5512", "Zebedee-Secret", "Quimby-Secret",
    "ERROR-SECRET-0042", "/home/secret-path", "REQUEST-SECRET-9", "EVIDENCE-SECRET-1",
)
QUERY_TEXT = (
    'name = "Peer mentors in alcohol and drug services"\n'
    '[openalex]\nsearch = \'"peer mentor" AND (alcohol OR drug)\'\n'
)

# id, title, year, doi, abstract, status plan
WORKS = [
    (1, "Peer mentors in a Scottish recovery community: a qualitative study", 2019,
     "10.1000/pm.1", "Interviews with peer mentors with lived experience in drug services in Glasgow."),
    (2, "A randomised controlled trial of recovery coaches after alcohol detoxification", 2021,
     "10.1000/pm.2", "Adults leaving detox in England were randomised to a recovery coach or usual care."),
    (3, "Peer recovery support specialists in emergency departments", 2021,
     "10.1000/pm.3", "A randomized trial in US emergency departments of peer recovery coaches for opioid use."),
    (4, "Peer workers in Australian needle and syringe programs", 2018,
     "10.1000/pm.4", "A cross-sectional survey of peer workers in Australian harm reduction services."),
    (5, "Methadone dosing in rats", 2015, "10.1000/pm.5", "An animal model of opioid withdrawal."),
    (6, "Mutual aid and lived experience in alcohol services: a commentary", 2023,
     "10.1000/pm.6", "We discuss peer support in alcohol services."),
]


def fill(db: Database) -> Database:
    """Write the fixture into a migrated working database."""
    ts = "2026-01-10T09:00:00+00:00"
    with db.atomic():
        db["queries"].insert({"id": "peer-mentors", "name": "Peer mentors in alcohol and drug services",
                              "description": "Main search", "path": "queries/peer-mentors.toml",
                              "created_at": ts})
        db["query_versions"].insert({"id": 1, "query_id": "peer-mentors", "version": 1,
                                     "sha256": "abc", "text": QUERY_TEXT, "created_at": ts})
        runs = [
            (1, "harvest", "openalex", "OpenAlex", "peer-mentors", 1, None),
            (2, "harvest", "crossref", "Crossref", "peer-mentors", 1, None),
            (3, "import", "import", "PubMed", None, None, "/home/secret-path/pubmed.nbib"),
        ]
        for rid, kind, source, label, qid, qv, file in runs:
            db["harvest_runs"].insert({
                "id": rid, "kind": kind, "source": source, "source_name": label, "query_id": qid,
                "query_version_id": qv, "mode": "full", "request": json.dumps({"q": "REQUEST-SECRET-9"}),
                "file": file, "details": "{}", "started_at": ts, "finished_at": ts,
                "status": "complete", "reported_total": 7, "fetched": 7, "new": 7, "updated": 0,
                "error": "ERROR-SECRET-0042" if rid == 2 else None,
            })
        for wid, title, year, doi, abstract in WORKS:
            db["works"].insert({
                "id": wid, "title": title, "abstract": abstract, "year": year, "doi": doi,
                "authors": json.dumps(["Smith, Jo", "Khan, Amir"]), "venue": "Addiction",
                "openalex_id": f"W{1000 + wid}", "type": "article", "language": "en",
                "url": f"https://doi.org/{doi}", "created_at": ts, "updated_at": ts,
            })
        db["works"].insert({"id": 7, "title": WORKS[0][1], "year": 2019, "merged_into": 1,
                            "created_at": ts, "updated_at": ts})
        for wid, title, year, doi, abstract in WORKS:
            for source, run in (("openalex", 1), ("crossref", 2)):
                rec = f"openalex:W{1000 + wid}" if source == "openalex" else f"crossref:{doi}"
                _record(db, rec, source, wid, title, year, doi, run, rank=wid)
        _record(db, "pubmed:999", "pubmed", 7, WORKS[0][1], 2019, None, 3, rank=1)
        _decisions(db)
        _tags(db)
    ensure_shape(db)
    return db


def _record(db, rid, source, work_id, title, year, doi, run_id, rank):
    raw = {"id": rid, "title": title, "secret": "RAW-JSON-SECRET-5512"}
    db["records"].insert({
        "id": rid, "source": source, "source_id": rid.split(":", 1)[1], "doi": doi, "title": title,
        "year": year, "authors": "[]", "raw": json.dumps(raw), "raw_sha256": "x",
        "first_seen": "2026-01-10T09:00:00+00:00", "last_seen": "2026-01-10T09:00:00+00:00",
        "work_id": work_id,
    })
    db["provenance"].insert({"record_id": rid, "run_id": run_id, "rank": rank,
                             "found_at": f"2026-01-1{run_id}T09:00:00+00:00"})


def _decisions(db):
    a, b = REVIEWERS
    ta, ft = "title-abstract", "full-text"
    votes = [
        # work 1 (voted on through its merged duplicate 7 too): included at both stages
        (7, ta, a, "include", None), (1, ta, b, "include", None),
        (1, ft, a, "include", None), (1, ft, b, "include", None),
        (2, ta, a, "include", None), (2, ta, b, "include", None),
        (2, ft, a, "include", None), (2, ft, b, "include", None),
        (3, ta, a, "include", None), (3, ta, b, "include", None),
        (3, ft, a, "include", None), (3, ft, b, "include", None),
        # work 4: excluded at full text for the population
        (4, ta, a, "include", None), (4, ta, b, "include", None),
        (4, ft, a, "exclude", "Wrong population"), (4, ft, b, "exclude", "Wrong population"),
        # work 5: excluded at title-abstract
        (5, ta, a, "exclude", "Wrong population"), (5, ta, b, "exclude", "Wrong population"),
        # work 6: a conflict
        (6, ta, a, "include", None), (6, ta, b, "exclude", "Wrong publication type"),
    ]
    for i, (wid, stage, reviewer, decision, reason) in enumerate(votes):
        db["decisions"].insert({
            "work_id": wid, "stage": stage, "reviewer": reviewer, "decision": decision,
            "reason": reason, "note": f"PRIVATE-NOTE-7731 about {wid}", "kind": "vote",
            "decided_at": f"2026-01-12T10:{i:02d}:00+00:00",
        })


def _tags(db):
    a = REVIEWERS[0]
    tags = [
        (1, "country", "GB", "auto", "suggested", 0.9, 'abstract: "drug services in Glasgow."', None),
        (1, "nation", "Scotland", "auto", "suggested", 0.9, "Glasgow", None),
        # a person's own evidence text is theirs, never published (a suggestion's is litrev's quote)
        (1, "design", "qualitative", "manual", "set", None, "EVIDENCE-SECRET-1 my reading", a),
        (2, "country", "GB", "manual", "set", None, None, a),
        (2, "nation", "England", "auto", "suggested", 0.8, "England", None),
        (2, "design", "rct", "auto", "suggested", 0.95, "were randomised", None),
        (3, "country", "US", "auto", "suggested", 0.85, "US emergency departments", None),
        (3, "country", "FR", "auto", "suggested", 0.2, "affiliation only", None),  # too weak to count
        (3, "design", "rct", "auto", "suggested", 0.9, "randomized trial", None),
        (4, "country", "AU", "auto", "suggested", 0.8, "Australian", None),
        (4, "design", "cross-sectional", "auto", "suggested", 0.8, "cross-sectional survey", None),
        (6, "design", "commentary", "auto", "suggested", 0.9, "commentary", None),
    ]
    for wid, key, value, origin, status, conf, evidence, reviewer in tags:
        db["tags"].insert({
            "work_id": wid, "key": key, "value": value, "origin": origin, "status": status,
            "confidence": conf, "evidence": evidence, "reviewer": reviewer,
            "created_at": "2026-01-13T10:00:00+00:00",
        })
