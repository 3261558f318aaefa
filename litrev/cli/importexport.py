"""`litrev import` and `litrev export`: files in from other databases, files out to other tools."""

from pathlib import Path

import click

from litrev.cli.common import db_option, echo_json, get_db, json_option, keep_formulas_option
from litrev.errors import printable
from litrev.finish import finish_write
from litrev.harvest import importing
from litrev.paths import open_output
from litrev.report import export as export_stage
from litrev.sources.files import FORMATS as IMPORT_FORMATS


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(IMPORT_FORMATS),
              help="The file's format (default: told from its content).")
@click.option("--source", metavar="NAME",
              help='Where the file came from, e.g. "PubMed", "Scopus": its PRISMA label, '
                   "and (lower-cased) the prefix of its record ids.")
@click.option("--query", "query_label", metavar="LABEL",
              help="The search that produced the file (kept with the import run).")
@click.option("--skip-bad", is_flag=True,
              help="Import the good records of a file with malformed ones, and list the bad ones.")
@click.option("--no-dedupe", is_flag=True, help="Do not link the new records to works afterwards.")
@db_option
@json_option
def import_(file, fmt, source, query_label, skip_bad, no_dedupe, db_path, as_json):
    """Import a RIS, BibTeX, CSV or PubMed (nbib) file as a source of its own.

    Example:

    \b
        litrev import pubmed.nbib --query "peer mentors 2026-03"
        litrev import scopus.ris --source Scopus
        litrev import records.csv --format csv --source "Web of Science" --skip-bad
    """
    db = get_db(db_path)
    result = importing.import_file(db, file, fmt=fmt, source=source, query=query_label,
                                   skip_bad=skip_bad)
    linked = finish_write(db, link=not no_dedupe, records_saved=result.counts.fetched > 0)
    if as_json:
        data = result.as_dict()
        if linked is not None:
            data["dedupe"] = linked.as_dict()
        echo_json(data)
        return
    counts = result.counts
    click.echo(printable(f"Imported {counts.fetched} records from {Path(file).name} ({result.format}, "
               f"{result.encoding}) as {result.source_name!r} (ids {result.source}:...): "
               f"{counts.new} new, {counts.updated} updated. Run {result.run_id}."))
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} bad record(s):")
        for problem in result.skipped:
            click.echo(f"  {problem}")
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if linked is not None:
        click.echo(linked.headline())
        for warning in linked.conflict_warnings():
            click.echo(warning, err=True)


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(export_stage.FORMATS), required=True,
              help="ris/bibtex for reference managers, csv for spreadsheets, asreview for ASReview.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="The file to write (- for standard output).")
@click.option("--status", type=click.Choice(export_stage.STATUSES), default="all",
              show_default=True, help="Which works: included, screened (any decision), or all.")
@click.option("--records", is_flag=True,
              help="CSV with one row per source record (its original id and its work).")
@keep_formulas_option
@db_option
def export(fmt, output, status, records, keep_formulas, db_path):
    """Export works as RIS, BibTeX, CSV or an ASReview-ready CSV.

    Example:

    \b
        litrev export --status included --format ris -o included.ris
        litrev export --format csv -o works.csv
        litrev export --records --format csv -o records.csv
        litrev export --format asreview -o asreview.csv
    """
    text, count = export_stage.export(get_db(db_path, create=False), fmt, status=status,
                                      records=records, keep_formulas=keep_formulas)
    if output == "-":
        click.echo(text, nl=False)
        return
    with open_output(output) as out:
        out.write(text)
    what = "records" if records else "works"
    click.echo(f"Wrote {count} {what} to {output} ({fmt}).", err=True)
