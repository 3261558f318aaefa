"""Screening prioritisation: cold-start order, model order, blind mode, stopping signal."""


import pytest
from support.rank import IRRELEVANT, RELEVANT

from litrev.db import now
from litrev.screen import rank, stopping
from litrev.screen.settings import ReviewSettings, parse_settings

STAGE = "title-abstract"

SETTINGS = ReviewSettings()  # blind, no keywords: tests pass their settings to the ranker


@pytest.fixture
def review_db(db):
    """Works 1-6 relevant, 7-18 not, interleaved ids so id order is not the answer."""
    texts = list(zip(RELEVANT, [1] * 6)) + list(zip(IRRELEVANT, [0] * 12))
    order = [6, 0, 7, 8, 1, 9, 10, 2, 11, 12, 3, 13, 14, 4, 15, 16, 5, 17]
    truth = {}
    with db.atomic():
        for work_id, i in enumerate(order, start=1):
            (title, abstract), label = texts[i]
            db["works"].insert({"id": work_id, "title": title, "abstract": abstract,
                                "created_at": now(), "updated_at": now()})
            truth[work_id] = label
    db.truth = truth
    return db


def decide(db, work_id, decision, reviewer="ana", stage=STAGE):
    db["decisions"].insert({"work_id": work_id, "stage": stage, "reviewer": reviewer,
                            "decision": decision, "kind": "vote", "decided_at": now()})


def relevant_ids(db):
    return sorted(w for w, y in db.truth.items() if y == 1)


def test_cold_start_orders_by_work_id_without_labels_or_ranks(review_db):
    queue = rank.order_queue(review_db, STAGE, "ana", [5, 3, 9, 1], SETTINGS)
    assert queue == [(1, None), (3, None), (5, None), (9, None)]


def test_cold_start_orders_by_best_search_rank(db):
    with db.atomic():
        for wid in (1, 2, 3):
            db["works"].insert({"id": wid, "title": f"work {wid}"})
        db["harvest_runs"].insert({"id": 1, "kind": "harvest", "source": "openalex"})
        db["harvest_runs"].insert({"id": 2, "kind": "harvest", "source": "crossref"})
        for rid, wid in (("openalex:W1", 1), ("openalex:W2", 2), ("crossref:10.1/x", 2)):
            db["records"].insert({"id": rid, "work_id": wid})
        db["provenance"].insert_all([
            {"record_id": "openalex:W1", "run_id": 1, "rank": 5},
            {"record_id": "openalex:W2", "run_id": 1, "rank": 9},
            {"record_id": "crossref:10.1/x", "run_id": 2, "rank": 2},
        ])
    assert rank.order_queue(db, STAGE, "ana", [1, 2, 3], SETTINGS) == [(2, None), (1, None), (3, None)]


def test_one_include_and_one_exclude_start_the_model(review_db):
    first_relevant = relevant_ids(review_db)[0]
    first_irrelevant = next(w for w, y in review_db.truth.items() if y == 0)
    decide(review_db, first_relevant, "include")
    decide(review_db, first_irrelevant, "exclude")
    rest = [w for w in review_db.truth if w not in (first_relevant, first_irrelevant)]
    queue = rank.order_queue(review_db, STAGE, "ana", rest, SETTINGS)
    assert sorted(w for w, _ in queue) == sorted(rest)
    assert all(score is not None for _, score in queue)
    scores = [s for _, s in queue]
    assert scores == sorted(scores, reverse=True)
    # The five remaining relevant works come first.
    top5 = {w for w, _ in queue[:5]}
    assert top5 == set(relevant_ids(review_db)) - {first_relevant}


