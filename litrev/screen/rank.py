"""Screening prioritisation: show screeners the likely includes first.

Before a stage has at least one include and one exclude to learn from (ASReview's default
prior knowledge), the queue is ordered by keyword score (the review's include keywords),
else by the best rank a search gave the work, else by work id. After that, a linear
model (`DEFAULT_MODEL`: ASReview's default, ELAS u4, a linear SVM over TF-IDF words and
word pairs of the decided works' titles and abstracts) orders the rest, and it is
retrained on every call, so each decision changes the next ordering.

Speed: the feature matrix of every work is fitted once and cached per database (refitted
only when works change); a decision only refits the classifier, a few milliseconds
(`benchmarks/prioritisation.py` measures it at 10,000 records).

Blind dual screening: by default a reviewer's model learns only from their own decisions
for the stage, so a second screener is not steered by the first. `blind_priority = false`
in the review settings lets everyone's agreed outcomes train everyone's model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC
from sqlite_utils import Database

from litrev.screen.settings import ReviewSettings
from litrev.screen.stopping import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RECALL_TARGET,
    StopTest,
    random_order,
    sampling_start,
    stop_test,
)

# ASReview's default prior knowledge is one include and one exclude; a linear model
# on weighted words already ranks better than keywords from there (see the benchmarks).
MIN_INCLUDES = 1
MIN_EXCLUDES = 1


# --- the model: shared by the screening queue and `litrev simulate` -------------


class Bm25Vectoriser:
    """Word uni- and bigram counts weighted by Okapi BM25, each work's row L2-normalised.

    Weight of a term in a work: tf (k1 + 1) / (tf + k1 (1 - b + b len / mean len)) x
    log(1 + (N - df + 0.5) / (df + 0.5)). Against TF-IDF (sublinear tf, smoothed idf) the
    term frequency saturates and long abstracts are discounted, and the idf has no + 1, so
    common words weigh far less than rare ones. Measured better on all three shared
    screening sets (see `Ranker`). Fitted once per set of works, like a TF-IDF.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.counts = CountVectorizer(
            ngram_range=(1, 2), min_df=1, max_df=0.95, strip_accents="unicode"
        )

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        # float64: what liblinear wants, so no conversion copy per refit
        counts = self.counts.fit_transform(texts).tocsr().astype(np.float64)
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        length = np.asarray(counts.sum(axis=1)).ravel()
        mean_length = length.mean() or 1.0
        row_length = np.repeat(length, np.diff(counts.indptr))
        tf = counts.data
        counts.data = (
            tf * (self.k1 + 1)
            / (tf + self.k1 * (1 - self.b + self.b * row_length / mean_length))
            * idf[counts.indices]
        )
        return normalize(counts, norm="l2", copy=False)


def tfidf_vectoriser() -> TfidfVectorizer:
    """ASReview's ELAS u4 features: TF-IDF of word uni- and bigrams, sublinear tf."""
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95,
                           dtype=np.float64)


@dataclass(frozen=True)
class Model:
    """What orders the queue: a feature weighting and a linear classifier on it."""

    name: str
    features: str  # "bm25" or "tfidf"
    loss: str  # "logistic" or "svm"
    C: float
    weight: float | None  # None: balanced classes; else includes weigh `weight` x excludes

    def vectoriser(self) -> Bm25Vectoriser | TfidfVectorizer:
        return Bm25Vectoriser() if self.features == "bm25" else tfidf_vectoriser()

    def ranker(self, matrix: sparse.csr_matrix) -> Ranker:
        return Ranker(matrix, C=self.C, weight=self.weight, loss=self.loss)


