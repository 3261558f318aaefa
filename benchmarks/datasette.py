"""Datasette benchmark: page times on a 100,000-work public database.

    python benchmarks/datasette.py            # 100,000 works
    python benchmarks/datasette.py --quick    # 10,000 works
    python benchmarks/datasette.py --works 50000 --runs 21

Builds a synthetic working database (realistic shapes: titles and abstracts
from a peer-support vocabulary, 1-2 source records per work, country and
design tags with the tagger's confidences, title-abstract and full-text
votes), times `litrev publish` on it, then starts `litrev serve` on the result
and times real HTTP requests on 127.0.0.1: the home page, a search, a faceted
table page and the gap map. Each figure is the median of --runs requests after
one warm-up request. Target: each < 300 ms.

The baseline beside litrev is plain `datasette -i public.db` (no metadata, so
no default facets, default settings) on the same file: what litrev's metadata,
templates and settings cost or save.
"""

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is called datasette.py: it must never shadow the datasette package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from litrev.db import ensure_shape, open_db
from litrev.report.publish import publish

TARGET_MS = 300
PAGES = [
    ("home page", "/"),
    ("search page, words", "/search?q=naloxone"),
    ("search page, words + country + outcome", "/search?q=naloxone&country=GB&outcome=included"),
    ("search page, design + years, no words", "/search?design=rct&from=2010&to=2020"),
    ("search page, reviewers' tags only", "/search?country=GB&basis=confirmed"),
    ("search page, everything", "/search"),
    ("study page", "/study/4242"),
    ("gap map", "/gap-map"),
    ("gap map, every work found", "/gap-map?scope=all"),
    ("gap map, reviewers' tags only", "/gap-map?basis=confirmed"),
    ("PRISMA page", "/prisma"),
    ("works table, search (status, year facets)", "/public/works?_search=naloxone"),
    ("works table (status, year facets)", "/public/works"),
    ("works table, filtered by one country (array) + status",
     "/public/works?countries__arraycontains=United+Kingdom&status=included"),
    ("works table, array facet on countries", "/public/works?_facet_array=countries"),
    ("work_countries table (country, origin facets)", "/public/work_countries"),
    ("canned query search", "/public/search?q=naloxone"),
]
DOMAIN = [
    "peer", "mentor", "support", "worker", "recovery", "coach", "lived", "experience", "alcohol",
    "drug", "substance", "treatment", "service", "harm", "reduction", "opioid", "outcome",
    "engagement", "retention", "relapse", "community", "intervention", "trial", "qualitative",
    "interview", "evaluation", "programme", "stigma", "housing", "prison", "employment",
    "wellbeing", "abstinence", "methadone", "naloxone", "outreach", "volunteer", "training",
]
SEARCH = "naloxone"
SYLLABLES = ["ka", "lo", "mi", "ten", "ra", "vu", "shi", "por", "en", "dal", "ti", "sen", "mo", "bri"]


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Zipf-like word frequencies, as in real abstracts: domain words spread over the
    frequent ranks, the search term at rank 300 (in a few percent of abstracts)."""
    filler = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
                     for _ in range(6000)})
    rng.shuffle(filler)
    words = filler[:3000]
    domain = [w for w in DOMAIN if w != SEARCH]
    for i, word in enumerate(domain):
        words.insert(5 + i * 7, word)
    words.insert(300, SEARCH)
    weights = [1 / (rank + 1) ** 1.07 for rank in range(len(words))]
    total = 0.0
    cumulative = []
    for w in weights:
        total += w
        cumulative.append(total)
    return words, cumulative


COUNTRIES = [("US", 30), ("GB", 8), ("AU", 7), ("CA", 6), ("IE", 3), ("NZ", 2), ("SE", 2),
             ("NL", 2), ("DE", 2), ("ZA", 2), ("IN", 1), ("BR", 1), ("NO", 1), ("FR", 1)]
DESIGNS = [("qualitative", 20), ("cross-sectional", 15), ("rct", 8), ("cohort", 8),
           ("mixed-methods", 6), ("systematic-review", 6), ("non-randomised", 5),
           ("case-study", 5), ("commentary", 5), ("economic-evaluation", 2), ("protocol", 3),
           ("case-control", 1), ("other", 3)]
NATIONS = ["England", "Scotland", "Wales", "Northern Ireland"]
REASONS = ["Wrong population", "Wrong intervention", "Wrong study design", "Wrong outcomes"]


def text(rng: random.Random, vocab: tuple[list[str], list[float]], n: int) -> str:
    return " ".join(rng.choices(vocab[0], cum_weights=vocab[1], k=n))


def pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def make_working_db(path: Path, n: int, seed: int = 2020) -> None:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    db = open_db(path)
    ts = "2026-01-10T09:00:00+00:00"
    db.execute("PRAGMA synchronous = OFF")
    with db.atomic():
        db["queries"].insert({"id": "peer-mentors", "name": "Peer mentors", "created_at": ts})
        db["query_versions"].insert({"id": 1, "query_id": "peer-mentors", "version": 1,
                                     "sha256": "x", "text": "name = 'Peer mentors'", "created_at": ts})
        for rid, source, label in ((1, "openalex", "OpenAlex"), (2, "crossref", "Crossref")):
            db["harvest_runs"].insert({
                "id": rid, "kind": "harvest", "source": source, "source_name": label,
                "query_id": "peer-mentors", "query_version_id": 1, "mode": "full", "started_at": ts,
                "finished_at": ts, "status": "complete", "fetched": n, "new": n, "updated": 0})
        works, records, provenance, decisions, tags = [], [], [], [], []
        for wid in range(1, n + 1):
            year = rng.randint(1990, 2026)
            doi = f"10.5555/bench.{wid}"
            works.append({"id": wid, "title": text(rng, vocab, rng.randint(6, 16)).capitalize(),
                          "abstract": text(rng, vocab, rng.randint(80, 220)), "year": year, "doi": doi,
                          "authors": json.dumps([f"Author{wid % 997}, A.", "Bench, B."]),
                          "venue": f"Journal {wid % 300}", "openalex_id": f"W{wid}",
                          "type": "article", "created_at": ts, "updated_at": ts})
            for source, run in (("openalex", 1), ("crossref", 2)):
                if source == "crossref" and rng.random() > 0.4:
                    continue
                rec = f"openalex:W{wid}" if source == "openalex" else f"crossref:{doi}"
                records.append({"id": rec, "source": source, "source_id": rec.split(":", 1)[1],
                                "doi": doi, "year": year, "raw": "{}", "raw_sha256": "x",
                                "first_seen": ts, "last_seen": ts, "work_id": wid})
                provenance.append({"record_id": rec, "run_id": run, "rank": wid, "found_at": ts})
            if rng.random() < 0.75:
                country = pick(rng, COUNTRIES)
                tags.append((wid, "country", country, rng.uniform(0.5, 0.95)))
                if country == "GB" and rng.random() < 0.6:
                    tags.append((wid, "nation", rng.choice(NATIONS), 0.8))
                if rng.random() < 0.05:
                    tags.append((wid, "country", pick(rng, COUNTRIES), 0.6))
            if rng.random() < 0.8:
                tags.append((wid, "design", pick(rng, DESIGNS), rng.uniform(0.5, 0.95)))
            if rng.random() < 0.9:
                include = rng.random() < 0.15
                decisions.append((wid, "title-abstract", "include" if include else "exclude",
                                  None if include else rng.choice(REASONS)))
                if include and rng.random() < 0.9:
                    ft = rng.random() < 0.6
                    decisions.append((wid, "full-text", "include" if ft else "exclude",
                                      None if ft else rng.choice(REASONS)))
        db["works"].insert_all(works, batch_size=2000)
        db["records"].insert_all(records, batch_size=2000)
        db["provenance"].insert_all(provenance, batch_size=2000)
        db["decisions"].insert_all(
            ({"work_id": w, "stage": s, "reviewer": "bench", "decision": d, "reason": r,
              "kind": "vote", "decided_at": ts} for w, s, d, r in decisions), batch_size=2000)
        # 40% of the works' tags a reviewer confirmed (set by hand), the rest litrev's suggestions
        confirmed = {w for w in range(1, n + 1) if rng.random() < 0.4}
        db["tags"].insert_all(
            ({"work_id": w, "key": k, "value": v, "origin": "manual" if w in confirmed else "auto",
              "status": "set" if w in confirmed else "suggested",
              "confidence": None if w in confirmed else round(c, 2), "evidence": "bench",
              "reviewer": "bench" if w in confirmed else None, "created_at": ts}
             for w, k, v, c in tags), batch_size=2000)
    ensure_shape(db)
    db.conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], base: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=5).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server did not start: {' '.join(cmd)}")
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


def fetch_ms(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    return (time.perf_counter() - started) * 1000, status


def time_pages(base: str, runs: int) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, path in PAGES:
        _, status = fetch_ms(base + path)  # warm-up (page cache, statement cache)
        if status != 200:
            out[name] = None
            continue
        out[name] = statistics.median(fetch_ms(base + path)[0] for _ in range(runs))
    return out


def serve_and_time(cmd: list[str], port: int, runs: int) -> dict[str, float | None]:
    base = f"http://127.0.0.1:{port}"
    proc = start(cmd, base)
    try:
        return time_pages(base, runs)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 works")
    parser.add_argument("--works", type=int, default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    n = args.works or (10_000 if args.quick else 100_000)

    with tempfile.TemporaryDirectory(prefix="litrev-bench-") as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        make_working_db(tmp / "evidence.db", n)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        summary = publish(open_db(tmp / "evidence.db"), tmp / "public.db")
        published = time.perf_counter() - started
        size_mb = (tmp / "public.db").stat().st_size / 1e6
        print(f"{n:,} works ({summary.included:,} included): working DB built in {generated:.1f} s; "
              f"`litrev publish` {published:.1f} s -> {size_mb:.0f} MB public.db")

        port = free_port()
        litrev = serve_and_time(
            [sys.executable, "-c", "from litrev.cli import cli; cli()", "serve",
             str(tmp / "public.db"), "--port", str(port), "--metadata", str(ROOT / "metadata.yml")],
            port, args.runs)
        port = free_port()
        plain = serve_and_time(
            [sys.executable, "-m", "datasette", "serve", "-i", str(tmp / "public.db"),
             "--port", str(port)], port, args.runs)

    print(f"\nMedian of {args.runs} requests over HTTP on 127.0.0.1 (target < {TARGET_MS} ms)\n")
    print(f"| page | litrev serve (ms) | plain datasette (ms) | < {TARGET_MS} ms |")
    print("|---|---:|---:|:---:|")
    for name, path in PAGES:
        ours, theirs = litrev[name], plain[name]
        fmt = lambda v: "n/a" if v is None else f"{v:.0f}"
        ok = "yes" if ours is not None and ours < TARGET_MS else "NO"
        print(f"| {name} `{path}` | {fmt(ours)} | {fmt(theirs)} | {ok} |")


if __name__ == "__main__":
    main()
