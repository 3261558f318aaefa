"""litrev's Datasette plugin for the public site, loaded with `--plugins-dir`.

Anyone may run read-only SQL against the public database; this plugin keeps that
safe for the server and for the people who download from it:

- every connection gets SQLite limits on the size of one value and the number of
  result columns, and a byte budget per query (`sql_time_limit_ms` cannot stop
  `select randomblob(400000000)`: it is one VM step, then a 533 MB response);
- `/-/databases` lists the databases without their absolute paths on the server;
- `/prisma.svg` and `/prisma.json` download the PRISMA 2020 diagram `litrev publish` stored;
- in the HTML of the works table, a title links to its study page and an abstract is cut to
  its first words (the JSON and CSV downloads keep every character);
- CSV downloads have formula cells neutralised (`=HYPERLINK(...)`, `+cmd|...`,
  `@SUM(...)`), unless the metadata sets `plugins: {litrev: {keep_formulas: true}}`;
- error pages are rendered without Datasette 0.65's rich traceback printer, which
  raises (a 500 and a traceback) when an error page is made outside an `except`
  block (every POST to a write endpoint), in every rich release from 12 to 15; and
  client errors Datasette 0.65 reports as 500 get their 4xx.

It imports nothing from litrev, so `datasette publish ... --plugins-dir
litrev/web/plugins` deploys it without installing litrev. litrev's own CSV
files use the same `neutralise_formula`.
"""

import codecs
import csv
import io
import re
import sqlite3
import traceback
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pluggy

# Datasette's own marker (datasette.hookimpl is this object); Datasette itself is imported
# inside the hooks, so litrev's exports can use neutralise_formula without loading Datasette.
hookimpl = pluggy.HookimplMarker("datasette")

# The largest string or blob any SQL may make or read (SQLITE_LIMIT_LENGTH); the public
# database's longest values (abstracts, query files) are a few tens of kB.
MAX_VALUE_BYTES = 256 * 1024
MAX_RESULT_COLUMNS = 64  # SQLITE_LIMIT_COLUMN; the widest public table has 27 columns
# What one query may return in all (text counted in characters). With the two limits
# above, one result row is at most 16 MiB, so a query's memory stays bounded.
MAX_RESULT_BYTES = 16 * 1024 * 1024

# Cells a spreadsheet would run as a formula (OWASP's CSV injection list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
CLIENT_ERRORS = {  # Datasette 0.65 raises these as 500s; they are the request's fault
    "Cannot sort table by ": 400,
    "Cannot use _sort and _sort_desc": 400,
    "You may only POST to a canned query": 405,
}


def neutralise_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with ' so it shows as text.

    Numbers (-5, +1.2e3) are left alone: a spreadsheet reads them as numbers, never runs them.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) \
            and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class ResultTooLarge(sqlite3.OperationalError):
    """A query's rows passed MAX_RESULT_BYTES (Datasette shows it as an SQL error, a 400)."""


# --- limits on every connection --------------------------------------------------


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_RESULT_COLUMNS)
    conn.row_factory = budgeted_rows(MAX_RESULT_BYTES)


def budgeted_rows(limit: int) -> Callable[[sqlite3.Cursor, tuple], sqlite3.Row]:
    """A row factory making Datasette's sqlite3.Row rows that stops a query past `limit` bytes.

    Datasette runs each query on a cursor of its own, so the budget is per query.
    """
    spent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def row(cursor: sqlite3.Cursor, values: tuple) -> sqlite3.Row:
        total = spent.get(cursor, 0) + sum(map(_size, values))
        if total > limit:
            raise ResultTooLarge(f"query result too large: more than {limit // 2**20} MiB. "
                                 "Select fewer rows or columns, or use limit")
        spent[cursor] = total
        return sqlite3.Row(cursor, values)

    return row


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 8


# --- /-/databases without paths ----------------------------------------------------


@hookimpl
def register_routes(datasette) -> list[tuple[str, Any]]:
    from datasette.views.special import JsonDataView

    def databases() -> list[dict[str, Any]]:
        """Datasette's /-/databases list, less each file's path."""
        return [{"name": db.name, "route": db.route, "size": db.size, "is_mutable": db.is_mutable,
                 "is_memory": db.is_memory, "hash": db.hash}
                for name, db in datasette.databases.items() if name != "_internal"]

    return [(r"^/-/databases(\.(?P<format>json))?$",
             JsonDataView.as_view(datasette, "databases.json", databases)),
            (r"^/prisma\.(?P<format>svg|json)$", prisma_file)]


async def prisma_file(datasette, request):
    """The PRISMA diagram as `litrev prisma` wrote it, from the public database's prisma_files."""
    from datasette import Response
    from datasette.utils.asgi import NotFound

    name = f"prisma.{request.url_vars['format']}"
    for db in datasette.databases.values():
        if db.name != "_internal" and await db.table_exists("prisma_files"):
            rows = (await db.execute("select media_type, content from prisma_files where name = ?",
                                     [name])).rows
            if rows:
                return Response(rows[0]["content"], content_type=f"{rows[0]['media_type']}; charset=utf-8",
                                headers={"content-disposition": f'inline; filename="{name}"'})
    raise NotFound("This database has no PRISMA diagram. Run `litrev publish` again.")


