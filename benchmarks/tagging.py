"""Accuracy of the country and study-design suggesters on a hand-labelled set.

The labels (benchmarks/tagging_labels.csv: source file, record id, title,
countries, design, and the reason for each label) were written by reading each
record before the tagger was run on it. Texts are read from ../shared/data
(override with $LITREV_SHARED_DATA); without it the benchmark says so and exits 0.

Baselines beside litrev: for country, OpenAlex author-affiliation countries
(what the metadata alone gives); for design, the source `type` alone
(OpenAlex "review" -> systematic-review, "editorial"/"letter" -> commentary,
else other).

Splits: 'dev', 'check' and 'held-out' were each labelled before the tagger
was run on them, then used to refine the rules; 'held-out-2' (125 records,
labelled before the second round of changes) was measured once before and once
after that round, then used to refine the rules in the third round;
'held-out-3' (120 records, labelled before the third round) was measured once
before and once after that round, and never used to change a rule.

    python benchmarks/tagging.py [--quick] [--split dev|check|held-out|held-out-2|held-out-3|all] [--errors]
"""

import argparse
import csv
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

from litrev.tags import SUGGESTED, suggest_countries, suggest_design

HERE = Path(__file__).parent
LABELS = HERE / "tagging_labels.csv"
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
                    "affiliations": sorted({c for a in work.get("authorships") or [] for c in a.get("countries") or []}),
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
    gold_c, strong_c, weak_c, affil_c, gold_d, pred_d, base_d, errors = ([] for _ in range(8))
    for row in labels:
        t = texts[(row["source"], row["record_id"])]
        countries = suggest_countries(t["title"], t["abstract"], t["affiliations"])
        design = suggest_design(t["title"], t["abstract"], t["type"], t["mesh"])[0]
        gold = set(filter(None, row["countries"].split(";")))
        strong = {s.value for s in countries if s.key == "country" and s.confidence >= SUGGESTED}
        gold_c.append(gold)
        strong_c.append(strong)
        weak_c.append({s.value for s in countries if s.key == "country"})
        affil_c.append(set(t["affiliations"]))
        gold_d.append(row["design"])
        pred_d.append(design.value)
        base_d.append(type_baseline(t["type"]))
        if gold != strong or row["design"] != design.value:
            errors.append((row, strong, design))
    return {"gold_c": gold_c, "strong_c": strong_c, "weak_c": weak_c, "affil_c": affil_c,
            "gold_d": gold_d, "pred_d": pred_d, "base_d": base_d, "errors": errors}


def summary_line(name: str, n: int, r: dict) -> str:
    _, (p, rec, _) = country_scores(r["gold_c"], r["strong_c"])
    per, macro, accuracy = design_scores(r["gold_d"], r["pred_d"])
    rct = per["rct"][1] if "rct" in per else float("nan")
    return f"  {name:10} {n:7} {p:10.3f} {rec:8.3f} {macro:10.3f} {accuracy:9.3f} {rct:11.3f}"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Every fourth record only.")
    parser.add_argument("--split", default="held-out-3",
                        help="Split for the detailed tables (dev, check, held-out, held-out-2, held-out-3, all).")
    parser.add_argument("--errors", action="store_true", help="List every disagreement with the labels.")
    args = parser.parse_args(argv)
    with LABELS.open(newline="") as f:
        labels = list(csv.DictReader(f))
    if args.quick:
        labels = labels[::4]
    if not SHARED.is_dir():
        print(f"{SHARED} is not present: the labelled texts live there. Skipping.")
        return 0
    texts = load_texts(SHARED, {r["source"] for r in labels})
    splits = {"all": labels}
    for row in labels:
        splits.setdefault(row["split"], []).append(row)
    results = {name: evaluate(rows, texts) for name, rows in splits.items()}

    print(f"Tagging benchmark: {len(labels)} hand-labelled records. 'dev', 'check', 'held-out' and 'held-out-2'")
    print("informed the rules; 'held-out-3' was labelled before the last round of changes and not used to make them.\n")
    print(f"  {'split':10} {'records':>7} {'country P':>10} {'country R':>8} {'design F1':>10} {'accuracy':>9}"
          f" {'RCT recall':>11}")
    for name, rows in splits.items():
        print(summary_line(name, len(rows), results[name]))
    print("\n  by source (all splits):")
    for family in ("openalex", "screening"):
        rows = [r for r in labels if r["source"].startswith(family)]
        if rows:
            print(summary_line(family[:10], len(rows), evaluate(rows, texts)))
    chosen = args.split if args.split in results else "all"
    print(f"\n=== {chosen} ({len(splits[chosen])} records) ===\n")
    report(results[chosen])
    if args.errors:
        print("\nDisagreements (label -> litrev):")
        for row, strong, design in results[chosen]["errors"]:
            print(f"  {row['record_id']:12} country {row['countries'] or '-'} -> {';'.join(sorted(strong)) or '-'};"
                  f" design {row['design']} -> {design.value} ({design.evidence[:70]})")
            print(f"      {row['title'][:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
