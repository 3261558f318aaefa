"""Accuracy of the country and study-design suggesters on a hand-labelled set.

The labels (benchmarks/tagging_labels.csv: source file, record id, title,
countries, design, and the reason for each label) were written by reading each
record before the tagger was run on it. Texts are read from ../shared/data
(override with $LITREV_SHARED_DATA); without it the benchmark says so and exits 0.

Baselines beside litrev: for country, OpenAlex author-affiliation countries
(what the metadata alone gives); for design, the source `type` alone
(OpenAlex "review" -> systematic-review, "editorial"/"letter" -> commentary,
else other).

Splits: 'dev', 'check', 'held-out' and 'held-out-2' to 'held-out-6' (1,036
records, 'seen') were each labelled before the tagger was run on them, and all of
them have since informed the rules, so their figures are in-sample. A split named
'held-out-7' or later (FIRST_BLIND) is blind: labelled by someone who never ran the
tagger, and not used to change anything. The blind splits are also pooled
('blind'), with 95% bootstrap intervals, and the detailed tables default to them.
A last table shows how often suggestions of each confidence band were right, on
seen and on blind records: what a reviewer can take on trust and what to check.

Learned fallback (litrev.tags.model): a model trained on a review team's
confirmed designs stands in where the rules find no design phrase. It is
measured leave-one-split-out: for each split, train on the other splits' labels
(standing in for the team's confirmed tags) and predict that split. The 1,036
seen records never train on a blind split, and a blind split trains on every
other split ('held-out-8' is measured "trained on the 1,166 others"). `--candidates`
prints the few settings compared to choose it.

    python benchmarks/tagging.py [--quick] [--split dev|...|held-out-7|seen|blind|all] [--errors] [--candidates]
"""

import argparse
import csv
import json
import os
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from litrev.tags import model as design_model
from litrev.tags.designs import DECISIVE
from litrev.tags.storage import SUGGESTED, suggest_countries, suggest_design

HERE = Path(__file__).parent
LABELS = HERE / "tagging_labels.csv"
# Second annotators' blind labels for 380 labelled records: how far two people agree.
AGREEMENT = HERE / "tagging_agreement.csv"
SHARED = Path(os.environ.get("LITREV_SHARED_DATA", HERE.parents[1] / "shared" / "data"))


def load_texts(shared: Path, sources: set[str]) -> dict[tuple[str, str], dict]:
    texts: dict[tuple[str, str], dict] = {}
    for source in sources:
        path = shared / source
        if source.endswith(".json"):
            for work in json.loads(path.read_text())["results"]:
                texts[(source, work["id"].rsplit("/", 1)[-1])] = {
                    "title": work.get("title"),
                    "abstract": _abstract(work.get("abstract_inverted_index")),
                    "type": work.get("type"),
                    "mesh": [m.get("descriptor_name") for m in work.get("mesh") or []],
                    "affiliations": sorted({c for a in work.get("authorships") or []
                                            for c in a.get("countries") or []}),
                }
        else:
            with path.open(newline="") as f:
                for row in csv.DictReader(f):
                    texts[(source, row["record_id"])] = {
                        "title": row["title"], "abstract": row["abstract"], "type": None, "mesh": [],
                        "affiliations": [],
                    }
    return texts


def _abstract(inverted: dict | None) -> str:
    if not inverted:
        return ""
    words = {pos: word for word, positions in inverted.items() for pos in positions}
    return " ".join(words[i] for i in sorted(words))


def type_baseline(source_type: str | None) -> str:
    return {"review": "systematic-review", "editorial": "commentary", "letter": "commentary"}.get(
        source_type or "", "other")


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def country_scores(gold: list[set[str]], predicted: list[set[str]]):
    counts: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, predicted):
        for c in g | p:
            counts[c]["tp" if c in g and c in p else "fp" if c in p else "fn"] += 1
    total = Counter()
    for c in counts.values():
        total.update(c)
    return counts, prf(total["tp"], total["fp"], total["fn"])