# `benchmarks/prioritisation.py --model NAME` replays one beside ASReview.
MODELS = {m.name: m for m in (
    # ASReview 3's default, ELAS u4, rebuilt: TF-IDF 1-2 grams (sublinear tf, max_df 0.95),
    # linear SVM (squared hinge, C = 0.11), includes weighing 9.8x the excludes in total.
    # Its orders are ASReview's own, run for run (benchmarks/README.md).
    Model("elas-u4", "tfidf", "svm", 0.11, 9.8),
    # The previous default (see `Ranker`): chosen on 3 sets, behind ASReview on unseen ones.
    Model("bm25-logistic", "bm25", "logistic", 0.1, None),
    Model("bm25-svm", "bm25", "svm", 0.11, 9.8),  # behind ASReview on 6 of 13 sets too
)}
# Chosen by the worst of the 13 shared labelled sets, not the mean: the previous default
# was behind ASReview on sets it had not seen (issue #18), and ASReview's own model is at
# ASReview on every set, so litrev uses it, as the issue asks when nothing beats it everywhere.
DEFAULT_MODEL = MODELS["elas-u4"]


def make_vectoriser() -> Bm25Vectoriser | TfidfVectorizer:
    """The default model's vectoriser (`DEFAULT_MODEL`)."""
    return DEFAULT_MODEL.vectoriser()


def work_text(title: str | None, abstract: str | None) -> str:
    # Title then abstract, as ASReview. Counting the title twice was measured worse on the
    # largest shared set (Nagtegaal WSS@95 0.690 vs 0.719, 5 seeds).
    return f"{title or ''} {abstract or ''}"


