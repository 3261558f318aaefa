"""Concurrency benchmark: screeners keep deciding while a harvest and a large import run.

    python benchmarks/concurrency.py                 # 50,000 records, 5,000 harvested, 20,000 imported
    python benchmarks/concurrency.py --quick         # 5,000 / 1,000 / 3,000
    python benchmarks/concurrency.py --records 50000 --harvest 5000 --import-records 200000

A database of --records synthetic records (benchmarks/synthetic.py: real titles, authors
and venues from ../shared/data/dedup, a quarter with realistic duplicates) is imported
and deduplicated first. Then, at once, each in its own process:

- 3 screeners call `litrev.screen.decisions.record_decision` in a loop (include, maybe or exclude
  with a reason, on their own shuffled order of works), as fast as they can;
- `litrev harvest` (the CLI) fetches --harvest OpenAlex works from a replay server
  on 127.0.0.1 (benchmarks/harvest.py's pages, in another process) and dedupes;
- `litrev import` (the CLI) loads a CSV of --import-records more synthetic records
  (other variants of the same real works, so many are duplicates) and dedupes.

When both commands have finished the screeners stop. Printed: decisions sent,
acknowledged and stored per screener (lost = acknowledged but not in the database),
the slowest decision, each command's exit code and time, records left without a work,
and every failure (exception or error line) word for word.
Target: 0 lost, 0 unlinked, 0 crashes.
"""

import argparse
import csv
import itertools
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from harvest import serve  # benchmarks/harvest.py: the replay server's pages
from synthetic import write_set

from litrev.db import open_db
from litrev.screen.decisions import record_decision
from litrev.screen.settings import ReviewSettings

DATA = ROOT.parent / "shared" / "data" / "dedup"
SCREENERS = ("ana", "ben", "cai")
QUERY = """name = "Benchmark"
description = "concurrency benchmark"

[openalex]
search = '"peer mentor" AND addiction'
"""


def litrev_command() -> list[str]:
    script = Path(sys.executable).parent / "litrev"
    return [str(script)] if script.exists() else [shutil.which("litrev") or "litrev"]


def screener(db_path: str, name: str, stop, results) -> None:
    """Decide on works until told to stop; report what was sent, acknowledged and failed."""
    settings = ReviewSettings()
    rng = random.Random(name)
    db = open_db(db_path, create=False)
    work_ids = [r[0] for r in db.execute("select id from works where merged_into is null")]
    rng.shuffle(work_ids)
    sent, acknowledged, failures, slowest = 0, [], [], 0.0
    for work_id in itertools.cycle(work_ids):  # a changed mind is a new vote: keep deciding
        if stop.is_set():
            break
        decision = rng.choice(["include", "maybe", "exclude"])
        reason = settings.reasons_for("title-abstract")[0] if decision == "exclude" else None
        sent += 1
        started = time.perf_counter()
        try:
            acknowledged.append(record_decision(db, settings, work_id, "title-abstract", name,
                                                decision, reason=reason))
        except Exception as e:  # noqa: BLE001 (every failure is counted and printed)
            failures.append(f"{name}: {type(e).__name__}: {e}")
        slowest = max(slowest, time.perf_counter() - started)
    db.close()
    results.put({"name": name, "sent": sent, "acknowledged": acknowledged,
                 "failures": failures, "slowest": slowest})


def build(tmp: Path, data: Path, records: int, import_records: int) -> tuple[Path, Path, int]:
    """The 50,000-record database (imported and deduplicated) and the CSV to import during the run."""
    if not data.exists():
        raise SystemExit(f"No labelled sets at {data}: the synthetic records are built from them. Give --data.")
    write_set(data, tmp / "base", records, seed=7)
    write_set(data, tmp / "big", import_records, seed=11)
    db_path = tmp / "evidence.db"
    started = time.perf_counter()
    subprocess.run([*litrev_command(), "import", str(tmp / "base" / "records_pre_merged.csv"),
                    "--source", "base", "--db", str(db_path)], check=True, capture_output=True)
    db = open_db(db_path)
    print(f"setup: {db['records'].count:,} records (synthetic.py may make a few fewer than asked), "
          f"{db['works'].count:,} works ({time.perf_counter() - started:.0f} s to import and dedupe)")
    count = db["records"].count
    db.close()
    return db_path, tmp / "big" / "records_pre_merged.csv", count


