"""`litrev team`: accounts for team screening in the browser, and the server for them."""

import asyncio
import sqlite3
from pathlib import Path

import click

from litrev.cli.common import GROUP_SETTINGS, db_option, echo_json, get_db, json_option
from litrev.errors import LitrevError
from litrev.screen.settings import load_settings, settings_for_db


def settings_option(fn):
    return click.option(
        "--settings", "settings_path", type=click.Path(dir_okay=False), default=None,
        help="Review settings file.  [default: review.toml or $LITREV_SETTINGS]",
    )(fn)


def _password(prompt: str) -> str:
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True)


@click.group(context_settings=GROUP_SETTINGS)
def team():
    """Team screening in the browser: accounts, and the server that shows them the queue.

    Example:

    \b
        litrev team add ana --lead && litrev team add sam
        litrev team serve --port 8002
    """


@team.command()
@click.argument("name")
@click.option("--lead", is_flag=True, help="A lead also adjudicates and sees agreement and every vote.")
@db_option
@settings_option
def add(name, lead, db_path, settings_path):
    """Add a team member (asks for a password); the name is the reviewer name in review.toml.

    Example:

    \b
        litrev team add ana --lead
    """
    from litrev.web.team import accounts

    db = get_db(db_path, create=False)
    settings = settings_for_db(db, load_settings(settings_path))
    member = accounts.add_member(db, settings, name, _password(f"Password for {name}"), lead=lead)
    click.echo(f"Added {member['name']} ({member['role']})", err=True)


@team.command(name="list")
@db_option
@json_option
def list_(db_path, as_json):
    """List the team members and their roles (never their passwords).

    Example:

    \b
        litrev team list --json
    """
    from litrev.web.team import accounts

    rows = accounts.list_members(get_db(db_path, create=False))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No team members yet. Add one with `litrev team add NAME --lead`.")
    for row in rows:
        click.echo(f"{row['name']}\t{row['role']}\t{row['created_at']}")


@team.command()
@click.argument("name")
@db_option
def remove(name, db_path):
    """Remove a team member's account (their decisions stay in the review).

    Example:

    \b
        litrev team remove sam
    """
    from litrev.web.team import accounts

    accounts.remove_member(get_db(db_path, create=False), name)
    click.echo(f"Removed {name}; their decisions stay.", err=True)


@team.command()
@click.argument("name")
@db_option
def password(name, db_path):
    """Set a new password for a team member (asks for it twice).

    Example:

    \b
        litrev team password sam
    """
    from litrev.web.team import accounts

    db = get_db(db_path, create=False)
    accounts.set_password(db, name, _password(f"New password for {name}"))
    click.echo(f"Password changed for {name}.", err=True)


@team.command()
@db_option
@settings_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; keep 127.0.0.1 behind an HTTPS reverse proxy.")
@click.option("--port", "-p", type=int, default=8002, show_default=True, help="Port to listen on.")
@click.option("--secret", envvar="LITREV_SECRET", default=None,
              help="Cookie signing secret [default: $LITREV_SECRET, or one kept in DB.secret].")
def serve(db_path, settings_path, host, port, secret):
    """Serve the working database to signed-in team members for screening in the browser.

    Example:

    \b
        litrev team serve --db data/evidence.db --port 8002
    """
    import uvicorn

    from litrev.web.team import accounts
    from litrev.web.team.plugin import make_datasette, team_app

    check_working_db(db_path)
    db = get_db(db_path, create=False)
    settings = settings_for_db(db, load_settings(settings_path))
    if not accounts.list_members(db):
        click.echo("No team members yet: add one with `litrev team add NAME --lead`.", err=True)
    ds = make_datasette(db_path, settings, accounts.server_secret(db_path, secret))
    asyncio.run(ds.invoke_startup())
    click.echo(f"Team screening on http://{host}:{port}/team (Ctrl+C to stop)", err=True)
    try:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
    finally:
        team_app(ds).close()  # finishes the refit in progress and stops its worker process


def check_working_db(db_path: str) -> None:
    """Refuse the public database (or any non-litrev file) before opening migrates it."""
    path = Path(db_path)
    if not path.is_file():
        raise LitrevError(f"No database at {path}. Give the working database with --db.")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            known = conn.execute(
                "select 1 from sqlite_master where name = '_sqlite_migrations'").fetchone()
    except sqlite3.DatabaseError as e:
        raise LitrevError(f"{path} is not an SQLite database ({e}). Give the working database with --db.")
    if not known:
        raise LitrevError(f"{path} is not a litrev working database (a public one?). "
                          "Give the working database (data/evidence.db) with --db.")