class Ranker:
    """A linear classifier over a fixed feature matrix; refit per decision, score the rest.

    `loss="svm"` with `weight=9.8` is ASReview's ELAS u4 (the default, `DEFAULT_MODEL`).
    The history below is of the logistic regression on BM25, litrev's model until issue
    #18: every figure in it is from three sets (ADHD, urinary incontinence, Nagtegaal), on
    which it was adopted for beating ASReview; on sets it had not seen it fell behind on
    some, which is why the default is now chosen on all 13 shared sets by the worst one.

    Logistic regression with balanced class weights: includes are rare (2-25%), and
    unweighted the few includes barely move the boundary. Speed: the classifier is fit
    only on the columns (words) present in the decided works. For an L2-regularised
    linear model that is exact (a word never seen in training gets weight 0 either way)
    and it makes a refit cost depend on the decided works, not the whole vocabulary.
    Scoring is one sparse matrix-vector product over every work.

    C = 0.1 (strong regularisation) was measured on the shared Cohen sets, 5 seeds each
    (then on TF-IDF with the title counted twice), WSS@95: C = 10: 0.406 / 0.253; C = 1: 0.418 /
    0.302; C = 0.3: 0.429 / 0.318; C = 0.1: 0.440 / 0.327; C = 0.03: 0.447 / 0.323
    (urinary incontinence / ADHD).

    Alternatives measured on all three shared sets (`benchmarks/prioritisation.py`'s
    replay, label_included, priors seeds 0-4, WSS@95 % ADHD / urinary incontinence /
    Nagtegaal; ASReview 3.0.8's default ELAS u4 scores 26.6 / 40.2 / 73.5, seeds 0-9
    26.7 / 40.2 / 73.2). This model (BM25 features, `Bm25Vectoriser`): 38.1 / 44.7 /
    74.0, seeds 0-9 38.1 / 45.1 / 73.9; RRF@10 62.1 / 37.4 / 64.8 (ASReview 68.4 / 43.6
    / 65.8), recall@50 94.7 / 95.9 / 99.0 (94.7 / 92.8 / 99.0).

    On TF-IDF features (1-2 grams, sublinear tf, smoothed idf; the model before BM25):
    31.9 / 45.1 / 71.9, seeds 0-9 32.0 / 44.9 / 71.2; RRF@10 73.7 / 41.5 / 64.6. ELAS u4
    rebuilt on this replay (TF-IDF 1-2 grams, LinearSVC squared hinge C = 0.11, includes
    9.8x the excludes in total): 26.6 / 40.2 / 73.3 (73.5 without accent stripping: the
    replay reproduces ASReview's own run). Balanced SVM, C = 0.1: 29.3 / 44.3 / 72.5;
    SVM with includes 3x: 29.1 / 44.5 / 72.7. Logistic regression with includes 2x: 24.4
    / 32.5 / 72.3; 9.8x: 1.9 / 26.8 / 70.9 (C = 1: 24.2 / 34.9 / 73.0). C = 0.3: 31.5 /
    46.3 / 71.3; C = 0.03: 31.5 / 42.2 / 71.3. Unregularised intercept: 25.6 / 41.8 /
    71.6. Rank-averaged with the ELAS u4 SVM: 29.6 / 43.8 / 72.2; the two interleaved:
    31.7 / 40.1 / 71.8; naive Bayes (ELAS u3's alpha and weights): 24.7 / 35.2 / 72.2,
    rank-averaged with this model 29.3 / 37.8 / 72.8. 100 random unscreened works as
    presumed excludes (AutoTAR): 32.4 / 38.0 / 69.2. Words in 2+ works only: 40.7 / 42.1
    / 67.0; English stop words removed: 36.0 / 44.1 / 59.9; 1-3 grams: 33.7 / 46.9 /
    70.8; British spellings folded to American: 32.3 / 44.0 / 67.9; char_wb 3-5 grams at
    0.7: 37.5 / 41.7 / 62.9. LSA (TruncatedSVD of the TF-IDF, rows L2-normalised,
    stacked beside it at weight w): 100 components, w = 0.5: 43.4 / 34.2 / 68.7; 200, w
    = 0.5: 40.0 / 33.0 / 75.2; 300, w = 0.5: 37.6 / 46.2 / 66.2; 200, w = 0.3: 37.2 /
    35.2 / 72.4; 200, w = 1: 44.8 / 30.6 / 75.7; 10% of the works (at most 200), w =
    0.5: 25.1 / 47.5 / 75.2 (unstable: each set swings by 5-15 points with the setting).
    Snowball (Porter2) stemming: 31.1 / 43.5 / 70.3. Title and abstract as separate
    vocabularies (title at 0.5): 34.2 / 39.0 / 68.2; title at 1: 41.2 / 41.7 / 59.7;
    both plus the joint vocabulary: 33.5 / 43.1 / 70.9. SGD, modified Huber, averaged
    (alpha 1e-4, 20 epochs): 42.9 / 18.5 / 73.4. Model schedules: ELAS u4's SVM until 5
    includes, then this model: 31.9 / 45.8 / 71.1; this model until 20 includes, then
    the SVM: 31.9 / 39.5 / 73.2. None of these is at or above ASReview on all three sets.

    On BM25 features (k1 = 1.2, b = 0.75 unless said; the textbook defaults, tried
    first): b = 0.3: 38.0 / 44.6 / 73.5; b = 1: 38.1 / 44.7 / 73.9 (seeds 0-9 38.1 /
    44.4 / 73.8); k1 = 0.9: 37.6 / 44.4 / 73.6; k1 = 1.5: 38.6 / 46.0 / 72.8; k1 = 2:
    38.4 / 46.7 / 72.6; C = 0.3: 38.5 / 45.9 / 73.6 (seeds 0-9 38.5 / 46.1 / 73.6); C =
    0.05: 37.6 / 44.7 / 73.5. Sublinear tf with the BM25 idf: 39.2 / 45.6 / 69.3; BM25
    tf with TF-IDF's smoothed idf: 31.0 / 46.1 / 73.3 (so both the saturating tf and the
    sharper idf matter). Stemmed: 38.6 / 40.5 / 72.7; 1-3 grams: 38.2 / 44.7 / 70.6; LSA
    as above (10% of the works, at most 200) at w = 0.5: 18.0 / 38.8 / 75.3, w = 1: 10.9
    / 37.7 / 74.4. ELAS u4's SVM on BM25: 33.3 / 42.5 / 74.2, seeds 0-9 33.3 / 42.5 /
    74.2 (RRF@10 69.5 / 43.1 / 67.4); balanced SVM, C = 0.1: 37.2 / 45.5 / 73.8; the
    ELAS u4 SVM until 5 includes, then this model: 38.1 / 45.2 / 73.7; until 10: 38.1 /
    46.1 / 73.8 (RRF@10 68.4 / 36.9 / 65.6); the SVM's and this model's standardised
    scores summed: 35.5 / 44.3 / 73.8. BM25 is the only feature change measured at or
    above ASReview on all three sets, over 5 and over 10 seeds, with every linear model
    tried on it, though on Nagtegaal by well under the run-to-run spread (72.8-75.1 over
    seeds 0-4) and only for k1 near 1.2. This model keeps the largest lead on the Cohen
    sets; it finds fewer includes in their first 10% (RRF@10) than on TF-IDF. A check
    on the other label, label_abstract_screening (84 / 78 / 392 relevant, seeds 0-4,
    not used to choose anything): BM25 51.9 / 22.8 / 40.0, TF-IDF 49.4 / 19.6 / 36.9,
    ASReview's own run 47.4 / 14.3 / 38.6.
    """

    def __init__(self, matrix: sparse.csr_matrix, C: float = 0.1, weight: float | None = None,
                 loss: str = "logistic"):
        self.matrix = matrix
        self.C = C
        self.weight = weight  # None: balanced; else includes weigh `weight` x balanced
        self.loss = loss  # "logistic" or "svm" (squared hinge, as ASReview's ELAS u4)
        self.coef: np.ndarray | None = None
        self.intercept = 0.0
        self._all: np.ndarray | None = None

    def fit(self, rows: Sequence[int], labels: Sequence[int]) -> Ranker:
        y = np.asarray(labels, dtype=int)
        X = self.matrix[np.asarray(rows)]
        # Keep only the columns in use; the order of indices is kept, so no re-sorting.
        present = np.zeros(self.matrix.shape[1], dtype=bool)
        present[X.indices] = True
        cols = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        X = sparse.csr_matrix(
            (X.data, remap[X.indices].astype(np.int32), X.indptr), shape=(len(y), len(cols))
        )
        # The dual solver: far faster than the primal one when words outnumber decisions.
        if self.loss == "svm":
            model = LinearSVC(C=self.C, loss="squared_hinge", dual=True, max_iter=1000,
                              random_state=0)
        else:
            model = LogisticRegression(
                C=self.C, solver="liblinear", dual=True, max_iter=1000, random_state=0
            )
        model.fit(X, y, sample_weight=sample_weights(y, self.weight))
        self.coef = np.zeros(self.matrix.shape[1])
        self.coef[cols] = model.coef_.ravel()
        self.intercept = float(model.intercept_[0])
        self._all = None
        return self

    def scores(self, rows: Sequence[int]) -> np.ndarray:
        """Decision values (the signed margin; for logistic loss reweighted log-odds):
        higher is more likely relevant. Not a probability: only the order is meaningful."""
        assert self.coef is not None, "fit() first"
        if self._all is None:
            self._all = self.matrix @ self.coef + self.intercept
        return self._all[np.asarray(rows, dtype=int)]


