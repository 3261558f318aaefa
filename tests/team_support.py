"""Builders for the team screening tests: a working database with a team, and a signed-in client."""

import asyncio
import re

import httpx
import pytest
from argon2 import PasswordHasher
from support.screen import add_works, settings, use

from litrev.web.team import accounts
from litrev.web.team.plugin import make_datasette

# One event loop for every in-process request of a test run (httpx clients are bound to one).
LOOP = asyncio.new_event_loop()
PASSWORDS = {"ana": "ana-password", "sam": "sam-password", "kim": "kim-password"}
TOKEN = re.compile(r'name="csrftoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2 at its lowest cost: the tests check what is stored and compared, not the cost."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def team_db(db, n_works: int = 10, ta: int = 2, ft: int = 2, **kw):
    """`db` with n works, dual screening, a lead (ana) and two reviewers (sam, kim).

    Unranked unless asked (prioritise=True): ranking starts a worker process per server.
    """
    kw.setdefault("prioritise", False)
    s = use(db, settings(ta=ta, ft=ft, **kw))
    add_works(db, n_works)
    accounts.add_member(db, s, "ana", PASSWORDS["ana"], lead=True)
    for name in ("sam", "kim"):
        accounts.add_member(db, s, name, PASSWORDS[name])
    return s


class Client:
    """One browser's worth of cookies against an in-process team Datasette (real ASGI, httpx)."""

    def __init__(self, ds, base: str = "http://localhost"):
        self.ds = ds
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=ds.app()), base_url=base)
        self.token = ""

    def run(self, coro):
        return LOOP.run_until_complete(coro)

    def get(self, path: str) -> httpx.Response:
        response = self.run(self.http.get(path))
        if found := TOKEN.search(response.text):
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True) -> httpx.Response:
        data = dict(data or {})
        if csrf:
            data["csrftoken"] = self.token
        return self.run(self.http.post(path, data=data))

    def sign_in(self, name: str, password: str | None = None) -> httpx.Response:
        self.get("/team/login")
        return self.post("/team/login", {"name": name, "password": password or PASSWORDS[name]})


def team_server(db_path, s):
    ds = make_datasette(db_path, s, "test-secret")
    LOOP.run_until_complete(ds.invoke_startup())
    return ds
