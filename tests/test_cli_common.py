"""What every command shares: the reviewer rule, one-key answers."""

import click
import pytest

from litrev.cli.common import ask_key, default_reviewer


def keys(text):
    it = iter(text)
    return lambda: next(it, "")


def test_ask_key_takes_one_offered_key_and_ignores_the_rest(capsys):
    assert ask_key("? ", "acrsq", read_key=keys("\r \nxA")) == "a"
    assert capsys.readouterr().out == "? a\n"


@pytest.mark.parametrize("ending", ["", "\x04", "\x1b"])
def test_end_of_input_ctrl_d_and_esc_answer_quit(ending):
    assert ask_key("? ", "aq", read_key=keys("z" + ending)) == "q"


def test_a_screen_without_quit_aborts_at_end_of_input():
    with pytest.raises(click.Abort):
        ask_key("? ", "yn", read_key=keys("z"))


def test_default_reviewer_is_litrev_reviewer_else_the_login(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "login-name")
    monkeypatch.setenv("LITREV_REVIEWER", "env-name")
    assert default_reviewer() == "env-name"
    monkeypatch.delenv("LITREV_REVIEWER")
    assert default_reviewer() == "login-name"