def sample_weights(labels: Sequence[int] | np.ndarray, weight: float | None = None) -> np.ndarray:
    """Balanced per-decision weights (as class_weight="balanced"): includes and excludes
    each weigh half of the total, so the few includes are not outvoted. `weight` > 1
    makes includes weigh that many times more in total (ASReview's ELAS u4 uses 9.8)."""
    y = np.asarray(labels, dtype=int)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    w_pos = len(y) / (2 * max(n_pos, 1)) * (weight or 1.0)
    w_neg = len(y) / (2 * max(n_neg, 1))
    w = np.where(y == 1, w_pos, w_neg)
    return w * (len(y) / w.sum())  # the weights sum to the decisions, as in ASReview


# --- the evidence database side: cached features, labels, ordering --------------


@dataclass
class _Features:
    key: tuple
    index: dict[int, int]  # canonical work id -> matrix row
    matrix: sparse.csr_matrix


def _db_key(db: Database) -> str:
    row = db.execute("pragma database_list").fetchone()
    return row[2] or f"memory:{id(db.conn)}"


def _works_fingerprint(db: Database) -> tuple:
    return tuple(
        db.execute(
            "select count(*), max(id), max(updated_at), max(created_at), "
            "sum(merged_into is not null) from works"
        ).fetchone()
    )


