"""`litrev publish`: the public database that Datasette serves.

The public file is built from the working database, never shared with it:
canonical works with their bibliographic data, screening outcome, country and
design tags and sources; the PRISMA counts; the search history; the gap map.
Raw API JSON, screeners' notes, individual votes and (unless review.toml says
`publish_reviewer_names = true`) reviewer names are never copied, so nothing
private can leak through a table, a view or arbitrary SQL.

The build is deterministic: every table is filled in a fixed order, nothing
records the time of the build, and the file is VACUUMed, so the same working
database gives a byte-identical public file (easy to diff, cache and host).
It is written to a temporary file beside the target, then renamed over it, so
a server reading the old file never sees half a new one.
"""

import glob
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from litrev.errors import LitrevError
from litrev.paths import prepare_output
from litrev.report.prisma import prisma_counts, render
from litrev.sources.normalise import author_list
from litrev.tags.storage import DESIGN_LABELS, DESIGNS, country_name
from litrev.views import BASES, NOT_TAGGED, UK, gap_counts

DEFAULT_PUBLIC_DB = "data/public.db"
NOT_TAGGED_LABEL = "Not tagged"
SCOPES = ("included", "all")  # gap-map populations: included studies, every canonical work

WORK_COLUMNS = {
    "id": int, "title": str, "year": int, "authors": str, "venue": str, "volume": str,
    "issue": str, "pages": str, "type": str, "language": str,
    "status": str, "stage_reached": str, "exclusion_reason": str,
    "countries": str, "uk_nations": str, "designs": str, "sources": str,
    "doi": str, "doi_url": str, "pmid": str, "pubmed_url": str, "openalex_id": str,
    "openalex_url": str, "url": str, "abstract": str, "first_found": str,
}


@dataclass
class PublishSummary:
    path: str
    works: int = 0
    included: int = 0
    searches: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    reviewer_names: bool = False
    suggestions: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "works": self.works, "included": self.included,
            "searches": self.searches, "tables": self.tables,
            "reviewer_names": self.reviewer_names, "suggestions": self.suggestions,
        }


def publish(db: Database, out: str | Path = DEFAULT_PUBLIC_DB, *,
            reviewer_names: bool = False, suggestions: bool = True) -> PublishSummary:
    """Build the public database at `out` from the working database `db` (atomically).

    `suggestions=False` (review.toml `publish_suggestions = false`) publishes only the tags a
    reviewer set or accepted: litrev's open suggestions appear nowhere, the gap map included.
    """
    out = prepare_output(out)
    if _same_file(db, out):
        raise LitrevError(f"{out} is the working database. Give another path with -o.")
    remove_stale_temporaries(out)
    tmp = _temporary(out, os.getpid())
    tmp.unlink(missing_ok=True)
    try:
        summary = build(db, tmp, reviewer_names=reviewer_names, suggestions=suggestions)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    summary.path = str(out)
    return summary


