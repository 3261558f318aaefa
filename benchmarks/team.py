"""Team screening under load: N signed-in reviewers deciding at once, and a terminal screener.

    python benchmarks/team.py [--works 10000] [--reviewers 20] [--seconds 60] [--think 0]

Builds a working database of synthetic works (benchmarks/datasette.py's generator: 90% of
the works already carry one title-abstract vote, dual screening asks for a second), adds
the reviewers' accounts, starts `litrev team serve` and signs everyone in (the queue of
each is built then, and timed apart). Then, for --seconds, every reviewer (an HTTP client,
one connection each) decides the work on their screen and gets the next one back, as the
screening page does, `--think` seconds apart (0: as fast as the server answers, the worst
case); meanwhile a terminal screener (litrev's terminal session in another process, keys
scripted, one every --terminal-pace seconds) decides on the same file. Reported: decisions
per second, p50/p95 latency of "decide and show the next work", decisions sent vs stored,
errors.
"""

import argparse
import asyncio
import importlib.util
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

from litrev.db import open_db
from litrev.screen.settings import load_settings, settings_for_db
from litrev.web.team import accounts

HERE = Path(__file__).parent
TA = "title-abstract"
TOKEN = re.compile(r'name="csrftoken" content="([^"]+)"')
REVIEW_TOML = """
[review]
name = "Team screening benchmark"
[stages.title-abstract]
screeners = 2
[stages.full-text]
screeners = 2
[keywords]
include = ["peer", "mentor", "recovery"]
exclude = ["protocol"]
"""
TERMINAL = """
import io, sys, time
from rich.console import Console
from litrev.db import open_db
from litrev.screen.settings import load_settings, settings_for_db
from litrev.screen.terminal import run_session

db_path, toml, seconds, pace = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
db = open_db(db_path)
settings = settings_for_db(db, load_settings(toml))
deadline = time.monotonic() + seconds
keys = []

def read_key():
    if keys:
        return keys.pop(0)
    if time.monotonic() > deadline:
        return "q"
    time.sleep(pace)
    n = read_key.count = getattr(read_key, "count", 0) + 1
    if n % 5 == 0:
        return "i"
    keys.append("1")  # the reason, asked right after "e"
    return "e"

counts = run_session(db, settings, "title-abstract", "terminal", read_key=read_key,
                     read_line=lambda prompt: "", console=Console(file=io.StringIO()))
print(counts["include"] + counts["exclude"])
"""


