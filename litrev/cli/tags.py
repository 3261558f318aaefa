from collections.abc import Callable

import click
from rich.console import Console, Group, RenderableType
from rich.text import Text

from litrev.cli.common import (
    GROUP_SETTINGS,
    ask_key,
    db_option,
    echo_json,
    get_db,
    json_option,
    progress_bar,
    quiet_option,
    reviewer_option,
)
from litrev.errors import LitrevError
from litrev.finish import finish_write
from litrev.ids import resolve_work
from litrev.report import gaps as gaps_stage
from litrev.screen import paging
from litrev.tags import storage as tags_stage

REVIEW_KEYS = {"a": "accept", "r": "reject", "s": "skip", "q": "quit"}
REVIEW_LEGEND = "[a]ccept, [c]hange, [r]eject, [s]kip, [q]uit"
MAX_TITLE_LINES = 3


@click.group(invoke_without_command=True, context_settings=GROUP_SETTINGS)
@click.option("--auto", is_flag=True, help="Suggest country and design for every work without suggestions.")
@click.option("--learned/--no-learned", default=True, show_default=True,
              help="With --auto: once 30+ works have a confirmed design, learn from them where no design "
                   "phrase is found.")
@db_option
@quiet_option
@json_option
@click.pass_context
def tag(ctx, auto, learned, db_path, quiet, as_json):
    """Tag works by country of study and study design: suggestions with evidence, people decide.

    Example:

    \b
        litrev tag --auto
        litrev tag set 42 country=GB nation=Scotland design=qualitative --reviewer ann
        litrev tag review --reviewer ann
    """
    if ctx.invoked_subcommand is not None:
        return
    if not auto:
        click.echo(ctx.get_help())
        return
    db = get_db(db_path)
    total = tags_stage.unsuggested_count(db)
    with progress_bar(quiet or as_json) as progress:
        task = progress.add_task("Suggesting tags", total=total)
        counts = tags_stage.auto_tag(db, progress=lambda n: progress.advance(task, n), learned=learned)
    finish_write(db)
    if as_json:
        echo_json(counts)
    else:
        click.echo(f"Suggested {counts['suggestions']} tags for {counts['works']} works "
                   "(works with suggestions already were left alone).")
        if "learned" in counts:
            click.echo(f"{counts['learned']} design suggestions were learned from the team's confirmed designs.")


@tag.command(name="set")
@click.argument("work")
@click.argument("assignments", nargs=-1, required=True)
@reviewer_option
@db_option
def set_(work, assignments, reviewer, db_path):
    """Set a person's tags on a work: they replace suggestions for those keys.

    WORK is a work id, record id, DOI, PMID or OpenAlex id. Keys: country (ISO
    code or name; repeat for several), nation, design, or
    any custom key. `key=` (empty) clears your tags for a key.

    Example:

    \b
        litrev tag set 42 country=GB nation=Scotland design=qualitative --reviewer ann
        litrev tag set 42 country=GB country=IE setting=prison --reviewer ann
    """
    db = get_db(db_path)
    work_id = resolve_work(db, work)
    pairs = tags_stage.parse_assignments(assignments)
    n = tags_stage.set_tags(db, work_id, pairs, reviewer)
    finish_write(db)
    click.echo(f"Set {n} tags on work {work_id}.")


@tag.command(name="list")
@click.argument("work")
@db_option
@json_option
def list_(work, db_path, as_json):
    """Show a work's effective tags (a person's tag wins over a suggestion).

    WORK is a work id, record id, DOI, PMID or OpenAlex id.

    Example:

    \b
        litrev tag list 42
    """
    rows = tags_stage.effective_tags(get_db(db_path, create=False), work)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No tags yet. Run `litrev tag --auto` or `litrev tag set`.")
    for row in rows:
        who = f"by {row['reviewer']}" if row["reviewer"] else f"confidence {row['confidence']:.2f}"
        source = "person" if row["origin"] == "manual" else row["status"]
        line = f"{row['key']}={row['value']}  ({source}, {who})"
        click.echo(line + (f"\n    {row['evidence']}" if row["evidence"] else ""))


@tag.command()
@reviewer_option
@click.option("--key", help="Only suggestions for this key (country, nation, design).")
@click.option("--limit", type=int, help="Stop after this many works.")
@click.option("--stage", type=click.Choice(gaps_stage.STAGES), default="included", show_default=True,
              help="Whose suggestions: included works, screened works (any decision) or all.")
@click.option("--below", type=click.FloatRange(0, 1), metavar="CONFIDENCE",
              help="Only suggestions under this confidence: the uncertain ones, checked first.")
