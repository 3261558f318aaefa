"""A tiny replay HTTP server on 127.0.0.1 for tests and benchmarks (stdlib only).

Point pyalex/habanero at it (`LITREV_OPENALEX_URL` / `LITREV_CROSSREF_URL` =
`server.url`) and the real clients talk real HTTP to canned responses.

    with ReplayServer() as server:
        server.add("/works", Reply(json={"meta": {...}, "results": [...]}), cursor="*")
        server.add("/works", Reply(status=429, headers={"Retry-After": "0"}), times=1)
        ...
        server.requests[0].params["filter"]   # what the client sent
        server.requests[0].headers["User-Agent"]

Routing: `add(path, reply, times=None, **params)` registers a route; a request
matches the first route (in the order added) whose path is equal, whose every
given param equals the request's (a callable param is a predicate on the value,
`None` means "absent"), and which has not used up its `times`. No match -> 404
with a JSON error. So "429 once, then the page" is: add the 429 with `times=1`
first, then the page.

Helpers build whole cursor chains in the real APIs' shapes:
`add_openalex_pages(server, works, per_page=...)` and
`add_crossref_pages(server, items, rows=...)` (cursor `*` -> `c1` -> ... -> the
empty last page with a null next cursor).

Fault modes of a misbehaving API: `add_openalex_repeating_cursor` (the last
next cursor points at itself), `add_openalex_stuck_page` (new cursors, the same
works), `add_crossref_stuck_scroll` (one scroll id, the same items) and
`html_error(status, title)` (an HTML error page, as a proxy or gateway sends).
Each loop is served at most `times` requests, then 404, so a client that would
follow it forever fails instead of hanging the test.

`Reply(body=b"...")` sends raw bytes (broken JSON, HTML); `delay=` sleeps first
(slow replies, timeouts). Every request is recorded in `server.requests`
(`Request(method, path, params, headers)`, params as a dict of single values).
As OpenAlex does, `select=a,b` keeps only those root-level fields of each work in
a JSON `results` list.
"""

import dataclasses
import json as jsonlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str | None = None

    def payload(self) -> tuple[bytes, str]:
        if self.body is not None:
            data = self.body.encode() if isinstance(self.body, str) else self.body
            return data, self.content_type or "application/json"
        data = jsonlib.dumps(self.json if self.json is not None else {}).encode()
        return data, self.content_type or "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    url: str


@dataclass
class _Route:
    path: str
    reply: Reply | Callable[[Request], Reply]
    params: dict[str, Any]
    times: int | None

    def matches(self, request: Request) -> bool:
        if self.path != request.path or self.times == 0:
            return False
        for key, want in self.params.items():
            have = request.params.get(key)
            if callable(want):
                if not want(have):
                    return False
            elif want is None:
                if have is not None:
                    return False
            elif have != want:
                return False
        return True


class ReplayServer:
    def __init__(self):
        self.routes: list[_Route] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                split = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                request = Request("GET", split.path.rstrip("/") or "/", params,
                                  {k: v for k, v in self.headers.items()}, self.path)
                reply = openalex_select(server._reply_for(request), request)
                if reply.delay:
                    time.sleep(reply.delay)
                data, content_type = reply.payload()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add(self, path: str, reply: Reply | Callable[[Request], Reply], *, times: int | None = None,
            **params: Any) -> None:
        """Serve `reply` for GET `path` when every given query param matches (see module doc)."""
        self.routes.append(_Route(path.rstrip("/") or "/", reply, params, times))

    def clear(self) -> None:
        with self._lock:
            self.routes.clear()
            self.requests.clear()

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for route in self.routes:
                if route.matches(request):
                    if route.times is not None:
                        route.times -= 1
                    reply = route.reply
                    break
            else:
                return Reply(status=404, json={"error": "Not found in replay",
                                               "message": f"no route for {request.url}"})
        return reply(request) if callable(reply) else reply


def select_fields(work: dict[str, Any], select: str | None) -> dict[str, Any]:
    """`work` with only the root-level fields named in OpenAlex's `select=a,b` (all without)."""
    if not select:
        return work
    return {key: work[key] for key in select.split(",") if key in work}


def openalex_select(reply: Reply, request: Request) -> Reply:
    select = request.params.get("select")
    if not select or not isinstance(reply.json, dict) or "results" not in reply.json:
        return reply
    results = [select_fields(work, select) for work in reply.json["results"]]
    return dataclasses.replace(reply, json=dict(reply.json, results=results))


