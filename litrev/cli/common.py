"""Options shared by several commands, defined once."""

import json

import click

from ..db import default_db_path, open_db

GROUP_SETTINGS = {"help_option_names": ["-h", "--help"]}


def db_option(fn):
    """--db PATH, defaulting to $LITREV_DB or data/evidence.db."""
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False), default=default_db_path,
        show_default="data/evidence.db or $LITREV_DB", help="The evidence database.",
    )(fn)


def quiet_option(fn):
    return click.option("--quiet", "-q", is_flag=True, help="No progress bars (for cron).")(fn)


def keep_formulas_option(fn):
    return click.option(
        "--keep-formulas", is_flag=True,
        help="Write CSV cells such as =HYPERLINK(...) as they are; by default a cell a "
             "spreadsheet would run as a formula (starting =, +, -, @) gets a ' before it.",
    )(fn)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(fn)


def echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def get_db(db_path: str, *, create: bool = True):
    return open_db(db_path, create=create)
