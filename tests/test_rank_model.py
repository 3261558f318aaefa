"""The ranker itself: class weights, the column-restricted fit, scores."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from support.rank import IRRELEVANT, RELEVANT

from litrev.screen import rank


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


def test_bm25_weights_follow_the_formula():
    texts = ["alpha alpha alpha beta", "beta gamma", "beta delta delta", "gamma"]
    vec = rank.Bm25Vectoriser(k1=1.2, b=0.75)
    matrix = vec.fit_transform(texts).toarray()
    counts = vec.counts.transform(texts).toarray().astype(float)  # terms and bigrams
    length = counts.sum(axis=1, keepdims=True)
    df = (counts > 0).sum(axis=0)
    idf = np.log(1 + (4 - df + 0.5) / (df + 0.5))
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.nan_to_num(
            counts * 2.2 / (counts + 1.2 * (0.25 + 0.75 * length / length.mean())) * idf
        )
    expected = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    np.testing.assert_allclose(matrix, expected, atol=1e-12)
    assert matrix.dtype == np.float64


def test_bm25_saturates_term_frequency_and_favours_rare_words():
    vec = rank.Bm25Vectoriser(b=0.0)  # no length discount: tf alone
    texts = ["alpha " * 8 + "beta", "alpha x", "beta y", "z w"]  # alpha, beta: same df
    matrix = vec.fit_transform(texts).toarray()
    voc = vec.counts.vocabulary_
    ratio = matrix[0, voc["alpha"]] / matrix[0, voc["beta"]]
    assert ratio == pytest.approx(8 * 2.2 / (8 + 1.2))  # not 8: capped below k1 + 1
    vec = rank.Bm25Vectoriser()
    matrix = vec.fit_transform(["rare shared", "shared x", "y z", "w v"]).toarray()
    voc = vec.counts.vocabulary_
    assert matrix[0, voc["rare"]] > matrix[0, voc["shared"]]