def test_blind_mode_trains_only_on_own_decisions(review_db):
    # Bea has decided plenty; Ana nothing: Ana's queue must not learn from Bea.
    for w, y in review_db.truth.items():
        if w <= 8:
            decide(review_db, w, "include" if y else "exclude", reviewer="bea")
    assert SETTINGS.blind_priority
    assert rank.training_labels(review_db, STAGE, "ana") == {}
    ana = rank.order_queue(review_db, STAGE, "ana", list(review_db.truth), SETTINGS)
    assert all(score is None for _, score in ana)
    assert [w for w, _ in ana] == sorted(review_db.truth)  # by id: nothing learnt
    bea = rank.order_queue(review_db, STAGE, "bea", [w for w in review_db.truth if w > 8], SETTINGS)
    assert all(score is not None for _, score in bea)


def test_open_mode_trains_on_the_team_outcome(review_db):
    open_mode = ReviewSettings(blind_priority=False)
    for w, y in review_db.truth.items():
        if w <= 8:
            decide(review_db, w, "include" if y else "exclude", reviewer="bea")
    labels = rank.training_labels(review_db, STAGE, "ana", blind=False)
    assert labels == {w: y for w, y in review_db.truth.items() if w <= 8}
    ana = rank.order_queue(review_db, STAGE, "ana", [w for w in review_db.truth if w > 8], open_mode)
    assert all(score is not None for _, score in ana)


def test_undo_and_maybe_do_not_teach(review_db):
    decide(review_db, 1, "include")
    decide(review_db, 2, "exclude")
    decide(review_db, 2, "undo")
    decide(review_db, 3, "maybe")
    decide(review_db, 4, "include")
    decide(review_db, 4, "exclude")  # a later decision replaces an earlier one
    decide(review_db, 5, "include")
    decide(review_db, 5, "exclude")
    decide(review_db, 5, "undo")  # withdraws the vote (as the screening_votes view)
    assert rank.own_labels(review_db, STAGE, "ana") == {1: 1, 4: 0}


def test_decisions_on_merged_works_count_for_the_canonical_work(review_db):
    review_db["works"].insert({"id": 99, "title": "duplicate", "merged_into": 2})
    decide(review_db, 99, "include")
    assert rank.own_labels(review_db, STAGE, "ana") == {2: 1}


def test_keyword_cold_start(review_db):
    settings = ReviewSettings(include_keywords=["peer", "recover*"])
    queue = rank.order_queue(review_db, STAGE, "ana", list(review_db.truth), settings)
    assert {w for w, _ in queue[:6]} == set(relevant_ids(review_db))
    assert all(score is None for _, score in queue)


def test_exclude_keywords_push_works_down(review_db):
    settings = ReviewSettings(exclude_keywords=["statin"])
    queue = [w for w, _ in rank.order_queue(review_db, STAGE, "ana", list(review_db.truth), settings)]
    statin = next(w for w, y in review_db.truth.items()
                  if review_db["works"].get(w)["title"].startswith("Statin"))
    assert queue[-1] == statin
    assert queue[:-1] == sorted(w for w in review_db.truth if w != statin)


