"""Screening: append-only decisions, the blind queue, conflicts, adjudication, agreement.

Nothing here overwrites: every decision, change of mind, undo and adjudication
is a new row in `decisions`; the current state is derived in the views
`screening_votes`, `screening_outcomes` and `work_status` (litrev/views.py).
Transactions are one decision long, so two screeners in two terminals only ever
wait a few milliseconds for each other (WAL + busy timeout in open_db).
"""

import csv
import hashlib
import io
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from litrev.db import now, utc_timestamp, write_transaction
from litrev.errors import InputFileError, LitrevError
from litrev.ids import resolve_work
from litrev.paths import open_output
from litrev.screen.settings import ReviewSettings, SettingsError
from litrev.web.plugins.litrev_public import neutralise_formula

DECISIONS = ("include", "exclude", "maybe", "undo")
VOTE_LABELS = ("include", "exclude", "maybe")
# Columns of `litrev screen export`; `litrev screen import` needs work_id (or doi),
# stage, reviewer and decision, and ignores columns it does not know (title, ...).
CSV_COLUMNS = ["work_id", "doi", "title", "stage", "reviewer", "decision", "reason", "note",
               "kind", "decided_at"]
REQUIRED_COLUMNS = ("stage", "reviewer", "decision")
MAX_ERRORS_SHOWN = 5


# --- decisions ---------------------------------------------------------------


def check_reason(settings: ReviewSettings, stage: str, reason: str | None) -> str | None:
    """The configured spelling of `reason` (case-insensitive, or its 1-based number)."""
    reasons = settings.reasons_for(stage)
    if reason is None or not str(reason).strip():
        return None
    text = str(reason).strip()
    if text.isdigit() and 1 <= int(text) <= len(reasons):
        return reasons[int(text) - 1]
    for known in reasons:
        if known.lower() == text.lower():
            return known
    numbered = "; ".join(f"{i}. {r}" for i, r in enumerate(reasons, 1))
    raise LitrevError(f"Unknown exclusion reason {text!r} at {stage}. Use one of: {numbered}.")


def record_decision(
    db: Database, settings: ReviewSettings, work_id: int, stage: str, reviewer: str,
    decision: str, *, reason: str | None = None, note: str | None = None,
    kind: str = "vote", decided_at: str | None = None,
) -> int:
    """Append one decision after checking it; return its row id."""
    row = check_decision(db, settings, work_id, stage, reviewer, decision, reason=reason,
                         note=note, kind=kind, decided_at=decided_at)
    with write_transaction(db):
        return db["decisions"].insert(row).last_pk


def check_decision(
    db: Database, settings: ReviewSettings, work_id: int, stage: str, reviewer: str,
    decision: str, *, reason: str | None = None, note: str | None = None,
    kind: str = "vote", decided_at: str | None = None,
) -> dict[str, Any]:
    """The row to append for a decision, or a LitrevError saying what is wrong with it."""
    stage_settings = settings.stage(stage)
    reviewer = settings.check_reviewer(reviewer)
    decision = (decision or "").strip().lower()
    if decision not in DECISIONS:
        raise LitrevError(f"Unknown decision {decision!r}. Use include, exclude, maybe or undo.")
    if kind not in ("vote", "adjudication"):
        raise LitrevError(f"Unknown decision kind {kind!r}. Use vote or adjudication.")
    if kind == "adjudication" and decision == "maybe":
        raise LitrevError("An adjudication must include or exclude. Use --include or --exclude.")
    reason = check_reason(settings, stage, reason)
    if decision == "exclude" and reason is None and (stage_settings.reason_required or kind == "adjudication"):
        raise LitrevError(f"An exclusion at {stage} needs a reason. Give one of the reasons in review.toml.")
    if decision != "exclude" and reason is not None:
        raise LitrevError(f"A reason only goes with an exclusion, not with {decision!r}. Drop the reason.")
    work = resolve_work(db, work_id)
    if decision == "undo" and not _has_current(db, work, stage, reviewer, kind):
        raise LitrevError(f"{reviewer} has no {kind} on work {work} at {stage} to undo.")
    if stage != _first_stage(settings) and not passed_previous_stage(db, settings, work, stage):
        raise LitrevError(
            f"Work {work} has not been included at {_previous_stage(settings, stage)}, so it cannot "
            f"be screened at {stage}. Screen it at {_previous_stage(settings, stage)} first."
        )
    return {
        "work_id": work, "stage": stage, "reviewer": reviewer, "decision": decision,
        "reason": reason, "note": (note or "").strip() or None, "kind": kind,
        "decided_at": _timestamp(decided_at),
    }


def undo(db: Database, settings: ReviewSettings, work_id: int, stage: str, reviewer: str) -> int:
    return record_decision(db, settings, work_id, stage, reviewer, "undo")


def _timestamp(value: str | None) -> str:
    if not value:
        return now()
    try:
        return utc_timestamp(value)
    except ValueError:
        raise LitrevError(f"decided_at {value!r} is not an ISO 8601 time. Use e.g. 2026-01-31T09:30:00+00:00.")


