"""litrev's team screening app as a Datasette plugin: routes, actors, permissions.

Sign-in sets Datasette's own signed `ds_actor` cookie ({"id": name, "team": true},
expiring after SESSION_HOURS); Datasette's asgi-csrf checks every POST (forms carry
`csrftoken()`, the screening page's fetch calls send it too). Two permissions:
`litrev-screen` (any current team member) and `litrev-lead` (adjudicate, agreement,
PRISMA, and Datasette's own table pages over the working database, where every vote
and note is). The hooks only answer for a Datasette made by `make_datasette`, so the
public site (`litrev serve`) is untouched even in the same process.
"""

import asyncio
import time
import weakref
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import baseconv
from datasette.utils.asgi import Response

from litrev.errors import LitrevError
from litrev.screen.settings import ReviewSettings
from litrev.web.team import accounts
from litrev.web.team.app import LEAD, TeamApp

WEB = Path(__file__).resolve().parents[1]
PLUGIN = "litrev-team"
SESSION_HOURS = 12
SCREEN, ADJUDICATE = "litrev-screen", "litrev-lead"
# Datasette's own read actions over the working database: leads only (it holds every vote).
DATASETTE_READS = {"view-instance", "view-database", "view-database-download", "view-table",
                   "view-query", "execute-sql"}
ACTIONS = {"decide", "undo", "skip", "back", "tags"}
APPS: "weakref.WeakKeyDictionary[Datasette, TeamApp]" = weakref.WeakKeyDictionary()


def make_datasette(db_path: str | Path, settings: ReviewSettings, secret: str) -> Datasette:
    """A Datasette serving the working database at `db_path` to signed-in team members.

    The plugin's hooks act only where the metadata names it: Datasette asks for routes
    while it is being constructed, before this function can remember the instance.
    """
    if not pm.is_registered(_this_module()):
        pm.register(_this_module(), name=PLUGIN)
    ds = Datasette([str(db_path)], secret=secret, template_dir=str(WEB / "templates"),
                   static_mounts=[("litrev", str(WEB / "static"))],
                   settings={"suggest_facets": False},
                   metadata={"plugins": {PLUGIN: {"team": True}}})
    APPS[ds] = TeamApp(db_path, settings)
    return ds


def _is_team(datasette) -> bool:
    return bool((datasette.plugin_config(PLUGIN) or {}).get("team"))


def team_app(datasette: Datasette) -> TeamApp:
    return APPS[datasette]


def _this_module():
    import sys

    return sys.modules[__name__]


# --- hooks -----------------------------------------------------------------


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    if not _is_team(datasette) or (action not in (SCREEN, ADJUDICATE) and action not in DATASETTE_READS):
        return None
    app = APPS[datasette]

    async def allowed() -> bool:
        member = await _member(app, actor)
        if member is None:
            return False
        return action == SCREEN or member["role"] == LEAD

    return allowed


@hookimpl
def register_routes(datasette):
    if not _is_team(datasette):
        return []
    stage = r"(?P<stage>[a-z-]+)"
    return [
        (r"^/$", home),
        (r"^/team$", home),
        (r"^/team/login$", login),
        (r"^/team/logout$", logout),
        (rf"^/team/screen/{stage}$", screen_page),
        (rf"^/team/api/{stage}/state$", api_state),
        (rf"^/team/api/{stage}/(?P<action>[a-z]+)$", api_action),
        (r"^/team/conflicts$", conflicts_page),
        (r"^/team/resolve$", resolve),
        (r"^/team/agreement$", agreement_page),
        (r"^/team/prisma$", prisma_page),
    ]


async def _member(app: TeamApp, actor: dict | None) -> dict[str, Any] | None:
    if not actor or not actor.get("team"):
        return None
    return await app.member(actor.get("id"))


# --- helpers -----------------------------------------------------------------


