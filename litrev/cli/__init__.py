"""The `litrev` command line: one click group, one sub-module per stage.

Commands parse options, show progress and print; the work happens in the stage
modules (`litrev.harvest.run`, `litrev.dedupe.storage`, ...). No SQL here.
"""

import sqlite3
import sys

import click

from litrev.cli.common import GROUP_SETTINGS
from litrev.cli.dedupe import dedupe
from litrev.cli.demo import demo
from litrev.cli.harvest import harvest
from litrev.cli.importexport import export, import_
from litrev.cli.publish import publish, serve
from litrev.cli.screen import prisma, screen
from litrev.cli.simulate import simulate
from litrev.cli.snowball import check_recall, snowball
from litrev.cli.status import status
from litrev.cli.tags import gaps, tag
from litrev.cli.team import team
from litrev.db import is_lock_error, lock_error_message
from litrev.errors import LitrevError, printable


class LitrevGroup(click.Group):
    """Turns a LitrevError (anything a user can cause) into one line and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LitrevError as e:
            click.echo(f"Error: {printable(str(e))}", err=True)
            sys.exit(e.exit_code)
        except sqlite3.OperationalError as e:
            # Writes go through db.write_transaction, which words this itself; this
            # catches a lock met anywhere else (a read during a checkpoint, say).
            if not is_lock_error(e):
                raise
            click.echo(f"Error: {lock_error_message()}.", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted. Everything saved so far is kept; run again to resume.", err=True)
            sys.exit(130)


@click.group(cls=LitrevGroup, context_settings=GROUP_SETTINGS)
@click.version_option(package_name="litrev")
def cli():
    """litrev: an evidence database for living literature reviews.

    Harvest saved searches from OpenAlex and Crossref, deduplicate, screen
    (PRISMA 2020), tag by country and study design, and publish with Datasette.

    Example:

        litrev harvest && litrev dedupe && litrev status
    """


# Commands in the order the data flows: in, merged, screened, tagged, out.
for command in (demo, harvest, import_, snowball, check_recall, dedupe, status, screen, simulate,
                prisma, tag, gaps, export, publish, serve, team):
    cli.add_command(command)
