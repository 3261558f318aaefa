"""PRISMA 2020 flow diagram, computed from the database (never typed by hand).

`prisma_counts` derives every number from provenance, works and the screening
views; `render` draws it as SVG (laid out like the official PRISMA 2020
template, including the "updated review" form and the "other methods" arm for
citation searching), HTML, Markdown or JSON.

Arms: a record belongs to "databases and registers" when any harvest or import
run found it, and to "other methods" when only citation-searching runs did. A
work belongs to the databases arm when any of its records does. Each arm adds up:
identified - duplicates removed = records screened + awaiting screening;
screened = excluded + reports sought; sought = not retrieved + assessed +
awaiting assessment; assessed = excluded (all reasons) + studies included.
"""

import json
from collections import Counter
from html import escape
from textwrap import wrap
from typing import Any

from sqlite_utils import Database

from litrev.db import utc_timestamp
from litrev.errors import LitrevError
from litrev.screen.settings import NOT_RETRIEVED

FORMATS = ("svg", "html", "json", "md")
ARMS = ("databases", "other")
OTHER_KINDS = ("citations",)


# --- counting ----------------------------------------------------------------


def prisma_counts(
    db: Database, *, since: str | None = None, previous_studies: int | None = None,
    previous_reports: int | None = None,
) -> dict[str, Any]:
    """Every number of the diagram, per arm; `since` (run id or date) gives the update form."""
    cutoff = _cutoff(db, since)
    records = _records(db)
    warnings = []
    unlinked = db.execute(
        "select count(*) from records where work_id is null").fetchone()[0]
    if unlinked:
        warnings.append(f"{unlinked} records are not deduplicated yet and are left out; run `litrev dedupe`.")
    has_full_text = _has_full_text(db)
    outcomes = _outcomes(db)
    all_works = [r[0] for r in db.execute("select id from works where merged_into is null")]

    record_arm = {rid: ("databases" if any(not o for _, o, _, _ in hits) else "other")
                  for rid, (_, hits) in records.items()}
    work_records: dict[int, list[str]] = {}
    for rid, (work, _) in records.items():
        work_records.setdefault(work, []).append(rid)

    def is_new_record(rid: str) -> bool:
        return cutoff is None or min(_found_key(h, cutoff) for h in records[rid][1]) >= cutoff[1]

    def is_new_work(work: int) -> bool:
        rids = work_records.get(work, [])
        if cutoff is None:
            return True
        return bool(rids) and all(is_new_record(r) for r in rids)

    work_arm = {
        w: ("databases" if not work_records.get(w) or any(record_arm[r] == "databases"
                                                          for r in work_records[w]) else "other")
        for w in all_works
    }
    new_works = {w for w in all_works if is_new_work(w)}
    orphans = sum(1 for w in all_works if not work_records.get(w))
    if orphans:
        warnings.append(f"{orphans} works have no source record, so identification does not add up "
                        "for them; re-import their records.")
    result: dict[str, Any] = {"form": "updated" if cutoff else "new", "since": since,
                              "has_full_text": has_full_text}
    for arm in ARMS:
        identified: Counter = Counter()
        for rid, (_, hits) in records.items():
            if record_arm[rid] != arm or not is_new_record(rid):
                continue
            labels = {label for label, other, _, _ in hits if (arm == "other") == bool(other)}
            identified.update(labels)
        works = [w for w in new_works if work_arm[w] == arm]
        arm_counts = _flow(works, outcomes, has_full_text)
        total = sum(identified.values())
        arm_counts = {
            "identified": dict(sorted(identified.items())),
            "identified_total": total,
            "duplicates_removed": total - len(works) if total else 0,
            **arm_counts,
        }
        result[arm] = arm_counts
    new_included = result["databases"]["studies_included"] + result["other"]["studies_included"]
    result["included"] = {"studies": new_included, "reports": new_included}
    if cutoff:
        previous = sum(1 for w in all_works
                       if w not in new_works and _status(outcomes.get(w), has_full_text) == "included")
        prev_studies = previous if previous_studies is None else previous_studies
        prev_reports = prev_studies if previous_reports is None else previous_reports
        result["previous"] = {"studies": prev_studies, "reports": prev_reports}
        result["total"] = {"studies": prev_studies + new_included, "reports": prev_reports + new_included}
    result["warnings"] = warnings
    return result


