"""CSV and tab-delimited exports (litrev's own, Scopus, Web of Science, PubMed, ASReview, CoLRev)."""

import csv
import io
import re

from litrev.sources.files.common import (
    Parsed,
    Problem,
    clean,
    collect,
    content_id,
    detect_database,
    doi_from,
    keyword_list,
    make_record,
    page_range,
    parse_year,
    record_type,
    split_authors,
)
from litrev.sources.normalise import Record, strip_markup

# Documented column names and their aliases (matched case-insensitively, spaces,
# dots and dashes read as underscores). The first non-empty one wins. These cover
# litrev's own CSV, the bib-dedupe/CoLRev sets, ASReview files, and Scopus, Web
# of Science (tab-delimited) and PubMed CSV exports.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    # Web of Science's `UT` first: its tab-delimited export also has an `ID` column
    # (Keywords Plus), which is not an id.
    "id": ("ut", "ut_unique_wos_id", "id", "record_id", "key", "citation_key", "bibtex_key",
           "ref_id", "eid", "accession_number"),
    "title": ("title", "primary_title", "article_title", "document_title", "ti"),
    "abstract": ("abstract", "ab", "notes_abstract"),
    "authors": ("authors", "author", "af", "au", "author_full_names", "author_names"),
    "year": ("year", "publication_year", "py", "pubyear", "publication_date", "date"),
    "venue": ("journal", "venue", "source_title", "journal_title", "journal_book",
              "publication_title", "secondary_title", "so", "booktitle"),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "number", "is"),
    "pages": ("pages", "page", "page_range"),  # not `PG`: Web of Science's page count
    "start_page": ("start_page", "page_start", "bp"),
    "end_page": ("end_page", "page_end", "ep"),
    "doi": ("doi", "di"),
    "pmid": ("pmid", "pubmedid", "pubmed_id", "pm"),
    "pmcid": ("pmcid", "pmc_id"),
    "type": ("type", "entrytype", "document_type", "type_of_reference", "publication_type", "dt"),
    "language": ("language", "la", "language_of_original_document"),
    "keywords": ("keywords", "author_keywords", "kw", "de"),
    "url": ("url", "link"),
}


def _column_key(name: str) -> str:
    return re.sub(r"[\s.\-/]+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def parse_csv(text: str, source: str) -> Parsed:
    first = next((line for line in text.split("\n") if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return Parsed(problems=[Problem(1, "the file has no CSV header row")])
    columns = _csv_columns(header)
    if not {"title", "doi", "pmid"} & set(columns):
        expected = ", ".join(CSV_COLUMNS["title"][:3] + ("doi", "pmid"))
        return Parsed(problems=[Problem(1, f"no title, DOI or PMID column (expected one of: "
                                           f"{expected}); found {', '.join(header)[:120]}")])
    parsed_rows, problems = [], []
    line = reader.line_num + 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if len(row) != len(header):
                    problems.append(Problem(line, f"row has {len(row)} fields but the header has "
                                                  f"{len(header)} (a stray quote or delimiter?)"))
                else:
                    parsed_rows.append((line, dict(zip(header, row))))
            line = reader.line_num + 1
    except csv.Error as e:
        problems.append(Problem(line, f"CSV syntax error ({e})"))
    parsed = collect(parsed_rows, lambda line, row: _csv_record(row, columns, source))
    parsed.problems = sorted(problems + parsed.problems, key=lambda p: p.line)
    hints = [c for c in header if _column_key(c) in ("source", "database", "link", "url")]
    hints += columns.get("id", [])
    parsed.database = detect_database([row.get(c) for c in hints] for _, row in parsed_rows)
    return parsed


def _csv_columns(header: list[str]) -> dict[str, list[str]]:
    """For each field, the file's columns that can give it, in alias order."""
    keyed = {_column_key(name): name for name in reversed(header)}
    found = {}
    for name, aliases in CSV_COLUMNS.items():
        present = [keyed[a] for a in aliases if a in keyed]
        if present:
            found[name] = present
    return found


def _csv_record(row: dict[str, str], columns: dict[str, list[str]], source: str) -> Record:
    def get(name: str) -> str | None:
        return next((v for c in columns.get(name, ()) if (v := clean(row.get(c)))), None)

    doi = doi_from(get("doi"))
    pmid = get("pmid")
    return make_record(
        source, (get("id"), pmid or doi or content_id(row)), dict(row),
        title=strip_markup(get("title")),
        abstract=strip_markup(get("abstract")),
        authors=split_authors(get("authors")),
        year=parse_year(get("year")),
        publication_date=None,
        venue=get("venue"),
        volume=get("volume"),
        issue=get("issue"),
        pages=page_range(get("pages") or get("start_page"), None if get("pages") else get("end_page")),
        doi=doi,
        pmid=pmid.removesuffix(".0") if pmid else None,
        pmcid=get("pmcid"),
        type=record_type(get("type")),
        language=get("language"),
        keywords=keyword_list(get("keywords")),
        identifiers={k: v for k, v in (("doi", doi), ("pmid", pmid)) if v},
        url=get("url") or (f"https://doi.org/{doi}" if doi else None),
    )
