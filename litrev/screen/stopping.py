"""When can a screener stop? A statistical stopping rule with a recall target and a confidence.

The test is the one of Callaghan & Müller-Hansen, "Statistical stopping criteria for
automated screening in systematic reviews", Systematic Reviews 9, 273 (2020),
https://doi.org/10.1186/s13643-020-01521-4. After screening some of the N works in
prioritised order and finding k relevant ones, take the last n screened works as if they
were a sample drawn from the works that were still unscreened when that window began
(N_pop = the window plus what is still unscreened). H0: "recall is below the target
tau". Under H0 that population holds at least K_tar = floor(k / tau) - k_before + 1
relevant works (k_before: relevant works found before the window), so the probability
of seeing at most k_window relevant works in the window is the hypergeometric
p = P(X <= k_window), X ~ Hypergeom(N_pop, K_tar, n). The p-value reported is the
smallest over every window ending at the last decision, as the paper does; the screener
may stop when p < 1 - confidence.

Prioritised screening puts likely includes first, so the last-screened works are richer
in includes than a random sample of the rest and the test is conservative. That holds
only while the model still ranks the rest better than chance. So once the ranked queue
has gone `SAMPLE_AFTER` decisions without an include (the model has run out of likely
includes), the queue switches to random order: from there the window is a true random
sample of what was left and the test is exact (the paper's random-sampling variant).

A window's start is worth checking only at the first decision or just after an include:
moving a start back over an exclude keeps k_window and K_tar and adds a draw, which can
only lower p. So each test costs one hypergeometric cdf per include found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom

from litrev.errors import LitrevError

DEFAULT_RECALL_TARGET = 0.95
DEFAULT_CONFIDENCE = 0.95
# Excludes in a row after which the ranked queue is taken as exhausted and the rest is
# screened in random order (module docstring). On the 13 shared sets (ELAS u4, 5 runs
# each, 65 runs) the share of runs stopping at >= 95% recall / mean work saved were: after
# 25: 89.2% / 9.4%; 50: 95.4% / 11.0%; 100: 100% / 14.2%; 200: 98.5% / 15.7%; never
# (ranked only, no exact phase): 100% / 15.3%. Chosen on those same sets (benchmarks/README.md).
SAMPLE_AFTER = 100


class StoppingSettingsError(LitrevError):
    """A recall target or confidence outside (0, 1)."""


def check_stopping_settings(recall_target: float, confidence: float) -> None:
    for name, value in (("recall_target", recall_target), ("confidence", confidence)):
        if not 0 < value < 1:
            raise StoppingSettingsError(
                f"{name} = {value!r} is not a proportion between 0 and 1. "
                f"Use e.g. {name} = 0.95."
            )


def p_value(labels: Sequence[int], n_total: int, recall_target: float = DEFAULT_RECALL_TARGET
            ) -> float | None:
    """The smallest p over every window of H0 "recall < recall_target" (module docstring).

    `labels`: 1 relevant / 0 not, in the order screened; `n_total`: the works screened plus
    the works still to screen. None before anything is screened.
    """
    y = np.asarray(labels, dtype=int)
    n_seen = len(y)
    if n_seen == 0:
        return None
    if n_total < n_seen:
        raise ValueError(f"n_total {n_total} is smaller than the {n_seen} works screened")
    k_total = int(y.sum())
    # Window starts: the first decision and every decision just after an include.
    starts = np.concatenate(([0], np.flatnonzero(y[:-1] == 1) + 1))
    found_before = np.concatenate(([0], np.cumsum(y)))[starts]
    k_window = k_total - found_before
    n_window = n_seen - starts
    population = n_total - starts
    k_target = np.floor(k_total / recall_target + 1e-9) + 1 - found_before
    # More relevant works under H0 than works in the population: H0 is impossible.
    possible = k_target <= population
    if not possible.any():
        return 0.0
    p = hypergeom.cdf(k_window[possible], population[possible], k_target[possible],
                      n_window[possible])
    return float(min(p.min(), 1.0))


def sampling_start(labels: Sequence[int], after: int | None = None) -> int | None:
    """Decisions after which the random-sampling phase began: the first point at which
    `after` (default `SAMPLE_AFTER`) excludes came in a row after an include (before the
    first include no model ranks the queue, so there is nothing to exhaust). None while
    the ranked queue is in use."""
    after = SAMPLE_AFTER if after is None else after
    seen = np.flatnonzero(np.asarray(labels, dtype=int) == 1)
    if not len(seen):
        return None
    end = _end_of_first_run(labels[seen[0]:], after)
    return None if end is None else int(seen[0]) + end


def _end_of_first_run(labels: Sequence[int], run: int) -> int | None:
    """How many of `labels` are screened when `run` excludes (0) first come in a row."""
    length = 0
    for i, label in enumerate(labels):
        length = 0 if label else length + 1
        if length >= run:
            return i + 1
    return None


def random_order(work_ids: Sequence[int], seed: str) -> list[int]:
    """The works in a pseudo-random order fixed by `seed` and each id, so re-ordering the
    queue after every decision keeps the sample's order (and it is the same tomorrow)."""
    def key(work_id: int) -> str:
        return hashlib.sha256(f"{seed}:{work_id}".encode()).hexdigest()

    return sorted(work_ids, key=key)


@dataclass
class StopTest:
    """The outcome of the test after `screened` of `n_total` works."""

    screened: int
    relevant_found: int
    n_total: int
    recall_target: float
    confidence: float
    p: float | None
    sampling: bool  # in the random-sampling phase

    @property
    def can_stop(self) -> bool:
        return self.p is not None and self.p < 1 - self.confidence

    def message(self) -> str:
        target, conf = f"{self.recall_target:.0%}", f"{self.confidence:.0%}"
        if self.p is None:
            return f"keep screening (the {target} recall test needs decisions first)"
        if self.can_stop:
            return (f"you can stop: at least {target} of relevant works found, with "
                    f"{conf} confidence (p = {self.p:.3f})")
        return (f"keep screening: {target} recall is not yet shown with {conf} "
                f"confidence (p = {self.p:.3f})")


def stop_test(labels: Sequence[int], n_total: int, *,
              recall_target: float = DEFAULT_RECALL_TARGET,
              confidence: float = DEFAULT_CONFIDENCE,
              sample_after: int | None = None) -> StopTest:
    check_stopping_settings(recall_target, confidence)
    return StopTest(
        screened=len(labels), relevant_found=int(np.sum(labels)), n_total=n_total,
        recall_target=recall_target, confidence=confidence,
        p=p_value(labels, n_total, recall_target),
        sampling=sampling_start(labels, sample_after) is not None,
    )


def first_stop(labels: Sequence[int], *, recall_target: float = DEFAULT_RECALL_TARGET,
               confidence: float = DEFAULT_CONFIDENCE) -> int:
    """How many of `labels` (a complete screening order) are screened when the test first
    says stop; len(labels) if it never does before the end."""
    y = np.asarray(labels, dtype=int)
    n = len(y)
    for screened in range(1, n + 1):
        p = p_value(y[:screened], n, recall_target)
        if p is not None and p < 1 - confidence:
            return screened
    return n


def first_run_of_excludes(labels: Sequence[int], run: int) -> int:
    """The baseline rule: stop after `run` excludes in a row (len(labels) if never)."""
    end = _end_of_first_run(labels, run)
    return len(labels) if end is None else end