def _temporary(out: Path, pid: int) -> Path:
    return out.with_name(f".{out.name}.{pid}.tmp")


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Delete the temporary files of earlier publishes to `out` that were killed mid-build.

    A killed process runs no `finally`, so its `.public.db.<pid>.tmp` stayed forever; one
    whose process is still running (another publish, right now) is left alone.
    """
    removed = []
    for tmp in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
        pid = tmp.name[len(out.name) + 2:-len(".tmp")]
        if pid.isdigit() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def build(db: Database, path: Path, *, reviewer_names: bool = False,
          suggestions: bool = True) -> PublishSummary:
    data = read_snapshot(db, reviewer_names=reviewer_names, suggestions=suggestions)
    works, tags = data["works"], data["tags"]
    pub = Database(str(path))
    # A scratch file until it is renamed into place: no journal, no fsync per batch.
    pub.execute("pragma journal_mode = off")
    pub.execute("pragma synchronous = off")
    try:
        _write_works(pub, works, tags, data["sources"], reviewer_names)
        _write_tags(pub, tags, reviewer_names)
        _write(pub, "work_sources", data["sources"], WORK_SOURCES, pk=None,
               foreign_keys=[("work_id", "works", "id")])
        _write(pub, "searches", data["searches"], SEARCHES, pk="id")
        _write(pub, "prisma_counts", data["prisma"]["rows"], PRISMA, pk="position")
        _write(pub, "prisma_files", data["prisma"]["files"], PRISMA_FILES, pk="name")
        for table, columns in GAP_TABLES.items():
            _write(pub, table, data["gaps"][table], columns, pk=None)
        designs = [{"design": d, "label": design_label(d), "position": i + 1}
                   for i, d in enumerate(design_order(t["value"] for t in tags["design"]))]
        _write(pub, "designs", designs, {"design": str, "label": str, "position": int}, pk="design")
        _finish(pub)
        summary = PublishSummary(
            path=str(path), works=len(works),
            included=sum(1 for w in works if w["status"] == "included"),
            searches=len(data["searches"]), reviewer_names=reviewer_names, suggestions=suggestions,
            tables={t: pub[t].count for t in sorted(pub.table_names())
                    if not t.startswith(("works_fts", "sqlite_"))},
        )
    finally:
        pub.conn.close()
    return summary


def read_snapshot(db: Database, *, reviewer_names: bool = False, suggestions: bool = True) -> dict[str, Any]:
    """Everything published, read in one transaction: one consistent moment of the
    working database even while screeners or a harvest write to it (WAL)."""
    own = not db.conn.in_transaction
    if own:
        db.execute("begin")
    try:
        return {
            "works": load_works(db, reviewer_names=reviewer_names),
            "tags": load_tags(db, reviewer_names=reviewer_names, suggestions=suggestions),
            "sources": load_sources(db),
            "searches": load_searches(db),
            "prisma": load_prisma(db),
            "gaps": load_gaps(db, BASES if suggestions else ("confirmed",)),
        }
    finally:
        if own and db.conn.in_transaction:
            db.execute("rollback")  # a read-only snapshot: nothing to keep


# --- reading the working database --------------------------------------------


def load_works(db: Database, *, reviewer_names: bool = False) -> list[dict[str, Any]]:
    """Canonical works with their screening status, in id order."""
    status = _work_status(db)
    sql = """
        select id, title, authors, year, venue, volume, issue, pages, type, language, doi, pmid,
               openalex_id, url, abstract
        from works where merged_into is null order by id
    """
    screeners = _screeners(db) if reviewer_names else {}
    rows = []
    for row in db.query(sql):
        state, stage, reason = status.get(row["id"], (None, None, None))
        row["status"] = state or "unscreened"
        row["stage_reached"] = stage or "title-abstract"
        row["exclusion_reason"] = reason
        row["authors"] = "; ".join(author_list(row["authors"])) or None
        if reviewer_names:
            row["screened_by"] = _joined(screeners.get(row["id"], []))
        rows.append(row)
    return rows


def _work_status(db: Database) -> dict[int, tuple[str, str, str | None]]:
    """work id -> (status, stage reached, exclusion reason), from the `work_status` view."""
    sql = "select work_id, status, stage_reached, exclusion_reason from work_status"
    return {r[0]: r[1:] for r in db.execute(sql)}


def load_tags(db: Database, *, reviewer_names: bool = False,
              suggestions: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Effective country, nation and design tags, by key, in (work, value) order.

    The tags the gap map counts (the `gap_tags` view): a person's tag, an accepted
    suggestion (both "confirmed"), or a suggestion at or above the tagger's confidence
    threshold ("suggested", with its confidence and evidence: litrev's quote of the
    title, abstract or affiliations). A person's own evidence text is never published.
    """
    out: dict[str, list[dict[str, Any]]] = {"country": [], "nation": [], "design": []}
    sql = f"""
        select gap_tags.work_id, gap_tags.key, gap_tags.value, gap_tags.confirmed,
               gap_tags.confidence, work_tags.evidence, work_tags.reviewer
        from gap_tags join work_tags on work_tags.work_id = gap_tags.work_id
            and work_tags.key = gap_tags.key and work_tags.value = gap_tags.value
        {"" if suggestions else "where gap_tags.confirmed"}
        order by gap_tags.work_id, gap_tags.key, gap_tags.value
    """
    for row in db.query(sql):
        confirmed = bool(row["confirmed"])
        tag = {"work_id": row["work_id"], "value": row["value"],
               "origin": "confirmed" if confirmed else "suggested",
               "confidence": None if confirmed else row["confidence"],
               "evidence": None if confirmed else row["evidence"]}
        if reviewer_names:
            tag["tagged_by"] = row["reviewer"] if confirmed else None
        out[row["key"]].append(tag)
    return out


