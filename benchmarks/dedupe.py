"""Deduplication benchmark: litrev beside bib-dedupe on the labelled sets in ../shared/data/dedup.

    python benchmarks/dedupe.py            # every set, both tools, plus the 100k synthetic run
    python benchmarks/dedupe.py --quick    # the small sets only, no synthetic run
    python benchmarks/dedupe.py --sets digital_work --no-peer --synthetic 0 --errors
                                           # litrev's missed duplicates and false merges, with fields

Scoring is per record, as in the sets' published_results_bib_dedupe.md: for each
gold duplicate group of k records, k - 1 are duplicates to remove (TP when the
predicted grouping removed them, FN otherwise: FN = distinct predicted groups
among its records - 1) and one is the unique publication; the unique publications
(one per gold group, plus every record in no group) are TN, or FP when the record
was merged with anything outside its gold group. So TP + FN = duplicates to
remove and TN + FP = unique publications. Both tools are scored by this one
function on their predicted groups.

Each tool runs in its own fresh process, so wall time, CPU time (bib-dedupe's
worker pool included) and peak memory (VmHWM, the high-water mark of the process's own memory:
ru_maxrss would include the importing parent's, which a child inherits across fork and exec) are its own;
timing starts after the CSV is read (litrev: the CSV is imported into a fresh database
by one process and deduplicated by another, whose time and peak memory are shown).
litrev's queue columns: the review queue after merging (one entry per two works), the
share of it that are true duplicates, and the sensitivity if every queued pair were
accepted; each set ends with the targets of issue #19 it misses, if any. bib-dedupe runs
with the interpreter in $BIB_DEDUPE_PYTHON (default /work/peer-venvs/bib-dedupe/bin/python,
a venv with `pip install bib-dedupe`); it is skipped with a note when that interpreter is
missing.
"""

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("LITREV_SHARED_DATA", HERE.parents[1] / "shared" / "data")) / "dedup"
SETS = ["special_cases", "stroke", "haematology", "respiratory", "digital_work"]
QUICK_SETS = ["special_cases", "stroke", "haematology"]
BIB_DEDUPE_PYTHON = os.environ.get("BIB_DEDUPE_PYTHON", "/work/peer-venvs/bib-dedupe/bin/python")

BIB_DEDUPE_SCRIPT = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep
df = pd.read_csv(sys.argv[1])
def cpu_now():
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime  # bib-dedupe works in a pool
start, cpu = time.perf_counter(), cpu_now()
records = prep(df, verbosity_level=0, cpu=2)
pairs = block(records, verbosity_level=0, cpu=2)
matched = match(pairs, verbosity_level=0, cpu=2)
groups = cluster(matched, verbosity_level=0)
seconds, cpu = time.perf_counter() - start, cpu_now() - cpu
print(json.dumps({"groups": [sorted(map(str, g)) for g in groups], "seconds": seconds, "cpu": cpu,
                  "peak_mb": next(int(line.split()[1]) / 1024 for line in open("/proc/self/status")
                                  if line.startswith("VmHWM:"))}))
"""


# --- scoring ---------------------------------------------------------------------------


def read_gold(folder: Path) -> list[list[str]]:
    with open(folder / "merged_record_ids.csv", newline="") as f:
        return [row["merged_ids"].split(";") for row in csv.DictReader(f)]


def read_ids(folder: Path) -> list[str]:
    with open(folder / "records_pre_merged.csv", newline="") as f:
        return [row["ID"] for row in csv.DictReader(f)]


def group_of(ids: list[str], groups: list[list[str]]) -> dict[str, str]:
    """Each record id -> the first id of its group (itself when in none)."""
    of = {i: i for i in ids}
    for group in groups:
        for member in group:
            of[member] = group[0]
    return of


def score(ids: list[str], gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Per-record TP/FP/FN/TN (see the module docstring) and the derived rates."""
    gold_of, predicted_of = group_of(ids, gold), group_of(ids, predicted)
    members: dict[str, set[str]] = {}
    for i in ids:
        members.setdefault(predicted_of[i], set()).add(i)
    polluted = {i for i in ids if any(gold_of[o] != gold_of[i] for o in members[predicted_of[i]])}
    tp = fp = fn = tn = 0
    golds: dict[str, list[str]] = {}
    for i in ids:
        golds.setdefault(gold_of[i], []).append(i)
    for records in golds.values():
        clusters = len({predicted_of[r] for r in records})
        tp += len(records) - clusters
        fn += clusters - 1
        if any(r in polluted for r in records):
            fp += 1
        else:
            tn += 1
    sens = tp / (tp + fn) if tp + fn else 1.0
    spec = tn / (tn + fp) if tn + fp else 1.0
    prec = tp / (tp + fp) if tp + fp else 1.0
    f1 = 2 * prec * sens / (prec + sens) if prec + sens else 0.0
    return {"TP": tp, "FP": fp, "FN": fn, "TN": tn, "sensitivity": sens, "specificity": spec,
            "precision": prec, "f1": f1}