async def _page(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    html = await datasette.render_template(f"team/{template}", context, request=request)
    return Response.html(html, status=status)


async def _sign_in_page(datasette, request, message: str = "", status: int = 401) -> Response:
    return await _page(datasette, request, "login.html",
                       {"message": message, "next": request.full_path}, status=status)


async def _gate(datasette, request, action: str, *, api: bool = False) -> Response | None:
    """None when the request may go on; otherwise the sign-in page / 401 / 403 to send."""
    actor = request.actor
    if await datasette.permission_allowed(actor, action, default=False):
        return None
    signed_in = await _member(team_app(datasette), actor) is not None
    if api:
        error = "Sign in first." if not signed_in else "Only a lead may do that."
        return Response.json({"error": error}, status=403 if signed_in else 401)
    if not signed_in:
        return await _sign_in_page(datasette, request)
    return await _page(datasette, request, "forbidden.html", {}, status=403)


def _stage(datasette, request) -> str | None:
    stage = request.url_vars["stage"]
    return stage if stage in team_app(datasette).settings.stages else None


async def _form(request) -> dict[str, str]:
    return {k: v for k, v in (await request.post_vars()).items() if k != "csrftoken"}


# --- sign-in -----------------------------------------------------------------


async def login(request, datasette):
    app = team_app(datasette)
    next_url = request.args.get("next") or "/team"
    if request.method != "POST":
        return await _page(datasette, request, "login.html", {"message": "", "next": next_url})
    form = await _form(request)
    name, password = form.get("name", "").strip(), form.get("password", "")
    next_url = form.get("next") or "/team"
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = "/team"  # never redirect off the site
    wait = app.throttle.wait_seconds(name)
    if wait > 0:
        return await _page(datasette, request, "login.html", {
            "message": f"Too many failed sign-ins for {name}. Wait {wait:.0f} s and try again.",
            "next": next_url}, status=429)
    member = await app.call(accounts.find_member, name)
    ok = await asyncio.to_thread(accounts.password_matches, member, password)
    if not ok:
        app.throttle.failed(name)
        return await _page(datasette, request, "login.html", {
            "message": "Wrong name or password. Try again, or ask your lead to reset it.",
            "next": next_url}, status=401)
    app.throttle.succeeded(name)
    response = Response.redirect(next_url)
    expires = baseconv.base62.encode(int(time.time()) + SESSION_HOURS * 3600)
    # Behind an HTTPS reverse proxy uvicorn takes the scheme from X-Forwarded-Proto (it trusts
    # 127.0.0.1), so the cookie is marked Secure there and never sent over plain HTTP.
    response.set_cookie("ds_actor", datasette.sign({"a": {"id": member["name"], "team": True},
                                                    "e": expires}, "actor"),
                        httponly=True, samesite="lax", max_age=SESSION_HOURS * 3600,
                        secure=request.scheme == "https")
    return response


async def logout(request, datasette):
    if request.method != "POST":
        return Response.text("Sign out with the button on any page (POST).", status=405)
    response = Response.redirect("/team/login")
    response.set_cookie("ds_actor", "", expires=0, max_age=0)
    return response


# --- screening ---------------------------------------------------------------


async def home(request, datasette):
    if (denied := await _gate(datasette, request, SCREEN)) is not None:
        return denied
    app = team_app(datasette)
    lead = await datasette.permission_allowed(request.actor, ADJUDICATE, default=False)
    return await _page(datasette, request, "home.html", {
        "stages": list(app.settings.stages), "lead": lead, "name": request.actor["id"],
        "review": app.settings.name})


async def screen_page(request, datasette):
    if (denied := await _gate(datasette, request, SCREEN)) is not None:
        return denied
    stage = _stage(datasette, request)
    if stage is None:
        return Response.html("No such stage.", status=404)
    app = team_app(datasette)
    await app.open_session(request.actor["id"], stage)
    state = await app.call(app.state, request.actor["id"], stage)
    lead = await datasette.permission_allowed(request.actor, ADJUDICATE, default=False)
    return await _page(datasette, request, "screen.html", {
        "stage": stage, "state": state, "name": request.actor["id"], "lead": lead,
        "review": app.settings.name})


async def api_state(request, datasette):
    if (denied := await _gate(datasette, request, SCREEN, api=True)) is not None:
        return denied
    if (stage := _stage(datasette, request)) is None:
        return Response.json({"error": "No such stage."}, status=404)
    app = team_app(datasette)
    await app.open_session(request.actor["id"], stage)
    return Response.json(await app.call(app.state, request.actor["id"], stage))


async def api_action(request, datasette):
    if request.method != "POST":
        return Response.json({"error": "POST only."}, status=405)
    if (denied := await _gate(datasette, request, SCREEN, api=True)) is not None:
        return denied
    stage, action = _stage(datasette, request), request.url_vars["action"]
    if stage is None or action not in ACTIONS:
        return Response.json({"error": "No such stage or action."}, status=404)
    app = team_app(datasette)
    form = await _form(request)
    await app.open_session(request.actor["id"], stage)
    try:
        return Response.json(await app.call(app.act, request.actor["id"], stage, action, form))
    except (LitrevError, ValueError) as e:
        state = await app.call(app.state, request.actor["id"], stage)
        return Response.json({**state, "error": str(e)}, status=400)


# --- lead pages ----------------------------------------------------------------


async def conflicts_page(request, datasette):
    if (denied := await _gate(datasette, request, ADJUDICATE)) is not None:
        return denied
    app = team_app(datasette)
    return await _page(datasette, request, "conflicts.html", {
        "conflicts": await app.call(app.conflicts), "message": request.args.get("message", ""),
        "reasons": {s: app.settings.reasons_for(s) for s in app.settings.stages},
        "name": request.actor["id"], "lead": True})


async def resolve(request, datasette):
    if request.method != "POST":
        return Response.text("POST only.", status=405)
    if (denied := await _gate(datasette, request, ADJUDICATE, api=True)) is not None:
        return denied
    app = team_app(datasette)
    try:
        message = await app.call(app.resolve, request.actor["id"], await _form(request))
    except (LitrevError, ValueError) as e:
        message = f"Error: {e}"
    return Response.redirect("/team/conflicts?" + _query({"message": message}))


async def agreement_page(request, datasette):
    if (denied := await _gate(datasette, request, ADJUDICATE)) is not None:
        return denied
    app = team_app(datasette)
    return await _page(datasette, request, "agreement.html", {
        **await app.call(app.agreement), "name": request.actor["id"], "lead": True})


async def prisma_page(request, datasette):
    if (denied := await _gate(datasette, request, ADJUDICATE)) is not None:
        return denied
    app = team_app(datasette)
    return await _page(datasette, request, "prisma.html", {
        "svg": await app.call(app.prisma_svg), "name": request.actor["id"], "lead": True})


def _query(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)
