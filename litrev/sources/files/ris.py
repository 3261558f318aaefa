"""RIS files (read with rispy)."""

import re
from typing import Any

import rispy

from litrev.sources.files.common import (
    RIS_TAG,
    Parsed,
    Problem,
    as_list,
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


def _ris_chunks(text: str) -> tuple[list[tuple[int, str]], list[Problem]]:
    """Split RIS text into (first line, record text) at TY/ER, checking the structure."""
    chunks, problems = [], []
    start, lines, after_record, stray = None, [], False, False
    for number, line in enumerate(text.split("\n"), start=1):
        match = RIS_TAG.match(line.rstrip())
        tag = match.group(1) if match else None
        if start is None:
            if tag == "TY":
                start, lines, stray = number, [line], False
            # Untagged lines before the first record are a header ("Provider: JSTOR");
            # tags there, or anything after a record, are a record that lost its TY
            # line. rispy writes a "1." line before each record.
            elif (after_record or tag) and not stray and line.strip() \
                    and not re.fullmatch(r"\d+\.", line.strip()):
                problems.append(Problem(number, f"expected 'TY  - ' to start a record, found "
                                                f"{line.strip()[:40]!r}"))
                stray = True
            continue
        if tag == "TY":
            problems.append(Problem(start, f"record has no 'ER  - ' end tag before the next "
                                           f"record at line {number}"))
            start, lines = number, [line]
            continue
        lines.append(line)
        if tag == "ER":
            chunks.append((start, "\n".join(lines)))
            start, after_record = None, True
    if start is not None:
        problems.append(Problem(start, "record has no 'ER  - ' end tag (is the file cut short?)"))
    return chunks, problems


def parse_ris(text: str, source: str) -> Parsed:
    chunks, problems = _ris_chunks(text)
    entries = []
    for line, chunk in chunks:
        found = rispy.loads(chunk, skip_unknown_tags=False)
        if len(found) != 1:
            problems.append(Problem(line, "rispy could not read this record"))
            continue
        entries.append((line, _plain(found[0])))
    parsed = collect(entries, lambda line, entry: _ris_record(entry, source))
    parsed.problems = sorted(problems + parsed.problems, key=lambda p: p.line)
    parsed.database = detect_database(
        [v for k in ("name_of_database", "database_provider", "urls", "accession_number")
         for v in as_list(e.get(k))] for _, e in entries)
    return parsed


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    """rispy keeps unknown tags in a defaultdict; make the entry plain JSON."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in entry.items()}


def _ris_record(entry: dict[str, Any], source: str) -> Record:
    get = entry.get
    urls = as_list(get("urls"))
    eid = next((m.group(1) for u in urls if (m := re.search(r"eid=([\w.-]+)", str(u)))), None)
    doi = doi_from(get("doi"), urls=urls)
    database = str(get("name_of_database") or "").lower()
    pmid = clean(get("accession_number")) if re.search(r"pubmed|medline", database) else None
    given = clean(get("id")) or clean(get("accession_number")) or eid
    date = clean(get("date")) or clean(get("publication_year")) or clean(get("year"))
    identifiers = {k: v for k, v in (("doi", doi), ("accession_number", clean(get("accession_number"))),
                                     ("scopus_eid", eid), ("issn", clean(get("issn"))),
                                     ("pmid", pmid)) if v}
    return make_record(
        source, (given, doi or content_id(entry)), entry,
        title=strip_markup(clean(get("title") or get("primary_title"))),
        abstract=strip_markup(clean(get("abstract") or get("notes_abstract"))),
        authors=split_authors(as_list(get("authors")) + as_list(get("first_authors"))),
        year=parse_year(get("year") or get("publication_year") or get("date")),
        publication_date=date,
        venue=clean(get("secondary_title") or get("journal_name") or get("alternate_title3")
                     or get("alternate_title1") or get("alternate_title2")),
        volume=clean(get("volume")),
        issue=clean(get("number")),
        pages=page_range(get("start_page"), get("end_page")),
        doi=doi,
        pmid=pmid if pmid and pmid.isdigit() else None,
        type=record_type(get("type_of_reference")),
        language=clean(get("language")),
        keywords=keyword_list(get("keywords")),
        identifiers=identifiers,
        url=next((str(u) for u in urls if u), None) or (f"https://doi.org/{doi}" if doi else None),
    )