def design_scores(gold: list[str], predicted: list[str]):
    classes = sorted(set(gold))
    per = {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, predicted))
        fp = sum(g != c and p == c for g, p in zip(gold, predicted))
        fn = sum(g == c and p != c for g, p in zip(gold, predicted))
        per[c] = (*prf(tp, fp, fn), sum(g == c for g in gold))
    macro = sum(f for _, _, f, _ in per.values()) / len(per)
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    return per, macro, accuracy


def evaluate(labels: list[dict], texts: dict) -> dict:
    """Both suggesters on every record, once: lists in record order (`select` takes a group)."""
    rows, designs, gold_c, strong_c, weak_c, affil_c, gold_d, pred_d, base_d = ([] for _ in range(9))
    scored_c, confidence_d = [], []  # every country suggestion as (code, confidence); the design's confidence
    for row in labels:
        t = texts[(row["source"], row["record_id"])]
        countries = suggest_countries(t["title"], t["abstract"], t["affiliations"])
        design = suggest_design(t["title"], t["abstract"], t["type"], t["mesh"])[0]
        rows.append(row)
        designs.append(design)
        gold_c.append(set(filter(None, row["countries"].split(";"))))
        strong_c.append({s.value for s in countries if s.key == "country" and s.confidence >= SUGGESTED})
        weak_c.append({s.value for s in countries if s.key == "country"})
        scored_c.append([(s.value, s.confidence) for s in countries if s.key == "country"])
        confidence_d.append(design.confidence)
        affil_c.append(set(t["affiliations"]))
        gold_d.append(row["design"])
        pred_d.append(design.value)
        base_d.append(type_baseline(t["type"]))
    return {"rows": rows, "designs": designs, "gold_c": gold_c, "strong_c": strong_c, "weak_c": weak_c,
            "affil_c": affil_c, "gold_d": gold_d, "pred_d": pred_d, "base_d": base_d, "scored_c": scored_c,
            "confidence_d": confidence_d}


def select(r: dict, keep: list[int]) -> dict:
    """The records at positions `keep` of an `evaluate` result (a split, a resample)."""
    return {name: [values[i] for i in keep] for name, values in r.items()}


def intervals(r: dict, draws: int = 1000, seed: int = 0) -> list[tuple[float, float]]:
    """95% percentile intervals of the five summary figures, over records resampled
    with replacement: how far a figure from a few hundred records moves by the luck
    of the draw (macro-F1 most, as several designs have only a handful of records)."""
    rng = random.Random(seed)
    n = len(r["gold_d"])
    draws_of: list[list[float]] = [[] for _ in range(5)]
    for _ in range(draws):
        pick = select(r, [rng.randrange(n) for _ in range(n)])
        _, (p, rec, _) = country_scores(pick["gold_c"], pick["strong_c"])
        per, macro, accuracy = design_scores(pick["gold_d"], pick["pred_d"])
        for values, x in zip(draws_of, (p, rec, macro, accuracy, per["rct"][1] if "rct" in per else None)):
            if x is not None:
                values.append(x)
    return [(v[int(0.025 * len(v))], v[int(0.975 * len(v)) - 1]) if v else (float("nan"),) * 2
            for v in map(sorted, draws_of)]


# Confidence bands of a suggestion: an explicit phrase, a weaker clue, a hint below the threshold.
BANDS = ((DECISIVE, f">= {DECISIVE}"), (SUGGESTED, f"{SUGGESTED} - {DECISIVE}"), (0.0, f"< {SUGGESTED}"))


def band(confidence: float) -> str:
    return next(name for low, name in BANDS if confidence >= low)


