"""A large synthetic deduplication set made of realistic variants of real records.

    python benchmarks/synthetic.py OUT_DIR [--n 100000]

Unique works start from the unique publications of the labelled sets in
../shared/data/dedup; more are made by recombining real title halves, author
lists, venues and page ranges (so titles, names and venues keep their real
shapes and lengths). A quarter of the works then get 1-3 duplicates with the
variations exports really show: case and punctuation, a "[Chinese]" tag or HTML
markup in the title, a one-letter typo, initials for given names, a truncated
author list, an abbreviated or upper-cased journal, "73-6" page ranges, a DOI
dropped or written as a URL. Output is in the labelled sets' format
(records_pre_merged.csv + merged_record_ids.csv), so the same scorer applies.
"""

import argparse
import csv
import random
import re
from pathlib import Path

FIELDS = ["ID", "ENTRYTYPE", "title", "author", "year", "journal", "volume", "number", "pages", "doi"]
SETS = ["stroke", "haematology", "respiratory", "digital_work"]
DUPLICATE_SHARE = 0.25
STOP = {"of", "the", "and", "in", "for", "on", "a", "an", "&"}


def real_records(data: Path) -> list[dict]:
    out = []
    for name in SETS:
        path = data / name / "records_pre_merged.csv"
        if not path.exists():
            continue
        # Only the unique publications: one record of each labelled duplicate group.
        with open(data / name / "merged_record_ids.csv", newline="") as f:
            skip = {i for row in csv.DictReader(f) for i in row["merged_ids"].split(";")[1:]}
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                title = (row.get("title") or "").strip()
                if row["ID"] not in skip and len(title) > 20 and (row.get("author") or "").strip():
                    out.append({k: (row.get(k) or "").strip() for k in FIELDS if k != "ID"})
    return out


def new_work(rng: random.Random, pool: list[dict], i: int) -> dict:
    """A plausible distinct work: real title halves, authors, venue and numbers recombined."""
    a, b, c = rng.choice(pool), rng.choice(pool), rng.choice(pool)
    wa, wb = a["title"].split(), b["title"].split()
    title = " ".join(wa[: max(3, len(wa) // 2)] + wb[len(wb) // 2:])
    start = rng.randint(1, 2000)
    return {
        "ENTRYTYPE": "article", "title": title, "author": c["author"],
        "year": str(rng.randint(1980, 2024)), "journal": a["journal"] or b["journal"],
        "volume": str(rng.randint(1, 400)), "number": str(rng.randint(1, 12)),
        "pages": f"{start}-{start + rng.randint(3, 20)}",
        "doi": f"10.5555/syn.{i}" if rng.random() < 0.5 else "",
    }


def variant(rng: random.Random, work: dict) -> dict:
    v = dict(work)
    for change in rng.sample(CHANGES, k=rng.randint(1, 3)):
        change(rng, v)
    return v


def _title_case(rng, v):
    v["title"] = v["title"].upper() if rng.random() < 0.5 else v["title"].lower()


def _title_tag(rng, v):
    v["title"] = rng.choice([f"{v['title']}. [Chinese]", f"[{v['title']}]", f"{v['title']}.",
                             re.sub(r"^(\w+)", r"<i>\1</i>", v["title"])])


def _title_typo(rng, v):
    t = v["title"]
    if len(t) > 40:
        i = rng.randrange(5, len(t) - 5)
        v["title"] = t[:i] + t[i + 1] + t[i] + t[i + 2:]


def _initials(rng, v):
    people = []
    for name in re.split(r"\s+and\s+", v["author"]):
        family, _, given = name.partition(",")
        initials = " ".join(f"{p[0]}." for p in given.split() if p[:1].isalpha())
        people.append(f"{family.strip()}, {initials}".strip(", "))
    v["author"] = " and ".join(people)


def _truncate_authors(rng, v):
    v["author"] = " and ".join(re.split(r"\s+and\s+", v["author"])[:3])


def _journal(rng, v):
    words = [w for w in v["journal"].split() if w.lower() not in STOP]
    v["journal"] = (" ".join(w[:4] if len(w) > 5 else w for w in words)
                    if rng.random() < 0.6 else v["journal"].upper())


def _pages(rng, v):
    m = re.fullmatch(r"(\d+)-(\d+)", v["pages"])
    if m and len(m.group(1)) == len(m.group(2)) and len(m.group(1)) > 1:
        first, last = m.groups()
        keep = next((i for i in range(len(first)) if first[i] != last[i]), len(first) - 1)
        v["pages"] = f"{first}-{last[keep:]}"


def _doi(rng, v):
    if v["doi"]:
        v["doi"] = "" if rng.random() < 0.5 else f"https://doi.org/{v['doi'].upper()}"


CHANGES = [_title_case, _title_tag, _title_typo, _initials, _truncate_authors, _journal, _pages, _doi]


def write_set(data: Path, out: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = real_records(data)
    if not pool:
        raise SystemExit(f"No labelled sets under {data} to build variants from.")
    out.mkdir(parents=True, exist_ok=True)
    rows, groups = [], []
    uniques = int(n / (1 + DUPLICATE_SHARE * 2))
    for i in range(uniques):
        work = dict(pool[i]) if i < len(pool) // 2 else new_work(rng, pool, i)
        work["ID"] = f"syn_{len(rows):07d}"
        rows.append(work)
        if rng.random() < DUPLICATE_SHARE:
            group = [work["ID"]]
            for _ in range(rng.randint(1, 3)):
                if len(rows) >= n:
                    break
                dup = variant(rng, work)
                dup["ID"] = f"syn_{len(rows):07d}"
                rows.append(dup)
                group.append(dup["ID"])
            if len(group) > 1:
                groups.append(group)
        if len(rows) >= n:
            break
    rng.shuffle(rows)
    with open(out / "records_pre_merged.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "merged_record_ids.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["merged_ids"])
        writer.writerows([";".join(g)] for g in groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "dedup")
    args = parser.parse_args()
    write_set(args.data, args.out, args.n)


if __name__ == "__main__":
    main()
