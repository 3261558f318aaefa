"""Real Chromium for the page tests: Debian's /usr/bin/chromium driven by Playwright.

Skips when Playwright or Chromium is missing on a developer's machine; under CI (CI=true, where
.ci/run installs both) a missing browser is a failure instead. The `browser` fixture is in
tests/conftest.py.
"""

import os
import shutil
import socket
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CHROMIUM = os.environ.get("LITREV_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser test (.ci/run installs chromium and playwright)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