def queue_figures(ids: list[str], gold: list[list[str]], predicted: list[list[str]],
                  queue: list[list[str]]) -> dict:
    """The review queue after merging: its size, the share of true duplicates in it, and
    the sensitivity if a person accepted every queued pair (the most review can reach)."""
    gold_of = group_of(ids, gold)
    true = sum(1 for a, b in queue if gold_of[a] == gold_of[b])
    accepted = _join(ids, predicted + [list(pair) for pair in queue])
    return {"queue": len(queue), "queue_true": true / len(queue) if queue else None,
            "sens_accepted": score(ids, gold, accepted)["sensitivity"]}


def _join(ids: list[str], groups: list[list[str]]) -> list[list[str]]:
    """Overlapping groups joined (union-find), as accepting a queued pair joins two works."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in groups:
        for member in group[1:]:
            parent[find(member)] = find(group[0])
    out: dict[str, list[str]] = {}
    for i in ids:
        out.setdefault(find(i), []).append(i)
    return [g for g in out.values() if len(g) > 1]


# --- running the tools -------------------------------------------------------------------


def run_litrev_child(csv_path: str) -> dict:
    """In a fresh process: import the CSV into a new database; then, in another fresh process
    (so that time and peak memory are dedupe's own, not the import's), run dedupe."""
    sys.path.insert(0, str(HERE.parent))
    from litrev.db import open_db
    from litrev.harvest.store import finish_run, save_records, start_run

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        db = open_db(db_path)
        run = start_run(db, kind="import", source="bench", source_name="Benchmark")
        with db.atomic():
            counts = save_records(db, load_records(csv_path), run)
        finish_run(db, run, "complete", counts)
        db.close()
        done = subprocess.run([sys.executable, __file__, "--dedupe-child", str(db_path)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def run_dedupe_child(db_path: str) -> dict:
    """Dedupe an imported database: the first run, then one with nothing new; the groups and
    the review queue by the records' source ids."""
    sys.path.insert(0, str(HERE.parent))
    from litrev.db import open_db
    from litrev.dedupe.storage import review_queue, update_works

    db = open_db(db_path)
    start, cpu = time.perf_counter(), time.process_time()
    update_works(db)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    update_works(db)  # nothing new: the run a scheduled harvest makes most days
    rerun = time.perf_counter() - start
    peak = own_peak_mb()
    groups: dict[int, list[str]] = {}
    source_id = {}
    for record_id, work_id, source_record in db.execute("select id, work_id, source_id from records"):
        groups.setdefault(work_id, []).append(source_record)
        source_id[record_id] = source_record
    queued = review_queue(db)
    queue = [[source_id[p["record_a"]], source_id[p["record_b"]]] for p in queued]
    verdict = verdict_seconds(db, queued[0]) if queued else None
    db.close()
    return {"groups": [sorted(g) for g in groups.values() if len(g) > 1], "seconds": seconds,
            "cpu": cpu, "rerun_seconds": rerun, "peak_mb": peak, "queue": queue, "verdict": verdict}


def own_peak_mb() -> float:
    """This process's own peak memory (VmHWM). Not ru_maxrss: Linux carries the high-water mark
    across fork and exec, so a dedupe child would report the importing parent's 2.4 GB."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict_seconds(db, pair: dict) -> dict:
    """A reviewer's key in `dedupe --review`: saving the verdict (what each key costs now) and
    the regrouping that follows (once per round of the queue now; before, after every key).
    Timed after the groups and queue were read, with "different", so the scores are unaffected."""
    from litrev.dedupe.storage import save_verdict, update_works

    start = time.perf_counter()
    save_verdict(db, pair["record_a"], pair["record_b"], "different", "bench")
    saved = time.perf_counter() - start
    start = time.perf_counter()
    update_works(db, reviewer="bench")
    return {"save": saved, "regroup": time.perf_counter() - start}


def load_records(csv_path: str) -> list:
    """Records from a benchmark CSV, through litrev's own CSV import when it is there."""
    text = Path(csv_path).read_text(encoding="utf-8")
    try:
        from litrev.sources.files.delimited import parse_csv
    except ImportError:
        return _records_from_csv(text)
    parsed = parse_csv(text, "bench")
    if parsed.problems:
        raise SystemExit(f"{csv_path}: {parsed.problems[:3]}")
    return parsed.records