def _has_current(db: Database, work_id: int, stage: str, reviewer: str, kind: str) -> bool:
    view = "screening_votes" if kind == "vote" else "screening_adjudications"
    sql = f"select 1 from {view} where work_id = ? and stage = ?"
    params = [work_id, stage]
    if kind == "vote":
        sql += " and reviewer = ?"
        params.append(reviewer)
    return db.execute(sql, params).fetchone() is not None


def _first_stage(settings: ReviewSettings) -> str:
    return next(iter(settings.stages))


def _previous_stage(settings: ReviewSettings, stage: str) -> str:
    names = list(settings.stages)
    return names[max(names.index(stage) - 1, 0)]


def passed_previous_stage(db: Database, settings: ReviewSettings, work_id: int, stage: str) -> bool:
    row = db.execute(
        "select 1 from screening_outcomes where work_id = ? and stage = ? and outcome = 'include'",
        [work_id, _previous_stage(settings, stage)],
    ).fetchone()
    return row is not None


# --- the queue ---------------------------------------------------------------


def eligible_works(db: Database, settings: ReviewSettings, stage: str) -> list[int]:
    """Canonical works that belong at `stage` (full text: only those included before)."""
    settings.stage(stage)
    if stage == _first_stage(settings):
        return [r[0] for r in db.execute("select id from works where merged_into is null order by id")]
    return [
        r[0] for r in db.execute(
            """select works.id from works join screening_outcomes o on o.work_id = works.id
               where works.merged_into is null and o.stage = ? and o.outcome = 'include'
               order by works.id""",
            [_previous_stage(settings, stage)],
        )
    ]


def queue(
    db: Database, settings: ReviewSettings, stage: str, reviewer: str,
    *, pilot: int | None = None,
) -> list[tuple[int, float | None]]:
    """What `reviewer` still has to screen at `stage`, best first: (work id, model score or None).

    Blind: only this reviewer's own votes are read. A work leaves the queue when
    this reviewer voted, when it has as many votes as the stage needs, or when it
    was adjudicated; nobody's decision is revealed by it.
    """
    reviewer = settings.check_reviewer(reviewer)
    needed = settings.stage(stage).screeners
    candidates = pilot_sample(db, settings, stage, pilot) if pilot else eligible_works(db, settings, stage)
    done = {
        r[0] for r in db.execute(
            """select work_id from screening_votes where stage = ? group by work_id
               having sum(reviewer = ?) > 0 or count(*) >= ?
               union select work_id from screening_adjudications where stage = ?""",
            [stage, reviewer, needed, stage],
        )
    }
    todo = [w for w in candidates if w not in done]
    if pilot or not settings.prioritise:
        return [(w, None) for w in todo]
    # Imported here, not at the top: litrev.screen.rank loads scikit-learn (seconds), and every
    # `litrev` command imports this module through the CLI.
    from litrev.screen.rank import order_queue

    return order_queue(db, stage, reviewer, todo, settings)


def pilot_sample(db: Database, settings: ReviewSettings, stage: str, n: int) -> list[int]:
    """A calibration sample of `n` works, the same for every screener.

    Each work gets a pseudo-random key from the review's pilot seed and its id, so
    the sample does not depend on who asks or in what order, and adding works later
    only adds to it where a new work's key is smaller.
    """
    if n < 1:
        raise LitrevError(f"--pilot {n}: the sample size must be at least 1. Use e.g. --pilot 50.")

    def key(work_id: int) -> str:
        return hashlib.sha256(f"{settings.pilot_seed}:{work_id}".encode()).hexdigest()

    return sorted(eligible_works(db, settings, stage), key=key)[:n]


# --- conflicts and adjudication ---------------------------------------------


def conflicts(db: Database, stage: str | None = None) -> list[dict[str, Any]]:
    """Works whose current votes disagree (not yet adjudicated), with every vote."""
    sql = """select o.work_id, o.stage, works.title from screening_outcomes o
             join works on works.id = o.work_id where o.outcome = 'conflict'"""
    params: list[Any] = []
    if stage:
        sql += " and o.stage = ?"
        params.append(stage)
    out = []
    for work_id, st, title in db.execute(sql + " order by o.stage desc, o.work_id", params).fetchall():
        votes = [
            {"reviewer": r, "decision": d, "reason": why}
            for r, d, why in db.execute(
                "select reviewer, decision, reason from screening_votes where work_id = ? and stage = ? "
                "order by reviewer", [work_id, st])
        ]
        out.append({"work_id": work_id, "stage": st, "title": title, "votes": votes})
    return out


def resolve(
    db: Database, settings: ReviewSettings, work_id: int, stage: str, reviewer: str,
    decision: str, reason: str | None = None, note: str | None = None,
) -> int:
    """Record an adjudication: it decides the stage for the work, whatever the votes."""
    return record_decision(db, settings, work_id, stage, reviewer, decision, reason=reason,
                           note=note, kind="adjudication")


