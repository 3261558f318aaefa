"""The statistical stopping rule on constructed screening orders whose answer is known."""

import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from litrev.screen import stopping


def test_all_relevant_first_stops_once_the_rest_is_mostly_seen():
    # 1,000 works, 40 relevant, all screened first. Under H0 (recall < 95%) at least
    # floor(40 / 0.95) + 1 - 40 = 3 relevant works hide among the 960 left; seeing none in
    # m draws has probability C(957, m) / C(960, m), below 0.05 from m = 606 on.
    labels = [1] * 40 + [0] * 960
    stop = stopping.first_stop(labels)
    expected = next(m for m in range(961) if hypergeom.cdf(0, 960, 3, m) < 0.05)
    assert expected == 606
    assert stop == 40 + expected
    assert stopping.p_value(labels[: stop - 1], 1000) >= 0.05
    assert stopping.p_value(labels[:stop], 1000) < 0.05


def test_relevant_spread_evenly_never_stops_before_the_end():
    # Every 20th work relevant: the last works screened look like the rest, so no window
    # can show the tail is empty, and the rule must not stop before the target is met.
    labels = ([0] * 19 + [1]) * 50
    stop = stopping.first_stop(labels)
    found = sum(labels[:stop])
    assert found / sum(labels) >= 0.95
    assert stop > 0.9 * len(labels)
    # Half-way through, with relevant works still coming at the same rate: keep screening.
    assert stopping.p_value(labels[:500], 1000) > 0.5


def test_too_few_screened_to_decide():
    assert stopping.p_value([], 1000) is None
    test = stopping.stop_test([], 1000)
    assert not test.can_stop and test.message().startswith("keep screening")
    # 5 includes then 20 excludes out of 1,000: nowhere near enough evidence.
    test = stopping.stop_test([1] * 5 + [0] * 20, 1000)
    assert test.p > 0.9 and not test.can_stop
    assert test.message() == (
        "keep screening: 95% recall is not yet shown with 95% confidence "
        f"(p = {test.p:.3f})")


def test_everything_screened_can_stop():
    test = stopping.stop_test([1, 0, 0, 1, 0], 5)
    assert test.p == 0.0 and test.can_stop
    assert test.message() == ("you can stop: at least 95% of relevant works found, with 95% "
                              "confidence (p = 0.000)")


def test_p_value_is_the_smallest_over_every_window():
    """The shortcut (windows start only at the first decision or after an include) gives
    the minimum over all windows, computed here by brute force as the paper describes."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        n_total = int(rng.integers(60, 200))
        labels = (rng.random(int(rng.integers(5, n_total))) < 0.15).astype(int)
        k = labels.sum()
        best = 1.0
        for start in range(len(labels)):
            window = labels[start:]
            k_target = math.floor(k / 0.95 + 1e-9) + 1 - labels[:start].sum()
            population = n_total - start
            p = 0.0 if k_target > population else hypergeom.cdf(
                window.sum(), population, k_target, len(window))
            best = min(best, p)
        assert stopping.p_value(labels, n_total) == pytest.approx(best, abs=1e-12)


def test_recall_target_and_confidence_change_the_verdict():
    labels = [1] * 40 + [0] * 300
    assert not stopping.stop_test(labels, 1000).can_stop
    assert stopping.stop_test(labels, 1000, recall_target=0.8).can_stop
    strict = stopping.stop_test([1] * 40 + [0] * 700, 1000, confidence=0.99)
    assert not strict.can_stop and stopping.stop_test([1] * 40 + [0] * 700, 1000).can_stop


@pytest.mark.parametrize("target,confidence", [(0, 0.95), (1, 0.95), (0.95, 1.5), (0.9, -1)])
def test_bad_settings_are_refused(target, confidence):
    with pytest.raises(stopping.StoppingSettingsError, match="between 0 and 1"):
        stopping.stop_test([1, 0], 10, recall_target=target, confidence=confidence)


def test_sampling_phase_begins_after_a_run_of_excludes_following_an_include():
    assert stopping.sampling_start([0] * 80, after=50) is None  # no include: no ranking yet
    labels = [0] * 10 + [1] + [0] * 49 + [1] + [0] * 50 + [1]
    assert stopping.sampling_start(labels, after=50) == 10 + 1 + 49 + 1 + 50
    assert stopping.sampling_start(labels[:-2], after=50) is None
    assert stopping.first_run_of_excludes([0] * 80, 50) == 50  # the baseline needs none
    assert stopping.first_run_of_excludes([1, 0, 0], 50) == 3


def test_random_order_is_stable_and_a_permutation():
    ids = list(range(1, 200))
    order = stopping.random_order(ids, "title-abstract:ana")
    assert sorted(order) == ids and order != ids
    assert stopping.random_order(list(reversed(ids)), "title-abstract:ana") == order
    # Dropping a screened work keeps the others' order.
    assert stopping.random_order(order[1:], "title-abstract:ana") == order[1:]
