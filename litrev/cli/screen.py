import click

from litrev.cli.common import (
    GROUP_SETTINGS,
    db_option,
    echo_json,
    get_db,
    json_option,
    keep_formulas_option,
    reviewer_option,
)
from litrev.errors import LitrevError
from litrev.finish import finish_write
from litrev.ids import resolve_work
from litrev.paths import open_output
from litrev.report import prisma as prisma_stage
from litrev.screen import decisions as screen_stage
from litrev.screen.settings import STAGES, load_settings, settings_for_db

STAGE_CHOICE = click.Choice(STAGES)


def settings_option(fn):
    return click.option(
        "--settings", "settings_path", type=click.Path(dir_okay=False), default=None,
        help="Review settings file.  [default: review.toml or $LITREV_SETTINGS]",
    )(fn)


def stage_option(fn):
    return click.option("--stage", type=STAGE_CHOICE, default="title-abstract", show_default=True,
                        help="Screening stage.")(fn)


def _open(db_path, settings_path, *, create=True):
    settings = load_settings(settings_path)
    db = get_db(db_path, create=create)
    return db, settings_for_db(db, settings)


def _decision(include, exclude, maybe, undo=False):
    chosen = [name for name, on in (("include", include), ("exclude", exclude is not None),
                                    ("maybe", maybe), ("undo", undo)) if on]
    if len(chosen) != 1:
        raise LitrevError("Give exactly one of --include, --exclude REASON, --maybe or --undo.")
    return chosen[0]


@click.group(invoke_without_command=True, context_settings=GROUP_SETTINGS)
@db_option
@settings_option
@click.option("--stage", type=STAGE_CHOICE, default="title-abstract", show_default=True,
              help="Screening stage.")
@reviewer_option
@click.option("--pilot", type=click.IntRange(min=1), help="Screen a calibration sample of N works.")
@click.pass_context
def screen(ctx, db_path, settings_path, stage, reviewer, pilot):
    """Screen works in the terminal, one key per decision (blind to other screeners).

    Example:

    \b
        litrev screen --stage title-abstract --reviewer sam
        litrev screen --reviewer sam --pilot 50
    """
    if ctx.invoked_subcommand is not None:
        return
    from litrev.screen.terminal import run_session

    db, settings = _open(db_path, settings_path)
    try:
        run_session(db, settings, stage, reviewer, pilot=pilot)
    finally:  # every decision is saved as it is made; quitting with Ctrl-C keeps them
        finish_write(db)


@screen.command()
@click.argument("work")
@click.option("--include", is_flag=True, help="Include the work.")
@click.option("--exclude", metavar="REASON", help="Exclude with a reason (text or its number).")
@click.option("--maybe", is_flag=True, help="Not sure yet.")
@click.option("--undo", is_flag=True, help="Withdraw your current decision.")
@reviewer_option
@stage_option
@click.option("--note", help="A private note (never published).")
@db_option
@settings_option
def decide(work, include, exclude, maybe, undo, reviewer, stage, note, db_path, settings_path):
    """Record one screening decision on a work (id, DOI or record id).

    Example:

    \b
        litrev screen decide 42 --include --reviewer sam
        litrev screen decide 10.1000/xyz --exclude "Wrong population" --reviewer sam --stage full-text
    """
    db, settings = _open(db_path, settings_path)
    work_id = resolve_work(db, work)
    decision = _decision(include, exclude, maybe, undo)
    screen_stage.record_decision(db, settings, work_id, stage, reviewer, decision,
                                 reason=exclude, note=note)
    finish_write(db)
    click.echo(f"{decision}: work {work_id} at {stage} by {reviewer}", err=True)


@screen.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
@settings_option
def import_(file, db_path, settings_path):
    """Append decisions from a CSV file (all rows or none).

    Example:

    \b
        litrev screen import decisions.csv
    """
    db, settings = _open(db_path, settings_path)
    n = screen_stage.import_decisions(db, settings, file)
    finish_write(db)
    click.echo(f"Imported {n} decisions from {file}", err=True)