def load_generator():
    """make_working_db from benchmarks/datasette.py (loaded by path: its module name is taken)."""
    spec = importlib.util.spec_from_file_location("bench_datasette", HERE / "datasette.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(tmp: Path, works: int, reviewers: int, prioritise: bool) -> tuple[Path, Path, list[str]]:
    generator = load_generator()
    db_path, toml = tmp / "evidence.db", tmp / "review.toml"
    toml.write_text(REVIEW_TOML + f"[screen]\nprioritise = {str(prioritise).lower()}\n")
    generator.make_working_db(db_path, works)
    db = open_db(db_path)
    settings = settings_for_db(db, load_settings(toml))
    names = [f"r{i:02d}" for i in range(1, reviewers + 1)]
    for name in names:
        accounts.add_member(db, settings, name, f"{name}-password")
    db.conn.close()
    return db_path, toml, names


def start_server(db_path: Path, toml: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from litrev.cli import cli; cli()", "team", "serve",
           "--db", str(db_path), "--settings", str(toml), "--port", str(port),
           "--secret", "benchmark-secret"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/team/login", timeout=5).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("litrev team serve did not start: " + proc.stderr.read().decode())
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("litrev team serve did not start within 60 s")


class Reviewer:
    def __init__(self, name: str, base: str) -> None:
        self.name = name
        self.http = httpx.AsyncClient(base_url=base, timeout=120)
        self.token, self.work_id = "", None
        self.latencies: list[float] = []
        self.sent_ok = 0
        self.errors: list[str] = []

    async def sign_in(self) -> None:
        page = await self.http.get("/team/login")
        self.token = TOKEN.search(page.text).group(1)
        response = await self.http.post("/team/login", data={
            "name": self.name, "password": f"{self.name}-password", "csrftoken": self.token})
        if response.status_code != 302:
            raise SystemExit(f"{self.name} could not sign in: {response.status_code}")
        state = await self.http.get(f"/team/api/{TA}/state")
        self.work_id = (state.json()["work"] or {}).get("id")

    async def screen(self, deadline: float, think: float, n: int) -> None:
        while time.monotonic() < deadline and self.work_id is not None:
            n += 1
            data = {"work_id": self.work_id, "decision": "include" if n % 5 == 0 else "exclude",
                    "csrftoken": self.token}
            if data["decision"] == "exclude":
                data["reason"] = "1"
            started = time.perf_counter()
            try:
                response = await self.http.post(f"/team/api/{TA}/decide", data=data)
                body = response.json()
            except (httpx.HTTPError, ValueError) as e:
                self.errors.append(f"{type(e).__name__}: {e}")
                continue
            self.latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                self.errors.append(f"{response.status_code}: {body.get('error')}")
            else:
                self.sent_ok += 1
            self.work_id = (body.get("work") or {}).get("id")
            if think:
                await asyncio.sleep(think)


async def run_clients(names: list[str], base: str, seconds: float, think: float,
                      start_terminal) -> tuple[list[Reviewer], float, float, subprocess.Popen]:
    reviewers = [Reviewer(name, base) for name in names]
    started = time.perf_counter()
    await asyncio.gather(*(r.sign_in() for r in reviewers))
    warm_up = time.perf_counter() - started
    terminal = start_terminal()
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(r.screen(deadline, think, i) for i, r in enumerate(reviewers)))
    elapsed = time.perf_counter() - started
    for r in reviewers:
        await r.http.aclose()
    return reviewers, warm_up, elapsed, terminal


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between a reviewer's decisions")
    parser.add_argument("--terminal-pace", type=float, default=1.0, help="seconds between terminal keys")
    parser.add_argument("--no-prioritise", action="store_true",
                        help="unranked queues (isolates the cost of refitting)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="litrev-team-bench-") as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        db_path, toml, names = prepare(tmp, args.works, args.reviewers, not args.no_prioritise)
        print(f"{args.works:,} works, {len(names)} reviewer accounts: built in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        before = count_decisions(db_path)
        port = load_generator().free_port()
        server = start_server(db_path, toml, port)

        def start_terminal() -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-c", TERMINAL, str(db_path), str(toml), str(args.seconds),
                 str(args.terminal_pace)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        try:
            reviewers, warm_up, elapsed, terminal = asyncio.run(
                run_clients(names, f"http://127.0.0.1:{port}", args.seconds, args.think,
                            start_terminal))
            out, err = terminal.communicate(timeout=args.seconds + 120)
        finally:
            server.terminate()
            server.wait(timeout=30)
        if terminal.returncode != 0:
            raise SystemExit("the terminal screener failed: " + err.decode()[-2000:])
        stored = count_decisions(db_path)
    report(args, reviewers, warm_up, elapsed, int(out.decode().split()[-1]), before, stored)


def count_decisions(db_path: Path) -> dict[str, int]:
    db = open_db(db_path)
    rows = dict(db.execute(
        "select case when reviewer = 'terminal' then 'terminal' else 'web' end, count(*) "
        "from decisions where reviewer != 'bench' group by 1").fetchall())
    db.conn.close()
    return {"web": rows.get("web", 0), "terminal": rows.get("terminal", 0)}


def report(args, reviewers: list[Reviewer], warm_up: float, elapsed: float, terminal_sent: int,
           before: dict[str, int], stored: dict[str, int]) -> None:
    latencies = [ms for r in reviewers for ms in r.latencies]
    sent = sum(r.sent_ok for r in reviewers)
    errors = [e for r in reviewers for e in r.errors]
    web_stored = stored["web"] - before["web"]
    term_stored = stored["terminal"] - before["terminal"]
    ranked = "unranked queues" if args.no_prioritise else "ranked queues, refitted on every decision"
    print(f"\n{len(reviewers)} reviewers over HTTP for {elapsed:.0f} s (think time {args.think:g} s) "
          f"and a terminal screener (a key every {args.terminal_pace:g} s), {args.works:,} works, "
          f"{ranked}\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| sign-in and first work, all reviewers at once | {warm_up:.1f} s |")
    print(f"| decisions per second (browser) | {len(latencies) / elapsed:.1f} |")
    print(f"| decide and show the next work, p50 | {percentile(latencies, 50):.0f} ms |")
    print(f"| decide and show the next work, p95 (target < 150 ms) | {percentile(latencies, 95):.0f} ms |")
    print(f"| decide and show the next work, max | {max(latencies):.0f} ms |")
    print(f"| browser decisions accepted / stored | {sent} / {web_stored} |")
    print(f"| terminal decisions made / stored | {terminal_sent} / {term_stored} |")
    print(f"| errors | {len(errors)} |")
    for error in sorted(set(errors))[:5]:
        print(f"  error: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
