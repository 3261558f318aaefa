"""Team screening as people do it: `litrev team serve` in a subprocess, real Chromium, one browser
context per person, keys only. Same skip/fail rule as test_browser.py (CI=true: a missing
browser fails). Screenshots of every page go to tests/artifacts/ (gitignored).
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner
from support.browser import ARTIFACTS, free_port
from support.screen import add_works

from litrev.cli import cli
from litrev.db import open_db
from litrev.screen.settings import load_settings, settings_for_db
from litrev.web.team import accounts

PASSWORDS = {"ana": "ana-password", "sam": "sam-password", "kim": "kim-password"}
REVIEW_TOML = """
[review]
name = "Peer mentors in alcohol and drug services"
reviewers = ["ana", "sam", "kim"]
[stages.title-abstract]
screeners = 2
[stages.full-text]
screeners = 2
[keywords]
include = ["peer", "alcohol"]
exclude = ["rats", "protocol"]
"""
# What each reviewer decides, by work id: they disagree on works 5 and 6.
SAM = {w: "include" if w <= 5 else "exclude" for w in range(1, 11)}
KIM = {w: "include" if w <= 4 or w == 6 else "exclude" for w in range(1, 11)}


@pytest.fixture(scope="module")
def team_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("team")
    (tmp / "review.toml").write_text(REVIEW_TOML)
    db = open_db(tmp / "evidence.db")
    settings = settings_for_db(db, load_settings(tmp / "review.toml"))
    add_works(db, 10)
    db["tags"].insert_all({"work_id": w, "key": "country", "value": "GB", "origin": "auto",
                           "status": "suggested", "confidence": 0.9,
                           "evidence": "affiliation: University of Bristol"} for w in range(1, 11))
    for name, password in PASSWORDS.items():
        accounts.add_member(db, settings, name, password, lead=name == "ana")
    db.conn.close()
    port = free_port()
    cmd = [sys.executable, "-c", "from litrev.cli import cli; cli()", "team", "serve",
           "--db", str(tmp / "evidence.db"), "--settings", str(tmp / "review.toml"),
           "--port", str(port), "--secret", "browser-test-secret"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, base)
        yield {"base": base, "db": str(tmp / "evidence.db"), "settings": str(tmp / "review.toml")}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_up(proc, base):
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/team/login", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode() if proc.poll() is not None else ""
                pytest.fail(f"litrev team serve did not start: {output}")
            time.sleep(0.2)


def person(browser, base, name=None, viewport=(1280, 800)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    if name:
        page.goto(base + "/team/login")
        page.fill("#name", name)
        page.fill("#password", PASSWORDS[name])
        page.press("#password", "Enter")
        page.wait_for_url(base + "/team")
    return page


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"team-{name}.png"), full_page=True)


def shown_work(page):
    return page.evaluate("() => document.getElementById('done').hidden ? "
                         "Number(document.getElementById('work').dataset.workId) : null")


def press_and_wait(page, keys, before):
    for key in keys:
        page.keyboard.press(key)
    page.wait_for_function(
        "before => !document.getElementById('done').hidden || "
        "Number(document.getElementById('work').dataset.workId) !== before", arg=before)


def test_signed_out_visitors_get_the_sign_in_page_and_cannot_write(browser, team_site):
    base = team_site["base"]
    page = person(browser, base)
    response = page.goto(base + "/team/screen/title-abstract")
    assert response.status == 401
    assert page.locator("form.login").is_visible()
    assert page.locator("label[for=name]").inner_text() == "Name"
    shot(page, "sign-in")
    for path in ("/team/api/title-abstract/decide", "/team/api/title-abstract/undo",
                 "/team/api/full-text/tags", "/team/resolve"):
        status = page.request.post(base + path, form={"work_id": "1", "decision": "include"}).status
        assert status in (401, 403), path
    page.context.close()


def test_two_reviewers_screen_blind_and_the_lead_resolves_the_conflicts(browser, team_site):
    base = team_site["base"]
    sam, kim = person(browser, base, "sam"), person(browser, base, "kim")
    for page in (sam, kim):
        page.goto(base + "/team/screen/title-abstract")
        assert page.evaluate("document.activeElement.id") == "work"  # keys work at once
    assert sam.locator("#work-title mark.include").count() >= 1  # review.toml's keywords
    shot(sam, "screen")
    # A suggested country, confirmed with one key.
    sam.keyboard.press("t")
    sam.keyboard.press("Enter")
    sam.wait_for_function("document.getElementById('message').textContent.startsWith('Tags saved')")
    assert "country: GB (confirmed)" in sam.locator("#tags").inner_text()
    sam.keyboard.press("e")
    shot(sam, "exclusion-reasons")
    sam.keyboard.press("Escape")
    sam.keyboard.press("?")
    assert sam.locator("#help").is_visible()
    shot(sam, "help")
    sam.keyboard.press("Escape")
    # Alternate: sam decides one, kim decides one, until both queues are empty.
    plans = [(sam, SAM), (kim, KIM)]
    for _ in range(10):
        for page, plan in plans:
            work_id = shown_work(page)
            assert work_id is not None
            keys = ["i"] if plan[work_id] == "include" else ["e", "1"]
            press_and_wait(page, keys, work_id)
            assert page.locator("#votes-box").is_hidden()
    for page, other in ((sam, "kim"), (kim, "sam")):
        assert page.locator("#done").is_visible()
        assert other not in page.inner_text("body")
        assert page.locator("#screened").inner_text() == "10"
    shot(kim, "queue-done")
    # Nothing the reviewers saw came from another reviewer's votes, and nothing left the machine.
    for page in (sam, kim):
        assert all(url.startswith(base) for url in page.requests)
    # The lead sees the conflicts with every vote, and resolves them.
    ana = person(browser, base, "ana")
    ana.goto(base + "/team/conflicts")
    assert sorted(int(w) for w in ana.locator("section.conflict").evaluate_all(
        "els => els.map(e => e.dataset.workId)")) == [5, 6]
    assert "kim" in ana.locator("section.conflict[data-work-id='5']").inner_text()
    shot(ana, "conflicts")
    five = ana.locator("section.conflict[data-work-id='5']")
    five.locator("select[name=decision]").select_option("include")
    five.locator("button[type=submit]").click()
    ana.wait_for_selector("text=Adjudicated include: work 5")
    six = ana.locator("section.conflict[data-work-id='6']")
    six.locator("select[name=decision]").select_option("exclude")
    six.locator("select[name=reason]").select_option("Wrong population")
    six.locator("button[type=submit]").click()
    ana.wait_for_selector("#no-conflicts")
    # The agreement page shows the kappa `litrev screen agreement` prints.
    result = CliRunner().invoke(cli, ["screen", "agreement", "--json", "--db", team_site["db"],
                                      "--settings", team_site["settings"]])
    rows = json.loads(result.output)
    assert [(r["stage"], r["reviewer_a"], r["reviewer_b"], r["n"]) for r in rows] == [
        ("title-abstract", "kim", "sam", 10)]
    ana.goto(base + "/team/agreement")
    cell = ana.locator("tr[data-pair='kim|sam'] td.kappa")
    assert float(cell.get_attribute("data-kappa")) == rows[0]["kappa"] == 0.6
    assert cell.inner_text() == "0.600"
    assert ana.locator("tr[data-reviewer='sam'] td.votes").inner_text() == "10"
    shot(ana, "agreement")
    ana.goto(base + "/team/prisma")
    assert ana.locator("figure.prisma svg").count() == 1
    shot(ana, "prisma")
    # A reviewer cannot open the lead's pages, nor adjudicate.
    forbidden = sam.goto(base + "/team/conflicts")
    assert forbidden.status == 403 and "Leads only" in sam.inner_text("h1")
    shot(sam, "forbidden")
    token = sam.get_attribute("meta[name=csrftoken]", "content")
    refused = sam.request.post(base + "/team/resolve", form={
        "work_id": "7", "stage": "title-abstract", "decision": "include", "csrftoken": token})
    assert refused.status == 403
    for context in (sam.context, kim.context, ana.context):
        context.close()


def test_a_full_text_exclude_needs_a_reason_and_csrf_is_checked(browser, team_site):
    base = team_site["base"]
    sam = person(browser, base, "sam")
    sam.goto(base + "/team/screen/full-text")
    work_id = shown_work(sam)
    assert work_id in (1, 2, 3, 4, 5)  # included at title-abstract (5 by the lead)
    sam.keyboard.press("e")
    sam.keyboard.press("Enter")  # exclude without choosing a reason
    sam.wait_for_selector("#message.error")
    assert sam.inner_text("#message") == ("An exclusion at full-text needs a reason. "
                                          "Give one of the reasons in review.toml.")
    assert shown_work(sam) == work_id
    shot(sam, "full-text-reason-refused")
    press_and_wait(sam, ["e", "9"], work_id)  # 9. Report not retrieved
    # The same POST without the CSRF token is refused; with it, it goes through.
    next_work = shown_work(sam)
    url = base + "/team/api/full-text/decide"
    form = {"work_id": str(next_work), "decision": "include"}
    assert sam.request.post(url, form=form).status == 403
    token = sam.get_attribute("meta[name=csrftoken]", "content")
    assert sam.request.post(url, form={**form, "csrftoken": token}).status == 200
    db = open_db(team_site["db"])
    assert db.execute("select reason from decisions where stage = 'full-text' and work_id = ?",
                      [work_id]).fetchone() == ("Report not retrieved",)
    sam.context.close()


def test_the_screening_page_fits_a_phone(browser, team_site):
    base = team_site["base"]
    phone = person(browser, base, "kim", viewport=(390, 844))
    phone.goto(base + "/team/screen/full-text")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    include = phone.locator("button[data-key=i]")
    assert include.is_visible() and include.bounding_box()["width"] >= 44 * 0.9
    shot(phone, "screen-phone")
    phone.context.close()
