"""`litrev dedupe`: link records to works, review uncertain pairs, explain and undo."""

import json
import sys
from collections.abc import Callable

import click
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from litrev.cli.common import db_option, echo_json, get_db, json_option, quiet_option, reviewer_option
from litrev.dedupe import storage as stage
from litrev.dedupe.matching import fold
from litrev.dedupe.review import QueueRound
from litrev.finish import finish_write
from litrev.screen import paging

KEYS = {"s": "same", "d": "different", "k": "skip", "q": "quit"}
LEGEND = "[s]ame / [d]ifferent / s[k]ip / [q]uit"
HEAD_FIELDS = ("title",)  # always on screen; the other fields and both abstracts are paged
SHOWN_FIELDS = ("authors", "year", "venue", "volume", "issue", "pages", "doi", "abstract", "source", "id")
FIELD_WIDTH = 10  # "abstract ≠"
MAX_TITLE_LINES = 4


@click.command()
@click.option("--full", is_flag=True, help="Recompute every pair instead of only new records.")
@click.option("--review", is_flag=True, help="Judge uncertain pairs side by side (resumable).")
@click.option("--explain", "explain_id", metavar="ID", help="Why a work or record was grouped.")
@click.option("--unmerge", "unmerge_id", metavar="ID",
              help="Split a record (id) or a merged-away work (number) off its group.")
@reviewer_option(help="Who records verdicts and undos.")
@db_option
@json_option
@quiet_option
def dedupe(full, review, explain_id, unmerge_id, reviewer, db_path, as_json, quiet):
    """Link every record to one work; merge certain duplicates, queue uncertain ones.

    Example:

    \b
        litrev dedupe
        litrev dedupe --review
        litrev dedupe --explain openalex:W2741809807
        litrev dedupe --unmerge crossref:10.1000/xyz
    """
    db = get_db(db_path)
    console = Console(stderr=as_json)
    if explain_id:
        report = stage.explain(db, explain_id)
        echo_json(report) if as_json else print_explain(report, console)
        return
    if unmerge_id:
        summary = stage.unmerge(db, unmerge_id, reviewer)
        finish_write(db)
        _finish(summary, as_json, console, f"Split {unmerge_id} off its group.")
        return
    if review:
        counts = run_review(db, reviewer, ask=_ask, console=console)
        finish_write(db)
        echo_json(counts) if as_json else console.print(
            f"Reviewed: {counts['same']} same, {counts['different']} different, "
            f"{counts['skipped']} skipped; {counts['left']} left in the queue.")
        return
    with console.status("Deduplicating...") if not (quiet or as_json) else _nothing():
        summary = stage.update_works(db, full=full, reviewer=reviewer)
    finish_write(db)
    _finish(summary, as_json, console, None)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _finish(summary: stage.DedupeSummary, as_json: bool, console: Console, headline: str | None):
    if as_json:
        echo_json(summary.as_dict())
    else:
        if headline:
            console.print(headline)
        console.print(
            f"{summary.records} records, {summary.new_records} new: {summary.new_works} new works, "
            f"{summary.merged_works} works merged, {summary.revived_works} revived, "
            f"{summary.review_pending} pairs to review (litrev dedupe --review), "
            f"{summary.related} related links."
        )
    for warning in summary.conflict_warnings():
        click.echo(warning, err=True)


def _ask(prompt: str) -> str:
    """One key, no Enter, at a terminal; a line when input is piped (scripts, tests)."""
    if not sys.stdin.isatty():
        return click.prompt(prompt, default="k", show_default=False)
    click.echo(f"{prompt}: ", nl=False, err=True)
    key = click.getchar()
    click.echo(key if key.isprintable() else "", err=True)
    return key


def run_review(db, reviewer: str, ask: Callable[[str], str], console: Console) -> dict[str, int]:
    """Show each uncertain pair and store the verdict; quit at any time and resume later.

    Each pair is one frame that fits the console: the heading, both titles and the legend
    stay on screen while the other fields and the two abstracts are paged (space/PgDn, b/PgUp).
    Verdicts are saved at once; the works are regrouped when a round of the queue is done
    or the reviewer quits (see `litrev.dedupe.review`), not after each key, and at the start
    when verdicts or records are waiting (a session stopped by Ctrl-C, a new import).
    """
    counts = {"same": 0, "different": 0, "skipped": 0, "left": 0}
    skipped: set[tuple[str, str]] = set()
    shown, page, notices, unseen, quit_ = None, 0, [], [], False
    if stage.works_out_of_date(db):  # e.g. an interrupted session's verdicts
        with console.status("Bringing the works up to date before the queue..."):
            notices = unseen = stage.update_works(db, reviewer=reviewer).conflict_warnings()
    while not quit_:
        round_ = QueueRound(stage.review_queue(db))
        while queue := round_.pending(skipped):
            pair = queue[0]
            if (pair["record_a"], pair["record_b"]) != shown:
                shown, page = (pair["record_a"], pair["record_b"]), 0
            frame = pair_frame(db, pair, len(queue), console, notices)
            page = frame.clamp(page)
            frame.draw(page)
            unseen = []
            raw = ask("answer") or "k"
            if step := paging.page_key(raw):
                page += step
                continue
            answer = KEYS.get(raw.strip().lower()[:1])
            if answer == "quit":
                quit_ = True
                break
            if answer == "skip":
                skipped.add((pair["record_a"], pair["record_b"]))
                counts["skipped"] += 1
            elif answer:
                stage.save_verdict(db, pair["record_a"], pair["record_b"], answer, reviewer)
                round_.answered(pair, answer)
                counts[answer] += 1
                notices = []
        if not round_.verdicts:
            break
        with console.status(f"Regrouping the works after {round_.verdicts} verdicts..."):
            notices = unseen = stage.update_works(db, reviewer=reviewer).conflict_warnings()
    for warning in unseen:  # the last grouping's: no frame came after it
        console.print(warning, style="yellow", markup=False)
    counts["left"] = len(stage.review_queue(db))
    return counts