def start_command(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    return (subprocess.Popen([*litrev_command(), *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env), time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, help="records in the database before (default 50,000)")
    parser.add_argument("--harvest", type=int, help="OpenAlex works harvested (default 5,000)")
    parser.add_argument("--import-records", type=int, help="records imported (default 20,000)")
    parser.add_argument("--quick", action="store_true", help="5,000 / 1,000 / 3,000")
    parser.add_argument("--data", type=Path, default=DATA, help="the labelled sets (../shared/data/dedup)")
    args = parser.parse_args()
    records = args.records or (5_000 if args.quick else 50_000)
    harvested = args.harvest or (1_000 if args.quick else 5_000)
    imported = args.import_records or (3_000 if args.quick else 20_000)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        db_path, big_csv, records = build(tmp, args.data, records, imported)
        with open(big_csv, encoding="utf-8") as f:
            imported = sum(1 for _ in csv.DictReader(f))  # synthetic.py may make a few fewer
        (tmp / "queries").mkdir()
        (tmp / "queries" / "bench.toml").write_text(QUERY)
        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.Process(target=serve, args=(harvested, True, theirs), daemon=True)
        server.start()
        env = dict(os.environ, LITREV_OPENALEX_URL=ours.recv(), LITREV_EMAIL="bench@example.org",
                   LITREV_RETRY_BASE_SECONDS="0")
        stop, results = multiprocessing.Event(), multiprocessing.Queue()
        screeners = [multiprocessing.Process(target=screener, args=(str(db_path), name, stop, results))
                     for name in SCREENERS]
        for process in screeners:
            process.start()
        time.sleep(1)  # the screeners are deciding before the writers start
        commands = {
            "harvest": start_command(["harvest", "--queries-dir", str(tmp / "queries"),
                                      "--db", str(db_path)], env),
            "import": start_command(["import", str(big_csv), "--source", "big",
                                     "--db", str(db_path)], env),
        }
        finished = {}
        for label, (process, started) in commands.items():
            _out, err = process.communicate()
            finished[label] = (process.returncode, time.perf_counter() - started, err)
        time.sleep(1)
        stop.set()
        screened = [results.get() for _ in screeners]
        for process in screeners:
            process.join()
        ours.send("done")
        server.join()
        report(db_path, screened, finished, records, harvested, imported)


def report(db_path: Path, screened: list[dict], finished: dict, records: int, harvested: int,
           imported: int) -> None:
    db = open_db(db_path, create=False)
    stored_ids = {r[0] for r in db.execute("select id from decisions")}
    failures = [f for s in screened for f in s["failures"]]
    print(f"{records:,} records before; {harvested:,} harvested and {imported:,} imported meanwhile "
          f"while {len(screened)} screeners decided")
    print(f"{'screener':<10}{'sent':>8}{'acked':>8}{'stored':>8}{'lost':>6}{'failed':>8}{'slowest s':>11}")
    lost_total = 0
    for s in sorted(screened, key=lambda s: s["name"]):
        stored = db.execute("select count(*) from decisions where reviewer = ?", [s["name"]]).fetchone()[0]
        lost = len(set(s["acknowledged"]) - stored_ids)
        lost_total += lost
        print(f"{s['name']:<10}{s['sent']:>8,}{len(s['acknowledged']):>8,}{stored:>8,}{lost:>6}"
              f"{len(s['failures']):>8}{s['slowest']:>11.2f}")
    for label, (code, seconds, err) in finished.items():
        print(f"litrev {label}: exit {code} after {seconds:.0f} s")
        if code != 0:
            failures.append(f"litrev {label} (exit {code}): " + " | ".join(err.strip().splitlines()[-3:]))
    unlinked = db.execute("select count(*) from records where work_id is null").fetchone()[0]
    by_source = dict(db.execute("select source, count(*) from records group by source"))
    print(f"records now: {db['records'].count:,} ({', '.join(f'{k} {v:,}' for k, v in by_source.items())}); "
          f"without a work: {unlinked:,}")
    print(f"decisions lost: {lost_total}; records unlinked: {unlinked}; failures: {len(failures)}"
          "  (target 0, 0, 0)")
    for failure in failures:
        print(f"  {failure}")


if __name__ == "__main__":
    main()