def openalex_page(results: list[dict], *, count: int, per_page: int,
                  next_cursor: str | None) -> dict[str, Any]:
    """An OpenAlex `/works` list body (same keys as the recorded 2025-26 responses)."""
    return {
        "meta": {"count": count, "db_response_time_ms": 12, "page": None, "per_page": per_page,
                 "next_cursor": next_cursor, "groups_count": None},
        "results": results,
        "group_by": [],
    }


def add_openalex_pages(server: ReplayServer, works: list[dict], *, per_page: int = 200,
                       path: str = "/works", prefix: str = "c", **params: Any) -> int:
    """Serve `works` as a cursor chain ending in the empty page; return the number of pages."""
    chunks = [works[i:i + per_page] for i in range(0, len(works), per_page)] + [[]]
    cursors = ["*"] + [f"{prefix}{i}" for i in range(1, len(chunks))]
    for i, chunk in enumerate(chunks):
        next_cursor = cursors[i + 1] if i + 1 < len(chunks) else None
        server.add(path, Reply(json=openalex_page(chunk, count=len(works), per_page=per_page,
                                                  next_cursor=next_cursor)),
                   cursor=cursors[i], **params)
    server.add(path, Reply(json=openalex_page([], count=len(works), per_page=1, next_cursor=None)
                           if not works else openalex_page(works[:1], count=len(works),
                                                           per_page=1, next_cursor=None)),
               cursor=None, **params)
    return len(chunks)


def crossref_page(items: list[dict], *, total: int, rows: int, next_cursor: str | None,
                  query: str | None = None) -> dict[str, Any]:
    """A Crossref `/works` list body (same keys as the recorded habanero responses)."""
    message: dict[str, Any] = {
        "facets": {}, "total-results": total, "items": items, "items-per-page": rows,
        "query": {"start-index": 0, "search-terms": query},
    }
    if next_cursor is not None:
        message["next-cursor"] = next_cursor
    return {"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
            "message": message}


def add_crossref_pages(server: ReplayServer, items: list[dict], *, rows: int = 1000,
                       path: str = "/works", prefix: str = "x", **params: Any) -> int:
    """Serve `items` as a Crossref cursor chain; the empty last page still carries a cursor."""
    chunks = [items[i:i + rows] for i in range(0, len(items), rows)] + [[]]
    cursors = ["*"] + [f"{prefix}{i}" for i in range(1, len(chunks) + 1)]
    for i, chunk in enumerate(chunks):
        server.add(path, Reply(json=crossref_page(chunk, total=len(items), rows=rows,
                                                  next_cursor=cursors[i + 1])),
                   cursor=cursors[i], **params)
    server.add(path, Reply(json=crossref_page([], total=len(items), rows=0, next_cursor=None)),
               cursor=None, **params)
    return len(chunks)


def add_openalex_repeating_cursor(server: ReplayServer, works: list[dict], *, per_page: int,
                                  path: str = "/works", times: int = 50, **params: Any) -> None:
    """`*` -> c1 -> c1 -> ...: pages of `works` whose last next cursor repeats itself."""
    chunks = [works[i:i + per_page] for i in range(0, len(works), per_page)]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        here, there = ("*" if i == 0 else f"c{i}"), f"c{i if last else i + 1}"
        server.add(path, Reply(json=openalex_page(chunk, count=len(works) * 10, per_page=per_page,
                                                  next_cursor=there)),
                   cursor=here, times=times if last else None, **params)


def add_openalex_stuck_page(server: ReplayServer, works: list[dict], *, path: str = "/works",
                            times: int = 50, **params: Any) -> None:
    """Every cursor answers the same `works`, with a new next cursor each time."""

    def reply(request: Request) -> Reply:
        cursor = request.params.get("cursor") or "*"
        step = 0 if cursor == "*" else int(cursor[1:])
        return Reply(json=openalex_page(works, count=len(works) * 10, per_page=len(works),
                                        next_cursor=f"c{step + 1}"))

    server.add(path, reply, times=times, **params)


def add_crossref_stuck_scroll(server: ReplayServer, items: list[dict], *,
                              path: str = "/works", times: int = 50, **params: Any) -> None:
    """One scroll id (as Crossref's cursor is) that serves the same `items` again and again."""
    page = Reply(json=crossref_page(items, total=len(items) * 10, rows=len(items),
                                    next_cursor="scroll-1"))
    server.add(path, page, times=times, **params)


def html_error(status: int, title: str, headers: dict[str, str] | None = None) -> Reply:
    """An HTML error page (what a proxy or a gateway answers instead of the API's JSON)."""
    body = (f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}"
            "</h1><p>Please try again later.</p><hr><address>nginx</address></body></html>")
    return Reply(status=status, body=body, content_type="text/html; charset=utf-8",
                 headers=headers or {})