def pair_frame(db, pair: dict, remaining: int, console: Console,
               notices: list[str] = ()) -> paging.PagedFrame:
    """The pair as one frame: heading and titles fixed, the other fields (abstracts too) paged."""
    rows = {r["id"]: r for r in db.query(
        "select * from records where id in (?, ?)", [pair["record_a"], pair["record_b"]])}
    a, b = rows[pair["record_a"]], rows[pair["record_b"]]
    details = json.loads(pair["details"] or "{}")
    heading = Text(f"Same work? likelihood {pair.get('likelihood', pair['score']):.2f} "
                   f"(title {pair['score']:.2f}, {pair['method']}), {remaining} in queue", style="bold")
    titles = field_table(console, a, b, HEAD_FIELDS, header=True)
    scores = "field scores: " + ", ".join(f"{k} {v}" for k, v in sorted(details.items())) if details else ""

    def wrap(page: RenderableType, label: str) -> RenderableType:
        foot = [(scores, "dim"), *((n, "yellow") for n in notices), (label, "dim"), (LEGEND, "bold")]
        return Group(heading, titles, page, *(Text(t, style=style) for t, style in foot if t))

    return paging.PagedFrame(console, wrap, field_table(console, a, b, SHOWN_FIELDS), console.width)


def field_table(console: Console, a: dict, b: dict, fields: tuple[str, ...], header: bool = False) -> Table:
    """Fields of records A and B side by side, the ones that differ marked ≠ (same widths every time,
    so the fixed titles and the paged rest line up)."""
    table = Table(show_lines=True, expand=True, show_header=header)
    table.add_column("field", style="bold", width=FIELD_WIDTH, no_wrap=True)
    table.add_column("record A", ratio=1)
    table.add_column("record B", ratio=1)
    cell = (console.width - FIELD_WIDTH - 10) // 2  # borders and padding of three columns
    for name in fields:
        va, vb = _show(a.get(name)), _show(b.get(name))
        if va or vb:
            differs = name != "id" and fold(va) != fold(vb)  # case and punctuation are no difference
            if name in HEAD_FIELDS:
                va, vb = (paging.shorten(console, Text(v), cell, MAX_TITLE_LINES) for v in (va, vb))
            table.add_row(f"{name} ≠" if differs else name, va, vb,
                          style="bold yellow" if differs else "")
    return table


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith("["):
        try:
            return "; ".join(json.loads(value))
        except (ValueError, TypeError):
            return value
    return str(value)


def print_explain(report: dict, console: Console) -> None:
    work = report["work"]
    console.print(f"[bold]Work {work['id']}[/bold]: {work['title'] or '(no title)'} "
                  f"({work['year'] or 'n.d.'}) doi:{work['doi'] or '-'}")
    table = Table("record", "source", "year", "doi", "title")
    for r in report["records"]:
        table.add_row(r["id"], r["source"] or "", str(r["year"] or ""), r["doi"] or "", r["title"] or "")
    console.print(table)
    if report["pairs"]:
        pairs = Table("record A", "record B", "outcome", "method", "score", "field scores",
                      title="Why: scored pairs")
        for p in report["pairs"]:
            scores = ", ".join(f"{k} {v}" for k, v in sorted(p["details"].items()))
            pairs.add_row(p["record_a"], p["record_b"], p["outcome"], p["method"], f"{p['score']:.2f}", scores)
        console.print(pairs)
    for v in report["verdicts"]:
        console.print(f"verdict: {v['record_a']} / {v['record_b']}: {v['verdict']} "
                      f"by {v['reviewer']} at {v['decided_at']}")
    for m in report["merges"]:
        console.print(f"history: {m['action']} work {m['work_id']} -> {m['into_work_id']} "
                      f"({m['created_at']}) records {m['record_ids']}")
    for rel in report["relations"]:
        console.print(f"related: work {rel['work_id']} {rel['relation']} work {rel['related_work_id']}")
    if not report["pairs"]:
        console.print("Only one record and no close pairs: nothing was merged into this work.")