def _flow(works: list[int], outcomes: dict, has_full_text: bool) -> dict[str, Any]:
    ta = Counter((outcomes.get(w) or {}).get("title-abstract", (None, None))[0] for w in works)
    excluded = ta["exclude"]
    included_ta = [w for w in works if (outcomes.get(w) or {}).get("title-abstract", (None,))[0] == "include"]
    out = {
        "records_screened": excluded + len(included_ta),
        "records_excluded": excluded,
        "awaiting_screening": len(works) - excluded - len(included_ta),
    }
    if not has_full_text:
        return {**out, "reports_sought": len(included_ta), "reports_not_retrieved": 0,
                "reports_assessed": len(included_ta), "reports_excluded": {},
                "reports_excluded_total": 0, "awaiting_assessment": 0,
                "studies_included": len(included_ta)}
    ft = [outcomes[w].get("full-text", (None, None)) for w in included_ta]
    not_retrieved = sum(1 for o, r in ft if o == "exclude" and r == NOT_RETRIEVED)
    reasons = Counter(r or "No reason given" for o, r in ft if o == "exclude" and r != NOT_RETRIEVED)
    included = sum(1 for o, _ in ft if o == "include")
    excluded_ft = sum(reasons.values())
    return {
        **out,
        "reports_sought": len(included_ta),
        "reports_not_retrieved": not_retrieved,
        "reports_assessed": excluded_ft + included,
        "reports_excluded": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "reports_excluded_total": excluded_ft,
        "awaiting_assessment": len(included_ta) - not_retrieved - excluded_ft - included,
        "studies_included": included,
    }


def _status(outcome: dict | None, has_full_text: bool) -> str | None:
    if not outcome or outcome.get("title-abstract", (None,))[0] != "include":
        return None
    if not has_full_text:
        return "included"
    return "included" if outcome.get("full-text", (None,))[0] == "include" else None


def _records(db: Database) -> dict[str, tuple[int, list[tuple[str, bool, int | None, str | None]]]]:
    """record id -> (canonical work, [(source label, found by other methods, run id, found at)])."""
    out: dict[str, tuple[int, list]] = {}
    rows = db.execute(
        f"""select records.id, canonical_works.canonical_id,
                  coalesce(harvest_runs.source_name, records.source),
                  coalesce(harvest_runs.kind in ({",".join("?" * len(OTHER_KINDS))})
                           or harvest_runs.source = 'citations', 0),
                  provenance.run_id, coalesce(provenance.found_at, harvest_runs.started_at, records.first_seen)
           from records
           join canonical_works on canonical_works.work_id = records.work_id
           left join provenance on provenance.record_id = records.id
           left join harvest_runs on harvest_runs.id = provenance.run_id""",
        list(OTHER_KINDS),
    )
    for rid, work, label, other, run_id, found_at in rows:
        out.setdefault(rid, (work, []))[1].append((label or "Unknown source", bool(other), run_id, found_at))
    return out


def _found_key(hit: tuple, cutoff: tuple[str, Any]) -> Any:
    _, _, run_id, found_at = hit
    if cutoff[0] == "run":
        return run_id if run_id is not None else -1
    return found_at or ""


def _cutoff(db: Database, since: str | None) -> tuple[str, Any] | None:
    if since is None or not str(since).strip():
        return None
    text = str(since).strip()
    if text.isdigit():
        if db.execute("select 1 from harvest_runs where id = ?", [int(text)]).fetchone() is None:
            raise LitrevError(f"--since {text}: no run with that id. Give a run id from `litrev status` or a date.")
        return ("run", int(text))
    try:
        return ("date", utc_timestamp(text))
    except ValueError:
        raise LitrevError(f"--since {text!r} is neither a run id nor a date. Use e.g. --since 2026-01-31.")


def _has_full_text(db: Database) -> bool:
    stages = {r[0] for r in db.execute("select stage from review_settings")}
    return not stages or "full-text" in stages


def _outcomes(db: Database) -> dict[int, dict[str, tuple[str, str | None]]]:
    out: dict[int, dict[str, tuple[str, str | None]]] = {}
    for work, stage, outcome, reason in db.execute(
            "select work_id, stage, outcome, reason from screening_outcomes"):
        out.setdefault(work, {})[stage] = (outcome, reason)
    return out


# --- rendering ---------------------------------------------------------------