def calibration_report(groups: list[tuple[str, dict]]) -> None:
    """How often a suggestion of each confidence band was right: what a reviewer can
    take on trust and what to check first."""
    print("\nSuggestions by confidence: how many, and the share that matched the label")
    print(f"  {'confidence':22}" + "".join(f" {name:>16}" for _, name in BANDS))
    print(f"  {'':22}" + f" {'number':>6} {'right':>9}" * len(BANDS))
    for name, r in groups:
        designs, countries = Counter(), Counter()
        for confidence, gold, predicted in zip(r["confidence_d"], r["gold_d"], r["pred_d"]):
            designs[band(confidence)] += 1
            designs[band(confidence), "right"] += gold == predicted
        for gold, scored in zip(r["gold_c"], r["scored_c"]):
            for code, confidence in scored:
                countries[band(confidence)] += 1
                countries[band(confidence), "right"] += code in gold
        for kind, counts in (("design", designs), ("country", countries)):
            cells = "".join(f" {counts[b]:6} {counts[b, 'right'] / counts[b] if counts[b] else float('nan'):9.2f}"
                            for _, b in BANDS)
            print(f"  {kind + ', ' + name:22}{cells}")


def cohen_kappa(a: list[str], b: list[str]) -> float:
    observed = sum(x == y for x, y in zip(a, b)) / len(a)
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / len(a) ** 2
    return (observed - expected) / (1 - expected)


def agreement_report(everything: dict) -> None:
    """A second annotator, blind to the labels, against them; litrev on the same records."""
    if not AGREEMENT.exists():
        return
    with AGREEMENT.open(newline="") as f:
        second = {(r["source"], r["record_id"]): r for r in csv.DictReader(f)}
    both = [i for i, row in enumerate(everything["rows"]) if _key(row) in second]
    if not both:
        return
    print(f"\nHuman agreement: a second annotator, blind to the labels, on {len(both)} labelled records")
    print(f"  {'against the labels':28} {'records':>7} {'country P':>10} {'country R':>8} {'design F1':>10}"
          f" {'accuracy':>9} {'RCT recall':>11} {'kappa':>6}")
    splits = dict.fromkeys(everything["rows"][i]["split"] for i in both)
    groups = [(split, [i for i in both if everything["rows"][i]["split"] == split]) for split in splits]
    for split, keep in [*groups, ("all", both)]:
        tagger = select(everything, keep)
        person = [second[_key(row)] for row in tagger["rows"]]
        for name, countries, designs in (
            ("second annotator", [set(filter(None, p["countries"].split(";"))) for p in person],
             [p["design"] for p in person]),
            ("litrev (rules)", tagger["strong_c"], tagger["pred_d"]),
        ):
            scored = {**tagger, "strong_c": countries, "pred_d": designs}
            kappa = cohen_kappa(tagger['gold_d'], designs)
            print(f"  {split + ', ' + name:28} {len(keep):7} {figures(scored)} {kappa:6.3f}")


def figures(r: dict) -> str:
    """Country precision and recall, design macro-F1, accuracy and RCT recall, as columns."""
    _, (p, rec, _) = country_scores(r["gold_c"], r["strong_c"])
    per, macro, accuracy = design_scores(r["gold_d"], r["pred_d"])
    rct = per["rct"][1] if "rct" in per else float("nan")
    return f"{p:10.3f} {rec:8.3f} {macro:10.3f} {accuracy:9.3f} {rct:11.3f}"


def summary_line(name: str, n: int, r: dict) -> str:
    return f"  {name:10} {n:7} {figures(r)}"


