"""Tags: country of study and study design, suggested with evidence; people decide.

The suggesters are pure (`litrev.tags.countries`, `litrev.tags.designs`). Here: `auto_tag()` stores
suggestions (origin=auto, status=suggested) for works that have none,
`set_tags()` stores a person's tags (origin=manual, status=set; an earlier
manual tag for the same key becomes status=replaced), and `review()` walks the
open suggestions (accepted / rejected / changed). The effective tags are the
`work_tags` view: a person's tags for a key always replace the suggestions.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

import pycountry
from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.errors import LitrevError
from litrev.ids import resolve_work
from litrev.tags import model as design_model
from litrev.tags.countries import GAZETTEER, suggest_countries
from litrev.tags.designs import DESIGN_LABELS, DESIGNS, suggest_design
from litrev.tags.suggest import SUGGESTED, Suggestion, fold
from litrev.views import CONFIRMED, stage_works

__all__ = [
    "DESIGNS",
    "DESIGN_LABELS",
    "SUGGESTED",
    "Suggestion",
    "auto_tag",
    "effective_tags",
    "normalise_tag",
    "parse_assignments",
    "pending_reviews",
    "review",
    "save_suggestions",
    "set_tags",
    "suggest_countries",
    "suggest_design",
    "unsuggested_count",
]


# --- storage: suggestions, people's tags, review ---------------------------------

NATIONS = {"England", "Scotland", "Wales", "Northern Ireland"}


def suggest_for_work(work: dict[str, Any], raws: Iterable[dict[str, Any]] = (),
                     model: design_model.DesignModel | None = None) -> list[Suggestion]:
    """Every suggestion for one `works` row, with MeSH types from its records' raw JSON;
    with a `model` (learned from confirmed designs) it stands in where the rules found no design."""
    countries = _json_list(work.get("countries"))
    mesh: list[str] = []
    for raw in raws:
        mesh.extend(_mesh_types(raw))
    title, abstract = work.get("title"), work.get("abstract")
    designs = [design_model.fill_in(model, s, title, abstract)
               for s in suggest_design(title, abstract, work.get("type"), mesh)]
    return suggest_countries(title, abstract, countries) + designs


def _json_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else []


def _mesh_types(raw: dict[str, Any]) -> list[str]:
    """OpenAlex `mesh[].descriptor_name`; PubMed publication types under the names importers use."""
    found = [m.get("descriptor_name", "") for m in raw.get("mesh") or [] if isinstance(m, dict)]
    for key in ("publication_types", "publication_type", "PT", "pt"):
        value = raw.get(key)
        found.extend([value] if isinstance(value, str) else value or [])
    return [str(v) for v in found if v]


def save_suggestions(db: Database, work_id: int, suggestions: Iterable[Suggestion]) -> int:
    """Store suggestions as origin=auto, status=suggested; returns how many."""
    rows = [
        {"work_id": work_id, "key": s.key, "value": s.value, "origin": "auto", "status": "suggested",
         "confidence": s.confidence, "evidence": s.evidence, "reviewer": None, "created_at": now()}
        for s in suggestions
    ]
    db["tags"].insert_all(rows)
    return len(rows)


# Works suggested for, then saved, per write transaction: screeners beside `litrev tag auto`
# wait for one batch (well under a second), not the whole run (45 s at 33,000 works).
TAG_BATCH = 500
# Canonical works with no suggestions yet: what `auto_tag` works on.
UNSUGGESTED = "merged_into is null and id not in (select distinct work_id from tags where origin = 'auto')"


def unsuggested_count(db: Database) -> int:
    return db.execute(f"select count(*) from works where {UNSUGGESTED}").fetchone()[0]


def auto_tag(db: Database, progress: Callable[[int], None] | None = None,
             learned: bool | None = None) -> dict[str, int]:
    """Suggest tags for every canonical work that has no suggestions yet.

    Works already suggested for are left alone, and people's tags are never
    touched, so re-running is safe and cheap. With `learned` (default
    `design_model.ENABLED`) and enough confirmed designs, a model trained once on
    them suggests the design where the rules found none (counted as "learned").
    """
    todo = list(db.query(f"select * from works where {UNSUGGESTED} order by id"))
    counts = {"works": 0, "suggestions": 0}
    use_model = design_model.ENABLED if learned is None else learned
    model = design_model.train(confirmed_designs(db)) if use_model and todo else None
    if model is not None:
        counts["learned"] = 0
    for start in range(0, len(todo), TAG_BATCH):
        batch = []
        for work in todo[start:start + TAG_BATCH]:
            batch.append((work["id"], suggest_for_work(work, _raws(db, work["id"]), model)))
            if progress:
                progress(1)
        with write_transaction(db):
            done = _suggested_already(db, [work_id for work_id, _ in batch])
            for work_id, suggestions in batch:
                if work_id in done:
                    continue  # another `litrev tag auto` got there first
                counts["suggestions"] += save_suggestions(db, work_id, suggestions)
                counts["works"] += 1
                if model is not None:
                    counts["learned"] += sum(map(design_model.is_learned, suggestions))
    return counts


def _raws(db: Database, work_id: int) -> list[dict[str, Any]]:
    return [_loads(r["raw"]) for r in db.query("select raw from records where work_id = ?", [work_id])]


def _suggested_already(db: Database, work_ids: list[int]) -> set[int]:
    return {r[0] for r in db.execute(
        "select distinct work_id from tags where origin = 'auto' "
        "and work_id in (select value from json_each(?))", [json.dumps(work_ids)])}


def confirmed_designs(db: Database) -> list[tuple[str | None, str | None, str]]:
    """(title, abstract, design) of every canonical work whose design a person set or
    accepted; works with several confirmed designs are left out (no single label)."""
    rows = db.query(
        f"""select works.id, works.title, works.abstract, group_concat(distinct work_tags.value) as designs
           from work_tags join works on works.id = work_tags.work_id
           where work_tags.key = 'design' and {CONFIRMED}
           group by works.id order by works.id""")
    return [(r["title"], r["abstract"], r["designs"]) for r in rows if "," not in r["designs"]]


def _loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def parse_assignments(pairs: Iterable[str]) -> list[tuple[str, str]]:
    """`country=GB design=rct setting=prison` -> [(key, value)], values checked and normalised.

    An empty value (`country=`) clears a person's tags for that key, so the
    suggestions show again.
    """
    out: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key:
            raise LitrevError(f"Cannot read tag {pair!r}. Write key=value, e.g. country=GB design=rct.")
        out.extend(normalise_tag(key, value))
    return out


def normalise_tag(key: str, value: str) -> list[tuple[str, str]]:
    if not value:
        return [(key, "")]
    if key == "country":
        return _country_tag(value)
    if key == "nation":
        nation = next((n for n in NATIONS if n.lower() == value.lower()), None)
        if not nation:
            raise LitrevError(f"Unknown UK nation {value!r}. Use one of: {', '.join(sorted(NATIONS))}.")
        return [("nation", nation)]
    if key == "design":
        if value.lower() not in DESIGNS:
            raise LitrevError(f"Unknown design {value!r}. Use one of: {', '.join(DESIGNS)}.")
        return [("design", value.lower())]
    return [(key, value)]


def _country_tag(value: str) -> list[tuple[str, str]]:
    """GB, gbr, United Kingdom, UK -> GB; Scotland -> GB + nation=Scotland."""
    folded = fold(value)
    hit = GAZETTEER.get(folded) or GAZETTEER.get(folded.title()) or GAZETTEER.get(folded.upper())
    if hit and hit[2] in ("country", "nation"):
        return [("country", hit[0])] + ([("nation", hit[1])] if hit[1] else [])
    try:
        return [("country", pycountry.countries.lookup(value).alpha_2)]
    except LookupError:
        raise LitrevError(f"Unknown country {value!r}. Use an ISO 3166 code (GB, US, NL) or an English name.")


def set_tags(db: Database, work_id: int, assignments: Iterable[tuple[str, str]], reviewer: str,
             evidence: str | None = None) -> int:
    """A person's tags: for each key given, they replace that person's (or anyone's)
    earlier manual tags for the key; suggestions stay stored but are hidden by the view.
    `evidence` is the reason for the tags, when the tagger gave one."""
    if not reviewer:
        raise LitrevError("Tags need a reviewer name. Give --reviewer NAME or set $LITREV_REVIEWER.")
    work_id = resolve_work(db, work_id)
    assignments = list(assignments)
    members = [r[0] for r in db.execute("select work_id from canonical_works where canonical_id = ?", [work_id])]
    marks = ",".join("?" * len(members))
    with write_transaction(db):
        for key in dict.fromkeys(k for k, _ in assignments):
            db.execute(
                f"update tags set status = 'replaced' where origin = 'manual' and status = 'set' "
                f"and key = ? and work_id in ({marks})", [key, *members])
        rows = [
            {"work_id": work_id, "key": key, "value": value, "origin": "manual", "status": "set",
             "confidence": 1.0, "evidence": evidence, "reviewer": reviewer, "created_at": now()}
            for key, value in dict.fromkeys(assignments) if value
        ]
        db["tags"].insert_all(rows)
    return len(rows)


def effective_tags(db: Database, work_id: int) -> list[dict[str, Any]]:
    work_id = resolve_work(db, work_id)
    return list(db.query("select * from work_tags where work_id = ? order by key, confidence desc, value",
                         [work_id]))


def pending_reviews(db: Database, key: str | None = None, limit: int | None = None, stage: str = "all",
                    below: float | None = None) -> list[dict[str, Any]]:
    """Suggestions still waiting for a person, for keys nobody has set by hand; one row each.

    `stage` keeps the works in one scope of `views.STAGE_WORKS` (e.g. only included works);
    `below` keeps suggestions under that confidence, the ones most often wrong.
    """
    sql = f"""
        select tags.id, tags.work_id, tags.key, tags.value, tags.confidence, tags.evidence,
               works.title, works.year
        from tags join canonical_works on canonical_works.work_id = tags.work_id
        join works on works.id = canonical_works.canonical_id
        where tags.origin = 'auto' and tags.status = 'suggested'
          and exists (select 1 from work_tags where work_tags.work_id = canonical_works.canonical_id
                      and work_tags.key = tags.key and work_tags.origin = 'auto')
          and canonical_works.canonical_id in ({stage_works(stage)})
    """
    params: list[Any] = []
    if key:
        sql += " and tags.key = ?"
        params.append(key)
    if below is not None:
        sql += " and tags.confidence < ?"
        params.append(below)
    sql += " order by canonical_works.canonical_id, tags.key, tags.confidence desc"
    rows = list(db.query(sql, params))
    if limit is not None:
        keep = list(dict.fromkeys(r["work_id"] for r in rows))[:limit]
        rows = [r for r in rows if r["work_id"] in keep]
    return rows


Decide = Callable[[dict[str, Any]], tuple[str, str | None]]


def review(db: Database, reviewer: str, decide: Decide, key: str | None = None,
           limit: int | None = None, stage: str = "all", below: float | None = None) -> dict[str, int]:
    """Walk pending suggestions; `decide(suggestion)` returns one of ("accept", None),
    ("reject", None), ("change", "new value"), ("skip", None), ("quit", None).

    A change rejects the suggestion and adds a person's tag for that key; the
    suggestions already accepted for the key are then kept as people's tags too,
    so the key's effective values are exactly what the reviewer confirmed.
    """
    if not reviewer:
        raise LitrevError("Reviewing needs a reviewer name. Give --reviewer NAME or set $LITREV_REVIEWER.")
    counts = {"accepted": 0, "rejected": 0, "changed": 0, "skipped": 0}
    for row in pending_reviews(db, key, limit, stage, below):
        action, value = decide(row)
        if action == "quit":
            break
        with write_transaction(db):
            if action == "accept":
                _mark(db, row["id"], "accepted", reviewer)
                counts["accepted"] += 1
            elif action == "reject":
                _mark(db, row["id"], "rejected", reviewer)
                counts["rejected"] += 1
            elif action == "change":
                assignments = normalise_tag(row["key"], value or "")
                _mark(db, row["id"], "rejected", reviewer)
                _change(db, row, assignments, reviewer)
                counts["changed"] += 1
            else:
                counts["skipped"] += 1
    return counts


def _mark(db: Database, tag_id: int, status: str, reviewer: str) -> None:
    db.execute("update tags set status = ?, reviewer = ? where id = ?", [status, reviewer, tag_id])


def _change(db: Database, row: dict[str, Any], assignments: list[tuple[str, str]], reviewer: str) -> None:
    keep = [(row["key"], r["value"]) for r in db.query(
        "select value from work_tags where work_id = ? and key = ? and origin = 'manual'",
        [row["work_id"], row["key"]])]
    keep += [(row["key"], r["value"]) for r in db.query(
        """select tags.value from tags join canonical_works on canonical_works.work_id = tags.work_id
           where canonical_works.canonical_id = ? and tags.key = ? and tags.origin = 'auto'
             and tags.status = 'accepted'""", [row["work_id"], row["key"]])]
    set_tags(db, row["work_id"], keep + [a for a in assignments if a[1]], reviewer)


def country_name(code: str) -> str:
    """An ISO 3166 alpha-2 code as the short name people use ("Iran", not "Iran, Islamic Republic of")."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
