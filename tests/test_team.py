"""Team screening in the browser, over HTTP: accounts, sign-in, CSRF, blind votes, roles.

The Datasette app runs in-process (its real ASGI stack, asgi-csrf included) against a
working database on disk; the browser itself is driven in test_team_browser.py.
"""

import json
import os
import stat
import threading
import time

import pytest
from click.testing import CliRunner
from support.screen import add_works, settings, use
from team_support import LOOP, Client, cheap_hashes, team_db, team_server  # noqa: F401

from litrev.cli import cli
from litrev.db import open_db
from litrev.errors import LitrevError
from litrev.screen import decisions as screen_stage
from litrev.screen.session import Retrainer, ScreeningSession
from litrev.web.team import accounts
from litrev.web.team.app import highlight_html
from litrev.web.team.plugin import team_app

TA, FT = "title-abstract", "full-text"


@pytest.fixture
def team(db, tmp_path):
    s = team_db(db)
    ds = team_server(tmp_path / "evidence.db", s)
    yield db, s, ds
    team_app(ds).close()


def votes(db, stage=TA):
    return {(r["work_id"], r["reviewer"]): (r["decision"], r["reason"])
            for r in db.query("select * from screening_votes where stage = ?", [stage])}


# --- accounts ------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_hashes_and_checked(db):
    s = use(db, settings())
    accounts.add_member(db, s, "ana", "correct horse", lead=True)
    row = accounts.find_member(db, "ana")
    assert row["role"] == "lead" and row["password_hash"].startswith("$argon2id$")
    assert "correct horse" not in row["password_hash"]
    assert accounts.password_matches(row, "correct horse")
    assert not accounts.password_matches(row, "wrong horse")
    assert not accounts.password_matches(None, "correct horse")


def test_account_errors_are_one_line_and_actionable(db):
    s = use(db, settings(reviewers=["ana", "sam"]))
    with pytest.raises(LitrevError, match="not listed in"):
        accounts.add_member(db, s, "eve", "long enough")
    with pytest.raises(LitrevError, match="shorter than 8"):
        accounts.add_member(db, s, "sam", "short")
    accounts.add_member(db, s, "sam", "long enough")
    with pytest.raises(LitrevError, match="already a team member"):
        accounts.add_member(db, s, "sam", "long enough")
    with pytest.raises(LitrevError, match="No team member 'bob'"):
        accounts.remove_member(db, "bob")


def test_team_cli_add_list_password_remove(db_path):
    runner = CliRunner()
    open_db(db_path)
    result = runner.invoke(cli, ["team", "add", "ana", "--lead", "--db", db_path],
                           input="first-pass\nfirst-pass\n")
    assert result.exit_code == 0, result.output
    assert "Added ana (lead)" in result.output
    result = runner.invoke(cli, ["team", "list", "--json", "--db", db_path])
    assert [(m["name"], m["role"]) for m in json.loads(result.output)] == [("ana", "lead")]
    before = accounts.find_member(open_db(db_path), "ana")["password_hash"]
    result = runner.invoke(cli, ["team", "password", "ana", "--db", db_path],
                           input="second-pass\nsecond-pass\n")
    assert result.exit_code == 0, result.output
    member = accounts.find_member(open_db(db_path), "ana")
    assert member["password_hash"] != before and accounts.password_matches(member, "second-pass")
    result = runner.invoke(cli, ["team", "add", "ana", "--db", db_path], input="x-long-pass\nx-long-pass\n")
    assert result.exit_code == 1 and "Error: 'ana' is already a team member" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["team", "remove", "ana", "--db", db_path])
    assert result.exit_code == 0 and accounts.list_members(open_db(db_path)) == []


def test_team_serve_refuses_the_public_database(tmp_path):
    import sqlite3

    public = tmp_path / "public.db"
    sqlite3.connect(public).execute("create table works (id integer)").connection.commit()
    result = CliRunner().invoke(cli, ["team", "serve", "--db", str(public)])
    assert result.exit_code == 1
    assert "is not a litrev working database" in result.output
    assert not sqlite3.connect(public).execute(
        "select 1 from sqlite_master where name = 'decisions'").fetchone()  # nothing migrated