def render(counts: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(counts, indent=2, ensure_ascii=False)
    if fmt == "md":
        return render_markdown(counts)
    if fmt == "html":
        return render_html(counts)
    if fmt == "svg":
        return render_svg(counts)
    raise LitrevError(f"Unknown format {fmt!r}. Use one of {', '.join(FORMATS)}.")


def _n(value: int) -> str:
    return f"(n = {value:,})"


def _boxes(counts: dict[str, Any]) -> dict[str, list[str]]:
    """The text of every box, shared by the SVG and the Markdown output."""
    db, other = counts["databases"], counts["other"]
    updated = counts["form"] == "updated"
    new = "new " if updated else ""
    boxes: dict[str, list[str]] = {}
    boxes["db_identified"] = ["Records identified from:"] + [
        f"{label} {_n(n)}" for label, n in db["identified"].items()]
    if not db["identified"]:
        boxes["db_identified"].append("Databases (n = 0)")
    boxes["db_removed"] = ["Records removed before screening:",
                           f"Duplicate records removed {_n(db['duplicates_removed'])}"]
    boxes["db_screened"] = [f"Records screened {_n(db['records_screened'])}"]
    if db["awaiting_screening"]:
        boxes["db_screened"].append(f"Awaiting screening {_n(db['awaiting_screening'])}")
    boxes["db_excluded"] = [f"Records excluded {_n(db['records_excluded'])}"]
    for arm, a in (("db", db), ("other", other)):
        boxes[f"{arm}_sought"] = [f"Reports sought for retrieval {_n(a['reports_sought'])}"]
        boxes[f"{arm}_not_retrieved"] = [f"Reports not retrieved {_n(a['reports_not_retrieved'])}"]
        boxes[f"{arm}_assessed"] = [f"Reports assessed for eligibility {_n(a['reports_assessed'])}"]
        if a["awaiting_assessment"]:
            boxes[f"{arm}_assessed"].append(f"Awaiting assessment {_n(a['awaiting_assessment'])}")
        boxes[f"{arm}_reports_excluded"] = ["Reports excluded:"] + [
            f"{reason} {_n(n)}" for reason, n in a["reports_excluded"].items()]
        if not a["reports_excluded"]:
            boxes[f"{arm}_reports_excluded"].append("(n = 0)")
    boxes["other_identified"] = ["Records identified from:"] + [
        f"{label} {_n(n)}" for label, n in other["identified"].items()]
    if not other["identified"]:
        boxes["other_identified"].append("Citation searching (n = 0)")
    if other["duplicates_removed"]:
        boxes["other_identified"].append(f"Duplicates removed {_n(other['duplicates_removed'])}")
    if other["records_excluded"] or other["awaiting_screening"]:
        boxes["other_identified"].append(f"Excluded on title/abstract {_n(other['records_excluded'])}")
    if other["awaiting_screening"]:
        boxes["other_identified"].append(f"Awaiting screening {_n(other['awaiting_screening'])}")
    inc = counts["included"]
    studies = "New studies" if updated else "Studies"
    boxes["included"] = [f"{studies} included in review {_n(inc['studies'])}",
                         f"Reports of {new}included studies {_n(inc['reports'])}"]
    if updated:
        prev, total = counts["previous"], counts["total"]
        boxes["previous"] = [f"Studies included in previous version of review {_n(prev['studies'])}",
                             f"Reports of studies included in previous version of review {_n(prev['reports'])}"]
        boxes["total"] = [f"Total studies included in review {_n(total['studies'])}",
                          f"Reports of total included studies {_n(total['reports'])}"]
    return boxes


def render_markdown(counts: dict[str, Any]) -> str:
    boxes = _boxes(counts)
    title = "PRISMA 2020 flow diagram" + (" (updated review)" if counts["form"] == "updated" else "")
    lines = [f"# {title}", ""]
    sections = []
    if counts["form"] == "updated":
        sections.append(("Previous studies", ["previous"]))
    sections += [
        ("Identification of studies via databases and registers",
         ["db_identified", "db_removed", "db_screened", "db_excluded", "db_sought", "db_not_retrieved",
          "db_assessed", "db_reports_excluded"]),
        ("Identification of studies via other methods",
         ["other_identified", "other_sought", "other_not_retrieved", "other_assessed",
          "other_reports_excluded"]),
        ("Included", ["included"] + (["total"] if counts["form"] == "updated" else [])),
    ]
    for heading, keys in sections:
        lines += [f"## {heading}", ""]
        for key in keys:
            box = boxes[key]
            lines.append(f"- {box[0]}")
            lines += [f"  - {line}" for line in box[1:]]
        lines.append("")
    for w in counts["warnings"]:
        lines.append(f"> Note: {w}")
    return "\n".join(lines).rstrip() + "\n"


def render_html(counts: dict[str, Any]) -> str:
    svg = render_svg(counts)
    notes = "".join(f"<p class='note'>{escape(w)}</p>" for w in counts["warnings"])
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>PRISMA 2020 flow diagram</title>"
        "<style>body{font-family:Arial,Helvetica,sans-serif;margin:2em}svg{max-width:100%;height:auto}"
        ".note{color:#7a4b00}</style></head><body>\n"
        f"<h1>PRISMA 2020 flow diagram</h1>\n{svg}\n{notes}\n"
        f"<script type='application/json' id='prisma-counts'>{escape(json.dumps(counts))}</script>\n"
        "</body></html>\n"
    )


