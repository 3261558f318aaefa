"""What a person sees: headless Chromium (Debian's) driven by Playwright against `litrev serve`.

Skips when Playwright or Chromium is missing on a developer's machine; under CI
(CI=true, where .ci/run installs both) a missing browser is a failure instead.
Screenshots go to tests/artifacts/ (gitignored).
"""

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support.browser import ARTIFACTS, free_port

SUGGESTION_EVIDENCE = 'abstract: "peer support in emergency departments in England"'

from litrev.report.publish import publish

ROOT = Path(__file__).parents[1]
def add_suggestion(db) -> int:
    """One of litrev's open suggestions on the demo base (whose tags are all confirmed): a UK
    country on an included study without a country, so the confirmed-only map differs (not on
    a review: the Not-tagged reviews stay the largest cell of every work found)."""
    work_id = db.execute(
        "select work_id from work_status where status = 'included' and work_id not in "
        "(select work_id from work_tags where key = 'country' or value = 'systematic-review') "
        "order by work_id limit 1").fetchone()[0]
    db["tags"].insert({"work_id": work_id, "key": "country", "value": "GB", "origin": "auto",
                       "status": "suggested", "confidence": 0.7, "evidence": SUGGESTION_EVIDENCE,
                       "created_at": "2026-01-13T10:00:00+00:00"})
    return work_id


def cli_json(*args: str) -> dict:
    from click.testing import CliRunner

    from litrev.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo evidence base (`litrev demo --no-serve`) plus one suggestion, published, with
    the CLI's numbers for it: `litrev gaps --json` (both bases) and `litrev prisma --format json`."""
    from litrev.db import open_db

    tmp = tmp_path_factory.mktemp("browser")
    working, public = tmp / "evidence.db", tmp / "public.db"
    cli_json("demo", "--no-serve", "--db", str(working), "-o", str(public),
             "--settings", str(ROOT / "review.toml"), "--json")
    suggested = add_suggestion(open_db(working))
    publish(open_db(working), public)
    return {
        "public": public, "suggested_work": suggested,
        "gaps": cli_json("gaps", "--json", "--db", str(working)),
        "gaps_all": cli_json("gaps", "--json", "--stage", "all", "--db", str(working)),
        "confirmed": cli_json("gaps", "--json", "--confirmed-only", "--db", str(working)),
        "prisma": cli_json("prisma", "--format", "json", "--db", str(working)),
    }