def test_the_generated_secret_is_kept_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv("LITREV_SECRET", raising=False)
    first = accounts.server_secret(tmp_path / "evidence.db")
    path = tmp_path / "evidence.db.secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert accounts.server_secret(tmp_path / "evidence.db") == first
    assert accounts.server_secret(tmp_path / "evidence.db", "given") == "given"


def test_login_throttle_slows_down_repeated_failures():
    now = [1000.0]
    throttle = accounts.LoginThrottle(clock=lambda: now[0])
    for _ in range(throttle.FREE):
        assert throttle.wait_seconds("sam") == 0
        throttle.failed("sam")
    assert throttle.wait_seconds("SAM") == 1.0
    throttle.failed("sam")
    assert throttle.wait_seconds("sam") == 2.0
    now[0] += 2.5
    assert throttle.wait_seconds("sam") == 0
    throttle.succeeded("sam")
    throttle.failed("sam")
    assert throttle.wait_seconds("sam") == 0


# --- sign-in, CSRF, permissions --------------------------------------------------


WRITES = ["/team/api/title-abstract/decide", "/team/api/title-abstract/undo",
          "/team/api/title-abstract/skip", "/team/api/title-abstract/back",
          "/team/api/title-abstract/tags", "/team/resolve"]


def test_unauthenticated_requests_get_the_sign_in_page_and_writes_401(team):
    db, _, ds = team
    anon = Client(ds)
    for page in ("/team", "/team/screen/title-abstract", "/team/conflicts", "/team/agreement"):
        response = anon.get(page)
        assert response.status_code == 401, page
        assert 'action="/team/login"' in response.text
    for path in WRITES:
        response = anon.post(path, {"work_id": 1, "decision": "include"}, csrf=False)
        assert response.status_code in (401, 403), path
    assert anon.get("/team/api/title-abstract/state").status_code == 401
    assert db.execute("select count(*) from decisions").fetchone()[0] == 0


def test_wrong_password_is_refused_and_repeated_failures_are_slowed(team):
    _, _, ds = team
    client = Client(ds)
    for _ in range(5):
        assert client.sign_in("sam", "not-the-password").status_code == 401
    response = client.sign_in("sam")  # even the right password waits now
    assert response.status_code == 429 and "Too many failed sign-ins for sam" in response.text
    assert "ds_actor" not in client.http.cookies


def test_sign_in_sets_the_signed_actor_cookie_and_logout_clears_it(team):
    _, _, ds = team
    client = Client(ds)
    response = client.sign_in("sam")
    assert response.status_code == 302 and response.headers["location"] == "/team"
    assert ds.unsign(client.http.cookies["ds_actor"], "actor")["a"] == {"id": "sam", "team": True}
    assert client.get("/team/screen/title-abstract").status_code == 200
    client.get("/team")
    assert client.post("/team/logout").status_code == 302
    assert client.get("/team/screen/title-abstract").status_code == 401


def test_over_https_the_session_cookie_is_secure(team):
    _, _, ds = team
    plain, https = Client(ds), Client(ds, base="https://localhost")
    assert "secure" not in plain.sign_in("sam").headers["set-cookie"].lower()
    cookie = https.sign_in("sam").headers["set-cookie"].lower()
    assert cookie.startswith("ds_actor=") and "; secure" in cookie and "httponly" in cookie


def test_a_forged_cookie_and_a_removed_member_are_signed_out(team):
    db, _, ds = team
    forged = Client(ds)
    forged.http.cookies.set("ds_actor", "eyJhIjp7ImlkIjoiYW5hIn19.forged")
    assert forged.get("/team/conflicts").status_code == 401
    client = Client(ds)
    client.sign_in("kim")
    assert client.get("/team/screen/title-abstract").status_code == 200
    accounts.remove_member(db, "kim")
    team_app(ds).member_ttl = 0  # members are re-read once a second; the test does not wait
    assert client.get("/team/screen/title-abstract").status_code == 401


def test_a_post_without_the_csrf_token_is_refused(team):
    db, _, ds = team
    client = Client(ds)
    client.sign_in("sam")
    client.get("/team/screen/title-abstract")
    response = client.post("/team/api/title-abstract/decide", {"work_id": 1, "decision": "include"},
                           csrf=False)
    assert response.status_code == 403 and "did not match cookie" in response.text
    assert db.execute("select count(*) from decisions").fetchone()[0] == 0
    ok = client.post("/team/api/title-abstract/decide", {"work_id": 1, "decision": "include"})
    assert ok.status_code == 200