class FeatureCache:
    """The feature matrix of each database, refitted only when its works change.

    A screening session (or the team server's refit worker) holds one, so retraining after
    each decision costs a fit, not a re-vectorisation of every title and abstract (seconds
    at 10,000 works). Nothing is cached outside such an object.
    """

    def __init__(self) -> None:
        self.entries: dict[str, _Features] = {}

    def features(self, db: Database) -> _Features:
        key, fingerprint = _db_key(db), _works_fingerprint(db)
        cached = self.entries.get(key)
        if cached is None or cached.key != fingerprint:
            cached = self.entries[key] = features(db, fingerprint)
        return cached


def features(db: Database, fingerprint: tuple | None = None) -> _Features:
    """The default model's features of every canonical work's title and abstract."""
    fingerprint = fingerprint or _works_fingerprint(db)
    rows = db.execute(
        "select id, title, abstract from works where merged_into is null order by id"
    ).fetchall()
    texts = [work_text(title, abstract) for _, title, abstract in rows]
    if any(t.strip() for t in texts):
        try:
            matrix = make_vectoriser().fit_transform(texts).tocsr()
        except ValueError:  # every word in every document pruned (tiny corpora)
            matrix = sparse.csr_matrix((len(rows), 0), dtype=np.float32)
    else:
        matrix = sparse.csr_matrix((len(rows), 0), dtype=np.float32)
    return _Features(fingerprint, {wid: i for i, (wid, _, _) in enumerate(rows)}, matrix)


def own_labels(db: Database, stage: str, reviewer: str) -> dict[int, int]:
    """This reviewer's current include (1) / exclude (0) per canonical work for the stage."""
    return dict(_own_decisions(db, stage, reviewer))


def _own_decisions(db: Database, stage: str, reviewer: str) -> list[tuple[int, int]]:
    """(canonical work id, 1 include / 0 exclude) in the order this reviewer made them.

    From the `screening_votes` view (latest vote per work; an undo withdraws it).
    `maybe` teaches nothing; adjudications are not one screener's own votes.
    """
    return [
        (work_id, 1 if decision == "include" else 0)
        for work_id, decision in db.execute(
            """select work_id, decision from screening_votes
               where stage = ? and reviewer = ? and decision in ('include', 'exclude')
               order by decision_id""",
            [stage, reviewer],
        )
    ]


def team_labels(db: Database, stage: str) -> dict[int, int]:
    """The stage outcome per canonical work (include/exclude; maybe and conflicts skipped)."""
    return {
        work_id: 1 if outcome == "include" else 0
        for work_id, outcome in db.execute(
            "select work_id, outcome from screening_outcomes "
            "where stage = ? and outcome in ('include', 'exclude')",
            [stage],
        )
    }

def training_labels(db: Database, stage: str, reviewer: str, *, blind: bool = True) -> dict[int, int]:
    """What the model learns from: this reviewer's own decisions (`blind`, review.toml's
    `blind_priority`), or the team's stage outcomes."""
    if blind:
        return own_labels(db, stage, reviewer)
    return team_labels(db, stage)


def _canonical(db: Database, work_ids: Iterable[int]) -> dict[int, int]:
    ids = list(work_ids)
    out: dict[int, int] = {w: w for w in ids}
    out.update(db.execute(
        "select work_id, canonical_id from canonical_works where work_id in (select value from json_each(?))",
        [json.dumps(ids)],
    ).fetchall())
    return out


