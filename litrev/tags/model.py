"""A learned study-design suggestion: trained on the review team's own confirmed designs.

The phrase rules (`litrev.tags.designs.suggest_design`) find a design only when the title,
abstract or metadata say it. Once people have confirmed (set or accepted) a design on
at least MIN_WORKS works with at least MIN_DESIGNS different designs, `train()` fits a
TF-IDF + linear model on those works' titles and abstracts, and `fuse()` puts its
prediction in place of the rules' where the rules found nothing: the evidence then
says so ("learned from 240 confirmed designs (p = 0.62); no design phrase found") and
the confidence is the model's probability, capped below the rules' decisive phrases.
A person's tag still wins over any suggestion (the `work_tags` view).

Settings (unigrams, C = 10, used only where no phrase is found and p >= 0.6) were chosen
leave-one-split-out on the hand-labelled records and then checked on blind splits; the
figures are in benchmarks/README.md ("Tagging"). On by default (ENABLED);
`litrev tag --auto --no-learned` (`auto_tag(db, learned=False)`) leaves the rules alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from litrev.tags.designs import DECISIVE
from litrev.tags.suggest import Suggestion, clean_abstract

if TYPE_CHECKING:  # scikit-learn is imported when a model is trained: it takes a second, and
    # `litrev tag --auto` runs without it until the team has confirmed enough designs
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier

ENABLED = True  # a gain on the blind split, none lost: see the module docstring
MIN_WORKS = 30  # confirmed designs needed before a model is trained
MIN_DESIGNS = 2  # ... with at least this many different designs
THRESHOLD = 0.6  # the model's probability at and above which it replaces a phrase-less rules suggestion
CAP = round(DECISIVE - 0.05, 2)  # 0.75: a learned confidence stays below the rules' explicit phrases (DECISIVE)
C = 10.0  # inverse regularisation: 1, 10 and 100 measured; 10 best as a fallback (benchmarks/tagging.py)
NO_PHRASE = "no design phrase or type found"  # the rules' evidence when they found nothing (designs._choose)
LEARNED = "learned from"  # how a learned suggestion's evidence starts


def make_vectoriser(ngrams: int = 1) -> TfidfVectorizer:
    """Word unigrams, sublinear tf, words in at least two works: measured as good as
    uni+bigrams here and several times faster to fit."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, ngrams), sublinear_tf=True, min_df=2, max_df=0.95,
                           strip_accents="unicode", dtype=np.float64)


def design_text(title: str | None, abstract: str | None) -> str:
    # Title then abstract, as litrev.screen.rank.work_text (not imported: it brings scikit-learn).
    return f"{title or ''} {clean_abstract(abstract)}"


@dataclass
class DesignModel:
    vectoriser: TfidfVectorizer
    classifier: OneVsRestClassifier
    trained_on: int  # confirmed designs learned from

    def predict(self, texts: Iterable[tuple[str | None, str | None]]) -> list[tuple[str, float]]:
        """(design, probability) for each (title, abstract)."""
        docs = [design_text(t, a) for t, a in texts]
        if not docs:
            return []
        probabilities = self.classifier.predict_proba(self.vectoriser.transform(docs))
        best = probabilities.argmax(axis=1)
        return [(str(self.classifier.classes_[j]), float(probabilities[i, j])) for i, j in enumerate(best)]


def enough(designs: Iterable[str]) -> bool:
    designs = list(designs)
    return len(designs) >= MIN_WORKS and len(set(designs)) >= MIN_DESIGNS


def train(examples: Iterable[tuple[str | None, str | None, str]], *, c: float = C, ngrams: int = 1,
          balanced: bool = False) -> DesignModel | None:
    """A model from (title, abstract, confirmed design) examples; None when too few
    (fewer than MIN_WORKS, or fewer than MIN_DESIGNS designs): then the rules decide alone.

    Logistic regression one-vs-rest (liblinear, fixed random_state: deterministic), its
    per-design probabilities normalised to sum to one: those are the confidences.
    The keywords are the settings benchmarks/tagging.py --candidates compares.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    examples = [(t, a, d) for t, a, d in examples if d]
    labels = [d for _, _, d in examples]
    if not enough(labels):
        return None
    vectoriser = make_vectoriser(ngrams)
    try:
        X = vectoriser.fit_transform([design_text(t, a) for t, a, _ in examples])
    except ValueError:  # no word occurs in two works (empty texts): nothing to learn from
        return None
    classifier = OneVsRestClassifier(
        LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0,
                           class_weight="balanced" if balanced else None)).fit(X, labels)
    return DesignModel(vectoriser, classifier, len(labels))


def fuse(rules: Suggestion, learned: tuple[str, float] | None, trained_on: int,
         threshold: float = THRESHOLD) -> Suggestion:
    """The rules' design suggestion, or the model's where the rules found no design
    phrase or type and the model is at least THRESHOLD sure."""
    if learned is None or rules.evidence != NO_PHRASE:
        return rules
    design, p = learned
    if p < threshold:
        return rules
    return Suggestion("design", design, round(min(p, CAP), 2),
                      f"{LEARNED} {trained_on} confirmed designs (p = {p:.2f}); no design phrase found")


def fill_in(model: DesignModel | None, rules: Suggestion, title: str | None, abstract: str | None) -> Suggestion:
    """One work's design: the rules' suggestion, or `fuse()`d with the model's prediction,
    which is made only where the rules found nothing."""
    if model is None or rules.evidence != NO_PHRASE:
        return rules
    return fuse(rules, model.predict([(title, abstract)])[0], model.trained_on)


def is_learned(suggestion: Suggestion) -> bool:
    return suggestion.key == "design" and suggestion.evidence.startswith(LEARNED)

