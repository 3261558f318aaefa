import click
from rich.console import Console
from rich.progress import Progress

from litrev.cli.common import db_option, get_db, progress_bar, quiet_option
from litrev.errors import LitrevError
from litrev.finish import finish_write
from litrev.harvest import run as harvest_stage
from litrev.harvest.queries import load_queries, queries_dir, settings_from_env
from litrev.sources import SOURCES


class RichProgress:
    """One bar per query/source on stderr, with the API's reported total."""

    def __init__(self, console: Console, quiet: bool):
        self.console = console
        self.quiet = quiet
        self.bar: Progress | None = None
        self.task = None

    def start(self, label, total, done):
        self._close()
        if self.quiet:
            return
        self.bar = progress_bar(transient=False)
        self.bar.start()
        self.task = self.bar.add_task(label, total=total or None, completed=done)

    def advance(self, n):
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def note(self, text):
        if not self.quiet:
            self.console.print(text, markup=False, highlight=False)

    def finish(self, text):
        self._close()

    def _close(self):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@click.command()
@click.argument("queries", nargs=-1)
@click.option("--source", "source", type=click.Choice(list(SOURCES)),
              help="Only this source (default: every source a query has a section for).")
@click.option("--full", is_flag=True, help="Re-fetch everything, not only what changed.")
@click.option("--since", metavar="DATE", help="Fetch what changed since DATE (YYYY-MM-DD).")
@click.option("--max", "max_records", type=click.IntRange(min=1), metavar="N",
              help="Stop each query/source after N records (the next run resumes).")
@click.option("--dry-run", is_flag=True,
              help="Show how many records each query/source reports and what a run would cost.")
@click.option("--email", metavar="E", help="Your contact for the APIs' polite pools "
              "[default: $LITREV_EMAIL].")
@click.option("--no-dedupe", is_flag=True, help="Do not link new records to works afterwards.")
@click.option("--queries-dir", "queries_dir_", type=click.Path(file_okay=False), metavar="DIR",
              help="Where the query files are [default: queries/ or $LITREV_QUERIES].")
@quiet_option
@db_option
def harvest(queries, source, full, since, max_records, dry_run, email, no_dedupe, queries_dir_,
            quiet, db_path):
    """Run saved queries (queries/*.toml) against OpenAlex and Crossref; a search update by default.

    Example:

    \b
        litrev harvest
        litrev harvest peer-mentors --source openalex --dry-run
        litrev harvest --full --max 500 --email you@example.org
    """
    if full and since:
        raise click.UsageError("--full and --since cannot be used together.")
    since = harvest_stage.check_since(since)
    loaded = load_queries(queries_dir(queries_dir_), queries)  # QueryFileError: exit 2, no writes
    settings = settings_from_env(email)
    sources = (source,) if source else tuple(SOURCES)
    console = Console(stderr=True)
    progress = RichProgress(console, quiet)
    if dry_run:
        _print_estimates(harvest_stage.dry_run(
            harvest_stage.open_readonly(db_path), loaded, settings, sources=sources, full=full,
            since=since, max_records=max_records, progress=progress))
        return
    _advise(sources, loaded, settings, progress)
    db = get_db(db_path)
    try:
        results = harvest_stage.harvest(
            db, loaded, settings, sources=sources, full=full, since=since,
            max_records=max_records, progress=progress)
    except LitrevError as e:
        # A failed source still leaves what the others fetched: link it too.
        _finish(db, getattr(e, "results", []), not no_dedupe, progress)
        progress.finish("")
        _report(getattr(e, "results", []), quiet)
        raise
    _finish(db, results, not no_dedupe, progress)
    progress.finish("")
    _report(results, quiet)


def _finish(db, results, link: bool, progress) -> None:
    linked = finish_write(db, link=link, records_saved=any(r.counts.fetched for r in results))
    if linked is not None:
        progress.note(linked.headline())
        for warning in linked.conflict_warnings():
            progress.note(warning)


def _advise(sources, loaded, settings, progress) -> None:
    """Each source's advice (e.g. a missing API key) when a query will use it."""
    for key in sources:
        advice = SOURCES[key].advice(settings)
        if advice and any(key in q.sources for q in loaded):
            progress.note(advice)


def _report(results, quiet: bool) -> None:
    for result in results:
        if result.status == "failed":
            continue
        if result.status == "stopped":
            click.echo(result.message, err=True)
        elif not quiet:
            click.echo(_summary(result))
            if result.message:
                click.echo(f"  {result.message}")


def _summary(r) -> str:
    what = {"update": f"changes since {r.since}", "since": f"changes since {r.since}",
            "full": "full"}.get(r.mode, r.mode)
    resumed = ", resumed" if r.resumed else ""
    total = "?" if r.reported_total is None else f"{r.reported_total:,}"
    return (f"{r.query_id} · {SOURCES[r.source].name} ({what}{resumed}): "
            f"{r.counts.fetched:,} fetched of {total} reported, {r.counts.new:,} new, "
            f"{r.counts.updated:,} updated.")


def _print_estimates(estimates) -> None:
    for e in estimates:
        name = SOURCES[e.source].name
        what = f"changes since {e.since}" if e.since else f"full: {e.note}"
        if e.budget_usd is not None:
            cost = (f"{e.requests:,} {e.tier} requests ≈ ${e.usd:.4f} of the "
                    f"${e.budget_usd:.2f} free daily budget")
        else:
            cost = f"{e.requests:,} requests ({name} is not metered)"
        click.echo(f"{e.query_id} · {name} ({what}): {e.reported_total:,} records reported; "
                   f"{cost}.")
