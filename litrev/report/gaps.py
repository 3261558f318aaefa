"""The evidence gap map: works per country of study x study design (or year).

Counts come from the effective tags (`work_tags`): a person's tags, accepted
suggestions, and open suggestions with confidence >= tags.SUGGESTED (weak
hints such as affiliation-only countries are left out). A multi-country study
counts once in each of its countries, so row totals can add up to more than
the number of works; `works` is always the number of distinct works.
"""

from typing import Any

from rich.console import Console
from rich.table import Table
from sqlite_utils import Database

from litrev.errors import LitrevError
from litrev.tags.storage import DESIGNS, country_name
from litrev.views import BASES, NOT_TAGGED, STAGE_WORKS, gap_counts, stage_works

STAGES = list(STAGE_WORKS)
NO_DESIGN = "untagged"  # how `--json` and the table name the no-design column (the views say '')
NO_DATE = "n.d."
EMPTY = "·"


def gap_table(db: Database, stage: str = "included", by: str = "design",
              basis: str = "counted") -> dict[str, Any]:
    """Counts for the terminal table, `--json` and scripts (documented in docs/tagging.md).

    Read from the gap views (litrev/views.py), the numbers `litrev publish` and the site show.
    """
    stage_works(stage)
    if by not in ("design", "year"):
        raise LitrevError(f"Cannot group by {by!r}. Use design or year.")
    if basis not in BASES:
        raise LitrevError(f"Unknown basis {basis!r}. Use one of: {', '.join(BASES)}.")
    if not db["gap_works"].exists():
        raise LitrevError("This database has no gap views yet. Run any litrev command that writes "
                          "(e.g. `litrev status`) to create them.")
    counts = gap_counts(db, [stage], [basis])
    totals = counts["gap_totals"][0]
    works = totals["works"]
    row_totals = {r["country"]: r["works"] for r in counts["gap_countries"]}
    cells, column_totals = _cells(counts, by)
    columns = _column_order(by, set(column_totals))
    order = sorted((c for c in row_totals if c != NOT_TAGGED), key=lambda c: (-row_totals[c], _name(c)))
    order += [NOT_TAGGED] if NOT_TAGGED in row_totals else []
    rows = [{"country": c or None, "name": _name(c),
             "cells": {col: cells.get((c, col), 0) for col in columns}, "total": row_totals[c]}
            for c in order]
    return {
        "stage": stage, "by": by, "works": works, "columns": columns, "rows": rows,
        "column_totals": {col: column_totals.get(col, 0) for col in columns},
        "uk": _uk(counts["gap_uk_nations"], totals), "by_year": _by_year(counts["gap_years"]),
        "basis": basis, "works_on_suggestions": totals["on_suggestions"],
    }


def _cells(counts: dict[str, list[dict]], by: str) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """(country, column) -> works, and column -> works, for design or year columns."""
    if by == "design":
        return ({(r["country"], _design_column(r["design"])): r["works"] for r in counts["gap_map"]},
                {_design_column(r["design"]): r["works"] for r in counts["gap_designs"]})
    return ({(r["country"], _year_column(r["year"])): r["works"] for r in counts["gap_country_years"]},
            {_year_column(r["year"]): r["works"] for r in counts["gap_years"]})


def _design_column(design: str) -> str:
    return design or NO_DESIGN


def _year_column(year: int | None) -> str:
    return str(year) if year else NO_DATE


def _column_order(by: str, present: set[str]) -> list[str]:
    if by == "design":  # every design, so the empty ones show as gaps
        return list(DESIGNS) + ([NO_DESIGN] if NO_DESIGN in present else [])
    years = sorted(int(y) for y in present if y != NO_DATE)
    span = [str(y) for y in range(years[0], years[-1] + 1)] if years else []
    return span + ([NO_DATE] if NO_DATE in present else [])


def _name(code: str) -> str:
    if code == NOT_TAGGED:
        return "(no country tag)"
    return country_name(code)


def _uk(nations: list[dict], totals: dict) -> dict[str, Any]:
    works, with_country, uk = totals["works"], totals["works_with_country"], totals["uk_works"]
    return {
        "works": uk,
        "share_of_works": round(uk / works, 3) if works else None,
        "share_of_works_with_country": round(uk / with_country, 3) if with_country else None,
        "nations": {r["nation"]: r["works"] for r in sorted(nations, key=lambda r: r["nation"])},
    }


def _by_year(years: list[dict]) -> list[dict[str, Any]]:
    ordered = sorted(years, key=lambda r: (r["year"] is None, r["year"] or 0))
    return [{"year": r["year"], "works": r["works"], "uk": r["uk_works"]} for r in ordered]


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
    if summary["works_on_suggestions"]:
        console.print(f"{summary['works_on_suggestions']} of {summary['works']} works are placed by at least one of "
                      "litrev's suggestions (--confirmed-only counts reviewers' tags only).", style="dim")