def order_queue(
    db: Database, stage: str, reviewer: str, work_ids: Iterable[int], settings: ReviewSettings, *,
    cache: FeatureCache | None = None,
) -> list[tuple[int, float | None]]:
    """Order `work_ids` for screening: most likely includes first.

    Returns (work id, model score) pairs, best first; the score (`Ranker.scores`, not a
    probability) is None while there are too few decisions to learn both classes from
    and the order comes from keywords or search rank, and in the stopping rule's random-
    sampling phase (`litrev.screen.stopping`), where the order is random by design. Every
    given work id is returned exactly once. `settings` give `blind_priority` and the keywords
    of the cold start; `cache` keeps the feature matrix between calls.
    """
    work_ids = list(dict.fromkeys(work_ids))
    if not work_ids:
        return []
    if in_sampling_phase(db, stage, reviewer):
        return [(w, None) for w in random_order(work_ids, f"{stage}:{reviewer}")]
    labels = training_labels(db, stage, reviewer, blind=settings.blind_priority)
    n_inc = sum(labels.values())
    if n_inc >= MIN_INCLUDES and len(labels) - n_inc >= MIN_EXCLUDES:
        feats = cache.features(db) if cache is not None else features(db)
        ranked = _model_order(db, feats, labels, work_ids)
        if ranked is not None:
            return ranked
    return [(w, None) for w in _cold_order(db, work_ids, settings.include_keywords, settings.exclude_keywords)]


def _model_order(
    db: Database, feats: _Features, labels: dict[int, int], work_ids: list[int]
) -> list[tuple[int, float | None]] | None:
    if feats.matrix.shape[1] == 0:
        return None
    train = [(feats.index[w], y) for w, y in labels.items() if w in feats.index]
    if len({y for _, y in train}) < 2:
        return None
    ranker = DEFAULT_MODEL.ranker(feats.matrix).fit([r for r, _ in train], [y for _, y in train])
    canon = _canonical(db, work_ids)
    known = [w for w in work_ids if canon[w] in feats.index]
    unknown = [w for w in work_ids if canon[w] not in feats.index]
    scores = ranker.scores([feats.index[canon[w]] for w in known]) if known else []
    scored = sorted(zip(known, (float(r) for r in scores)), key=lambda p: (-p[1], p[0]))
    return scored + [(w, None) for w in sorted(unknown)]


def _cold_order(db: Database, work_ids: list[int], include: list[str], exclude: list[str]) -> list[int]:
    """Keyword score (include minus exclude keyword hits), then best search rank, then id."""
    canon = _canonical(db, work_ids)
    kw_score: dict[int, int] = {}
    if include or exclude:
        texts = _texts(db, set(canon.values()))
        inc, exc = _keyword_pattern(include), _keyword_pattern(exclude)
        for w in work_ids:
            text = texts.get(canon[w], "").lower()
            kw_score[w] = (len(inc.findall(text)) if inc else 0) - (
                len(exc.findall(text)) if exc else 0)
    ranks = _best_ranks(db, set(canon.values()))
    return sorted(
        work_ids,
        key=lambda w: (-kw_score.get(w, 0), ranks.get(canon[w], math.inf), w),
    )


def _keyword_pattern(words: list[str]) -> re.Pattern | None:
    # A keyword matches at a word start ("peer mentor" also finds "peer mentors");
    # `*` is a wildcard within a word ("recover*").
    words = [w.strip().lower() for w in words if w.strip()]
    if not words:
        return None
    return re.compile("|".join(r"\b" + re.escape(w).replace(r"\*", r"\w*") for w in words))


def _texts(db: Database, work_ids: set[int]) -> dict[int, str]:
    rows = db.execute(
        "select id, title, abstract from works where id in (select value from json_each(?))",
        [json.dumps(sorted(work_ids))],
    )
    return {wid: f"{title or ''} {abstract or ''}" for wid, title, abstract in rows}