def load_sources(db: Database) -> list[dict[str, Any]]:
    """Which source (PRISMA label) and saved query found each canonical work."""
    sql = """
        select canonical_works.canonical_id as work_id, harvest_runs.source_name as source,
               coalesce(harvest_runs.query_id, '') as query_id, queries.name as query_name,
               min(provenance.found_at) as first_found, min(provenance.rank) as best_rank,
               count(distinct records.id) as records
        from records
        join canonical_works on canonical_works.work_id = records.work_id
        join provenance on provenance.record_id = records.id
        join harvest_runs on harvest_runs.id = provenance.run_id
        left join queries on queries.id = harvest_runs.query_id
        group by canonical_works.canonical_id, harvest_runs.source_name, harvest_runs.query_id
        order by canonical_works.canonical_id, harvest_runs.source_name, harvest_runs.query_id
    """
    return list(db.query(sql))


def load_searches(db: Database) -> list[dict[str, Any]]:
    """Every harvest, import and citation search as run (no request JSON, errors or file paths)."""
    sql = """
        select harvest_runs.id, harvest_runs.kind, harvest_runs.source_name as source,
               harvest_runs.query_id, queries.name as query_name,
               query_versions.version as query_version, query_versions.text as query_text,
               harvest_runs.mode, harvest_runs.since, harvest_runs.started_at,
               harvest_runs.finished_at, harvest_runs.status, harvest_runs.reported_total,
               harvest_runs.fetched, harvest_runs.new, harvest_runs.updated
        from harvest_runs
        left join queries on queries.id = harvest_runs.query_id
        left join query_versions on query_versions.id = harvest_runs.query_version_id
        order by harvest_runs.id
    """
    return list(db.query(sql))


def load_prisma(db: Database) -> dict[str, list[dict[str, Any]]]:
    """The PRISMA 2020 counts as rows, and the diagram as `litrev prisma` draws it (SVG, JSON)."""
    data = prisma_counts(db)
    files = [{"name": f"prisma.{fmt}", "media_type": media_type, "content": render(data, fmt)}
             for fmt, media_type in (("svg", "image/svg+xml"), ("json", "application/json"))]
    return {"rows": prisma_rows(data), "files": files}


def prisma_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The PRISMA 2020 counts as rows: (position, arm, box, item, label, count).

    The numbers come from `litrev.report.prisma.prisma_counts`: the ones the flow diagram shows.
    """
    rows = []
    for path, value in _flatten(data):
        arm = path[0] if path[0] in ARMS else ""
        rest = path[1:] if arm else path
        box, item = rest[0], " / ".join(rest[1:])
        label = ": ".join(p for p in (ARMS.get(arm, ""), _humanise(box), item) if p)
        rows.append({"position": len(rows) + 1, "arm": arm, "box": box, "item": item,
                     "label": label, "count": value})
    return rows


ARMS = {"databases": "Databases and registers", "other": "Other methods"}


def load_gaps(db: Database, bases: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The gap counts (litrev/views.py) for the published scopes and `bases`, as table rows:
    the numbers `litrev gaps` prints, one computation, labelled here for the public."""
    counts = gap_counts(db, SCOPES, bases)
    row_totals = {(r["stage"], r["basis"], r["country"]): r["works"] for r in counts["gap_countries"]}
    column_totals = {(r["stage"], r["basis"], r["design"]): r["works"] for r in counts["gap_designs"]}
    totals = {(r["stage"], r["basis"]): r for r in counts["gap_totals"]}
    order = {d: i for i, d in enumerate(design_order(r["design"] for r in counts["gap_map"]))}
    cells = [{
        "scope": c["stage"], "basis": c["basis"], "country_code": c["country"],
        "country": country_label(c["country"]), "design": c["design"], "design_label": design_label(c["design"]),
        "works": c["works"], "on_suggestions": c["on_suggestions"],
        "country_works": row_totals[c["stage"], c["basis"], c["country"]],
        "design_works": column_totals[c["stage"], c["basis"], c["design"]],
        "scope_works": totals[c["stage"], c["basis"]]["works"]} for c in counts["gap_map"]]
    cells.sort(key=lambda c: (c["scope"], c["basis"], c["country_code"] == NOT_TAGGED, c["country_code"] != UK,
                              -c["country_works"], c["country"], order.get(c["design"], len(order))))

    def scoped(rows: list[dict[str, Any]], *sort: str) -> list[dict[str, Any]]:
        out = [{"scope": r["stage"], **{k: v for k, v in r.items() if k != "stage"}} for r in rows]
        return sorted(out, key=lambda r: tuple(_sortable(r[k]) for k in ("scope", "basis", *sort)))

    return {
        "gap_map": cells,
        "gap_by_year": scoped(counts["gap_years"], "year"),
        "gap_uk_nations": sorted(scoped(counts["gap_uk_nations"], "nation"),
                                 key=lambda r: (r["scope"], r["basis"], -r["works"], r["nation"])),
        "gap_totals": scoped(counts["gap_totals"]),
    }


