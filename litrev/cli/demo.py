"""`litrev demo`: the curated peer-mentor evidence base, built, published and served."""

import click

from litrev.cli.common import db_option, echo_json, get_db, json_option, quiet_option
from litrev.cli.publish import serve
from litrev.finish import finish_write
from litrev.harvest import snapshot as demo_stage
from litrev.report.gaps import gap_table
from litrev.report.publish import DEFAULT_PUBLIC_DB
from litrev.report.publish import publish as build_public
from litrev.screen.settings import load_settings, settings_for_db


@click.command()
@db_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=DEFAULT_PUBLIC_DB,
              show_default=True, help="Where to write the public database.")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), default=None,
              help="Review settings file (default review.toml or $LITREV_SETTINGS).")
@click.option("--no-serve", "--build-only", "no_serve", is_flag=True,
              help="Build and publish, but do not start the web server (for tests and scripts).")
@click.option("--port", "-p", type=int, default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--metadata", "metadata_path", type=click.Path(dir_okay=False), default=None,
              help="Datasette metadata file [default: ./metadata.yml when present].")
@json_option
@quiet_option
@click.pass_context
def demo(ctx, db_path, output, settings_path, no_serve, port, host, metadata_path, as_json, quiet):
    """Build the peer-mentor evidence base from litrev's curated snapshot and serve it.

    The snapshot's studies become records of the source "litrev snapshot" (deduplicated
    like any other), their coding people's tags and their outcome screening decisions,
    by the reviewer "litrev team (snapshot)". Re-running changes nothing; a later
    `litrev harvest` into the same database merges with them.

    Example:

    \b
        litrev demo                          # build data/evidence.db, publish, serve
        litrev demo --no-serve --db demo.db -o demo-public.db
    """
    settings = load_settings(settings_path)
    db = get_db(db_path)
    settings = settings_for_db(db, settings)
    summary = demo_stage.build_demo(db, settings)
    finish_write(db)
    published = build_public(db, output, reviewer_names=settings.publish_reviewer_names,
                             suggestions=settings.publish_suggestions)
    uk = gap_table(db)["uk"]
    if as_json:
        echo_json({"demo": summary.as_dict(), "publish": published.as_dict(), "uk": uk})
    elif not quiet:
        click.echo(summary.headline())
        click.echo(f"Published {published.works} works ({published.included} included) to "
                   f"{published.path}; UK studies among the included: {uk['works']}.")
    if not no_serve:
        ctx.invoke(serve, public_db=output, port=port, host=host, metadata_path=metadata_path)
