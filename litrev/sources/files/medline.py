"""PubMed's MEDLINE format (.nbib)."""



from litrev.sources.files.common import (
    MEDLINE_TAG,
    RECORD_TYPES,
    BadRecord,
    Parsed,
    Problem,
    clean,
    collect,
    content_id,
    doi_from,
    keyword_list,
    make_record,
    page_range,
    parse_year,
    split_authors,
)
from litrev.sources.normalise import Record, strip_markup


def parse_nbib(text: str, source: str) -> Parsed:
    """PubMed's MEDLINE ("nbib") format, read by the small parser below.

    Why not a package: rispy only recognises two-letter "XX  - " tags and appends
    a continuation line of a repeated tag (a long affiliation, an author list) as
    a new list item; the `nbib` package has not been released since 2021; and
    Biopython's Bio.Medline, the maintained one, would add Biopython for this one
    format. The format itself is small: a tag of up to four letters padded to four,
    "- ", the value; continuation lines start with spaces; a blank line ends a record.
    """
    records, problems = _medline_records(text)
    if records and (cut := _medline_cut_short(text, records, problems)):
        problems.append(cut)
        records = records[:-1]
    parsed = collect(records, lambda line, tags: _medline_record(tags, source))
    parsed.problems = sorted(problems + parsed.problems, key=lambda p: p.line)
    parsed.database = "PubMed"
    return parsed


def _medline_cut_short(text: str, records: list[tuple[int, dict[str, list[str]]]],
                       problems: list[Problem]) -> Problem | None:
    """The problem with the last record when the file looks cut short, else None.

    PubMed ends every record with its SO (source) line, so a last record without
    one, after records that all have it, lost its tail (its PT types, say); a file
    that ends mid-line (no final newline) lost at least part of a line.
    """
    line, tags = records[-1]
    if any(p.line > line for p in problems):
        return None  # the file ends in a broken record, already reported
    endings = {next(reversed(other)) for _, other in records[:-1]}
    if endings == {"SO"} and next(reversed(tags)) != "SO":
        return Problem(line, "record has no 'SO  - ' line, which ends every other record "
                             "(is the file cut short?)")
    if not text.endswith("\n"):
        return Problem(line, "the file ends in the middle of a line (is it cut short?)")
    return None


def _medline_records(text: str) -> tuple[list[tuple[int, dict[str, list[str]]]], list[Problem]]:
    """Records as (first line, {tag: [values]}); a record with a broken line is dropped whole."""
    records, problems = [], []
    start, tags, last, broken = None, {}, None, False
    for number, line in enumerate(text.split("\n") + [""], start=1):
        if not line.strip():
            if start is not None and not broken:
                records.append((start, tags))
            start, tags, last, broken = None, {}, None, False
            continue
        if broken:
            continue
        if line[:1] == " " and last is not None:
            tags[last][-1] = f"{tags[last][-1]} {line.strip()}"
            continue
        match = MEDLINE_TAG.match(line)
        if not match:
            where = f" (in the record starting at line {start})" if start else ""
            problems.append(Problem(number, f"not a MEDLINE line ('TAG - value' or an indented "
                                            f"continuation){where}: {line.strip()[:40]!r}"))
            broken = True
            continue
        start = start or number
        last = match.group(1)
        tags.setdefault(last, []).append(match.group(2).strip())
    return records, problems


def _medline_record(tags: dict[str, list[str]], source: str) -> Record:
    def one(tag: str) -> str | None:
        return clean((tags.get(tag) or [None])[0])

    ids = tags.get("AID", []) + tags.get("LID", [])
    doi = doi_from([i for i in ids if i.endswith("[doi]")])
    pmid = one("PMID")
    if pmid and not pmid.isdigit():
        raise BadRecord(f"PMID {pmid!r} is not a number")
    types = [RECORD_TYPES[t.lower()] for t in tags.get("PT", []) if t.lower() in RECORD_TYPES]
    return make_record(
        source, (pmid, doi or content_id(tags)), tags,
        title=strip_markup(one("TI") or one("BTI")),
        abstract=strip_markup(one("AB")),
        authors=split_authors(tags.get("FAU") or tags.get("AU") or []),
        year=parse_year(one("DP")),
        publication_date=one("DP"),
        venue=one("JT") or one("TA"),
        volume=one("VI"),
        issue=one("IP"),
        pages=page_range(one("PG")),
        doi=doi,
        pmid=pmid,
        pmcid=one("PMC"),
        type=next((t for t in types if t and t != "article"), None) or (types[0] if types else None),
        language=one("LA"),
        keywords=keyword_list(tags.get("OT", []) + tags.get("MH", [])),
        identifiers={k: v for k, v in (("pmid", pmid), ("doi", doi), ("pmcid", one("PMC")),
                                       ("issn", one("IS"))) if v},
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
    )