def _sortable(value: Any) -> tuple:
    """None (an undated year) after every value."""
    return (value is None, value if value is not None else 0)


def design_order(values: Iterable[str]) -> list[str]:
    """The tagging stage's taxonomy order, then any other design, then "Not tagged"."""
    extra = sorted(set(values) - set(DESIGNS) - {NOT_TAGGED})
    return list(DESIGNS) + extra + [NOT_TAGGED]


def design_label(value: str) -> str:
    if value == NOT_TAGGED:
        return NOT_TAGGED_LABEL
    return DESIGN_LABELS.get(value) or _humanise(value)


def country_label(code: str) -> str:
    """A country's name in the public database; no country shows as "Not tagged"."""
    return NOT_TAGGED_LABEL if code == NOT_TAGGED else country_name(code)


# --- writing the public database ----------------------------------------------

WORK_SOURCES = {"work_id": int, "source": str, "query_id": str, "query_name": str,
                "first_found": str, "best_rank": int, "records": int}
SEARCHES = {"id": int, "kind": str, "source": str, "query_id": str, "query_name": str,
            "query_version": int, "query_text": str, "mode": str, "since": str,
            "started_at": str, "finished_at": str, "status": str, "reported_total": int,
            "fetched": int, "new": int, "updated": int}
PRISMA = {"position": int, "arm": str, "box": str, "item": str, "label": str, "count": int}
PRISMA_FILES = {"name": str, "media_type": str, "content": str}
GAP_TABLES = {
    "gap_map": {"scope": str, "basis": str, "country_code": str, "country": str, "design": str,
                "design_label": str, "works": int, "on_suggestions": int, "country_works": int,
                "design_works": int, "scope_works": int},
    "gap_by_year": {"scope": str, "basis": str, "year": int, "works": int, "uk_works": int},
    "gap_uk_nations": {"scope": str, "basis": str, "nation": str, "works": int},
    "gap_totals": {"scope": str, "basis": str, "works": int, "works_with_country": int, "uk_works": int,
                   "on_suggestions": int},
}


def _write_works(pub: Database, works: list[dict[str, Any]], tags: dict[str, list[dict[str, Any]]],
                 sources: list[dict[str, Any]], reviewer_names: bool) -> None:
    countries = _by_work(tags["country"])
    nations = _by_work(tags["nation"])
    designs = _by_work(tags["design"])
    order = design_order([t["value"] for t in tags["design"]])
    found: dict[int, set[str]] = defaultdict(set)
    first: dict[int, str] = {}
    for s in sources:
        found[s["work_id"]].add(s["source"])
        if s["first_found"] and (s["work_id"] not in first or s["first_found"] < first[s["work_id"]]):
            first[s["work_id"]] = s["first_found"]
    columns = dict(WORK_COLUMNS)
    if reviewer_names:
        columns["screened_by"] = str
    pub["works"].create(columns, pk="id")

    def rows():
        for w in works:
            wid = w["id"]
            cs = sorted(countries.get(wid, []), key=country_label)
            ds = sorted(designs.get(wid, []), key=lambda d: order.index(d) if d in order else len(order))
            row = {k: w.get(k) for k in columns}
            row.update(
                countries=_array(country_label(c) for c in cs),
                uk_nations=_array(sorted(nations.get(wid, []))),
                designs=_array(design_label(d) for d in ds),
                sources=_array(sorted(found.get(wid, []))),
                first_found=first.get(wid),
                doi_url=f"https://doi.org/{w['doi']}" if w["doi"] else None,
                pubmed_url=f"https://pubmed.ncbi.nlm.nih.gov/{w['pmid']}/" if w["pmid"] else None,
                openalex_url=f"https://openalex.org/{w['openalex_id']}" if w["openalex_id"] else None,
            )
            yield row

    pub["works"].insert_all(rows(), batch_size=1000)


