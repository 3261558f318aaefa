"""A learned study-design suggestion: trained on the review team's own confirmed designs.

The phrase rules (`litrev.tags.designs.suggest_design`) find a design only when the title,
abstract or metadata say it. Once people have confirmed (set or accepted) a design on
at least MIN_WORKS works with at least MIN_DESIGNS different designs, `train()` fits a
TF-IDF + linear model on those works' titles and abstracts, and `fuse()` puts its
prediction in place of the rules' where the rules found nothing: the evidence then
says so ("learned from 240 confirmed designs (p = 0.62); no design phrase found") and
the confidence is the model's probability, capped below the rules' decisive phrases.
A person's tag still wins over any suggestion (the `work_tags` view).

Measured leave-one-split-out on the 646 hand-labelled records (benchmarks/tagging.py
--candidates: train on the other splits' labels, predict the split), pooled design
macro-F1 / accuracy / RCT recall; rules alone: 0.835 / 0.870 / 0.982.
  unigrams, C = 10; no phrase and p >= 0.6 (chosen)                 0.835 / 0.872 / 0.994
  unigrams, C = 10; no phrase and p >= 0.5                          0.835 / 0.872 / 0.994
  unigrams, C = 10; rules < 0.8 and p > max(0.6, rules' confidence) 0.819 / 0.858 / 0.994
  unigrams, C = 1;   no phrase and p >= 0.6                         0.835 / 0.870 / 0.982
  unigrams, C = 100; no phrase and p >= 0.6                         0.834 / 0.868 / 0.994
  uni+bigrams, C = 10; no phrase and p >= 0.6                       0.835 / 0.870 / 0.988
  unigrams, C = 10, balanced classes; no phrase and p >= 0.6        0.835 / 0.872 / 0.988
The model alone is poor (macro-F1 about 0.24: 13 designs, a few hundred texts on mixed
topics). Overriding a weak phrase loses: the rules' weak phrases are right more often
than the model. As a fallback for the 194 records without a design phrase it makes 138
suggestions (123 right; p 0.6-0.7: 34 of 39 right, 0.7-0.8: 58 of 65, 0.8-0.9: 31 of
34, so p is a fair, slightly modest confidence) but changes the design of only 4 (2
fixed, 1 broken): most say `other`, as the rules did. 0.6 rather than 0.5: the same
figures with fewer changes. So on these records it ties the rules on macro-F1 (+1
record of accuracy, +2 RCTs found). They are the records the rules were written from,
which favours the rules; whether the fallback helps on new records was measured on the
blind split `held-out-4` (150 records labelled by another annotator, never used to choose
anything), trained on the 646 others: macro-F1 0.429 -> 0.446, accuracy 0.713 -> 0.740,
RCT recall 0.952 -> 0.984; it changed 4 designs, all 4 to the label. On the next blind
split, `held-out-5` (120 records, trained on the 796 others, after a fifth round of rules):
macro-F1 0.475 -> 0.479, accuracy 0.675 -> 0.683; 1 design changed, to the label. On
`held-out-6` (trained on the 916 others): 0.593 -> 0.611, accuracy 0.717 -> 0.758; 7
changed, 5 to the label, none away from a right one. On the next two blind splits,
`held-out-7` and `held-out-8` (130 each, after a seventh round of rules, each trained on
all other splits): macro-F1 0.511 -> 0.510 and 0.490 -> 0.490, accuracy unchanged and
0.623 -> 0.631, RCT recall unchanged and 0.939 -> 0.980; 6 designs changed, 3 to the
label, 2 away from it. Using the model wherever no phrase is found, at any probability,
was chosen on `held-out-6` (0.627 -> 0.650) and then gained next to nothing on
`held-out-7`/`held-out-8` (0.518 and 0.491), so the threshold stays. So it is on by default (ENABLED);
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