def _best_ranks(db: Database, work_ids: set[int]) -> dict[int, float]:
    """The best (lowest) rank any search run gave any record of the work."""
    out: dict[int, float] = {}
    for work_id, rank in db.execute(
        """
        select coalesce(w.merged_into, w.id), min(p.rank)
        from provenance p
        join records r on r.id = p.record_id
        join works w on w.id = r.work_id
        where p.rank is not null
        group by 1
        """
    ):
        if work_id in work_ids:
            out[work_id] = rank
    return out


# --- the stopping signal --------------------------------------------------------


@dataclass
class StoppingSignal:
    """When may this reviewer stop screening the stage? `test` is the statistical stopping
    rule (`litrev.screen.stopping`: a recall target reached with a confidence, or not yet);
    `consecutive_excludes` (excludes since the last include) is shown beside it as the
    familiar heuristic, never as the verdict.
    """

    screened: int
    includes: int
    excludes: int
    maybes: int
    consecutive_excludes: int
    unscreened: int
    test: StopTest

    def as_dict(self) -> dict:
        return {
            "screened": self.screened,
            "includes": self.includes,
            "excludes": self.excludes,
            "maybes": self.maybes,
            "consecutive_excludes": self.consecutive_excludes,
            "unscreened": self.unscreened,
            "recall_target": self.test.recall_target,
            "confidence": self.test.confidence,
            "p": self.test.p,
            "can_stop": self.test.can_stop,
            "random_sampling": self.test.sampling,
            "verdict": self.test.message(),
        }


def consecutive_excludes(sequence: Sequence[int]) -> int:
    """Excludes (0) at the end of a decision sequence, since the last include (1)."""
    n = 0
    for label in reversed(sequence):
        if label == 1:
            break
        n += 1
    return n


def _stopping_sequence(db: Database, stage: str, reviewer: str) -> list[tuple[int, str]]:
    """(canonical work id, decision) of this reviewer's current votes, in the order made."""
    return [
        (work_id, decision)
        for work_id, decision in db.execute(
            """select work_id, decision from screening_votes
               where stage = ? and reviewer = ? and decision in ('include', 'exclude', 'maybe')
               order by decision_id""",
            [stage, reviewer],
        )
    ]


def in_sampling_phase(db: Database, stage: str, reviewer: str) -> bool:
    """True once this reviewer's ranked queue is exhausted (`stopping.sampling_start`)."""
    labels = [0 if d == "exclude" else 1 for _, d in _stopping_sequence(db, stage, reviewer)]
    return sampling_start(labels) is not None


def stopping_signal(
    db: Database, stage: str, reviewer: str, work_ids: Iterable[int] | None = None, *,
    recall_target: float = DEFAULT_RECALL_TARGET, confidence: float = DEFAULT_CONFIDENCE,
) -> StoppingSignal:
    """The stopping rule for `reviewer` on `stage`, from their own decisions in order.

    `work_ids` are the works still to screen (the screening queue); by default every
    canonical work this reviewer has not voted on. A `maybe` counts as relevant for the
    test (it may yet be an include), which can only make the verdict later, never earlier.
    """
    votes = _stopping_sequence(db, stage, reviewer)
    if work_ids is None:
        decided = {w for w, _ in votes}
        work_ids = [
            w for (w,) in db.execute("select id from works where merged_into is null order by id")
            if w not in decided
        ]
    unscreened = len(dict.fromkeys(work_ids))
    labels = [0 if d == "exclude" else 1 for _, d in votes]
    includes = sum(d == "include" for _, d in votes)
    maybes = sum(d == "maybe" for _, d in votes)
    return StoppingSignal(
        screened=len(votes),
        includes=includes,
        excludes=len(votes) - includes - maybes,
        maybes=maybes,
        consecutive_excludes=consecutive_excludes(labels),
        unscreened=unscreened,
        test=stop_test(labels, len(votes) + unscreened, recall_target=recall_target,
                       confidence=confidence),
    )
