"""The `litrev` command line: one click group, one sub-module per stage.

Commands parse options, show progress and print; the work happens in the stage
modules (`litrev.harvest`, `litrev.dedupe`, ...). No SQL here.
"""

import sys

import click

from ..errors import LitrevError
from .common import GROUP_SETTINGS


class LitrevGroup(click.Group):
    """Turns a LitrevError (anything a user can cause) into one line and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LitrevError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(e.exit_code)
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


# Each stage registers its commands here, one line each.
from .status import status  # noqa: E402
from .screen import prisma, screen  # noqa: E402
from .simulate import simulate  # noqa: E402
from .dedupe import dedupe  # noqa: E402
from .publish import publish, serve  # noqa: E402
from .tags import gaps, tag  # noqa: E402
from .importexport import export, import_  # noqa: E402

cli.add_command(status)
cli.add_command(screen)
cli.add_command(prisma)
cli.add_command(simulate)
cli.add_command(dedupe)
cli.add_command(publish)
cli.add_command(serve)
cli.add_command(tag)
cli.add_command(gaps)
cli.add_command(import_)
cli.add_command(export)
from .harvest import harvest  # noqa: E402

cli.add_command(harvest)
from .snowball import check_recall, snowball

cli.add_command(snowball)
cli.add_command(check_recall)
