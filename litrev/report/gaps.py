"""The evidence gap map: works per country of study x study design (or year).

Counts come from the effective tags (`work_tags`): a person's tags, accepted
suggestions, and open suggestions with confidence >= tags.SUGGESTED (weak
hints such as affiliation-only countries are left out). A multi-country study
counts once in each of its countries, so row totals can add up to more than
the number of works; `works` is always the number of distinct works.
"""

from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlite_utils import Database

from litrev.errors import LitrevError
from litrev.tags.storage import DESIGNS, country_name
from litrev.views import COUNTED, STAGE_WORKS, stage_works

STAGES = list(STAGE_WORKS)
NO_COUNTRY = "none"  # row key for works without a country tag
NO_DESIGN = "untagged"
EMPTY = "·"


def gap_table(db: Database, stage: str = "included", by: str = "design") -> dict[str, Any]:
    """Counts for the terminal table, `--json` and scripts (documented in docs/tagging.md)."""
    works_sql = stage_works(stage)
    if by not in ("design", "year"):
        raise LitrevError(f"Cannot group by {by!r}. Use design or year.")
    if stage != "all" and not db["work_status"].exists():
        raise LitrevError("This database has no screening views yet. Run `litrev screen` first or use --stage all.")
    works = {r[0]: r[1] for r in db.execute(
        f"select works.id, works.year from works where works.id in ({works_sql})")}
    tags = _tags(db, set(works))
    countries = {w: sorted(tags[w]["country"]) or [NO_COUNTRY] for w in works}
    columns_of = {w: _columns(by, tags[w]["design"], works[w]) for w in works}
    columns = _column_order(by, {c for cs in columns_of.values() for c in cs})
    cells: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    for w in works:
        for country in countries[w]:
            totals[country] += 1
            for column in columns_of[w]:
                cells[country][column] += 1
    order = sorted((c for c in totals if c != NO_COUNTRY), key=lambda c: (-totals[c], _name(c)))
    order += [NO_COUNTRY] if NO_COUNTRY in totals else []
    rows = [{"country": None if c == NO_COUNTRY else c, "name": _name(c),
             "cells": {col: cells[c][col] for col in columns}, "total": totals[c]} for c in order]
    column_totals = {col: sum(1 for w in works if col in columns_of[w]) for col in columns}
    return {
        "stage": stage, "by": by, "works": len(works), "columns": columns, "rows": rows,
        "column_totals": column_totals, "uk": _uk(works, countries, tags), "by_year": _by_year(works, countries),
    }


def _tags(db: Database, work_ids: set[int]) -> dict[int, dict[str, set[str]]]:
    tags: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = db.execute(
        f"""select work_id, key, value from work_tags
           where key in ('country', 'nation', 'design')
             and {COUNTED}""")
    for work_id, key, value in rows:
        if work_id in work_ids:
            tags[work_id][key].add(value)
    return tags


def _columns(by: str, designs: set[str], year: int | None) -> list[str]:
    if by == "year":
        return [str(year) if year else "n.d."]
    return sorted(designs) or [NO_DESIGN]


def _column_order(by: str, present: set[str]) -> list[str]:
    if by == "design":  # every design, so the empty ones show as gaps
        return list(DESIGNS) + ([NO_DESIGN] if NO_DESIGN in present else [])
    years = sorted(int(y) for y in present if y != "n.d.")
    span = [str(y) for y in range(years[0], years[-1] + 1)] if years else []
    return span + (["n.d."] if "n.d." in present else [])


def _name(code: str) -> str:
    if code == NO_COUNTRY:
        return "(no country tag)"
    return country_name(code)


def _uk(works: dict[int, Any], countries: dict[int, list[str]], tags) -> dict[str, Any]:
    uk = [w for w in works if "GB" in countries[w]]
    tagged = [w for w in works if countries[w] != [NO_COUNTRY]]
    nations = Counter(n for w in uk for n in tags[w]["nation"])
    return {
        "works": len(uk),
        "share_of_works": round(len(uk) / len(works), 3) if works else None,
        "share_of_works_with_country": round(len(uk) / len(tagged), 3) if tagged else None,
        "nations": dict(sorted(nations.items())),
    }


def _by_year(works: dict[int, Any], countries: dict[int, list[str]]) -> list[dict[str, Any]]:
    years: dict[Any, Counter] = defaultdict(Counter)
    for w, year in works.items():
        years[year]["works"] += 1
        years[year]["uk"] += "GB" in countries[w]
    return [{"year": y, "works": c["works"], "uk": c["uk"]}
            for y, c in sorted(years.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]


SHORT = {  # column headers short enough for a terminal; the legend below the table spells them out
    "rct": "RCT", "non-randomised": "nonR", "cohort": "coh", "case-control": "c-c", "cross-sectional": "xsec",
    "qualitative": "qual", "mixed-methods": "mix", "systematic-review": "rev", "economic-evaluation": "econ",
    "case-study": "case", "protocol": "prot", "commentary": "comm", "other": "oth", NO_DESIGN: "none",
}


def print_gaps(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    if not summary["works"]:
        console.print(f"No works at stage {summary['stage']!r} yet.")
        return
    title = f"Works by country x {summary['by']} ({summary['stage']}: {summary['works']} works; {EMPTY} = none)"
    table = Table(title=title, padding=(0, 1))
    table.add_column("country", no_wrap=True, overflow="ellipsis", max_width=18)
    for column in summary["columns"]:
        header = SHORT.get(column, column)
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    table.add_column("total", justify="right", style="bold", no_wrap=True, min_width=5)
    for row in summary["rows"]:
        label = f"{row['country']} {row['name']}" if row["country"] else row["name"]
        table.add_row(label, *[str(n) if n else EMPTY for n in row["cells"].values()], str(row["total"]))
    table.add_row("all works", *[str(n) if n else EMPTY for n in summary["column_totals"].values()],
                  str(summary["works"]), style="bold")
    console.print(table)
    if summary["by"] == "design":
        console.print("  " + ", ".join(f"{SHORT[c]} = {c}" for c in summary["columns"]), style="dim")
    uk = summary["uk"]
    nations = ", ".join(f"{n} {k}" for k, n in uk["nations"].items())
    share = uk["share_of_works_with_country"]
    console.print(
        f"UK studies: {uk['works']} of {summary['works']} works ({uk['share_of_works']:.0%})"
        + (f", {share:.0%} of works with a country" if share is not None else "")
        + (f"; {nations}" if nations else "")
    )
    trend = "  ".join(f"{y['year'] or 'n.d.'}: {y['works']} ({y['uk']} UK)" for y in summary["by_year"])
    console.print(f"By year: {trend}")
