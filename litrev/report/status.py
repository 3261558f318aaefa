"""`litrev status`: the database at a glance.

`summarise()` returns the stable JSON documented in docs/reports.md ("litrev status
--json"); add keys, never rename or remove them.
"""

from typing import Any

from rich.console import Console
from rich.table import Table
from sqlite_utils import Database


def summarise(db: Database) -> dict[str, Any]:
    return {
        "records": _records(db),
        "works": _works(db),
        "runs": _runs(db),
        "screening": _screening(db),
        "tags": _tags(db),
    }


def _records(db: Database) -> dict[str, Any]:
    by_source = dict(db.execute("select source, count(*) from records group by source order by source"))
    unlinked = db.execute("select count(*) from records where work_id is null").fetchone()[0]
    return {"total": sum(by_source.values()), "by_source": by_source, "without_work": unlinked}


def _works(db: Database) -> dict[str, Any]:
    total, merged = db.execute(
        "select count(*) filter (where merged_into is null), count(*) filter (where merged_into is not null) from works"
    ).fetchone()
    return {"total": total, "merged_away": merged}


def _runs(db: Database) -> dict[str, Any]:
    by_status = dict(db.execute("select status, count(*) from harvest_runs group by status"))
    last = [
        dict(row)
        for row in db.query(
            """select query_id as query, source_name as source, status, finished_at,
                      fetched, new, updated
               from harvest_runs where id in (
                   select max(id) from harvest_runs group by query_id, source_name)
               order by query_id, source_name"""
        )
    ]
    return {"total": sum(by_status.values()), "by_status": by_status, "latest": last}


def _screening(db: Database) -> dict[str, Any]:
    rows = db.execute(
        "select stage, count(distinct work_id), count(*) from decisions group by stage order by stage"
    ).fetchall()
    summary = {stage: {"works_with_decisions": works, "decisions": n} for stage, works, n in rows}
    for stage, counts in _stage_outcomes(db).items():
        summary.setdefault(stage, {"works_with_decisions": 0, "decisions": 0}).update(counts)
    return summary


def _stage_outcomes(db: Database) -> dict[str, dict[str, int]]:
    """Per stage, canonical works included / excluded / maybe / conflict / pending (too few
    votes yet) / unscreened (eligible, no decision), from the screening views."""
    stages = [r[0] for r in db.execute("select stage from review_settings order by position")]
    stages = stages or ["title-abstract", "full-text"]
    eligible = db.execute("select count(*) from works where merged_into is null").fetchone()[0]
    out: dict[str, dict[str, int]] = {}
    for stage in stages:
        counts = dict(db.execute(
            """select outcome, count(*) from screening_outcomes o
               join works on works.id = o.work_id and works.merged_into is null
               where o.stage = ? group by outcome""", [stage]))
        decided = sum(counts.values())
        out[stage] = {
            "included": counts.get("include", 0), "excluded": counts.get("exclude", 0),
            "maybe": counts.get("maybe", 0), "conflict": counts.get("conflict", 0),
            "pending": counts.get("pending", 0), "unscreened": max(eligible - decided, 0),
        }
        eligible = out[stage]["included"]  # the next stage screens what this one included
    return out


def _tags(db: Database) -> dict[str, Any]:
    rows = db.execute("select key, origin, count(distinct work_id) from tags group by key, origin")
    summary: dict[str, dict[str, int]] = {}
    for key, origin, n in rows:
        summary.setdefault(key, {})[origin] = n
    return summary


def print_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    records = summary["records"]
    table = Table(title="litrev status", show_header=False)
    table.add_row("records", str(records["total"]))
    for source, n in records["by_source"].items():
        table.add_row(f"  from {source}", str(n))
    table.add_row("works (after dedupe)", str(summary["works"]["total"]))
    table.add_row("runs", str(summary["runs"]["total"]))
    for stage, counts in summary["screening"].items():
        table.add_row(f"screened: {stage}", str(counts["works_with_decisions"]))
        if "included" in counts:
            table.add_row("  included / excluded / maybe",
                          f"{counts['included']} / {counts['excluded']} / {counts['maybe']}")
            table.add_row("  conflict / pending / unscreened",
                          f"{counts['conflict']} / {counts['pending']} / {counts['unscreened']}")
    console.print(table)
    for run in summary["runs"]["latest"]:
        console.print(
            f"  last {run['query'] or '-'} / {run['source']}: {run['status']} "
            f"{run['finished_at'] or ''} (+{run['new']} new, {run['updated']} updated)"
        )
