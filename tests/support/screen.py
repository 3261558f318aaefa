"""Builders for screening and PRISMA tests: works, records, runs and decisions as litrev stores them."""

import json

from litrev.screen.settings import ReviewSettings, StageSettings, sync_settings

TITLES = [
    "Peer mentoring for people leaving residential alcohol treatment: a randomised controlled trial",
    "Recovery coaches in emergency departments after opioid overdose",
    "Lived experience peer workers in drug services: a qualitative study",
    "Effects of ethanol on hepatic enzymes in rats",
    "Mutual aid attendance and abstinence at 12 months",
    "A protocol for a trial of peer support in alcohol services",
    "Peer support in prisons for people who use drugs",
    "Smartphone apps for smoking cessation: a review",
]


def settings(ta: int = 2, ft: int = 2, **kw) -> ReviewSettings:
    s = ReviewSettings(**kw)
    s.stages = {"title-abstract": StageSettings("title-abstract", ta, False),
                "full-text": StageSettings("full-text", ft, True)}
    s.include_keywords = ["peer", "alcohol", "drug"]
    s.exclude_keywords = ["rats", "protocol"]
    return s


def add_works(db, n: int, start: int = 1) -> list[int]:
    rows = []
    for i in range(start, start + n):
        rows.append({
            "id": i, "title": TITLES[(i - 1) % len(TITLES)] + ("" if i <= len(TITLES) else f" ({i})"),
            "abstract": "Background: peer mentors with lived experience of alcohol and drug use ...",
            "authors": json.dumps(["Smith, Jane", "Okafor, Chidi"]), "year": 2019 + i % 5,
            "venue": "Addiction", "doi": f"10.1111/add.{15000 + i}",
        })
    db["works"].insert_all(rows)
    return [r["id"] for r in rows]


def vote(db, work_id, reviewer, decision, stage="title-abstract", reason=None, kind="vote"):
    db["decisions"].insert({
        "work_id": work_id, "stage": stage, "reviewer": reviewer, "decision": decision,
        "reason": reason, "kind": kind, "decided_at": "2026-01-10T10:00:00+00:00",
    })


def use(db, s: ReviewSettings) -> ReviewSettings:
    sync_settings(db, s)
    return s
