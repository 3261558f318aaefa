"""Harvest throughput and peak memory: litrev's own side of an OpenAlex harvest.

A replay server on 127.0.0.1 (tests/replay.py, in a child process) serves N OpenAlex-shaped works
(default 50,000) in cursor pages of 200 with no delay; `litrev.harvest.run.harvest`
fetches them through pyalex, normalises and saves them (one transaction per
page) into a fresh database. Prints records/second and peak memory (Python
allocations via tracemalloc, and the process's max RSS).

The works are generated from the shape of a real recorded OpenAlex work
(../shared/data/openalex/extracted_json, when present) or from the test
fixture's realistic work, each with its own id, DOI, title and abstract.

Target: >= 3,000 records/s and < 300 MB peak at 50,000 records.

    python benchmarks/harvest.py            # 50,000 records
    python benchmarks/harvest.py --quick    # 5,000 records
"""

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.harvest import openalex_work
from support.replay import ReplayServer, Reply, select_fields

from litrev.db import open_db
from litrev.harvest.queries import Query, Settings, SourceQuery
from litrev.harvest.run import harvest
from litrev.sources import openalex

SHARED = ROOT.parent / "shared" / "data" / "openalex" / "extracted_json"
PER_PAGE = 200


def real_work(compact: bool = False) -> dict:
    """A real recorded work when ../shared is here, else the fixture's realistic one."""
    path = SHARED / "pro_fetch_search_biodiversity_AND_finance__00.json"
    if path.exists() and not compact:
        return json.loads(path.read_text())["results"][0]
    return openalex_work(0)


class Pages:
    """Builds each page's body on request from a JSON text template (cheap), so the
    server never holds 50,000 works and costs little of the measured time."""

    def __init__(self, n: int, compact: bool = False):
        self.n = n
        work = real_work(compact)
        work["id"] = "https://openalex.org/W__ID__"
        work["doi"] = "https://doi.org/10.5555/bench.__ID__"
        work["title"] = work["display_name"] = "Peer mentors in recovery services, study __ID__"
        work["ids"] = dict(work.get("ids") or {}, openalex=work["id"], doi=work["doi"])
        self.work = work
        self.templates: dict[str | None, str] = {}

    def template(self, select: str | None = None) -> str:
        """The work as JSON text with only the `select=` fields, as OpenAlex sends it."""
        if select not in self.templates:
            self.templates[select] = json.dumps(select_fields(self.work, select))
        return self.templates[select]

    def __call__(self, request) -> Reply:
        template = self.template(request.params.get("select"))
        cursor = request.params.get("cursor", "*")
        start = 0 if cursor == "*" else int(cursor[1:])
        stop = min(start + PER_PAGE, self.n)
        results = ",".join(template.replace("__ID__", str(5_000_000_000 + i))
                           for i in range(start, stop))
        next_cursor = f'"p{start + PER_PAGE}"' if stop > start else "null"
        meta = (f'{{"count": {self.n}, "db_response_time_ms": 1, "page": null, '
                f'"per_page": {PER_PAGE}, "next_cursor": {next_cursor}, "groups_count": null}}')
        return Reply(body=f'{{"meta": {meta}, "results": [{results}], "group_by": []}}')


def serve(n: int, compact: bool, conn) -> None:
    """The replay server, in its own process: its page building is not litrev's time."""
    with ReplayServer() as server:
        server.add("/works", Pages(n, compact))
        conn.send(server.url)
        conn.recv()  # until the benchmark says it is done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 records instead of 50,000")
    parser.add_argument("-n", type=int, help="number of records")
    parser.add_argument("--compact", action="store_true",
                        help="use the compact test-fixture work (~3 KB) instead of a real one (~14 KB)")
    parser.add_argument("--whole-works", action="store_true",
                        help='ask for whole works (select = "all") instead of the fields litrev reads')
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations (slows the run down)")
    args = parser.parse_args()
    n = args.n or (5_000 if args.quick else 50_000)
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(n, args.compact, theirs), daemon=True)
    server.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(base_urls={"openalex": ours.recv()}, email="bench@example.org",
                            openalex_api_key="bench", retry_base_seconds=0)
        db = open_db(Path(tmp) / "bench.db")
        query = SourceQuery("openalex", search='"peer mentor" AND addiction',
                            select="all" if args.whole_works else ())
        q = Query(id="bench", name="bench", description="", path=Path(tmp) / "bench.toml",
                  text="bench", sha256="0" * 64, sources={"openalex": query})
        if args.tracemalloc:
            tracemalloc.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        [result] = harvest(db, [q], settings, sources=("openalex",))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        tracemalloc.stop()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stored = db["records"].count
    ours.send("done")
    server.join()
    rate = result.counts.fetched / elapsed
    print(f"{'measure':<34}{'litrev':>14}{'target':>14}")
    selected = openalex.fields(query)
    sent = len(Pages(1, args.compact).template(",".join(selected) if selected else None))
    print(f"{'bytes per work sent (JSON)':<34}{sent:>14,}{'':>14}")
    print(f"{'records harvested':<34}{result.counts.fetched:>14,}{n:>14,}")
    print(f"{'records stored':<34}{stored:>14,}{n:>14,}")
    print(f"{'seconds':<34}{elapsed:>14.1f}{'':>14}")
    print(f"{'records/second':<34}{rate:>14,.0f}{'>= 3,000':>14}")
    print(f"{'records per CPU-second (process)':<34}{result.counts.fetched / cpu:>14,.0f}{'':>14}")
    if peak is not None:
        print(f"{'peak Python allocations (MB)':<34}{peak / 1e6:>14.1f}{'':>14}")
    print(f"{'peak RSS, whole process (MB)':<34}{rss_mb:>14.1f}{'< 300':>14}")
    print("(the replay server runs in another process on the same 2 cores)")


if __name__ == "__main__":
    main()