def test_a_reviewer_cannot_adjudicate_or_browse_the_working_database(team):
    db, s, ds = team
    screen_stage.record_decision(db, s, 1, TA, "sam", "include")
    screen_stage.record_decision(db, s, 1, TA, "kim", "exclude", reason="Wrong population")
    sam = Client(ds)
    sam.sign_in("sam")
    sam.get("/team")
    assert sam.get("/team/conflicts").status_code == 403
    assert sam.get("/team/agreement").status_code == 403
    assert sam.post("/team/resolve", {"work_id": 1, "stage": TA, "decision": "include"}).status_code == 403
    assert sam.get("/evidence/decisions").status_code == 403  # every vote and note is in there
    assert sam.get("/evidence.json?sql=select+*+from+decisions").status_code == 403
    assert screen_stage.conflicts(db)[0]["work_id"] == 1  # still a conflict
    ana = Client(ds)
    ana.sign_in("ana")
    assert ana.get("/evidence/decisions").status_code == 200


# --- screening over HTTP ------------------------------------------------------------


def test_decide_returns_the_next_work_and_every_write_is_the_cli_s(team):
    db, _, ds = team
    sam = Client(ds)
    sam.sign_in("sam")
    state = sam.get("/team/api/title-abstract/state").json()
    first = state["work"]["id"]
    assert state["progress"]["remaining"] == 10 and state["progress"]["screened"] == 0
    sam.get("/team/screen/title-abstract")
    response = sam.post("/team/api/title-abstract/decide",
                        {"work_id": first, "decision": "exclude", "reason": "2", "note": "adults?"})
    body = response.json()
    assert body["message"] == f"Saved: exclude on work {first}."
    assert body["work"]["id"] != first and body["progress"]["screened"] == 1
    row = db.execute("select reviewer, decision, reason, note, kind from decisions").fetchone()
    assert row == ("sam", "exclude", "Wrong intervention", "adults?", "vote")
    undo = sam.post("/team/api/title-abstract/undo").json()
    assert undo["work"]["id"] == first and votes(db) == {}
    bad = sam.post("/team/api/title-abstract/decide", {"work_id": first, "decision": "exclude",
                                                       "reason": "Wrong planet"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("Unknown exclusion reason")


def test_a_full_text_exclude_without_a_reason_is_refused(team):
    db, s, ds = team
    for reviewer in ("sam", "kim"):
        screen_stage.record_decision(db, s, 3, TA, reviewer, "include")
    sam = Client(ds)
    sam.sign_in("sam")
    sam.get("/team/screen/full-text")
    response = sam.post("/team/api/full-text/decide", {"work_id": 3, "decision": "exclude"})
    assert response.status_code == 400
    assert response.json()["error"] == ("An exclusion at full-text needs a reason. "
                                        "Give one of the reasons in review.toml.")
    assert votes(db, FT) == {}


def test_blind_a_reviewer_never_sees_another_s_vote_or_note(team):
    db, s, ds = team
    for work_id in range(1, 11):
        screen_stage.record_decision(db, s, work_id, TA, "kim", "exclude", reason="Wrong population",
                                     note="KIM-PRIVATE-NOTE")
    sam = Client(ds)
    sam.sign_in("sam")
    for page in ("/team/screen/title-abstract", "/team/api/title-abstract/state"):
        text = sam.get(page).text
        for secret in ("kim", "KIM-PRIVATE-NOTE"):
            assert secret not in text, (page, secret)
    work = sam.get("/team/api/title-abstract/state").json()["work"]
    assert work["id"] in range(1, 11) and "votes" not in work


def test_unblinded_by_review_toml_a_reviewer_sees_teammates_votes(db, tmp_path):
    s = team_db(db, blind=False)
    for work_id in range(1, 11):
        screen_stage.record_decision(db, s, work_id, TA, "kim", "exclude", reason="Wrong population")
    sam = Client(team_server(tmp_path / "evidence.db", s))
    sam.sign_in("sam")
    work = sam.get("/team/api/title-abstract/state").json()["work"]
    assert work["votes"] == [
        {"reviewer": "kim", "decision": "exclude", "reason": "Wrong population"}]


def test_the_lead_resolves_a_conflict_and_sees_every_vote_and_note(team):
    db, s, ds = team
    screen_stage.record_decision(db, s, 2, TA, "sam", "include", note="SAM-NOTE")
    screen_stage.record_decision(db, s, 2, TA, "kim", "exclude", reason="Wrong population")
    ana = Client(ds)
    ana.sign_in("ana")
    page = ana.get("/team/conflicts").text
    assert "SAM-NOTE" in page and "Wrong population" in page and 'data-work-id="2"' in page
    response = ana.post("/team/resolve", {"work_id": 2, "stage": TA, "decision": "include"})
    assert response.status_code == 302
    assert screen_stage.conflicts(db) == []
    row = db.execute("select reviewer, decision, kind from decisions order by id desc").fetchone()
    assert row == ("ana", "include", "adjudication")
    assert "Adjudicated include: work 2" in ana.get(response.headers["location"]).text


def test_the_agreement_page_shows_litrev_screen_agreement_s_kappa(team, db_path):
    db, s, ds = team
    for work_id, (a, b) in enumerate([("include", "include"), ("exclude", "exclude"),
                                      ("include", "exclude"), ("exclude", "exclude")], 1):
        screen_stage.record_decision(db, s, work_id, TA, "sam", a,
                                     reason="Wrong population" if a == "exclude" else None)
        screen_stage.record_decision(db, s, work_id, TA, "kim", b,
                                     reason="Wrong population" if b == "exclude" else None)
    cli_rows = json.loads(CliRunner().invoke(cli, ["screen", "agreement", "--json",
                                                   "--db", db_path]).output)
    ana = Client(ds)
    ana.sign_in("ana")
    page = ana.get("/team/agreement").text
    assert cli_rows[0]["kappa"] == 0.5
    assert f'data-kappa="{cli_rows[0]["kappa"]}"' in page and ">0.500<" in page
    assert 'data-reviewer="sam"><td>title-abstract</td><td>sam</td><td class="votes">4<' in page
    assert "<svg" in ana.get("/team/prisma").text


def test_keywords_are_marked_and_everything_else_escaped():
    html = str(highlight_html("Peer <b>support</b> & rats", ["peer"], ["rats"]))
    assert html == ('<mark class="include">Peer</mark> &lt;b&gt;support&lt;/b&gt; &amp; '
                    '<mark class="exclude">rats</mark>')


def test_a_tag_key_confirms_the_suggestions(team):
    db, _, ds = team
    db["tags"].insert_all({"work_id": w, "key": "country", "value": "GB", "origin": "auto",
                           "status": "suggested", "confidence": 0.9, "evidence": "title: UK"}
                          for w in range(1, 11))
    sam = Client(ds)
    sam.sign_in("sam")
    assert "title: UK" in sam.get("/team/screen/title-abstract").text
    shown = sam.get("/team/api/title-abstract/state").json()["work"]["id"]
    body = sam.post("/team/api/title-abstract/tags", {"work_id": shown, "tags": ""}).json()
    assert body["message"] == "Tags saved: country=GB"
    assert body["work"]["tags"][0] == {"key": "country", "value": "GB", "suggested": False,
                                       "confidence": 1.0, "evidence": None}


# --- the session: shared by terminal and browser ------------------------------------


def test_a_work_finished_elsewhere_leaves_the_queue(db, db_path):
    s = team_db(db, n_works=5)
    db["works"].update(5, {"merged_into": 4})  # a duplicate: its votes count for work 4
    session = ScreeningSession(db, s, TA, "sam", [(1, None), (2, None), (3, None), (4, None)])
    other = open_db(db_path)  # another terminal on the same file
    screen_stage.record_decision(other, s, 1, TA, "sam", "include")  # sam, in the terminal
    screen_stage.record_decision(other, s, 2, TA, "kim", "include")
    screen_stage.record_decision(other, s, 2, TA, "ana", "include")  # two votes: enough
    db["decisions"].insert_all({"work_id": 5, "stage": TA, "reviewer": r, "decision": "exclude",
                                "reason": "Wrong population", "kind": "vote",
                                "decided_at": "2026-01-10T10:00:00+00:00"} for r in ("kim", "ana"))
    screen_stage.record_decision(other, s, 3, TA, "kim", "include")
    screen_stage.record_decision(other, s, 3, TA, "kim", "undo")  # withdrawn: still open
    assert session.current() == (3, None)
    session.skip()
    assert session.current() is None  # work 4 had enough votes through its duplicate
    assert session.queue == [(3, None)]


def test_retraining_never_delays_a_decision(db, db_path):
    from support.rank import IRRELEVANT, RELEVANT

    s = use(db, settings(ta=1))
    papers = RELEVANT[:3] + IRRELEVANT[:6]
    db["works"].insert_all({"id": i, "title": t, "abstract": a} for i, (t, a) in enumerate(papers, 1))
    release = threading.Event()

    class HeldBack(Retrainer):
        """The real retrainer, whose refits cannot start until the test says so."""

        def rank(self, *args):
            release.wait(10)
            return super().rank(*args)

    retrainer = HeldBack(db_path)
    session = ScreeningSession(db, s, TA, "sam", [(w, None) for w in range(1, 10)],
                               prioritise=True, retrainer=retrainer)
    session.decide(1, "include")
    session.decide(4, "exclude", reason="1")  # returns although no model was fitted yet
    assert session.order_version == 0  # no refit yet; the stopping rule is cheap and counts both at once
    assert session.signal.screened == 2 and not session.signal.test.can_stop
    assert votes(db) == {(1, "sam"): ("include", None), (4, "sam"): ("exclude", "Wrong population")}
    release.set()
    deadline = time.monotonic() + 30  # the follow-up refit waits REFIT_MIN_SECONDS
    while session.order_version == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    retrainer.wait()
    assert session.order_version >= 1 and retrainer.errors == []
    assert session.current() == (2, None)  # the work on screen keeps its place
    assert {w for w, _ in session.queue[1:2]} == {3}  # the other peer study jumped the queue
    assert session.signal.test.recall_target == s.recall_target
    retrainer.close()


def test_the_plugin_leaves_any_other_datasette_alone(team, tmp_path):
    from datasette.app import Datasette

    assert team  # the team plugin is registered in this process now
    public = tmp_path / "public.db"
    open_db(public).conn.close()
    other = Datasette([str(public)])
    response = LOOP.run_until_complete(other.client.get("/"))
    assert response.status_code == 200 and "/team/login" not in response.text
    assert LOOP.run_until_complete(other.client.get("/team/login")).status_code == 404
    assert LOOP.run_until_complete(other.client.get("/public/works.json")).status_code == 200


def test_review_toml_says_whether_screening_is_blind():
    from litrev.screen.settings import SettingsError, parse_settings

    assert parse_settings({}).blind is True
    assert parse_settings({"screen": {"blind": False}}).blind is False
    with pytest.raises(SettingsError, match=r"\[screen\] blind must be a bool"):
        parse_settings({"screen": {"blind": "no"}})


def test_the_refit_worker_ends_when_the_server_is_killed(db_path):
    import subprocess
    import sys

    open_db(db_path).conn.close()
    server = subprocess.Popen([sys.executable, "-c", f"""
import os
from litrev.screen.session import Retrainer
retrainer = Retrainer({db_path!r})
print(retrainer.process.submit(os.getpid).result(), flush=True)
os.kill(os.getpid(), 9)  # no shutdown, as after kill -9 or an out-of-memory kill
"""], stdout=subprocess.PIPE, text=True)
    worker = int(server.stdout.readline())
    server.wait(timeout=60)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(worker, 9)
    pytest.fail(f"the refit worker {worker} outlived its server")


def test_one_work_s_tags_are_the_work_tags_view_s_rows(db):
    from litrev import views

    add_works(db, 3)
    db["works"].update(3, {"merged_into": 2})
    rows = [(1, "country", "GB", "auto", "suggested"), (1, "design", "rct", "auto", "suggested"),
            (1, "design", "cohort", "manual", "set"), (2, "country", "US", "auto", "accepted"),
            (3, "country", "CA", "manual", "set"), (3, "nation", "Wales", "auto", "suggested"),
            (2, "design", "qualitative", "auto", "rejected")]
    db["tags"].insert_all({"work_id": w, "key": k, "value": v, "origin": o, "status": st,
                           "confidence": 0.8} for w, k, v, o, st in rows)
    for work in (1, 2):
        view = list(db.query("select * from work_tags where work_id = ? order by key, value", [work]))
        one = list(db.query(f"select * from ({views.ONE_WORK_TAGS}) order by key, value", {"work": work}))
        assert one == view and one
