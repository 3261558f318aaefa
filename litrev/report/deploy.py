"""`litrev publish --deploy-dir`: a folder that puts the public site on a host that scales.

The folder holds everything the site needs and nothing else: the public database, the
metadata (as JSON, its database block named after the file), litrev's templates, stylesheet
and Datasette plugin (which imports nothing from litrev, so the host needs no litrev), a
requirements.txt, a Dockerfile for any container host (Cloud Run, Fly.io, Render...), and
deploy.sh with the exact `datasette publish` commands. `check_cloudrun_command` parses the
Cloud Run command with the installed Datasette's own CLI, so an option it does not know or a
file the folder lacks is caught here, not at deploy time.
"""

import json
import shlex
import shutil
from pathlib import Path

from litrev.errors import LitrevError

WEB = Path(__file__).resolve().parents[1] / "web"
DATABASE = "public.db"
METADATA = "metadata.json"
# What the site runs on: Datasette 0.65 (the plugin's hooks and metadata are 0.65's) and
# datasette-template-sql for the gap map, search, study and PRISMA pages.
REQUIREMENTS = ["datasette>=0.65,<1.0", "datasette-template-sql>=1.0"]
SERVICE = "litrev-public"


def serve_options(settings: dict[str, str]) -> list[str]:
    """The `datasette serve` options the deployed site runs with, as `litrev serve` does."""
    options = ["--metadata", METADATA, "--template-dir", "templates", "--static", "litrev:static",
               "--plugins-dir", "plugins"]
    for name, value in settings.items():
        options += ["--setting", name, value]
    return options


def cloudrun_command(settings: dict[str, str], service: str = SERVICE) -> list[str]:
    """`datasette publish cloudrun`, run inside the deploy folder."""
    extra = " ".join(f"--setting {name} {value}" for name, value in settings.items())
    return ["datasette", "publish", "cloudrun", DATABASE, "--service", service,
            *serve_options({}), "--install", "datasette-template-sql",
            "--max-instances", "10", "--extra-options", extra]


def write_deploy_dir(public_db: Path, folder: Path, metadata: dict | None,
                     settings: dict[str, str]) -> list[str]:
    """Write the deploy folder for `public_db`; returns the files written, relative to it."""
    if folder.exists() and not folder.is_dir():
        raise LitrevError(f"{folder} is a file. Give --deploy-dir a folder.")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(public_db, folder / DATABASE)
    (folder / METADATA).write_text(json.dumps(metadata or {}, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    for part in ("templates", "static", "plugins"):
        shutil.rmtree(folder / part, ignore_errors=True)
        shutil.copytree(WEB / part, folder / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (folder / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n", encoding="utf-8")
    (folder / "Dockerfile").write_text(dockerfile(settings), encoding="utf-8")
    (folder / "deploy.sh").write_text(deploy_script(settings), encoding="utf-8")
    (folder / "deploy.sh").chmod(0o755)
    check_cloudrun_command(folder, settings)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def dockerfile(settings: dict[str, str]) -> str:
    # Shell form, so the host's $PORT (Cloud Run, Fly.io and Render set it) is expanded.
    command = (f"{shlex.join(['datasette', 'serve', '-i', DATABASE, '--host', '0.0.0.0'])} --port $PORT "
               f"{shlex.join(serve_options(settings))}")
    return (
        "# The public site for any container host (Cloud Run, Fly.io, Render, a VM): written by\n"
        "# `litrev publish --deploy-dir`. Read-only (-i), so it scales by running more copies.\n"
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY . .\n"
        "ENV PORT=8001\n"
        "EXPOSE 8001\n"
        f"CMD {command}\n"
    )


def deploy_script(settings: dict[str, str]) -> str:
    extra = " ".join(f"--setting {name} {value}" for name, value in settings.items())
    options = shlex.join(serve_options({}))
    return (
        "#!/bin/sh\n"
        "# Put the public site on a host that scales. Written by `litrev publish --deploy-dir`;\n"
        "# run from this folder. Pick one host (each needs its CLI logged in):\n"
        "set -e\n"
        "cd \"$(dirname \"$0\")\"\n"
        "# Google Cloud Run (gcloud; scales out to --max-instances):\n"
        f"{shlex.join(cloudrun_command(settings))}\n"
        "# Fly.io (flyctl; pip install datasette-publish-fly):\n"
        f"#   datasette publish fly {DATABASE} --app {SERVICE} {options} "
        f"--install datasette-template-sql --extra-options {shlex.quote(extra)}\n"
        "# Vercel (vercel; pip install datasette-publish-vercel; suits a database of tens of MB):\n"
        f"#   datasette publish vercel {DATABASE} --project {SERVICE} {options} "
        f"--install datasette-template-sql --extra-options {shlex.quote(extra)}\n"
        "# Any container host: docker build -t litrev-public . && docker run -p 8001:8001 litrev-public\n"
    )


def check_cloudrun_command(folder: Path, settings: dict[str, str]) -> None:
    """Parse deploy.sh's Cloud Run command with the installed Datasette's CLI, from `folder`:
    an unknown option or a missing file or folder fails here with one line."""
    import click
    from datasette.cli import cli as datasette_cli

    args = cloudrun_command(settings)[3:]
    command = datasette_cli.commands["publish"].commands["cloudrun"]
    missing = [a for a in (DATABASE, METADATA, "templates", "static", "plugins") if not (folder / a).exists()]
    if missing:
        raise LitrevError(f"The deploy folder {folder} lacks {', '.join(missing)}. Run the publish again.")
    # The command runs inside the folder; parsed from here, its relative paths become the folder's.
    local = {DATABASE, METADATA, "templates", "plugins"}
    args = [str(folder / a) if a in local else a.replace("litrev:static", f"litrev:{folder / 'static'}")
            for a in args]
    try:
        command.make_context("cloudrun", args)
    except click.UsageError as e:
        raise LitrevError(f"datasette publish cloudrun refuses the deploy command ({e.format_message()}). "
                          "Update Datasette or report this to litrev.") from e