def report(r: dict) -> None:
    print("Country of study (micro-averaged over record x country pairs)")
    print(f"  {'method':50} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, pred in (
        (f"litrev, suggestions with confidence >= {SUGGESTED}", r["strong_c"]),
        ("litrev, all suggestions (incl. weak affiliation)", r["weak_c"]),
        ("baseline: OpenAlex author affiliations", r["affil_c"]),
    ):
        _, (p, rec, f1) = country_scores(r["gold_c"], pred)
        print(f"  {name:50} {p:9.3f} {rec:7.3f} {f1:6.3f}")
    per_country, _ = country_scores(r["gold_c"], r["strong_c"])
    print(f"\n  per country (litrev, confidence >= {SUGGESTED}): country  support  TP  FP  FN  precision  recall")
    for code, c in sorted(per_country.items(), key=lambda kv: (-(kv[1]["tp"] + kv[1]["fn"]), kv[0])):
        p, rec, _ = prf(c["tp"], c["fp"], c["fn"])
        print(f"    {code:7} {c['tp'] + c['fn']:8} {c['tp']:3} {c['fp']:3} {c['fn']:3} {p:10.2f} {rec:7.2f}")
    per, macro, accuracy = design_scores(r["gold_d"], r["pred_d"])
    _, base_macro, base_accuracy = design_scores(r["gold_d"], r["base_d"])
    print("\nStudy design")
    print(f"  {'class':22} {'support':>7} {'precision':>9} {'recall':>7} {'F1':>6}")
    for c, (p, rec, f1, n) in per.items():
        print(f"  {c:22} {n:7} {p:9.2f} {rec:7.2f} {f1:6.2f}")
    print(f"\n  litrev: macro-F1 {macro:.3f}, accuracy {accuracy:.3f}"
          + (f", RCT recall {per['rct'][1]:.3f}" if "rct" in per else ""))
    print(f"  baseline (source type only): macro-F1 {base_macro:.3f}, accuracy {base_accuracy:.3f}")


# --- the learned design fallback, leave-one-split-out ------------------------------

BLIND = re.compile(r"^held-out-(\d+)$")
# held-out-N from this N on has never been used to change the tagger. Raise it as soon as
# a blind split's errors are used to change the rules or the learned fallback.
FIRST_BLIND = 7


def is_blind(split: str) -> bool:
    m = BLIND.match(split)
    return bool(m) and int(m.group(1)) >= FIRST_BLIND


def training_rows(labels: list[dict], split: str) -> list[dict]:
    """What stands in for the team's confirmed tags when `split` is predicted."""
    return [r for r in labels if r["split"] != split and (is_blind(split) or not is_blind(r["split"]))]


def fuse_weak(rules, learned, trained_on, threshold):
    """Candidate rule: the model also overrides a non-decisive phrase it is surer than."""
    if learned is None or rules.confidence >= DECISIVE or learned[1] < max(threshold, rules.confidence):
        return rules
    return design_model.Suggestion("design", learned[0], round(min(learned[1], design_model.CAP), 2), "learned")


# (name, train() keywords, fusion, threshold); the first is what litrev uses (design_model's constants).
CANDIDATES = [
    ("unigrams C=10; no phrase, p >= 0.6", {}, "no-phrase", design_model.THRESHOLD),
    ("unigrams C=10; no phrase, p >= 0.5", {}, "no-phrase", 0.5),
    ("unigrams C=10; rules < 0.8, p > max(0.6, rules)", {}, "weak", 0.6),
    ("unigrams C=1; no phrase, p >= 0.6", {"c": 1.0}, "no-phrase", 0.6),
    ("unigrams C=100; no phrase, p >= 0.6", {"c": 100.0}, "no-phrase", 0.6),
    ("uni+bigrams C=10; no phrase, p >= 0.6", {"ngrams": 2}, "no-phrase", 0.6),
    ("unigrams C=10 balanced; no phrase, p >= 0.6", {"balanced": True}, "no-phrase", 0.6),
]