# --- SVG layout ----------------------------------------------------------------

FONT = 13
LINE = 17
PAD = 10
CHAR_W = 6.3  # average glyph width of 13px Arial/Liberation Sans, for wrapping
GAP = 34  # vertical space between rows (room for arrows)
DB_FILL, OTHER_FILL, PHASE_FILL, PREV_FILL = "#f5c242", "#d9d9d9", "#a9c4eb", "#d9d9d9"


def _wrapped(lines: list[str], width: float) -> list[str]:
    """Lines wrapped to the box; items under a "heading:" line are indented, and a count
    "(n = 12)" never breaks (no-break spaces, which textwrap leaves alone)."""
    per_line = max(int((width - 2 * PAD) / CHAR_W), 10)
    listed = lines[0].endswith(":")
    out = []
    for i, line in enumerate(lines):
        indent = "  " if listed and i > 0 else ""
        line = line.replace("(n = ", "(n\u00a0=\u00a0")
        out += wrap(line, per_line - len(indent), initial_indent=indent,
                    subsequent_indent=indent + "  ") or [""]
    return out


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def box(self, x: float, y: float, w: float, h: float, lines: list[str], fill: str = "#ffffff",
            bold: bool = False, center: bool = False) -> None:
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="{fill}" '
                          f'stroke="#333333" stroke-width="1.2"/>')
        top = y + (h - len(lines) * LINE) / 2 + FONT
        for i, line in enumerate(lines):
            tx, anchor = (x + w / 2, "middle") if center else (x + PAD, "start")
            weight = ' font-weight="bold"' if bold or (i == 0 and line.endswith(":")) else ""
            self.parts.append(
                f'<text x="{tx}" y="{top + i * LINE:.1f}" text-anchor="{anchor}"{weight} '
                f'xml:space="preserve">{escape(line)}</text>')

    def phase(self, x: float, y: float, w: float, h: float, label: str) -> None:
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{PHASE_FILL}" '
                          f'stroke="#5b7fb5" stroke-width="1"/>')
        cx, cy = x + w / 2, y + h / 2
        self.parts.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" dominant-baseline="middle" '
                          f'font-weight="bold" transform="rotate(-90 {cx} {cy})">{escape(label)}</text>')

    def arrow(self, points: list[tuple[float, float]]) -> None:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="#333333" stroke-width="1.4" '
                          'marker-end="url(#arrow)"/>')