@screen.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--stage", type=STAGE_CHOICE, help="Only this stage.  [default: every stage]")
@keep_formulas_option
@db_option
def export(file, stage, keep_formulas, db_path):
    """Write every decision (the full log) to a CSV file.

    Example:

    \b
        litrev screen export decisions.csv --stage full-text
    """
    n = screen_stage.export_decisions(get_db(db_path, create=False), file, stage, keep_formulas=keep_formulas)
    click.echo(f"Exported {n} decisions to {file}", err=True)


@screen.command()
@click.option("--stage", type=STAGE_CHOICE, help="Only this stage.  [default: every stage]")
@db_option
@settings_option
@json_option
def conflicts(stage, db_path, settings_path, as_json):
    """List works where screeners disagree and nobody has adjudicated.

    Example:

    \b
        litrev screen conflicts --stage title-abstract
    """
    db, _ = _open(db_path, settings_path, create=False)
    rows = screen_stage.conflicts(db, stage)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No conflicts.")
    for row in rows:
        votes = ", ".join(
            f"{v['reviewer']}: {v['decision']}" + (f" ({v['reason']})" if v["reason"] else "")
            for v in row["votes"]
        )
        click.echo(f"{row['work_id']}\t{row['stage']}\t{(row['title'] or '')[:70]}\t{votes}")


@screen.command()
@click.argument("work")
@click.option("--include", is_flag=True, help="Include the work.")
@click.option("--exclude", metavar="REASON", help="Exclude with a reason (text or its number).")
@reviewer_option(help="The adjudicator's name (a lead, as listed in review.toml).")
@stage_option
@click.option("--note", help="A private note (never published).")
@db_option
@settings_option
def resolve(work, include, exclude, reviewer, stage, note, db_path, settings_path):
    """Adjudicate a work: the decision overrides the screeners' votes at that stage.

    Example:

    \b
        litrev screen resolve 42 --include --reviewer alex
    """
    db, settings = _open(db_path, settings_path)
    work_id = resolve_work(db, work)
    decision = _decision(include, exclude, False)
    screen_stage.resolve(db, settings, work_id, stage, reviewer, decision, reason=exclude, note=note)
    finish_write(db)
    click.echo(f"adjudicated {decision}: work {work_id} at {stage} by {reviewer}", err=True)


@screen.command()
@click.option("--stage", type=STAGE_CHOICE, help="Only this stage.  [default: every stage]")
@click.option("--pilot", type=click.IntRange(min=1), help="Only the pilot sample of N works.")
@db_option
@settings_option
@json_option
def agreement(stage, pilot, db_path, settings_path, as_json):
    """Agreement per stage and reviewer pair: n, percent agreement, Cohen's kappa.

    Example:

    \b
        litrev screen agreement --json
        litrev screen agreement --pilot 50
    """
    db, settings = _open(db_path, settings_path, create=False)
    work_ids = None
    if pilot:
        work_ids = screen_stage.pilot_sample(db, settings, stage or "title-abstract", pilot)
    rows = screen_stage.agreement(db, stage, work_ids)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No works screened by two reviewers yet.")
    for r in rows:
        kappa = "n/a" if r["kappa"] is None else f"{r['kappa']:.2f}"
        click.echo(f"{r['stage']}\t{r['reviewer_a']} vs {r['reviewer_b']}\tn={r['n']}\t"
                   f"{r['percent']:.1f}%\tkappa={kappa}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(prisma_stage.FORMATS), default="svg", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.  [default: stdout]")
@click.option("--since", help="Updated review: records first found in this run id or on/after this date.")
@click.option("--previous-studies", type=click.IntRange(min=0),
              help="Studies included in the previous version (default: counted from the database).")
@click.option("--previous-reports", type=click.IntRange(min=0),
              help="Reports of those studies (default: same as studies).")
@db_option
@settings_option
def prisma(fmt, output, since, previous_studies, previous_reports, db_path, settings_path):
    """Draw the PRISMA 2020 flow diagram from the database (SVG, HTML, JSON or Markdown).

    Example:

    \b
        litrev prisma -o prisma.svg
        litrev prisma --format json
        litrev prisma --since 2026-01-01 -o update.svg
    """
    db, _ = _open(db_path, settings_path, create=False)
    counts = prisma_stage.prisma_counts(db, since=since, previous_studies=previous_studies,
                                        previous_reports=previous_reports)
    text = prisma_stage.render(counts, fmt)
    if output:
        with open_output(output) as f:
            f.write(text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text)