# --- the works table, readable: titles link to study pages, abstracts are cut -------------

ABSTRACT_CHARS = 200


@hookimpl
def render_cell(row, value, column, table, datasette) -> Any:
    if table != "works" or not isinstance(value, str):
        return None
    from markupsafe import Markup, escape

    columns = row.keys()  # a sqlite3.Row: `in row` would look among its values
    if column == "title" and "id" in columns:
        return Markup('<a href="{}">{}</a>').format(datasette.urls.path(f"/study/{row['id']}"), value)
    if column == "abstract" and len(value) > ABSTRACT_CHARS:
        cut = value[:ABSTRACT_CHARS].rsplit(" ", 1)[0]
        return Markup("{}&hellip;").format(escape(cut))
    return None


# --- CSV downloads with formulas neutralised -----------------------------------------


@hookimpl
def asgi_wrapper(datasette) -> Callable:
    def wrap(app: Callable) -> Callable:
        async def neutralising_csv(scope: dict, receive: Callable, send: Callable) -> None:
            if scope["type"] != "http" or not _asks_for_csv(scope) or _keeps_formulas(datasette):
                return await app(scope, receive, send)
            await app(scope, receive, _csv_rewriting(send))
        return neutralising_csv
    return wrap


def _asks_for_csv(scope: dict) -> bool:
    query = scope.get("query_string", b"")
    return scope.get("path", "").endswith(".csv") or b"_format=csv" in query


def _keeps_formulas(datasette) -> bool:
    return bool((datasette.plugin_config("litrev") or {}).get("keep_formulas"))


def _csv_rewriting(send: Callable) -> Callable[[dict], Awaitable[None]]:
    """`send` for a CSV response, with every cell of the body passed through neutralise_formula."""
    rewriter: CsvNeutraliser | None = None

    async def rewriting_send(message: dict) -> None:
        nonlocal rewriter
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            if message.get("status") == 200 and headers.get(b"content-type", b"").startswith(
                    (b"text/csv", b"text/plain")):
                rewriter = CsvNeutraliser()
                message = dict(message, headers=[
                    (k, v) for k, v in message.get("headers") or [] if k != b"content-length"])
        elif message["type"] == "http.response.body" and rewriter is not None:
            final = not message.get("more_body", False)
            message = dict(message, body=rewriter.feed(message.get("body", b""), final))
        await send(message)

    return rewriting_send


class CsvNeutraliser:
    """Rewrites a streamed CSV body record by record; a record split across chunks waits."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""

    def feed(self, chunk: bytes, final: bool) -> bytes:
        text = self.pending + self.decoder.decode(chunk, final)
        cut = len(text) if final else _end_of_complete_records(text)
        self.pending = text[cut:]
        return _neutralised_csv(text[:cut]).encode("utf-8")


def _end_of_complete_records(text: str) -> int:
    """Where the last complete record ends: after a newline outside quotes (quotes seen: even)."""
    end, quotes = 0, 0
    for match in re.finditer(r'["\n]', text):
        if match.group() == '"':
            quotes += 1
        elif quotes % 2 == 0:
            end = match.end()
    return end


def _neutralised_csv(text: str) -> str:
    if not text:
        return ""
    out = io.StringIO()
    writer = csv.writer(out)  # Datasette's own dialect: excel, \r\n
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([neutralise_formula(cell) for cell in row])
    return out.getvalue()


# --- error pages --------------------------------------------------------------------


@hookimpl(wrapper=True)
def handle_exception(datasette, request, exception: Exception):
    """Our error page in place of Datasette's default one (which would still run its rich
    printer: Datasette awaits every handler's answer); other plugins' answers are kept."""
    answers = yield
    default = "datasette.handle_exception"
    return [a for a in answers if getattr(a, "__module__", None) != default] + [
        _error_page(datasette, request, exception)]


def _error_page(datasette, request, exception: Exception) -> Callable[[], Awaitable[Any]]:
    from datasette import Response

    async def error_page() -> Response:
        status, title, message = _describe(exception)
        if status >= 500:
            traceback.print_exception(exception)  # for the server's log, without locals
        info = {"ok": False, "error": message, "status": status, "title": title}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status)
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        html = await template.render_async(dict(
            info, urls=datasette.urls, app_css_hash=datasette.app_css_hash(),
            menu_links=list))
        return Response.html(html, status=status)

    return error_page


def _describe(exception: Exception) -> tuple[int, str | None, Any]:
    """(status, title, message) for an error page, client errors with their 4xx."""
    from datasette.utils.asgi import Base400
    from datasette.views.base import DatasetteError
    from markupsafe import Markup

    if isinstance(exception, Base400):
        return exception.status, None, exception.args[0] if exception.args else ""
    if isinstance(exception, DatasetteError):
        message = Markup(exception.message) if exception.message_is_html else exception.message
        return _client_status(str(exception.message), exception.status), exception.title, message
    return _client_status(str(exception), 500), None, str(exception)


def _client_status(message: str, status: int) -> int:
    if status != 500:
        return status
    return next((code for start, code in CLIENT_ERRORS.items() if message.startswith(start)), 500)