def render_svg(counts: dict[str, Any]) -> str:
    """The diagram as a standalone SVG laid out like the PRISMA 2020 template."""
    boxes = _boxes(counts)
    updated = counts["form"] == "updated"
    col_w, side_w, other_w, other_side_w, prev_w = 290, 270, 270, 230, 250
    x0 = 60  # after the phase bars
    prev_x = x0
    db_x = x0 + (prev_w + 40 if updated else 0)
    db_side_x = db_x + col_w + 50
    other_x = db_side_x + side_w + 60
    other_side_x = other_x + other_w + 50
    width = other_side_x + other_side_w + 20

    def lines(key: str, w: float) -> list[str]:
        return _wrapped(boxes[key], w)

    def height(*entries: tuple[str, float]) -> float:
        return max(len(lines(k, w)) for k, w in entries) * LINE + 2 * PAD

    header_y, header_h = 15, 44
    rows = {
        "identification": height(("db_identified", col_w), ("db_removed", side_w),
                                 ("other_identified", other_w),
                                 *((("previous", prev_w),) if updated else ())),
        "screened": height(("db_screened", col_w), ("db_excluded", side_w)),
        "sought": height(("db_sought", col_w), ("db_not_retrieved", side_w),
                         ("other_sought", other_w), ("other_not_retrieved", other_side_w)),
        "assessed": height(("db_assessed", col_w), ("db_reports_excluded", side_w),
                           ("other_assessed", other_w), ("other_reports_excluded", other_side_w)),
        "included": max(height(("included", col_w), *((("total", prev_w),) if updated else ())), 80),
    }
    y = {}
    cursor = header_y + header_h + 20
    for name, h in rows.items():
        y[name] = cursor
        cursor += h + GAP
    height_total = cursor - GAP + 20

    svg = _Svg()
    # Phase bars, as in the template: Identification | Screening | Included.
    svg.phase(12, y["identification"], 32, rows["identification"], "Identification")
    svg.phase(12, y["screened"], 32, y["assessed"] + rows["assessed"] - y["screened"], "Screening")
    svg.phase(12, y["included"], 32, rows["included"], "Included")
    new = "new " if updated else ""
    svg.box(db_x, header_y, db_side_x + side_w - db_x, header_h,
            [f"Identification of {new}studies via databases and registers"], DB_FILL, bold=True, center=True)
    svg.box(other_x, header_y, other_side_x + other_side_w - other_x, header_h,
            [f"Identification of {new}studies via other methods"], OTHER_FILL, bold=True, center=True)
    if updated:
        svg.box(prev_x, header_y, prev_w, header_h, ["Previous studies"], PREV_FILL, bold=True, center=True)

    def place(key: str, x: float, row: str, w: float) -> tuple[float, float, float, float]:
        h = rows[row]
        svg.box(x, y[row], w, h, lines(key, w))
        return (x, y[row], w, h)

    def right(b):
        return (b[0] + b[2], b[1] + b[3] / 2)

    def left(b):
        return (b[0], b[1] + b[3] / 2)

    def top(b):
        return (b[0] + b[2] / 2, b[1])

    def bottom(b):
        return (b[0] + b[2] / 2, b[1] + b[3])

    ident = place("db_identified", db_x, "identification", col_w)
    removed = place("db_removed", db_side_x, "identification", side_w)
    screened = place("db_screened", db_x, "screened", col_w)
    excluded = place("db_excluded", db_side_x, "screened", side_w)
    sought = place("db_sought", db_x, "sought", col_w)
    not_retrieved = place("db_not_retrieved", db_side_x, "sought", side_w)
    assessed = place("db_assessed", db_x, "assessed", col_w)
    reasons = place("db_reports_excluded", db_side_x, "assessed", side_w)
    included = place("included", db_x, "included", col_w)
    for a, b in ((ident, screened), (screened, sought), (sought, assessed), (assessed, included)):
        svg.arrow([bottom(a), top(b)])
    for a, b in ((ident, removed), (screened, excluded), (sought, not_retrieved), (assessed, reasons)):
        svg.arrow([right(a), left(b)])

    o_ident = place("other_identified", other_x, "identification", other_w)
    o_sought = place("other_sought", other_x, "sought", other_w)
    o_not = place("other_not_retrieved", other_side_x, "sought", other_side_w)
    o_assessed = place("other_assessed", other_x, "assessed", other_w)
    o_reasons = place("other_reports_excluded", other_side_x, "assessed", other_side_w)
    svg.arrow([bottom(o_ident), top(o_sought)])
    svg.arrow([bottom(o_sought), top(o_assessed)])
    svg.arrow([right(o_sought), left(o_not)])
    svg.arrow([right(o_assessed), left(o_reasons)])
    # Other methods join the included box from the right, as in the template.
    ox, oy = bottom(o_assessed)
    svg.arrow([(ox, oy), (ox, included[1] + included[3] / 2), right(included)])

    if updated:
        previous = place("previous", prev_x, "identification", prev_w)
        total = place("total", prev_x, "included", prev_w)
        svg.arrow([bottom(previous), top(total)])
        svg.arrow([left(included), right(total)])

    title = "PRISMA 2020 flow diagram" + (" for updated systematic reviews" if updated else "")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height_total:.0f}" '
        f'viewBox="0 0 {width} {height_total:.0f}" font-family="Arial, Helvetica, sans-serif" '
        f'font-size="{FONT}" role="img" aria-label="{escape(title)}">\n'
        f"<title>{escape(title)}</title>\n"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333333"/>'
        "</marker></defs>\n"
        f'<rect width="{width}" height="{height_total:.0f}" fill="#ffffff"/>\n'
    )
    return head + "\n".join(svg.parts) + "\n</svg>\n"