# --- agreement ---------------------------------------------------------------


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa for two raters' labels; None when chance agreement is 1 (undefined)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def agreement(
    db: Database, stage: str | None = None, work_ids: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Per stage and reviewer pair: works both voted on, percent agreement, Cohen's kappa.

    Labels are include / exclude / maybe (maybe is its own category).
    """
    sql = "select stage, reviewer, work_id, decision from screening_votes"
    params: list[Any] = []
    if stage:
        sql += " where stage = ?"
        params.append(stage)
    votes: dict[str, dict[str, dict[int, str]]] = {}
    keep = set(work_ids) if work_ids is not None else None
    for st, reviewer, work_id, decision in db.execute(sql, params):
        if keep is None or work_id in keep:
            votes.setdefault(st, {}).setdefault(reviewer, {})[work_id] = decision
    rows = []
    for st in sorted(votes, key=lambda s: (s != "title-abstract", s)):
        for a, b in combinations(sorted(votes[st]), 2):
            shared = sorted(set(votes[st][a]) & set(votes[st][b]))
            if not shared:
                continue
            pairs = [(votes[st][a][w], votes[st][b][w]) for w in shared]
            agree = sum(x == y for x, y in pairs)
            kappa = cohen_kappa(pairs)
            rows.append({
                "stage": st, "reviewer_a": a, "reviewer_b": b, "n": len(pairs), "agree": agree,
                "percent": round(100 * agree / len(pairs), 1),
                "kappa": None if kappa is None else round(kappa, 3),
            })
    return rows


# --- CSV import / export -----------------------------------------------------


def export_decisions(db: Database, path: str | Path, stage: str | None = None,
                     keep_formulas: bool = False) -> int:
    """Write every decision row (the full append-only log) to CSV; return the row count.

    Cells a spreadsheet would run as formulas (a note "=HYPERLINK(...)") are neutralised
    unless `keep_formulas`.
    """
    sql = """select d.work_id, works.doi, works.title, d.stage, d.reviewer, d.decision, d.reason,
                    d.note, d.kind, d.decided_at
             from decisions d left join works on works.id = d.work_id"""
    params: list[Any] = []
    if stage:
        sql += " where d.stage = ?"
        params.append(stage)
    rows = db.execute(sql + " order by d.id", params).fetchall()
    with open_output(path, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows if keep_formulas else
                         ([neutralise_formula(v) for v in row] for row in rows))
    return len(rows)


def _field_count_problem(row: dict[str | None, Any], expected: int) -> str | None:
    """Why a CSV row does not fit the header, or None: DictReader files extra fields
    under None and fills missing ones with None, which would shift or blank values."""
    extra = row.get(None) or []
    missing = sum(1 for k, v in row.items() if k is not None and v is None)
    blank = not any((v or "").strip() for k, v in row.items() if k is not None)
    if not extra and (not missing or blank):
        return None
    found = expected + len(extra) - missing
    return f"row has {found} fields but the header has {expected} (a stray comma or quote?)"


def import_decisions(db: Database, settings: ReviewSettings, path: str | Path) -> int:
    """Append the decisions in a CSV file, all or nothing; return how many were added.

    Rows are checked and appended in file order inside one transaction, so a file
    can hold title-abstract votes followed by full-text votes on the same works.
    Any bad row rolls everything back and is reported with its line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"No file {path}. Check the path.")
    except UnicodeDecodeError:
        raise InputFileError(f"{path} is not UTF-8 text. Save it as CSV UTF-8 and import again.")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if "work_id" not in columns and "doi" not in columns:
        missing.insert(0, "work_id (or doi)")
    if missing:
        raise InputFileError(
            f"{path}: missing column(s) {', '.join(missing)}. The header needs "
            "work_id (or doi), stage, reviewer, decision; see docs/screening.md \"litrev screen import\"."
        )
    errors: list[str] = []
    added = 0

    class _Rollback(Exception):
        pass

    try:
        with write_transaction(db):
            for row in reader:
                line = reader.line_num
                if (shape := _field_count_problem(row, len(columns))) is not None:
                    errors.append(f"line {line}: {shape}")
                    continue
                values = {k: (v or "").strip() for k, v in row.items() if k}
                if not any(values.values()):
                    continue
                try:
                    ident = values.get("work_id") or values.get("doi")
                    if not ident:
                        raise LitrevError("no work_id or doi")
                    work_id = resolve_work(db, ident)
                    decision_row = check_decision(
                        db, settings, work_id, values["stage"], values["reviewer"], values["decision"],
                        reason=values.get("reason"), note=values.get("note"),
                        kind=values.get("kind") or "vote", decided_at=values.get("decided_at"),
                    )
                except (LitrevError, SettingsError) as e:
                    errors.append(f"line {line}: {str(e).split('. ')[0].rstrip('.')}")
                    continue
                db["decisions"].insert(decision_row)
                added += 1
            if errors:
                raise _Rollback
    except _Rollback:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InputFileError(
            f"{path}: {len(errors)} bad row(s), nothing imported: {shown}{more}. Fix them and import again."
        )
    return added