@db_option
def review(reviewer, key, limit, stage, below, db_path):
    """Go through suggestions one by one: accept, change, reject or skip each.

    Suggestions for included works by default (the studies the gap map counts).
    On blind test records, design suggestions under 0.8 matched the label 4 times
    in 10 and those at 0.8 or more 8 times in 10 (benchmarks/tagging.py):
    `--below 0.8` goes through the uncertain ones first.

    Example:

    \b
        litrev tag review --reviewer ann --key design
        litrev tag review --reviewer ann --below 0.8
        litrev tag review --reviewer ann --stage all
    """
    db = get_db(db_path)
    counts = run_review(db, reviewer, Console(), key=key, limit=limit, stage=stage, below=below)
    finish_write(db)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))
    if not any(counts.values()) and stage != "all":
        waiting = len(tags_stage.pending_reviews(db, key, below=below))
        if waiting:
            click.echo(f"No suggestions wait among {stage} works; {waiting} wait among all works"
                       " (--stage all to review them).")


def run_review(db, reviewer: str, console: Console, *, read_key: Callable[[], str] = click.getchar,
               read_line: Callable[[str], str] | None = None, **filters) -> dict[str, int]:
    """One frame per suggestion, fitting the console: the work's title, the position and the
    legend stay on screen; long evidence is paged (space/PgDn, b/PgUp). `filters` are
    tags_stage.review's key, limit, stage and below."""
    read_line = read_line or (lambda prompt: click.prompt(prompt))
    total = len(tags_stage.pending_reviews(db, filters.get("key"), filters.get("limit"),
                                           filters.get("stage", "all"), filters.get("below")))
    position = [0]

    def decide(row):
        position[0] += 1
        page = 0
        while True:
            page = draw(row, page)
            answer = ask_key("answer: ", "acrsq", read_key,
                             also=paging.NEXT_PAGE_KEYS + paging.PREVIOUS_PAGE_KEYS)
            if step := paging.page_key(answer):
                page += step
            elif answer != "c":
                return REVIEW_KEYS[answer], None
            else:
                return "change", ask_value(row, page)

    def draw(row, page: int, message: str = "") -> int:
        frame = suggestion_frame(console, row, f"{position[0]} of {total}", message)
        frame.draw(frame.clamp(page))
        return frame.clamp(page)

    def ask_value(row, page: int) -> str:
        """The new value, asked again (the frame redrawn with the error) until it is valid."""
        while True:
            value = read_line(f"new {row['key']}")
            try:
                tags_stage.normalise_tag(row["key"], value)
                return value
            except LitrevError as e:
                draw(row, page, str(e))

    return tags_stage.review(db, reviewer, decide, **filters)


def suggestion_frame(console: Console, row: dict, position: str, message: str) -> paging.PagedFrame:
    heading = Text(f"[{row['work_id']}] {row['title'] or '(no title)'} ({row['year'] or 'n.d.'})",
                   style="bold")
    head = [paging.shorten(console, heading, console.width, MAX_TITLE_LINES),
            Text(f"suggestion {position} · {row['key']} = {row['value']}  "
                 f"(confidence {row['confidence']:.2f})"), Text("")]
    body = Text(f"evidence: {row['evidence'] or '(none)'}")

    def wrap(page: RenderableType, label: str) -> RenderableType:
        foot = [(message, "magenta"), (label, "dim"), (REVIEW_LEGEND, "bold")]
        return Group(*head, page, *(Text(t, style=style) for t, style in foot if t))

    return paging.PagedFrame(console, wrap, body, console.width)


@click.command()
@click.option("--stage", type=click.Choice(gaps_stage.STAGES), default="included", show_default=True,
              help="Which works to count: included, screened (any decision) or all.")
@click.option("--by", "by", type=click.Choice(["design", "year"]), default="design", show_default=True,
              help="Columns of the table: study design or publication year.")
@click.option("--confirmed-only", is_flag=True,
              help="Count only tags a reviewer set or accepted, not litrev's open suggestions.")
@db_option
@json_option
def gaps(stage, by, confirmed_only, db_path, as_json):
    """The evidence gap map: works per country of study x design (or year), UK share.

    Example:

    \b
        litrev gaps
        litrev gaps --stage all --by year --json
        litrev gaps --confirmed-only
    """
    summary = gaps_stage.gap_table(get_db(db_path, create=False), stage=stage, by=by,
                                   basis="confirmed" if confirmed_only else "counted")
    if as_json:
        echo_json(summary)
    else:
        gaps_stage.print_gaps(summary)
