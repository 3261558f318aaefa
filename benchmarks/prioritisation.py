"""Screening prioritisation: litrev's ranker beside ASReview's own simulation.

For every labelled set in ../shared/data/screening, both tools replay the screening with the
same prior records (1 include + 1 exclude, drawn with seeds 0..K-1) and stop when every
relevant record is found; WSS@95, RRF@10 and recall are computed from each tool's screening
order by the same code (`litrev.screen.simulate.metrics`), so the figures differ only by the model.

ASReview runs its default model (ELAS u4: TF-IDF 1-2 grams + linear SVM, C = 0.11, includes
weighing 9.8x the excludes in total) through
its Python API (`asreview.simulation.Simulate`), in its own virtualenv because it pins many
dependencies: set ASREVIEW_PYTHON (default /work/peer-venvs/asreview/bin/python;
`python3 -m venv /work/peer-venvs/asreview && /work/peer-venvs/asreview/bin/pip install asreview`).

Also measures litrev's retrain latency in a 10,000-work evidence database: the time of one
`order_queue` call (read decisions, refit, rank the unscreened works) after each decision.

Also where litrev's stopping rule (litrev.screen.stopping) and the "50 / 100 excludes in a row"
baselines would have stopped each litrev run: the share of runs whose recall at the stop
reached 95%, and the work saved there.

    python benchmarks/prioritisation.py            # 13 sets x 5 runs, both tools (~1 h on 2 cores)
    python benchmarks/prioritisation.py --quick    # 2 runs, the five small sets
    python benchmarks/prioritisation.py --model elas-u4 --asreview-cache /tmp/asr  # a candidate
"""

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from litrev.screen import rank
from litrev.screen import simulate as sim
from litrev.screen.settings import ReviewSettings

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("LITREV_SHARED_DATA", HERE.parents[1] / "shared" / "data"))
ASREVIEW_PYTHON = os.environ.get("ASREVIEW_PYTHON", "/work/peer-venvs/asreview/bin/python")

# Runs inside ASReview's virtualenv: reads a job as JSON on stdin, prints the screening
# orders (row indices after the priors) as JSON. Mirrors `asreview simulate` with the
# default AI (elas_u4) and --prior-idx, without writing a project file.
ASREVIEW_RUNNER = r"""
import json, sys, time
import numpy as np, pandas as pd
import asreview
from asreview.learner import ActiveLearningCycle
from asreview.models import get_ai_config
from asreview.models.queriers import TopDown
from asreview.models.stoppers import IsFittable
from asreview.simulation.simulate import Simulate

job = json.load(sys.stdin)
df = pd.read_csv(job["csv"])
X = pd.DataFrame({"title": df["title"].fillna("").astype(str),
                  "abstract": df["abstract"].fillna("").astype(str)})
labels = df[job["label"]].astype(int).to_numpy()
out = {"version": asreview.__version__, "ai": get_ai_config()["name"], "runs": []}
for seed, priors in zip(job["seeds"], job["priors"]):
    np.random.seed(seed)
    cycles = [ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
              ActiveLearningCycle.from_meta(get_ai_config()["value"])]
    s = Simulate(X, labels, cycles, print_progress=False)
    s.label(priors)
    start = time.perf_counter()
    s.review()
    seconds = time.perf_counter() - start
    ids = [int(i) for i in s._results["record_id"].tolist()]
    out["runs"].append({"seed": seed, "order": ids[len(priors):], "seconds": seconds})
print(json.dumps(out))
"""


