"""Fixtures shared by every test module. Stage-specific fixtures live in their own files."""

import os
from pathlib import Path

import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS, unavailable
from support.replay import ReplayServer

from litrev.db import open_db

SHARED_DATA = Path(os.environ.get("LITREV_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))


@pytest.fixture
def db(tmp_path):
    """A fresh, fully migrated evidence database on disk."""
    return open_db(tmp_path / "evidence.db")


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "evidence.db")


@pytest.fixture
def shared_data():
    """The real recorded API responses and benchmark sets in ../shared/data (skip when absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (only in the team's workspace)")
    return SHARED_DATA


@pytest.fixture
def replay():
    """A running `ReplayServer` on 127.0.0.1 (tests/support/replay.py), stopped after the test:
    the real API clients are pointed at it, so paging, retries and faults go over real HTTP."""
    with ReplayServer() as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
