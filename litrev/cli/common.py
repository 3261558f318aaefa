"""Options shared by several commands, defined once."""

import getpass
import json
import os

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from litrev.db import default_db_path, open_db

GROUP_SETTINGS = {"help_option_names": ["-h", "--help"]}


def db_option(fn):
    """--db PATH, defaulting to $LITREV_DB or data/evidence.db."""
    return click.option(
        "--db", "db_path", type=click.Path(dir_okay=False), default=default_db_path,
        show_default="data/evidence.db or $LITREV_DB", help="The evidence database.",
    )(fn)


def default_reviewer() -> str:
    """The one identity rule: --reviewer, else $LITREV_REVIEWER, else the login name."""
    return os.environ.get("LITREV_REVIEWER") or getpass.getuser()


def reviewer_option(fn=None, *, help: str = "Your name (as listed in review.toml)."):
    """--reviewer NAME, defaulting to $LITREV_REVIEWER, else your login name."""
    def decorate(fn):
        return click.option("--reviewer", default=default_reviewer,
                            show_default="$LITREV_REVIEWER, else your login", help=help)(fn)
    return decorate(fn) if fn else decorate


def progress_bar(quiet: bool = False, *, transient: bool = True) -> Progress:
    """The one progress bar: on stderr (stdout stays for results and JSON), with a total
    where one is known; `quiet` (--quiet, --json) hides it."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), disable=quiet,
                    transient=transient)


QUIT_KEYS = ("", "\x04", "\x1b")  # end of input, Ctrl-D, Esc


def ask_key(prompt: str, keys: str, read_key=click.getchar, *, also: tuple[str, ...] = ()) -> str:
    """One key press, no Enter: the answer to an interactive screen's question.

    Keys not offered (Enter, spaces, a stray letter) are ignored; end of input, Ctrl-D and
    Esc answer "q", so a screen always ends cleanly. Keys in `also` (paging keys such as
    space or PgDn's escape sequence) are returned as they are.
    """
    click.echo(prompt, nl=False)
    while True:
        key = read_key()
        if key in also:
            click.echo("")
            return key
        if key in QUIT_KEYS:
            if "q" not in keys:
                raise click.Abort()
            key = "q"
        if key and key.lower() in keys:
            click.echo(key.lower())
            return key.lower()


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
