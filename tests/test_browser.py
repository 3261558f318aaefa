"""What a person sees: headless Chromium (Debian's) driven by Playwright against `litrev serve`.

Skips when Playwright or Chromium is missing on a developer's machine; under CI
(CI=true, where .ci/run installs both) a missing browser is a failure instead.
Screenshots go to tests/artifacts/ (gitignored).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support.publish import fill

from litrev.report.publish import publish

ROOT = Path(__file__).parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("LITREV_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser test (.ci/run installs chromium and playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`litrev serve` in a subprocess on a free port, on a freshly published database."""
    from litrev.db import open_db

    tmp = tmp_path_factory.mktemp("browser")
    working = fill(open_db(tmp / "evidence.db"))
    public = tmp / "public.db"
    publish(working, public)
    port = free_port()
    cmd = [sys.executable, "-c", "from litrev.cli import cli; cli()", "serve", str(public),
           "--port", str(port), "--metadata", str(ROOT / "metadata.yml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read().decode() if proc.poll() is not None else ""
                    pytest.fail(f"litrev serve did not start: {output}")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.requests = requests
    yield page
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_home_page(server, page):
    page.goto(server + "/")
    assert "Peer mentors in alcohol and drug services" in page.title()
    assert page.locator("a[href='/gap-map']").count() >= 1
    assert "public" in page.inner_text("body")
    shot(page, "home")
    assert all(url.startswith(server) for url in page.requests), "a request left 127.0.0.1"


def test_search(server, page):
    page.goto(server + "/public/works")
    page.fill("#_search", "coach")
    page.press("#_search", "Enter")
    page.wait_for_url("**_search=coach**")
    titles = page.locator("table.rows-and-columns tbody tr td.col-title").all_inner_texts()
    assert sorted(titles) == [
        "A randomised controlled trial of recovery coaches after alcohol detoxification",
        "Peer recovery support specialists in emergency departments",
    ]
    shot(page, "search")


def test_facet(server, page):
    page.goto(server + "/public/works")
    facet = page.locator(".facet-info[data-column='countries']")
    assert "United Kingdom" in facet.inner_text()
    facet.locator("a", has_text="United Kingdom").click()
    page.wait_for_url("**countries=United**")
    rows = page.locator("table.rows-and-columns tbody tr")
    assert rows.count() == 2
    shot(page, "facet-united-kingdom")


def test_gap_map(server, page):
    page.goto(server + "/gap-map")
    assert page.inner_text("h1") == "Evidence gap map"
    uk = page.locator("table.gap-map tr[data-country='GB']")
    assert uk.locator("td.cell[data-design='rct']").inner_text().strip() == "1"
    assert uk.locator("td.cell[data-design='qualitative']").inner_text().strip() == "1"
    assert uk.locator("td.cell[data-design='cohort']").get_attribute("class") == "cell empty"
    assert uk.locator("td.total").inner_text().strip() == "2"
    us = page.locator("table.gap-map tr[data-country='US']")
    assert us.locator("td.cell[data-design='rct']").inner_text().strip() == "1"
    assert page.locator(".gap-summary .uk-count").inner_text() == "2"
    assert page.locator("table.gap-map tfoot td.grand").inner_text().strip() == "3"
    # the UK row is highlighted and the heatmap is coloured by our own stylesheet
    outline = uk.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    colour = uk.locator("td.cell[data-design='rct']").evaluate(
        "el => getComputedStyle(el).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    # studies over time: 2019 to 2021, 2020 empty, 2021 has two (one UK)
    bars = page.locator("svg.by-year g.year")
    assert bars.count() == 3
    assert page.locator("svg.by-year g.year[data-year='2020']").get_attribute("data-count") == "0"
    assert page.locator("svg.by-year g.year[data-year='2021']").get_attribute("data-count") == "2"
    assert page.locator("svg.by-year g.year[data-year='2021'] rect.uk").count() == 1
    shot(page, "gap-map")
    assert all(url.startswith(server) for url in page.requests), "a request left 127.0.0.1"
    # a cell links to the works behind it
    uk.locator("td.cell[data-design='rct'] a").click()
    page.wait_for_url("**works_in_cell?country=GB&design=rct**")
    assert page.locator("table.rows-and-columns tbody tr").count() == 1
    shot(page, "gap-map-cell-works")