def leave_one_split_out(labels: list[dict], texts: dict, rules: dict, settings: dict, fusion: str,
                        threshold: float) -> dict[tuple[str, str], tuple[str, float | None, str]]:
    """(source, record id) -> (design, learned p or None, evidence) under rules + learned fallback."""
    out = {}
    for split in dict.fromkeys(r["split"] for r in labels):
        rows = [r for r in labels if r["split"] == split]
        examples = [(texts[_key(r)]["title"], texts[_key(r)]["abstract"], r["design"])
                    for r in training_rows(labels, split)]
        model = design_model.train(examples, **settings)
        pairs = [(texts[_key(r)]["title"], texts[_key(r)]["abstract"]) for r in rows]
        if model is None:
            predicted = [None] * len(rows)
        elif fusion == "weak":
            predicted = model.predict(pairs)
        else:
            todo = [i for i, r in enumerate(rows) if rules[_key(r)].evidence == design_model.NO_PHRASE]
            found = dict(zip(todo, model.predict([pairs[i] for i in todo])))
            predicted = [found.get(i) for i in range(len(rows))]
        for r, learned in zip(rows, predicted):
            rule = rules[_key(r)]
            fuse = fuse_weak if fusion == "weak" else design_model.fuse
            s = fuse(rule, learned, model.trained_on if model else 0, threshold)
            out[_key(r)] = (s.value, learned[1] if learned and s is not rule else None, s.evidence)
    return out


def _key(row: dict) -> tuple[str, str]:
    return row["source"], row["record_id"]


def design_figures(gold: list[str], predicted: list[str]) -> str:
    per, macro, accuracy = design_scores(gold, predicted)
    rct = per["rct"][1] if "rct" in per else float("nan")
    return f"{macro:6.3f} {accuracy:6.3f} {rct:6.3f}"