@pytest.fixture(scope="module")
def server(demo, tmp_path_factory):
    """`litrev serve` in a subprocess on a free port, on the published demo database."""
    port = free_port()
    cmd = [sys.executable, "-c", "from litrev.cli import cli; cli()", "serve", str(demo["public"]),
           "--port", str(port), "--metadata", str(ROOT / "metadata.yml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=tmp_path_factory.mktemp("serve"))
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


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.requests = requests
    yield page
    context.close()


def shot(page, name: str) -> None:
    """A full-page screenshot at the desktop size, and one at a phone's, kept for a person to look at."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(size)
    assert width <= PHONE["width"], f"{name}: the page is wider than a phone ({width}px)"


def offline(page, server: str) -> None:
    assert all(url.startswith(server) for url in page.requests), "a request left 127.0.0.1"


def number(page, selector: str) -> int:
    return int(page.locator(selector).first.inner_text().strip().rstrip("?"))


def test_home_page(server, page, demo):
    page.goto(server + "/")
    assert "Peer mentors in alcohol and drug services" in page.title()
    assert number(page, ".home-counts .included-count") == demo["gaps"]["works"]
    assert number(page, ".home-counts .works-count") == demo["gaps_all"]["works"]
    assert number(page, ".home-counts .uk-count") == demo["gaps"]["uk"]["works"]
    assert page.locator("nav.litrev-nav a", has_text="Data tables").count() == 1  # one click away
    shot(page, "home")
    page.fill("#q", "recovery coach")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=recovery+coach**")
    assert page.locator("li.result").count() > 0
    offline(page, server)


def test_search_with_filters(server, page, demo):
    uk = demo["gaps"]["uk"]["works"]
    page.goto(server + "/search?outcome=included")  # 20 a page, and a next page
    page.locator(".pager a[rel=next]").click()
    page.wait_for_url("**page=2**")
    assert page.locator("ol.results").get_attribute("start") == "21"
    assert number(page, ".result-count strong") == demo["gaps"]["works"]
    page.goto(server + "/search")
    page.select_option("select[name=outcome]", "included")
    page.locator("select[name=country]").select_option("GB")
    page.click(".filters button")
    page.wait_for_url("**country=GB**")
    assert number(page, ".result-count strong") == uk  # the UK studies `litrev gaps` counts
    assert page.locator("li.result").count() == min(uk, 20)
    assert page.locator("li.result .tag.country.suggested").count() == 1  # the suggestion, marked
    assert "works_fts" not in page.content()  # no SQL on the page
    shot(page, "search-filters")
    page.check("input[name=basis]")
    page.click(".filters button")
    page.wait_for_url("**basis=confirmed**")
    assert number(page, ".result-count strong") == demo["confirmed"]["uk"]["works"] == uk - 1
    page.fill("#q", "peer")
    page.click(".search-row button")
    page.wait_for_url("**q=peer**")
    assert page.locator("li.result mark").count() > 0  # the words found, highlighted
    offline(page, server)


def test_study_page(server, page, demo):
    page.goto(server + f"/study/{demo['suggested_work']}")
    row = page.locator("table.study-tags tr.tag-row.suggested")
    assert "United Kingdom" in row.inner_text() and "confidence 70%" in row.inner_text()
    assert "emergency departments in England" in row.inner_text()
    assert page.locator("table.study-tags tr.tag-row.confirmed").count() >= 1
    assert page.locator(".links-out a").count() >= 1
    assert page.locator("table.study-sources tbody tr").count() >= 1
    shot(page, "study")
    page.locator(".data-links a", has_text="works row").click()
    page.wait_for_url(f"**/works/{demo['suggested_work']}")
    offline(page, server)


def gap_cells(page) -> dict[tuple[str, str], int]:
    cells = page.locator("table.gap-map tbody td.cell:not(.empty)")
    return {(c["country"], c["design"]): int(c["count"]) for c in cells.evaluate_all(
        "els => els.map(e => ({country: e.closest('tr').dataset.country, design: e.dataset.design,"
        " count: e.dataset.count}))")}


def expected_cells(summary: dict) -> dict[tuple[str, str], int]:
    return {(r["country"] or "none", "" if d == "untagged" else d): n
            for r in summary["rows"] for d, n in r["cells"].items() if n}


def test_gap_map(server, page, demo):
    gaps = demo["gaps"]
    page.goto(server + "/gap-map")
    assert page.inner_text("h1") == "Evidence gap map"
    assert gap_cells(page) == expected_cells(gaps)
    uk = page.locator("table.gap-map tr[data-country='GB']")
    uk_row = next(r for r in gaps["rows"] if r["country"] == "GB")
    assert int(uk.locator("td.total").inner_text()) == uk_row["total"] == gaps["uk"]["works"]
    assert number(page, ".gap-summary .uk-count") == gaps["uk"]["works"]
    assert int(page.locator("table.gap-map tfoot td.grand").inner_text()) == gaps["works"]
    assert number(page, ".suggested-count") == gaps["works_on_suggestions"] == 1
    assert uk.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    bars = {int(g.get_attribute("data-year")): int(g.get_attribute("data-count"))
            for g in page.locator("svg.by-year g.year").all()}
    assert {y: n for y, n in bars.items() if n} == {y["year"]: y["works"] for y in gaps["by_year"] if y["year"]}
    # the chart fits its box: no bar or label outside the page's width
    box = page.locator("svg.by-year").bounding_box()
    assert box["width"] <= 1280 and all(
        r["x"] + r["width"] <= box["x"] + box["width"] + 1
        for r in (g.bounding_box() for g in page.locator("svg.by-year g.year").all()))
    shot(page, "gap-map")
    uk.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "gap-map-uk-row.png"), clip=uk.bounding_box())
    # a cell's click-through lists exactly its studies
    cell = uk.locator("td.cell:not(.empty)").first
    count = int(cell.get_attribute("data-count"))
    cell.locator("a").click()
    page.wait_for_url("**/search?**country=GB**")
    assert number(page, ".result-count strong") == count
    shot(page, "gap-map-cell-studies")
    # reviewers' tags only: the numbers of `litrev gaps --confirmed-only`
    page.goto(server + "/gap-map")
    page.locator("a.basis-confirmed").click()
    page.wait_for_url("**basis=confirmed**")
    assert gap_cells(page) == expected_cells(demo["confirmed"])
    assert number(page, ".gap-summary .uk-count") == demo["confirmed"]["uk"]["works"] == gaps["uk"]["works"] - 1
    shot(page, "gap-map-confirmed")
    offline(page, server)


def test_gap_map_every_work_scale_ignores_the_not_tagged_row(server, page, demo):
    page.goto(server + "/gap-map?scope=all")
    assert gap_cells(page) == expected_cells(demo["gaps_all"])
    # the colour scale runs to the largest cell of a tagged country, which gets the darkest
    # shade, whatever the Not-tagged row holds (it is greyed, on a scale of its own)
    cells = page.locator("table.gap-map tbody td.cell:not(.empty)").evaluate_all(
        "els => els.map(e => ({untagged: e.closest('tr').classList.contains('untagged'),"
        " count: +e.dataset.count, style: e.getAttribute('style')}))")
    tagged = [c for c in cells if not c["untagged"]]
    untagged = [c for c in cells if c["untagged"]]
    assert untagged and tagged
    darkest = max(tagged, key=lambda c: c["count"])
    assert "hsl(205, 75%, 36.0%)" in darkest["style"]
    assert all("hsl(210, 8%" in c["style"] for c in untagged)  # greyed, on a scale of their own
    shot(page, "gap-map-every-work")


def test_prisma_page(server, page, demo):
    prisma = demo["prisma"]["databases"]
    page.goto(server + "/prisma")
    diagram = page.locator("figure.prisma-diagram svg")
    assert diagram.count() == 1
    text = diagram.text_content().replace("\xa0", " ")
    assert f"(n = {prisma['identified_total']})" in text
    assert f"(n = {prisma['studies_included']})" in text
    assert diagram.bounding_box()["width"] <= 1280
    with page.expect_download() as download:
        page.locator(".downloads a", has_text="SVG").click()
    assert Path(download.value.path()).read_text().startswith("<svg")
    shot(page, "prisma")
    offline(page, server)
