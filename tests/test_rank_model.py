"""The ranker itself: class weights, the column-restricted fit, scores and probabilities."""

import numpy as np
import pytest
from rank_support import IRRELEVANT, RELEVANT
from sklearn.linear_model import LogisticRegression

from litrev import rank


@pytest.fixture
def corpus():
    texts = [rank.work_text(t, a) for t, a in RELEVANT + IRRELEVANT]
    labels = np.array([1] * len(RELEVANT) + [0] * len(IRRELEVANT))
    return rank.make_vectoriser().fit_transform(texts).tocsr(), labels


def test_sample_weights_balance_the_classes():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0])
    w = rank.sample_weights(y)
    # Each class weighs half of the total: 1 include as much as 7 excludes.
    assert w[y == 1].sum() == pytest.approx(4.0)
    assert w[y == 0].sum() == pytest.approx(4.0)
    assert w.sum() == pytest.approx(len(y))
    heavy = rank.sample_weights(y, weight=3.0)
    assert heavy[y == 1].sum() == pytest.approx(3 * heavy[y == 0].sum())


def test_fit_on_used_columns_equals_a_fit_on_the_whole_vocabulary(corpus):
    """The speed-up (fit only the words present in decided works) changes no score."""
    matrix, labels = corpus
    train = [0, 1, 2, 6, 7, 8, 9, 10]
    ranker = rank.Ranker(matrix).fit(train, labels[train])
    full = LogisticRegression(C=0.1, solver="liblinear", dual=True, max_iter=1000,
                              random_state=0)
    full.fit(matrix[train], labels[train], sample_weight=rank.sample_weights(labels[train]))
    everything = np.arange(matrix.shape[0])
    np.testing.assert_allclose(ranker.scores(everything), full.decision_function(matrix),
                               atol=1e-6)
    unused = np.setdiff1d(np.arange(matrix.shape[1]), matrix[train].indices)
    assert len(unused) and not ranker.coef[unused].any()


def test_unseen_relevant_works_outrank_unseen_irrelevant_ones(corpus):
    matrix, labels = corpus
    train = [0, 6]  # one include, one exclude: the default priors
    ranker = rank.Ranker(matrix).fit(train, labels[train])
    rest = np.setdiff1d(np.arange(len(labels)), train)
    scores = ranker.scores(rest)
    assert scores[labels[rest] == 1].min() > scores[labels[rest] == 0].max()
    relevance = ranker.relevance(rest)
    assert ((0 < relevance) & (relevance < 1)).all()


def test_probabilities_are_calibrated_out_of_fold(corpus):
    matrix, labels = corpus
    train = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12]
    ranker = rank.Ranker(matrix).fit(train, labels[train])
    rest = np.setdiff1d(np.arange(len(labels)), train)
    p = ranker.probabilities(rest)
    assert ((0 <= p) & (p <= 1)).all()
    # The two relevant works left get higher probabilities than any irrelevant one.
    assert p[labels[rest] == 1].min() > p[labels[rest] == 0].max()
