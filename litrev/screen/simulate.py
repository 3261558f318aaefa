"""Replay a labelled screening set through the screening ranker and measure the work saved.

The same `litrev.screen.rank.Ranker` that orders `litrev screen` ranks the records here: start
from a few prior includes and excludes (chosen at random with the seed, as ASReview
does), then repeatedly screen the top-ranked record and retrain, until every relevant
record is found. The metrics are computed on the screening order after the priors
(ASReview Insights' default, `priors=False`):

- WSS@95 (Cohen et al. 2006): (TN + FN) / N - (1 - 0.95) at the first point where 95%
  of the relevant records are found; N is the number of records screened after the priors.
- RRF@10: the percentage of relevant records found after screening 10% of the records.
- Recall after screening 10%, 25% and 50% of the records.

Where a screener following litrev's stopping rule (`litrev.screen.stopping`) would have stopped:
the same ranked order until its random-sampling phase begins, then the rest at random
(seeded with the run's seed); the priors count as screened, as they are in `litrev
screen`. Beside it, the baseline rule "stop after 50 (or 100) excludes in a row" on the
ranked order.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from litrev.errors import InputFileError, LitrevError
from litrev.screen.stopping import first_run_of_excludes, first_stop, sampling_start

LABEL_COLUMNS = ("label_included", "label_abstract_screening")
RECALL_POINTS = (0.10, 0.25, 0.50)


@dataclass
class LabelledSet:
    name: str
    record_ids: list[str]
    titles: list[str]
    abstracts: list[str]
    labels: np.ndarray  # 0/1 per record


def read_labelled_csv(path: str | Path, label_column: str = "label_included") -> LabelledSet:
    """Read a labelled screening set (record_id, title, abstract, <label_column> as 0/1)."""
    path = Path(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            if label_column not in columns:
                raise InputFileError(
                    f"{path.name} has no column {label_column!r} (columns: "
                    f"{', '.join(columns) or 'none'}). Add it, or choose one with --label."
                )
            if "title" not in columns and "abstract" not in columns:
                raise InputFileError(
                    f"{path.name} has neither a 'title' nor an 'abstract' column. "
                    "Give a CSV with title and abstract columns."
                )
            rows = list(reader)
    except UnicodeDecodeError as e:
        raise InputFileError(f"{path.name} is not UTF-8 text ({e}). Save it as UTF-8 CSV.")
    except OSError as e:
        raise InputFileError(f"Cannot read {path} ({e.strerror}). Check the path.")
    labels = []
    for line, row in enumerate(rows, start=2):
        value = (row.get(label_column) or "").strip()
        if value not in ("0", "1", "0.0", "1.0"):
            raise InputFileError(
                f"{path.name}:{line}: {label_column} is {value!r}, not 0 or 1. "
                "Label every record 0 (exclude) or 1 (include)."
            )
        labels.append(int(float(value)))
    labels = np.asarray(labels, dtype=int)
    if labels.sum() == 0 or labels.sum() == len(labels):
        raise InputFileError(
            f"{path.name}: {label_column} needs both includes (1) and excludes (0). "
            "Check the label column."
        )
    return LabelledSet(
        name=path.stem,
        record_ids=[row.get("record_id") or str(i) for i, row in enumerate(rows)],
        titles=[row.get("title") or "" for row in rows],
        abstracts=[row.get("abstract") or "" for row in rows],
        labels=labels,
    )


def choose_priors(
    labels: np.ndarray, n_included: int, n_excluded: int, seed: int | None
) -> list[int]:
    """Random prior includes then excludes, drawn like `asreview simulate --prior-seed`."""
    included = np.flatnonzero(labels == 1)
    excluded = np.flatnonzero(labels == 0)
    if n_included > len(included) or n_excluded > len(excluded):
        raise LitrevError(
            f"Asked for {n_included} prior includes and {n_excluded} prior excludes, but the "
            f"set has {len(included)} and {len(excluded)}. Ask for fewer."
        )
    # One generator per draw, as ASReview does, so the same seed gives the same priors.
    inc = np.random.RandomState(seed).choice(included, n_included, replace=False)
    exc = np.random.RandomState(seed).choice(excluded, n_excluded, replace=False)
    return [int(i) for i in inc] + [int(i) for i in exc]


# --- metrics on a screening order (labels in the order screened) ----------------


def recall_curve(ordered_labels: Sequence[int]) -> np.ndarray:
    """Recall after each screened record (index i: after i + 1 records)."""
    labels = np.asarray(ordered_labels, dtype=int)
    return np.cumsum(labels) / max(int(labels.sum()), 1)


def _screened_at(fraction: float, n: int) -> int:
    # floor, with a little slack so 0.1 * 30 counts as 3, not 2.999...
    return math.floor(fraction * n + 1e-9)


def recall_at(ordered_labels: Sequence[int], fraction: float) -> float:
    """Recall after screening `fraction` of the records (rounded down to whole records)."""
    labels = np.asarray(ordered_labels, dtype=int)
    k = _screened_at(fraction, len(labels))
    return float(labels[:k].sum() / labels.sum()) if k else 0.0


def rrf(ordered_labels: Sequence[int], fraction: float = 0.10) -> float:
    """Relevant records found (%) after screening `fraction` of the records."""
    return 100.0 * recall_at(ordered_labels, fraction)


def wss(ordered_labels: Sequence[int], recall: float = 0.95) -> float:
    """Work saved over sampling at `recall`: (TN + FN) / N - (1 - recall), where TN + FN
    are the records not yet screened when `recall` of the relevant ones are found."""
    labels = np.asarray(ordered_labels, dtype=int)
    n, relevant = len(labels), int(labels.sum())
    needed = math.ceil(recall * relevant - 1e-9)
    screened = int(np.searchsorted(np.cumsum(labels), needed) + 1)
    return (n - screened) / n - (1 - recall)


def metrics(ordered_labels: Sequence[int]) -> dict:
    return {
        "wss@95": wss(ordered_labels, 0.95),
        "rrf@10": rrf(ordered_labels, 0.10),
        **{f"recall@{round(p * 100)}": recall_at(ordered_labels, p) for p in RECALL_POINTS},
    }


# --- the replay ------------------------------------------------------------------


BASELINE_RUNS = (50, 100)


@dataclass
class Run:
    seed: int
    priors: list[int]
    order: list[int]  # record indices screened after the priors, in order
    ordered_labels: list[int]
    metrics: dict
    fit_ms: list[float] = field(default_factory=list)
    stopping: dict = field(default_factory=dict)  # where the stopping rule stops
    baselines: dict = field(default_factory=dict)  # where "N excludes in a row" stops


def stop_outcome(labels_in_order: Sequence[int], screened: int) -> dict:
    """Recall and work saved when screening stops after `screened` of the records."""
    labels = np.asarray(labels_in_order, dtype=int)
    return {
        "screened": int(screened),
        "recall": float(labels[:screened].sum() / labels.sum()),
        "work_saved": float(1 - screened / len(labels)),
    }


def stopping_order(sequence: list[int], labels: np.ndarray, seed: int,
                   sample_after: int | None = None) -> list[int]:
    """What a screener following the stopping rule screens: `sequence` (every record in
    ranked order, priors first) until the random-sampling phase begins, then the rest in
    a random order drawn with `seed`."""
    start = sampling_start([int(labels[i]) for i in sequence], sample_after)
    if start is None:
        return list(sequence)
    rest = list(sequence[start:])
    np.random.default_rng(seed).shuffle(rest)
    return list(sequence[:start]) + rest


def evaluate_stopping(run: Run, labels: np.ndarray, *, recall_target: float = 0.95,
                      confidence: float = 0.95) -> None:
    """Fill `run.stopping` (the statistical rule) and `run.baselines` (excludes in a row)."""
    ranked = [int(labels[i]) for i in run.priors + run.order]
    stopped = [int(labels[i]) for i in stopping_order(run.priors + run.order, labels, run.seed)]
    screened = first_stop(stopped, recall_target=recall_target, confidence=confidence)
    run.stopping = stop_outcome(stopped, screened)
    run.baselines = {
        f"excludes_in_a_row_{n}": stop_outcome(ranked, first_run_of_excludes(ranked, n))
        for n in BASELINE_RUNS
    }


def replay(
    matrix,
    labels: np.ndarray,
    priors: list[int],
    *,
    ranker_factory: Callable | None = None,
) -> tuple[list[int], list[float]]:
    """Screen the top-ranked record and retrain, until every relevant record is found.

    Returns the screening order after the priors (the never-screened rest appended, all
    irrelevant) and the per-update fit times.
    """
    import time

    from litrev.screen.rank import DEFAULT_MODEL

    make = ranker_factory or DEFAULT_MODEL.ranker
    n = len(labels)
    screened = np.zeros(n, dtype=bool)
    screened[priors] = True
    train = list(priors)
    order: list[int] = []
    remaining_relevant = int(labels[~screened].sum())
    fit_ms = []
    while remaining_relevant > 0:
        pool = np.flatnonzero(~screened)
        start = time.perf_counter()
        ranker = make(matrix).fit(train, labels[train])
        scores = ranker.scores(pool)
        fit_ms.append(1000 * (time.perf_counter() - start))
        pick = int(pool[int(np.argmax(scores))])
        screened[pick] = True
        train.append(pick)
        order.append(pick)
        remaining_relevant -= int(labels[pick])
    order.extend(int(i) for i in np.flatnonzero(~screened))
    return order, fit_ms


def simulate(
    data: LabelledSet,
    *,
    seed: int = 0,
    runs: int = 1,
    n_prior_included: int = 1,
    n_prior_excluded: int = 1,
    ranker_factory: Callable | None = None,
    vectoriser_factory: Callable | None = None,
    progress: Callable[[int], None] | None = None,
    recall_target: float = 0.95,
    confidence: float = 0.95,
) -> list[Run]:
    """`runs` replays with prior seeds seed, seed + 1, ...; the feature matrix is fitted
    once. Each run also says where the stopping rule (`recall_target`, `confidence`) and
    the excludes-in-a-row baselines would have stopped."""
    from litrev.screen.rank import make_vectoriser, work_text

    texts = [work_text(t, a) for t, a in zip(data.titles, data.abstracts)]
    matrix = (vectoriser_factory or make_vectoriser)().fit_transform(texts).tocsr()
    results = []
    for run_seed in range(seed, seed + runs):
        priors = choose_priors(data.labels, n_prior_included, n_prior_excluded, run_seed)
        order, fit_ms = replay(matrix, data.labels, priors, ranker_factory=ranker_factory)
        ordered = [int(data.labels[i]) for i in order]
        run = Run(run_seed, priors, order, ordered, metrics(ordered), fit_ms)
        evaluate_stopping(run, data.labels, recall_target=recall_target, confidence=confidence)
        results.append(run)
        if progress:
            progress(1)
    return results


def summarise(runs: list[Run]) -> dict:
    """Mean (and min/max) of each metric over the runs."""
    keys = list(runs[0].metrics)
    return {
        k: {
            "mean": float(np.mean([r.metrics[k] for r in runs])),
            "min": float(np.min([r.metrics[k] for r in runs])),
            "max": float(np.max([r.metrics[k] for r in runs])),
        }
        for k in keys
    }


def summarise_stops(stops: list[dict], recall_target: float = 0.95) -> dict:
    """Mean of each stopping outcome, and the share of runs that stopped at or above
    `recall_target` recall."""
    return {
        "screened": float(np.mean([s["screened"] for s in stops])),
        "recall": float(np.mean([s["recall"] for s in stops])),
        "work_saved": float(np.mean([s["work_saved"] for s in stops])),
        "reached_target": float(np.mean([s["recall"] >= recall_target - 1e-9 for s in stops])),
    }


def plot_recall(runs: list[Run], path: str | Path, title: str = "") -> Path:
    """The recall curves of every run, with random screening for reference, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for run in runs:
        curve = recall_curve(run.ordered_labels)
        x = np.arange(1, len(curve) + 1) / len(curve)
        ax.plot(x, curve, lw=1.2, alpha=0.8, label=f"litrev, prior seed {run.seed}")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="random order")
    ax.axhline(0.95, color="black", lw=0.6, ls=":")
    ax.set_xlabel("Proportion of records screened")
    ax.set_ylabel("Recall (relevant records found)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "Recall curve")
    if len(runs) <= 10:
        ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path)
    except OSError as e:
        raise LitrevError(f"Cannot write {path} ({e.strerror}). Check the --plot path.")
    finally:
        plt.close(fig)
    return path
