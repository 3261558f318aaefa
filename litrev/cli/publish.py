"""`litrev publish` and `litrev serve`: the public database and Datasette on it."""

import atexit
import json
import shutil
import socket
import tempfile
from pathlib import Path

import click

from litrev.cli.common import db_option, echo_json, get_db, json_option, quiet_option
from litrev.errors import LitrevError
from litrev.report.publish import DEFAULT_PUBLIC_DB
from litrev.report.publish import publish as build_public
from litrev.screen.settings import load_settings, settings_for_db

WEB = Path(__file__).resolve().parents[1] / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
PLUGINS = WEB / "plugins"  # litrev's Datasette plugin: query limits, safe CSV, errors
DEFAULT_METADATA = "metadata.yml"
# Datasette settings litrev serves with (also given in docs/publishing.md).
SETTINGS = {"suggest_facets": "off", "facet_time_limit_ms": "1000", "sql_time_limit_ms": "3000"}


@click.command()
@db_option
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=DEFAULT_PUBLIC_DB,
              show_default=True, help="Where to write the public database.")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), default=None,
              help="Review settings file (default review.toml or $LITREV_SETTINGS).")
@click.option("--deploy-dir", type=click.Path(file_okay=False), default=None,
              help="Also write a folder to deploy the site from (database, ./metadata.yml, templates, "
                   "plugin, Dockerfile, deploy.sh with the checked `datasette publish` command).")
@json_option
@quiet_option
def publish(db_path, output, settings_path, deploy_dir, as_json, quiet):
    """Build the public database: works, outcomes, tags, sources, PRISMA counts, gap map.

    Nothing private is copied: no raw API JSON, notes, individual votes, or
    reviewer names (unless review.toml sets publish_reviewer_names = true).
    Written to a temporary file, then renamed, so a running server never sees half a file.

    Example:

    \b
        litrev publish -o data/public.db && litrev serve data/public.db
        litrev publish --deploy-dir site && site/deploy.sh
    """
    settings = load_settings(settings_path)
    db = get_db(db_path, create=False)
    settings_for_db(db, settings)  # the stages and screeners the outcomes are derived with
    names = settings.publish_reviewer_names
    summary = build_public(db, output, reviewer_names=names,
                           suggestions=settings.publish_suggestions)
    files = deploy(summary.path, deploy_dir) if deploy_dir else None
    if as_json:
        echo_json(summary.as_dict() | ({"deploy_dir": deploy_dir, "deploy_files": files} if files else {}))
    elif not quiet:
        click.echo(
            f"Published {summary.works} works ({summary.included} included) and "
            f"{summary.searches} searches to {summary.path}"
            + (" (with reviewer names)" if names else "")
        )
        if files:
            click.echo(f"Deploy folder {deploy_dir}: {len(files)} files; run {Path(deploy_dir) / 'deploy.sh'} "
                       "(Cloud Run; Fly.io, Vercel and Docker in its comments).")


def deploy(public_db: str, deploy_dir: str) -> list[str]:
    """The deploy folder for the public database just built, with ./metadata.yml when present."""
    from litrev.report.deploy import DATABASE, write_deploy_dir

    metadata = load_metadata(None, database=Path(DATABASE).stem)
    if metadata is None:
        click.echo(f"No {DEFAULT_METADATA} here: the deployed site has no titles, descriptions or "
                   "canned queries.", err=True)
    return write_deploy_dir(Path(public_db), Path(deploy_dir), metadata, SETTINGS)


@click.command()
@click.argument("public_db", type=click.Path(dir_okay=False), default=DEFAULT_PUBLIC_DB,
                required=False)
@click.option("--port", "-p", type=int, default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; 0.0.0.0 makes it reachable from other machines.")
@click.option("--metadata", "metadata_path", type=click.Path(dir_okay=False), default=None,
              help="Datasette metadata file [default: ./metadata.yml when present].")
def serve(public_db, port, host, metadata_path):
    """Serve the public database with Datasette, read-only, with litrev's gap map.

    Example:

        litrev serve data/public.db --port 8001
    """
    args = datasette_args(public_db, port=port, host=host, metadata_path=metadata_path)
    check_port_free(host, port)
    from datasette.cli import cli as datasette_cli

    click.echo(f"Serving {public_db} on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    datasette_cli.main(args, prog_name="datasette", standalone_mode=True)


def check_port_free(host: str, port: int) -> None:
    """Fail before "Serving on ..." when the port is taken (uvicorn would fail after it).

    SO_REUSEADDR as uvicorn binds: a port left in TIME_WAIT by a stopped server is free.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise LitrevError(f"Cannot serve on {host}:{port} ({e.strerror}). Stop what is "
                              "using the port or give another with --port.")


def datasette_args(public_db: str, *, port: int, host: str, metadata_path: str | None) -> list[str]:
    """The `datasette serve` arguments for `litrev serve` (immutable: nothing can write)."""
    path = Path(public_db)
    if not path.is_file():
        raise LitrevError(f"No public database at {path}. Run `litrev publish -o {path}` first.")
    args = ["serve", "-i", str(path), "--host", host, "--port", str(port),
            "--template-dir", str(TEMPLATES), "--static", f"litrev:{STATIC}",
            "--plugins-dir", str(PLUGINS)]
    for name, value in SETTINGS.items():
        args += ["--setting", name, value]
    metadata = load_metadata(metadata_path, database=path.stem)
    if metadata is not None:
        folder = tempfile.mkdtemp(prefix="litrev-serve-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        tmp = Path(folder) / "metadata.json"
        tmp.write_text(json.dumps(metadata, ensure_ascii=False))
        args += ["--metadata", str(tmp)]
    elif metadata_path is None:
        click.echo(f"No {DEFAULT_METADATA} here: serving without titles, descriptions or "
                   "canned queries.", err=True)
    return args


def load_metadata(metadata_path: str | None, *, database: str = "public") -> dict | None:
    """metadata.yml, with its one database block renamed to match the served file's name."""
    import yaml

    path = Path(metadata_path or DEFAULT_METADATA)
    if not path.is_file():
        if metadata_path:
            raise LitrevError(f"No metadata file at {path}. Check --metadata.")
        return None
    try:
        metadata = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise LitrevError(f"{path} is not valid YAML ({e}). Fix the file.")
    databases = metadata.get("databases") or {}
    if len(databases) == 1 and database not in databases:
        metadata["databases"] = {database: next(iter(databases.values()))}
    return metadata