def _records_from_csv(text: str) -> list:
    import io

    from litrev.sources.normalise import Record, normalise_doi

    out = []
    def first(row: dict, *names: str) -> str | None:
        for name in names:
            value = (row.get(name) or "").strip()
            if value and value.lower() not in ("unknown", "nan", "none"):
                return value
        return None

    for row in csv.DictReader(io.StringIO(text)):
        def get(*names: str, row: dict = row) -> str | None:
            return first(row, *names)

        out.append(Record(
            id=f"bench:{row['ID']}", source="bench", source_id=row["ID"], raw=row,
            title=get("title"), abstract=get("abstract"),
            authors=[a.strip() for a in re.split(r"\s+and\s+|;", get("author") or "") if a.strip()],
            year=int(get("year")[:4]) if (get("year") or "")[:4].isdigit() else None,
            venue=get("journal", "booktitle"), volume=get("volume"), issue=get("number", "issue"),
            pages=get("pages"), doi=normalise_doi(get("doi")), type=get("ENTRYTYPE")))
    return out


def run_child(tool: str, csv_path: Path) -> dict | None:
    if tool == "bib-dedupe":
        if not Path(BIB_DEDUPE_PYTHON).exists():
            return None
        command = [BIB_DEDUPE_PYTHON, "-c", BIB_DEDUPE_SCRIPT, str(csv_path)]
    else:
        command = [sys.executable, __file__, "--child", str(csv_path)]
    wall = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{tool} failed on {csv_path}:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - wall
    return result


# --- published figures ----------------------------------------------------------------------