def learned_report(everything: dict, texts: dict, candidates: bool) -> None:
    labels = everything["rows"]
    rules = {_key(r): design for r, design in zip(labels, everything["designs"])}
    name, settings, fusion, threshold = CANDIDATES[0]
    fused = leave_one_split_out(labels, texts, rules, settings, fusion, threshold)
    print("\nStudy design: rules + learned fallback, leave-one-split-out (train on the other splits' labels)")
    print("  learned: suggestions the model made (rules found no phrase, p >= threshold); changed: of those, a")
    print("  different design from the rules'; fixed / broke: changed to the label / away from it")
    print(f"  litrev's setting: {name}; learned confidence capped at {design_model.CAP}")
    print(f"  {'split':18} {'records':>7}   {'rules: F1':>9} {'acc':>6} {'RCT R':>6}   {'+learned: F1':>12}"
          f" {'acc':>6} {'RCT R':>6}   {'learned':>7} {'changed':>7} {'fixed':>5} {'broke':>5}")
    splits = list(dict.fromkeys(r["split"] for r in labels))
    groups = [(s, [r for r in labels if r["split"] == s]) for s in splits if not is_blind(s)]
    tuning = [r for r in labels if not is_blind(r["split"])]
    groups.append(("pooled", tuning))
    groups += [(f"{s} (blind)", [r for r in labels if r["split"] == s]) for s in splits if is_blind(s)]
    for split, rows in groups:
        gold = [r["design"] for r in rows]
        used = [r for r in rows if fused[_key(r)][1] is not None]
        changed = [r for r in used if fused[_key(r)][0] != rules[_key(r)].value]
        print(f"  {split:18} {len(rows):7}   {design_figures(gold, [rules[_key(r)].value for r in rows]):>23}"
              f"   {design_figures(gold, [fused[_key(r)][0] for r in rows]):>26}"
              f"   {len(used):7} {len(changed):7} {sum(fused[_key(r)][0] == r['design'] for r in changed):5}"
              f" {sum(rules[_key(r)].value == r['design'] for r in changed):5}")
    used = [r for r in tuning if fused[_key(r)][1] is not None]
    if used:
        print("  learned suggestions by probability (pooled): p range, count, right (calibration)")
        for low, high in ((design_model.THRESHOLD, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)):
            band = [r for r in used if low <= fused[_key(r)][1] < high]
            if band:
                right = sum(fused[_key(r)][0] == r['design'] for r in band)
                print(f"    {low:.1f}-{min(high, 1.0):.1f} {len(band):5} {right:5}")
    if not candidates:
        return
    print("\n  candidates (pooled over the tuning splits): macro-F1, accuracy, RCT recall")
    gold = [r["design"] for r in tuning]
    print(f"    {'rules alone':48} {design_figures(gold, [rules[_key(r)].value for r in tuning])}")
    for name, settings, fusion, threshold in CANDIDATES:
        fused = leave_one_split_out(tuning, texts, rules, settings, fusion, threshold)
        print(f"    {name:48} {design_figures(gold, [fused[_key(r)][0] for r in tuning])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Every fourth record only.")
    parser.add_argument("--split", default=None,
                        help="Split for the detailed tables (dev, check, held-out, held-out-2 ..., seen, blind,"
                             " all; default: blind, the blind splits pooled, if present, else held-out-3).")
    parser.add_argument("--errors", action="store_true", help="List every disagreement with the labels.")
    parser.add_argument("--candidates", action="store_true",
                        help="Also compare the few learned-fallback settings litrev's was chosen from.")
    args = parser.parse_args(argv)
    with LABELS.open(newline="") as f:
        labels = list(csv.DictReader(f))
    if args.quick:
        labels = labels[::4]
    if not SHARED.is_dir():
        print(f"{SHARED} is not present: the labelled texts live there. Skipping.")
        return 0
    texts = load_texts(SHARED, {r["source"] for r in labels})
    everything = evaluate(labels, texts)
    splits: dict[str, list[int]] = {"all": list(range(len(labels)))}  # group -> record positions
    for i, row in enumerate(labels):
        splits.setdefault(row["split"], []).append(i)
    blind = [s for s in splits if is_blind(s)]
    seen = [s for s in splits if s != "all" and not is_blind(s)]
    splits["seen"] = [i for i, r in enumerate(labels) if r["split"] in seen]
    if blind:
        splits["blind"] = [i for i, r in enumerate(labels) if r["split"] in blind]
    results = {name: select(everything, keep) for name, keep in splits.items()}

    print(f"Tagging benchmark: {len(labels)} hand-labelled records. "
          f"'{seen[0]}' to '{seen[-1]}' all informed the rules;")
    print(f"blind (labelled, never used to change anything): {', '.join(blind) or 'none present'}.\n")
    print(f"  {'split':10} {'records':>7} {'country P':>10} {'country R':>8} {'design F1':>10} {'accuracy':>9}"
          f" {'RCT recall':>11}")
    for name, keep in splits.items():
        print(summary_line(name, len(keep), results[name]))
    if blind:
        (p, r, f1, acc, rct) = (f"{lo:.2f}-{hi:.2f}" for lo, hi in intervals(results["blind"]))
        print(f"  blind, 95% intervals (bootstrap over records): country P {p}, R {r};"
              f" design macro-F1 {f1}, accuracy {acc}, RCT recall {rct}")
    print("\n  by source (all splits):")
    for family in ("openalex", "screening"):
        keep = [i for i, r in enumerate(labels) if r["source"].startswith(family)]
        if keep:
            print(summary_line(family[:10], len(keep), select(everything, keep)))
    calibration_report([(name, results[name]) for name in ("seen", "blind") if name in results])
    chosen = args.split or ("blind" if blind else "held-out-3")
    chosen = chosen if chosen in results else "all"
    print(f"\n=== {chosen} ({len(splits[chosen])} records) ===\n")
    report(results[chosen])
    if args.errors:
        print("\nDisagreements (label -> litrev):")
        r = results[chosen]
        for row, gold, strong, design in zip(r["rows"], r["gold_c"], r["strong_c"], r["designs"]):
            if gold == strong and row["design"] == design.value:
                continue
            print(f"  {row['record_id']:12} country {row['countries'] or '-'} -> {';'.join(sorted(strong)) or '-'};"
                  f" design {row['design']} -> {design.value} ({design.evidence[:70]})")
            print(f"      {row['title'][:100]}")
    learned_report(everything, texts, args.candidates)
    agreement_report(everything)
    return 0


if __name__ == "__main__":
    sys.exit(main())