def asreview_orders(csv: Path, label: str, seeds: list[int], priors: list[list[int]],
                    cache: Path | None = None) -> dict:
    """ASReview's screening orders for these priors. With `cache` (a folder outside the
    project) each run is read from and saved to it, keyed by set, label, seed and priors,
    so model candidates are compared on identical ASReview runs without re-running them."""
    def path(seed: int, prior: list[int]) -> Path | None:
        key = hashlib.sha256(json.dumps([csv.stem, label, seed, prior]).encode()).hexdigest()
        return cache / f"{csv.stem}-{seed}-{key[:12]}.json" if cache else None

    cached = {s: json.loads(p.read_text()) for s, pr in zip(seeds, priors)
              if (p := path(s, pr)) and p.exists()}
    todo = [(s, pr) for s, pr in zip(seeds, priors) if s not in cached]
    if todo:
        result = _run_asreview({"csv": str(csv), "label": label,
                                "seeds": [s for s, _ in todo], "priors": [pr for _, pr in todo]})
        for (seed, prior), run in zip(todo, result["runs"]):
            cached[seed] = {"version": result["version"], "ai": result["ai"], "run": run}
            if cache:
                cache.mkdir(parents=True, exist_ok=True)
                path(seed, prior).write_text(json.dumps(cached[seed]))
    first = cached[seeds[0]]
    return {"version": first["version"], "ai": first["ai"],
            "runs": [cached[s]["run"] for s in seeds]}


def _run_asreview(job: dict) -> dict:
    proc = subprocess.run(
        [ASREVIEW_PYTHON, "-c", ASREVIEW_RUNNER], input=json.dumps(job),
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout)


def complete_order(order: list[int], priors: list[int], n: int) -> list[int]:
    """Append the never-screened records (all irrelevant: both tools stop at the last one)."""
    seen = set(order) | set(priors)
    return order + [i for i in range(n) if i not in seen]


def compare_set(csv: Path, label: str, runs: int, use_asreview: bool,
                model: rank.Model = rank.DEFAULT_MODEL, cache: Path | None = None) -> dict:
    data = sim.read_labelled_csv(csv, label)
    n = len(data.labels)
    start = time.perf_counter()
    ours = sim.simulate(data, seed=0, runs=runs, vectoriser_factory=model.vectoriser,
                        ranker_factory=model.ranker)
    litrev_seconds = time.perf_counter() - start
    row = {
        "set": data.name, "label": label, "records": n, "relevant": int(data.labels.sum()),
        "litrev": sim.summarise(ours), "litrev_seconds": litrev_seconds,
        "litrev_fit_ms_median": statistics.median(ms for r in ours for ms in r.fit_ms),
        "stopping_runs": [r.stopping for r in ours],
        "baseline_runs": {k: [r.baselines[k] for r in ours] for k in ours[0].baselines},
    }
    if use_asreview:
        try:
            result = asreview_orders(csv, label, [r.seed for r in ours], [r.priors for r in ours],
                                     cache)
        except (OSError, RuntimeError) as e:
            row["asreview_error"] = str(e)
            return row
        theirs = []
        for run, asr in zip(ours, result["runs"]):
            assert asr["seed"] == run.seed
            order = complete_order(asr["order"], run.priors, n)
            theirs.append(sim.Run(run.seed, run.priors, order,
                                  [int(data.labels[i]) for i in order],
                                  sim.metrics([int(data.labels[i]) for i in order])))
        row["asreview"] = sim.summarise(theirs)
        row["asreview_seconds"] = sum(r["seconds"] for r in result["runs"])
        row["asreview_version"] = f"{result['version']} ({result['ai']})"
    return row