def published(name: str) -> list[dict]:
    path = DATA / "published_results_bib_dedupe.md"
    if not path.exists():
        return []
    text = path.read_text()
    match = re.search(rf"## {re.escape(name)} \(n=\d+\)\n\n(.*?)(?:\n\n|\Z)", text, re.DOTALL)
    if not match:
        return []
    lines = [line for line in match.group(1).splitlines() if line.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        rows.append(dict(zip(header, (c.strip() for c in line.strip("|").split("|")))))
    return rows


# --- output ------------------------------------------------------------------------------------

COLUMNS = ("tool", "TP", "FP", "FN", "TN", "sens", "spec", "prec", "F1", "queue", "queue dup",
           "sens if queue accepted", "seconds", "CPU s", "peak MB")


def row(tool: str, s: dict, seconds: float | None, peak: float | None, cpu: float | None = None,
        queue: dict | None = None) -> list[str]:
    queued = ["", "", ""] if queue is None else [
        str(queue["queue"]), "-" if queue["queue_true"] is None else f"{queue['queue_true']:.0%}",
        f"{queue['sens_accepted']:.4f}"]
    return [tool, str(s["TP"]), str(s["FP"]), str(s["FN"]), str(s["TN"]), f"{s['sensitivity']:.4f}",
            f"{s['specificity']:.4f}", f"{s['precision']:.4f}", f"{s['f1']:.4f}", *queued,
            "" if seconds is None else f"{seconds:.2f}", "" if cpu is None else f"{cpu:.2f}",
            "" if peak is None else f"{peak:.0f}"]


def print_table(title: str, rows: list[list[str]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def errors(ids: list[str], gold: list[list[str]], predicted: list[list[str]]) -> tuple[list, list]:
    """(missed: gold groups split into predicted parts, false: predicted groups spanning gold groups)."""
    gold_of, predicted_of = group_of(ids, gold), group_of(ids, predicted)
    missed = []
    for group in gold:
        parts: dict[str, list[str]] = {}
        for member in group:
            parts.setdefault(predicted_of[member], []).append(member)
        if len(parts) > 1:
            missed.append(sorted(parts.values()))
    false = [sorted(g) for g in predicted if len({gold_of[m] for m in g}) > 1]
    return missed, false


def show_errors(folder: Path, missed: list, false: list) -> None:
    """Print each missed duplicate and false merge with its records' fields and litrev's judgement."""
    from litrev.dedupe.matching import prepare, score_pair

    records = {r.source_id: r for r in load_records(str(folder / "records_pre_merged.csv"))}
    fields = ("title", "authors", "year", "venue", "volume", "issue", "pages", "doi", "type")
    for label, groups in (("missed", missed), ("false merge", false)):
        for group in groups:
            members = [m for part in group for m in part] if group and isinstance(group[0], list) else group
            print(f"\n{label}: {group}")
            for m in members:
                r = records[m]
                print(f"  {m}: " + " | ".join(f"{f}={getattr(r, f, None)!r}" for f in fields))
            prepared = [prepare(records[m]) for m in members]
            for x in range(len(prepared)):
                for y in range(x + 1, len(prepared)):
                    p = score_pair(prepared[x], prepared[y])
                    print(f"  -> {p.a} ~ {p.b}: {p.outcome} by {p.method} {p.score} {p.details}")


def run_set(name: str, folder: Path, tools: list[str], show: bool = False) -> dict:
    ids, gold = read_ids(folder), read_gold(folder)
    rows, results, found = [], {}, None
    for tool in tools:
        result = run_child(tool, folder / "records_pre_merged.csv")
        if result is None:
            rows.append([tool, "not run"] + [""] * (len(COLUMNS) - 2))
            continue
        s = score(ids, gold, result["groups"])
        queue = queue_figures(ids, gold, result["groups"], result["queue"]) if "queue" in result else None
        results[tool] = {**s, "seconds": result["seconds"], "cpu": result.get("cpu"),
                         "peak_mb": result["peak_mb"], "queue": queue,
                         "rerun_seconds": result.get("rerun_seconds"), "verdict": result.get("verdict")}
        rows.append(row(tool, s, result["seconds"], result["peak_mb"], result.get("cpu"), queue))
        if show and tool == "litrev":
            found = errors(ids, gold, result["groups"])
    for pub in published(name):
        s = {k: int(pub[k]) for k in ("TP", "FP", "FN", "TN")}
        s.update(sensitivity=float(pub["sensitivity"]), specificity=float(pub["specificity"]),
                 precision=float(pub["precision"]), f1=float(pub["f1"]))
        rows.append(row(f"{pub['package']} (published)", s, None, None))
    print_table(f"{name} (n={len(ids)}, duplicates to remove {sum(len(g) - 1 for g in gold)})", rows)
    if results.get("litrev", {}).get("rerun_seconds") is not None:
        print(f"\nlitrev: a second run with nothing new took {results['litrev']['rerun_seconds']:.2f} s.")
    if verdict := results.get("litrev", {}).get("verdict"):
        print(f"litrev --review: a verdict saved in {verdict['save'] * 1000:.1f} ms; the regrouping after "
              f"it {verdict['regroup']:.2f} s (once per round of the queue; before, after every key).")
    check_targets(len(ids), results)
    if found:
        show_errors(folder, *found)
    return results


def check_targets(n: int, results: dict) -> None:
    """Print which of issue #19's targets litrev misses on this set (nothing when all are met)."""
    mine, peer = results.get("litrev"), results.get("bib-dedupe")
    if not mine or not mine.get("queue"):
        return
    queue = mine["queue"]
    missed = []
    if queue["queue"] > 0.01 * n:
        missed.append(f"queue {queue['queue']} > 1% of {n} records")
    if queue["queue_true"] is not None and queue["queue_true"] < 0.5:
        missed.append(f"queue {queue['queue_true']:.0%} duplicates < 50%")
    if peer and queue["sens_accepted"] < peer["sensitivity"]:
        missed.append(f"sensitivity if accepted {queue['sens_accepted']:.4f} < bib-dedupe's {peer['sensitivity']:.4f}")
    if mine["FP"] > n / 1000:
        missed.append(f"{mine['FP']} false merges > 1 per 1,000 records")
    print("\nTargets: " + ("all met." if not missed else "MISSED: " + "; ".join(missed)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sets only, no synthetic run")
    parser.add_argument("--child", metavar="CSV", help=argparse.SUPPRESS)
    parser.add_argument("--dedupe-child", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--sets", nargs="*", help="only these sets")
    parser.add_argument("--no-peer", action="store_true", help="litrev only")
    parser.add_argument("--errors", action="store_true",
                        help="list litrev's missed duplicates and false merges with their fields")
    parser.add_argument("--synthetic", type=int, default=100_000, help="synthetic set size (0: skip)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_litrev_child(args.child)))
        return
    if args.dedupe_child:
        print(json.dumps(run_dedupe_child(args.dedupe_child)))
        return
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} not found: the labelled sets live in ../shared/data/dedup.")
    tools = ["litrev"] + ([] if args.no_peer else ["bib-dedupe"])
    sets = args.sets or (QUICK_SETS if args.quick else SETS)
    summary = {}
    for name in sets:
        summary[name] = run_set(name, DATA / name, tools, show=args.errors)
    print("\nSpeed-up, bib-dedupe / litrev (wall, CPU): " + ", ".join(
        f"{name} {r['bib-dedupe']['seconds'] / r['litrev']['seconds']:.1f}x, "
        f"{r['bib-dedupe']['cpu'] / max(r['litrev']['cpu'], 0.001):.1f}x"
        for name, r in summary.items() if "bib-dedupe" in r and "litrev" in r and r["litrev"]["seconds"]))
    if not args.quick and args.synthetic:
        run_synthetic(args.synthetic, tools)


def run_synthetic(n: int, tools: list[str]) -> None:
    from synthetic import write_set

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_set(DATA, folder, n)
        run_set(f"synthetic {n:,}", folder, tools[:1])


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