def _write_tags(pub: Database, tags: dict[str, list[dict[str, Any]]], reviewer_names: bool) -> None:
    """One row per work and country / design, with the tag's origin (confirmed by a reviewer or
    litrev's suggestion) and, for a suggestion, its confidence and evidence."""
    extra = {"tagged_by": str} if reviewer_names else {}
    origin = {"origin": str, "confidence": float, "evidence": str, **extra}
    nations = {wid: _array(sorted(values)) for wid, values in _by_work(tags["nation"]).items()}
    country_rows = [
        dict(t, country_code=t["value"], country=country_label(t["value"]),
             uk_nations=nations.get(t["work_id"]) if t["value"] == UK else None)
        for t in tags["country"]
    ]
    _write(pub, "work_countries", country_rows,
           {"work_id": int, "country_code": str, "country": str, "uk_nations": str, **origin},
           pk=("work_id", "country_code"), foreign_keys=[("work_id", "works", "id")])
    design_rows = [dict(t, design=t["value"], design_label=design_label(t["value"])) for t in tags["design"]]
    _write(pub, "work_designs", design_rows,
           {"work_id": int, "design": str, "design_label": str, **origin},
           pk=("work_id", "design"), foreign_keys=[("work_id", "works", "id")])


def _write(pub: Database, table: str, rows: Iterable[dict[str, Any]], columns: dict[str, type],
           *, pk: Any, foreign_keys: list | None = None) -> None:
    kwargs: dict[str, Any] = {"foreign_keys": foreign_keys} if foreign_keys else {}
    if pk is not None:
        kwargs["pk"] = pk
    pub[table].create(columns, **kwargs)
    pub[table].insert_all(({k: r.get(k) for k in columns} for r in rows), batch_size=1000)


def _finish(pub: Database) -> None:
    """Indexes for the facets and joins Datasette runs, full-text search, then VACUUM.

    The works facets (status, countries, designs, year) get one covering index per
    leading column: a filter on any one of them then counts the other facets from
    the index alone, never reading the rows (with their abstracts). Single-column
    indexes on them would lure SQLite into scanning rows for `col is not null`.
    """
    facets = ["status", "countries", "designs", "year"]
    for first in facets:
        pub["works"].create_index([first] + [c for c in facets if c != first],
                                  index_name=f"idx_works_{first}_facets")
    for table, cols in (
        ("works", ["stage_reached"]), ("works", ["exclusion_reason"]), ("work_countries", ["country_code"]),
        ("work_designs", ["design"]), ("work_sources", ["work_id"]), ("work_sources", ["source"]),
        ("gap_map", ["scope", "basis"]), ("gap_by_year", ["scope", "basis"]),
    ):
        pub[table].create_index(cols)
    pub["works"].enable_fts(["title", "abstract"], tokenize="porter")
    pub["works_fts"].optimize()
    pub.execute("analyze")
    pub.conn.commit()
    pub.execute("vacuum")


# --- helpers --------------------------------------------------------------------


def _screeners(db: Database) -> dict[int, list[str]]:
    sql = """
        select canonical_works.canonical_id as work_id, decisions.reviewer
        from decisions join canonical_works on canonical_works.work_id = decisions.work_id
        where decisions.reviewer is not null
        group by canonical_works.canonical_id, decisions.reviewer
        order by canonical_works.canonical_id, decisions.reviewer
    """
    out: dict[int, list[str]] = defaultdict(list)
    for work_id, reviewer in db.execute(sql).fetchall():
        out[work_id].append(reviewer)
    return out


def _by_work(tags: list[dict[str, Any]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for t in tags:
        out[t["work_id"]].append(t["value"])
    return out


def _joined(values: Iterable[str]) -> str | None:
    """Several names as one "A; B" text (reviewer names)."""
    return "; ".join(values) or None


def _array(values: Iterable[str]) -> str | None:
    """Several values as a JSON array, so a study done in two countries counts once in each
    with Datasette's array facets (`_facet_array=countries`, `countries__arraycontains=`)
    and in the CSV and JSON downloads; None when there are none."""
    values = list(values)
    return json.dumps(values, ensure_ascii=False) if values else None


def _flatten(data: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], int]]:
    """Every number in a nested dict, with its key path (flags, text and lists are skipped)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flatten(value, (*path, str(key)))
    elif isinstance(data, (int, float)) and not isinstance(data, bool) and path:
        yield path, int(data)


def _humanise(value: str) -> str:
    text = str(value).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]






def _same_file(db: Database, out: Path) -> bool:
    row = db.execute("pragma database_list").fetchone()
    return bool(row and row[2]) and out.exists() and Path(row[2]).resolve() == out.resolve()