def retrain_latency(n_works: int = 10_000, decided: int = 2_000, updates: int = 40) -> dict:
    """Median/p95 ms of one `order_queue` call after each new decision, n_works in the db."""
    from litrev.db import now, open_db

    texts = []
    for csv in sorted((SHARED / "screening").glob("*.csv")):
        d = sim.read_labelled_csv(csv)
        texts += [(t, a, int(y)) for t, a, y in zip(d.titles, d.abstracts, d.labels)]
    # Beyond the real records (if fewer): a real title with half its own abstract and the
    # opening sentences of two other real abstracts, so the vocabulary (uni- and bigrams)
    # grows as a real search's would, rather than repeating identical texts.
    rng = random.Random(0)
    sentences = [re.split(r"(?<=[.!?])\s+", a) for _, a, _ in texts]
    works = list(texts[:n_works])
    while len(works) < n_works:
        i = rng.randrange(len(texts))
        title, _, y = texts[i]
        mix = sentences[i][: max(1, len(sentences[i]) // 2)]
        for j in rng.sample(range(len(texts)), 2):
            mix += sentences[j][:3]
        works.append((title, " ".join(mix), y))
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "latency.db")
        with db.atomic():
            db["works"].insert_all(
                ({"id": i + 1, "title": t, "abstract": a, "created_at": now()}
                 for i, (t, a, _) in enumerate(works)), batch_size=1000)
            order = list(range(1, n_works + 1))
            rng.shuffle(order)
            db["decisions"].insert_all(
                {"work_id": w, "stage": "title-abstract", "reviewer": "bench",
                 "decision": "include" if works[w - 1][2] else "exclude", "kind": "vote",
                 "decided_at": now()} for w in order[:decided])
        cache, settings = rank.FeatureCache(), ReviewSettings()  # as a screening session holds them
        start = time.perf_counter()
        todo = order[decided:]
        rank.order_queue(db, "title-abstract", "bench", todo, settings, cache=cache)
        cold = 1000 * (time.perf_counter() - start)
        times = []
        for _ in range(updates):
            w = todo.pop(0)
            db["decisions"].insert({"work_id": w, "stage": "title-abstract", "reviewer": "bench",
                                    "decision": "include" if works[w - 1][2] else "exclude",
                                    "kind": "vote", "decided_at": now()})
            start = time.perf_counter()
            queue = rank.order_queue(db, "title-abstract", "bench", todo, settings, cache=cache)
            times.append(1000 * (time.perf_counter() - start))
            assert len(queue) == len(todo)
        db.conn.close()
    times.sort()
    return {"works": n_works, "decided": decided, "updates": updates, "cold_ms": cold,
            "median_ms": statistics.median(times),
            "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs, the small Cohen sets")
    parser.add_argument("--runs", type=int, default=None, help="runs per set (default 5)")
    parser.add_argument("--label", default="label_included")
    parser.add_argument("--model", choices=sorted(rank.MODELS), default=rank.DEFAULT_MODEL.name,
                        help="litrev's model to replay (default: litrev's default)")
    parser.add_argument("--sets", help="comma-separated parts of set names to run (default all)")
    parser.add_argument("--asreview-cache", type=Path,
                        help="folder (outside the project) to keep ASReview's orders in")
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = SHARED / "screening"
    if not folder.is_dir():
        print(f"No labelled sets at {folder}; set LITREV_SHARED_DATA.", file=sys.stderr)
        return 1
    runs = args.runs or (2 if args.quick else 5)
    sets = sorted(folder.glob("*.csv"))
    if args.quick:
        sets = [s for s in sets if s.stat().st_size < 700_000]
    if args.sets:
        sets = [s for s in sets if any(part in s.stem for part in args.sets.split(","))]
    use_asreview = not args.no_asreview and Path(ASREVIEW_PYTHON).exists()
    if not use_asreview and not args.no_asreview:
        print(f"ASReview not found at {ASREVIEW_PYTHON} (set ASREVIEW_PYTHON); litrev only.",
              file=sys.stderr)
    model = rank.MODELS[args.model]
    rows = []
    for csv in sets:
        print(f"... {csv.stem} ({runs} runs)", file=sys.stderr, flush=True)
        rows.append(compare_set(csv, args.label, runs, use_asreview, model, args.asreview_cache))
    latency = None if args.no_latency else retrain_latency(updates=20 if args.quick else 40)
    if args.json:
        print(json.dumps({"runs": runs, "model": model.name, "sets": rows, "latency": latency},
                         indent=2))
        return 0
    print_table(rows, runs, args.label, model, latency)
    return 0


def _pct(summary: dict | None, key: str) -> str:
    if not summary:
        return "n/a"
    s = summary[key]
    scale = 1 if key.startswith("rrf") else 100
    return f"{scale * s['mean']:.1f} ({scale * s['min']:.1f}-{scale * s['max']:.1f})"


def print_table(rows: list[dict], runs: int, label: str, model: rank.Model,
                latency: dict | None) -> None:
    version = next((r["asreview_version"] for r in rows if "asreview_version" in r), "n/a")
    print(f"Screening prioritisation, {label}, 1 + 1 random priors, {runs} runs per set "
          f"(seeds 0-{runs - 1}), the same priors for both; litrev model {model.name}, "
          f"ASReview {version}. Mean (min-max) over the runs, in %.")
    print()
    print("| set | records | relevant | WSS@95 litrev | WSS@95 ASReview | difference | "
          "recall@10 litrev | recall@10 ASReview |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    diffs = []
    for r in rows:
        ours, theirs = r["litrev"], r.get("asreview")
        diff = "n/a"
        if theirs:
            d = 100 * (ours["wss@95"]["mean"] - theirs["wss@95"]["mean"])
            diffs.append((d, r["set"]))
            diff = f"{d:+.1f}"
        print(f"| {r['set']} | {r['records']:,} | {r['relevant']} | {_pct(ours, 'wss@95')} | "
              f"{_pct(theirs, 'wss@95')} | {diff} | {_pct(ours, 'recall@10')} | "
              f"{_pct(theirs, 'recall@10')} |")
    if diffs:
        worst = min(diffs)
        print()
        print(f"WSS@95 litrev minus ASReview: mean {statistics.mean(d for d, _ in diffs):+.1f} "
              f"points; worst set {worst[1]} {worst[0]:+.1f}; litrev behind on "
              f"{sum(d < 0 for d, _ in diffs)} of {len(diffs)} sets.")
    print_stopping(rows)
    print()
    for r in rows:
        line = f"{r['set']}: litrev {r['litrev_seconds']:.0f} s"
        if "asreview_seconds" in r:
            line += f", ASReview {r['asreview_seconds']:.0f} s"
        if "asreview_error" in r:
            line += f", ASReview failed: {r['asreview_error']}"
        print(line + f" for {runs} runs; litrev refit+rank median "
                     f"{r['litrev_fit_ms_median']:.1f} ms per decision")
    if latency:
        print()
        print(f"Retrain latency, {latency['works']:,} works, {latency['decided']:,} decided: "
              f"median {latency['median_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms per update "
              f"({latency['updates']} updates; first call incl. fitting the features "
              f"{latency['cold_ms']:.0f} ms)")


def print_stopping(rows: list[dict], target: float = 0.95) -> None:
    """Where the stopping rule (95% recall, 95% confidence) and the baselines stop."""
    rules = [("statistical test", "stopping_runs", None)] + [
        (f"{k.rsplit('_', 1)[1]} excludes in a row", "baseline_runs", k)
        for k in rows[0]["baseline_runs"]]
    print()
    print("Stopping (95% recall target, 95% confidence): share of runs stopping at >= 95% "
          "recall / mean recall at the stop / mean work saved at the stop, in %.")
    print()
    print("| set | " + " | ".join(name for name, _, _ in rules) + " |")
    print("|---|" + "---:|" * len(rules))
    pooled: dict[str, list[dict]] = {name: [] for name, _, _ in rules}
    for r in rows:
        cells = []
        for name, field, key in rules:
            stops = r[field] if key is None else r[field][key]
            pooled[name] += stops
            s = sim.summarise_stops(stops, target)
            cells.append(f"{100 * s['reached_target']:.0f} / {100 * s['recall']:.1f} / "
                         f"{100 * s['work_saved']:.1f}")
        print(f"| {r['set']} | " + " | ".join(cells) + " |")
    cells = []
    for name, _, _ in rules:
        s = sim.summarise_stops(pooled[name], target)
        cells.append(f"**{100 * s['reached_target']:.1f} / {100 * s['recall']:.1f} / "
                     f"{100 * s['work_saved']:.1f}**")
    print(f"| all {len(pooled[rules[0][0]])} runs | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
