"""`litrev snowball` (citation searching) and `litrev check-recall` (search validation)."""

import sys

import click

from litrev.cli.common import db_option, echo_json, get_db, json_option, progress_bar, quiet_option
from litrev.errors import LitrevError
from litrev.finish import finish_write
from litrev.harvest import recall as recall_stage
from litrev.harvest import snowball as snowball_stage
from litrev.harvest.queries import queries_dir, settings_from_env
from litrev.sources.fetching import Retrier


@click.command()
@click.option("--backward", is_flag=True, help="Fetch the works the seeds cite (their references).")
@click.option("--forward", is_flag=True, help="Fetch the works that cite the seeds.")
@click.option("--from", "chosen", multiple=True, metavar="included|ID",
              help="Seeds: `included` (screened in, the default) or work ids, OpenAlex ids, DOIs, "
                   "record ids; repeat or separate with commas.")
@click.option("--full", is_flag=True, help="Chase seeds already chased in an earlier run again.")
@click.option("--no-dedupe", is_flag=True, help="Leave new records for a later `litrev dedupe`.")
@click.option("--email", help="Contact address for OpenAlex (default $LITREV_EMAIL).")
@db_option
@quiet_option
@json_option
def snowball(backward, forward, chosen, full, no_dedupe, email, db_path, quiet, as_json):
    """Citation searching: fetch works the seeds cite and works citing them.

    Without --backward/--forward both directions run. Only seeds not yet
    chased in a direction are fetched; found records join the database as
    "Citation searching" (PRISMA, other methods) and are deduplicated.

    Example:

    \b
        litrev snowball --from included
        litrev snowball --forward --from W2741809807 --from 10.1016/j.jsat.2016.01.003
    """
    directions = [d for d, on in (("backward", backward), ("forward", forward)) if on] or list(
        snowball_stage.DIRECTIONS)
    values = [v.strip() for item in (chosen or ("included",)) for v in item.split(",") if v.strip()]
    db = get_db(db_path)
    work_ids = snowball_stage.select_seeds(db, values)
    settings = settings_from_env(email)
    retrier = Retrier(settings, on_wait=lambda m: None if quiet else click.echo(m, err=True))
    fetch = snowball_stage.openalex_fetcher(settings, retrier)
    progress = _progress(quiet)
    try:
        summaries = snowball_stage.snowball(db, work_ids, fetch, directions=directions, full=full,
                                            progress=progress)
    finally:
        progress.close()
    linked = finish_write(db, link=not no_dedupe, records_saved=any(s.fetched for s in summaries))
    dedupe = linked.as_dict() if linked is not None else None
    for warning in linked.conflict_warnings() if linked is not None else []:
        click.echo(warning, err=True)
    if as_json:
        echo_json({"seeds": len(work_ids),
                   "directions": [snowball_stage.summary_dict(s) for s in summaries],
                   "dedupe": dedupe})
        return
    for s in summaries:
        if s.status == "nothing to do":
            click.echo(f"{s.direction}: nothing new ({s.already_chased} seed(s) already chased; "
                       "--full chases them again)")
            continue
        extra = f", {s.already_chased} already chased" if s.already_chased else ""
        click.echo(f"{s.direction}: {s.seeds} seed(s){extra}; {s.fetched} records "
                   f"({s.new} new, {s.updated} updated, {s.reused} already stored) "
                   f"in {s.requests} request(s), run {s.run_id}"
                   + (" (resumed)" if s.resumed else ""))
        if s.unresolved:
            click.echo(f"  {len(s.unresolved)} seed(s) not found in OpenAlex (no OpenAlex id or DOI): "
                       f"works {', '.join(map(str, s.unresolved[:20]))}")
        if s.missing:
            click.echo(f"  {s.missing} referenced work(s) no longer in OpenAlex (merged or deleted)")


class _progress:
    """A rich progress counter on stderr (works fetched per direction); silent with --quiet."""

    def __init__(self, quiet: bool):
        self.bar = None
        self.tasks = {}
        if not quiet and sys.stderr.isatty():
            self.bar = progress_bar()
            self.bar.start()

    def __call__(self, direction: str, n: int) -> None:
        if self.bar is None:
            return
        if direction not in self.tasks:
            self.tasks[direction] = self.bar.add_task(f"citations {direction}", total=None)
        self.bar.advance(self.tasks[direction], n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command("check-recall")
@click.argument("query", required=False)
@click.option("--known", "known_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Known-studies CSV (default: queries/QUERY.known.csv, else queries/*.known.csv).")
@click.option("--queries-dir", "queries_dir_path", type=click.Path(file_okay=False),
              help="Where the query files are (default $LITREV_QUERIES or queries/).")
@click.option("--min-recall", type=click.FloatRange(0, 1),
              help="Exit 1 when overall recall is below this (for CI), e.g. 0.9.")
@db_option
@json_option
def check_recall(query, known_paths, queries_dir_path, min_recall, db_path, as_json):
    """Check that saved queries find the studies you already know are relevant.

    Matches by DOI, else by title (dedupe's fuzzy threshold) and year; lists
    the misses so the search can be improved.

    Example:

    \b
        litrev check-recall peer-mentors
        litrev check-recall --known queries/peer-mentors.known.csv --json
    """
    paths = list(known_paths) or recall_stage.default_known_files(queries_dir(queries_dir_path), query)
    if not paths:
        raise LitrevError("No known-studies file. Pass --known FILE or add queries/<name>.known.csv.")
    db = get_db(db_path, create=False)
    reports = [recall_stage.check_recall(db, path, query) for path in paths]
    if as_json:
        echo_json(reports if len(reports) > 1 else reports[0])
    else:
        for report in reports:
            _print_report(report)
    if min_recall is not None and any((r["overall"]["recall"] or 0) < min_recall for r in reports):
        sys.exit(1)


def _print_report(report: dict) -> None:
    overall, database = report["overall"], report["database"]
    click.echo(f"Known studies: {report['known_file']} ({overall['total']})")
    width = max([len(q["query"]) for q in report["queries"]] + [len("all queries")])
    for row in report["queries"] + [{"query": "all queries", **overall},
                                    {"query": "database", **database}]:
        click.echo(f"  {row['query']:<{width}}  {row['found']:>3}/{row['total']:<3} "
                   f"recall {100 * (row['recall'] or 0):5.1f}%")
    missed = [s for s in report["studies"] if not s["found_by"]]
    if missed:
        click.echo("Missed by every query:")
        for s in missed:
            where = " (in the database from another source)" if s["in_database"] else ""
            who = f"{s['first_author']} " if s["first_author"] else ""
            click.echo(f"  line {s['line']}: {who}{s['year'] or 'n.d.'} "
                       f"{s['title'] or ''} {('doi:' + s['doi']) if s['doi'] else ''}{where}".rstrip())
