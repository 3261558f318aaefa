import click

from litrev.cli.common import db_option, echo_json, get_db, json_option
from litrev.report import status as status_stage


@click.command()
@db_option
@json_option
def status(db_path, as_json):
    """Counts at a glance: records per source, works, runs, screening, tags.

    Example:

        litrev status
        litrev status --json | jq .works.total
    """
    summary = status_stage.summarise(get_db(db_path, create=False))
    if as_json:
        echo_json(summary)
    else:
        status_stage.print_summary(summary)