def test_the_ranker_reads_only_the_settings_it_is_given(review_db, tmp_path, monkeypatch):
    """No settings from a global or the working directory: a review.toml there changes nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "review.toml").write_text('[keywords]\ninclude = ["statin"]\n')
    given = parse_settings({"keywords": {"include": ["peer", "recover*"]}, "screen": {"blind_priority": False}})
    assert (given.blind_priority, given.include_keywords) == (False, ["peer", "recover*"])
    queue = rank.order_queue(review_db, STAGE, "ana", list(review_db.truth), given)
    assert {w for w, _ in queue[:6]} == set(relevant_ids(review_db))


def test_consecutive_excludes():
    assert rank.consecutive_excludes([]) == 0
    assert rank.consecutive_excludes([1, 0, 0, 1]) == 0
    assert rank.consecutive_excludes([1, 0, 1, 0, 0, 0]) == 3
    assert rank.consecutive_excludes([0, 0]) == 2


def test_stopping_signal_arithmetic(review_db):
    for w, d in ((1, "exclude"), (2, "include"), (3, "exclude"), (4, "exclude"),
                 (5, "maybe"), (6, "exclude")):
        decide(review_db, w, d)
    signal = rank.stopping_signal(review_db, STAGE, "ana")
    assert (signal.screened, signal.includes, signal.excludes, signal.maybes) == (6, 1, 4, 1)
    # The maybe counts as relevant for the test, so the last include-like vote is work 5.
    assert signal.consecutive_excludes == 1
    assert signal.unscreened == 18 - 6
    # Labels 0 1 0 0 1 0 of 18 works: far too little to stop on.
    assert signal.test.p == pytest.approx(stopping.p_value([0, 1, 0, 0, 1, 0], 18))
    assert signal.test.p > 0.5 and not signal.test.can_stop
    d = signal.as_dict()
    assert d["can_stop"] is False and d["verdict"].startswith("keep screening")
    assert (d["recall_target"], d["confidence"]) == (0.95, 0.95)


def test_stopping_signal_says_stop_when_the_rest_cannot_hide_enough(review_db):
    truth = review_db.truth
    # Every relevant work first, then every irrelevant one but the last.
    order = relevant_ids(review_db) + [w for w in sorted(truth) if truth[w] == 0][:-1]
    for w in order:
        decide(review_db, w, "include" if truth[w] else "exclude")
    signal = rank.stopping_signal(review_db, STAGE, "ana", recall_target=0.8)
    assert signal.unscreened == 1 and signal.test.can_stop
    assert signal.test.message().startswith("you can stop: at least 80% of relevant works")
    # At 95% a single hidden include breaks the target: the last work could be it.
    strict = rank.stopping_signal(review_db, STAGE, "ana")
    assert strict.test.p == pytest.approx(1 / 12) and not strict.test.can_stop


def test_stopping_signal_before_any_decision(review_db):
    signal = rank.stopping_signal(review_db, STAGE, "ana")
    assert signal.test.p is None and not signal.test.can_stop
    assert signal.consecutive_excludes == 0 and signal.unscreened == 18


def test_the_queue_turns_random_once_the_ranking_is_exhausted(review_db, monkeypatch):
    monkeypatch.setattr(stopping, "SAMPLE_AFTER", 3)
    decide(review_db, relevant_ids(review_db)[0], "include")
    irrelevant = [w for w, y in review_db.truth.items() if y == 0]
    for w in irrelevant[:2]:
        decide(review_db, w, "exclude")
    rest = [w for w in review_db.truth if w not in rank.own_labels(review_db, STAGE, "ana")]
    ranked = rank.order_queue(review_db, STAGE, "ana", rest, SETTINGS)
    assert all(score is not None for _, score in ranked)
    decide(review_db, irrelevant[2], "exclude")  # the third exclude in a row
    rest.remove(irrelevant[2])
    sampled = rank.order_queue(review_db, STAGE, "ana", rest, SETTINGS)
    assert all(score is None for _, score in sampled)
    assert [w for w, _ in sampled] == stopping.random_order(rest, f"{STAGE}:ana")
    assert rank.stopping_signal(review_db, STAGE, "ana").test.sampling


def test_a_feature_cache_refits_only_when_works_change(review_db):
    cache = rank.FeatureCache()
    first = cache.features(review_db)
    assert cache.features(review_db) is first
    assert rank.features(review_db) is not first  # without a cache, nothing is kept
    review_db["works"].insert({"id": 50, "title": "Peer mentors", "abstract": "in recovery"})
    second = cache.features(review_db)
    assert second is not first and 50 in second.index


def test_order_queue_uses_the_cache_it_is_given(review_db, monkeypatch):
    decide(review_db, relevant_ids(review_db)[0], "include")
    decide(review_db, 7 if review_db.truth[7] == 0 else 8, "exclude")
    cache = rank.FeatureCache()
    fits = []
    real = rank.features
    monkeypatch.setattr(rank, "features", lambda db, *a: fits.append(1) or real(db, *a))
    first = rank.order_queue(review_db, STAGE, "ana", list(review_db.truth), SETTINGS, cache=cache)
    again = rank.order_queue(review_db, STAGE, "ana", list(review_db.truth), SETTINGS, cache=cache)
    assert first == again and len(fits) == 1

