"""The docs are tested: every command has help, every command and option is described in docs/,
the CLI reference is generated from --help, and the README stays a short front door."""

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cogapp import Cog

from litrev.cli import cli

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
REFERENCE = DOCS / "cli.md"
GUIDES = "\n".join(p.read_text() for p in sorted(DOCS.glob("*.md")) if p != REFERENCE)


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


COMMANDS = list(all_commands())
IDS = [" ".join(p) for p, _ in COMMANDS]


@pytest.mark.parametrize("path,command", COMMANDS, ids=IDS)
def test_every_command_has_help_with_an_example(path, command):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert command.help and command.help.strip(), f"litrev {' '.join(path)} has no help"
    assert "Example" in command.help, f"litrev {' '.join(path)} help lacks an Example: block"


@pytest.mark.parametrize("path,command", COMMANDS, ids=IDS)
def test_every_command_and_option_is_described_in_the_guides(path, command):
    assert f"litrev {' '.join(path)}" in GUIDES, f"`litrev {' '.join(path)}` is not in docs/"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
            if names in (["--help"], []):
                continue
            assert any(re.search(re.escape(n) + r"\b", GUIDES) for n in names), \
                f"option {names} of `litrev {' '.join(path)}` is not described in docs/"


def test_the_cli_reference_is_generated_from_the_current_help():
    status = Cog().main(["cog", "--check", str(REFERENCE)])
    assert status == 0, "docs/cli.md is out of date: run `cog -r docs/cli.md`"


def test_the_readme_is_a_short_front_door_linking_every_page():
    assert len(README.splitlines()) <= 250
    for page in sorted(DOCS.glob("*.md")):
        assert f"docs/{page.name}" in README, f"README.md does not link docs/{page.name}"
    assert "benchmarks/README.md" in README


def test_readme_setup_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]' && pytest" in README
    assert "pip install -e '.[test]'" in ci and "\npytest" in ci
