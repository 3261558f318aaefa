import click

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
from litrev.tags import storage as tags_stage


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
    last_work = [None]

    def decide(row):
        if row["work_id"] != last_work[0]:
            last_work[0] = row["work_id"]
            click.echo(f"\n[{row['work_id']}] {row['title'] or '(no title)'} ({row['year'] or 'n.d.'})")
        click.echo(f"  {row['key']} = {row['value']}  (confidence {row['confidence']:.2f})")
        click.echo(f"    {row['evidence']}")
        answer = ask_key("  [a]ccept, [c]hange, [r]eject, [s]kip, [q]uit: ", "acrsq")
        while answer == "c":
            value = click.prompt(f"  new {row['key']}")
            try:
                tags_stage.normalise_tag(row["key"], value)
                return "change", value
            except LitrevError as e:
                click.echo(f"  {e}")
        return {"a": "accept", "r": "reject", "s": "skip", "q": "quit"}[answer], None

    counts = tags_stage.review(db, reviewer, decide, key=key, limit=limit, stage=stage, below=below)
    finish_write(db)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))
    if not any(counts.values()) and stage != "all":
        waiting = len(tags_stage.pending_reviews(db, key, below=below))
        if waiting:
            click.echo(f"No suggestions wait among {stage} works; {waiting} wait among all works"
                       " (--stage all to review them).")


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
