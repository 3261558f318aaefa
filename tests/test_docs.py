"""The README is the front door: every command and option must be documented there."""

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from litrev.cli import cli

README = (Path(__file__).parents[1] / "README.md").read_text()


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


COMMANDS = list(all_commands())


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path, command):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert command.help and command.help.strip(), f"litrev {' '.join(path)} has no help"
    assert "Example" in command.help, f"litrev {' '.join(path)} help lacks an Example: block"


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_is_in_the_readme(path, command):
    assert f"litrev {' '.join(path)}" in README, f"`litrev {' '.join(path)}` is not in README.md"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
            if names in (["--help"], []):
                continue
            assert any(re.search(re.escape(n) + r"\b", README) for n in names), \
                f"option {names} of `litrev {' '.join(path)}` is not in README.md"


def test_readme_setup_commands_are_the_ones_ci_runs():
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "pip install -e . && litrev harvest" in README
    assert "pip install -e '.[test]' && pytest" in README
    assert "pip install -e '.[test]'" in ci and "\npytest" in ci
