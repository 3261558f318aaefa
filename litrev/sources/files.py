"""Parsers for files people bring from other databases: RIS, BibTeX, CSV and PubMed (MEDLINE/nbib).

Pure: text in, `Parsed` out (good records plus problems, each naming a line), so
`litrev.harvest.importing` can refuse a broken file before writing anything. Record ids
are `<source>:<original id>`, the original id being the one the file gives (RIS
`ID`/`AN`, a BibTeX key, a CSV `ID` column, a PMID) or, when the file gives
none, a short hash of the record's text, stable across re-imports of the same export.

RIS is parsed by rispy and BibTeX by bibtexparser 2 (with its LaTeX decoding);
this module splits RIS into records first only to know each record's line.
"""

import csv
import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import bibtexparser
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware

from litrev.errors import printable
from litrev.sources.normalise import Record, author_name, normalise_doi, strip_markup

FORMATS = ("ris", "bibtex", "csv", "nbib")
# Placeholders some tools write for "no value" (CoLRev writes UNKNOWN, pandas writes nan).
EMPTY = {"", "unknown", "nan", "na", "n/a", "none", "null"}
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,3}")  # "J", "JF", "J.F.", "J.-P."
RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}- ?(.*)$")
RECORD_TYPES = {
    # RIS TY / BibTeX ENTRYTYPE / PubMed PT -> the OpenAlex/Crossref words records use.
    "jour": "article", "ejour": "article", "jfull": "article", "mgzn": "article",
    "news": "article", "article": "article", "journal article": "article",
    "book": "book", "ebook": "book", "edbook": "book",
    "chap": "book-chapter", "echap": "book-chapter", "incollection": "book-chapter",
    "inbook": "book-chapter",
    "conf": "proceedings-article", "cpaper": "proceedings-article",
    "inproceedings": "proceedings-article", "conference": "proceedings-article",
    "proceedings": "proceedings",
    "thes": "dissertation", "phdthesis": "dissertation", "mastersthesis": "dissertation",
    "rprt": "report", "techreport": "report", "report": "report",
    "data": "dataset", "dataset": "dataset",
    "review": "review", "systematic review": "review", "meta-analysis": "review",
    "editorial": "editorial", "letter": "letter", "comment": "letter",
    "preprint": "preprint", "unpb": "preprint", "unpublished": "preprint",
}
# Where a database name shows up in an export (RIS DB/DP tags, URLs), and the
# PRISMA label and record-id prefix it gives when --source is not given.
DATABASES = (
    ("scopus", "Scopus"), ("web of science", "Web of Science"), ("webofscience", "Web of Science"),
    ("wos:", "Web of Science"), ("embase", "Embase"), ("psycinfo", "PsycINFO"),
    ("cinahl", "CINAHL"), ("cochrane", "Cochrane Library"), ("pubmed", "PubMed"),
    ("medline", "MEDLINE"),
)


@dataclass
class Problem:
    """Why one record (or the whole file) cannot be imported, and where."""

    line: int
    message: str

    def __str__(self) -> str:
        # The message often quotes the file; this is the one place it becomes text.
        return printable(f"line {self.line}: {self.message}")


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # records that cannot be imported
    warnings: list[Problem] = field(default_factory=list)  # records imported, worth a look
    database: str | None = None  # the database the export came from, when the file says


class BadRecord(ValueError):
    """A record that cannot be imported; the message says why."""


def slugify(name: str) -> str:
    """"Web of Science" -> "web-of-science": the record-id prefix of an import source."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "import"


def sniff_format(text: str, filename: str = "") -> str | None:
    """Tell the format from the content (first tags), else from the file extension."""
    head = text.lstrip("\ufeff")[:20000]
    if re.search(r"^TY  - ", head, re.MULTILINE):
        return "ris"
    if re.search(r"^PMID- ", head, re.MULTILINE):
        return "nbib"
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", head, re.MULTILINE):
        return "bibtex"
    first = next((line for line in head.splitlines() if line.strip()), "")
    if any(d in first for d in (",", ";", "\t")):
        return "csv"
    extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    return {"ris": "ris", "bib": "bibtex", "bibtex": "bibtex", "csv": "csv", "tsv": "csv",
            "nbib": "nbib", "medline": "nbib"}.get(extension)


def parse(text: str, fmt: str, source: str) -> Parsed:
    """Parse `text` in format `fmt` into records whose ids start with `source:`."""
    parser = {"ris": parse_ris, "bibtex": parse_bibtex, "csv": parse_csv, "nbib": parse_nbib}[fmt]
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return parser(text, source)


# --- shared field helpers -----------------------------------------------------


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value if v)
    text = re.sub(r"\s+", " ", str(value)).strip()
    return None if text.lower() in EMPTY else text


def _year(value: Any) -> int | None:
    text = _clean(value)
    if not text:
        return None
    match = YEAR.search(text)
    if not match:
        raise BadRecord(f"year {text!r} is not a year")
    return int(match.group(1))


def _pages(start: Any, end: Any = None) -> str | None:
    start, end = _clean(start), _clean(end)
    if start:
        start = re.sub(r"\s*(?:-+|–|—)\s*", "-", start)
    if start and end and end != start and "-" not in start:
        return f"{start}-{end}"
    return start or end


def person(name: str) -> str | None:
    """One author as "Family, Given": "Smith, J" stays; "Reimer EJ" and "E J Reimer" turn round."""
    name = _clean(name)
    if not name or "," in name:
        return name
    words = name.split(" ")
    if len(words) > 1 and INITIALS.fullmatch(words[-1]):  # Vancouver style: "Reimer EJ"
        return f"{' '.join(words[:-1])}, {words[-1]}"
    return author_name(name)


def split_authors(value: Any) -> list[str]:
    """Authors from a list, or a string joined BibTeX-style ("A and B") or with semicolons."""
    if not value:
        return []
    parts: Iterable[str] = value if isinstance(value, list) else re.split(
        r"\s+and\s+|\s*;\s*|\n", str(value))
    return [p for p in (person(part) for part in parts) if p]


def _type(value: Any) -> str | None:
    text = _clean(value)
    return RECORD_TYPES.get(text.lower(), text.lower()) if text else None


def _keywords(value: Any) -> list[str]:
    values = value if isinstance(value, list) else re.split(r"\s*;\s*", str(value or ""))
    return [k for k in (_clean(v) for v in values) if k]


def _doi_from(*values: Any, urls: Iterable[Any] = ()) -> str | None:
    """The first DOI in DOI fields (also "10.1/x [doi]", "DOI: 10.1/x"), else in doi.org links."""
    for value in values:
        for item in _as_list(value):
            text = _clean(item)
            found = re.search(r"10\.\d{4,9}/\S+", text or "")
            doi = normalise_doi(text) or (normalise_doi(found.group(0)) if found else None)
            if doi:
                return doi
    return next((doi for url in urls if (doi := normalise_doi(_clean(url)))), None)


def content_id(raw: Any) -> str:
    """A stable id for a record whose file gives none: a hash of its text."""
    return "sha1-" + hashlib.sha1(repr(raw).encode()).hexdigest()[:12]


def detect_database(records: Iterable[Iterable[Any]]) -> str | None:
    """The database every record names (in its database tags, URLs, ids), else None.

    One detection for the whole file: a record's hints alone are a guess (litrev's
    own export links some records to scopus.com), and a PRISMA source must not be
    renamed by one record. So all records must name the same database.
    """
    found = {_database_of(values) for values in records}
    return found.pop() if len(found) == 1 else None


def _database_of(values: Iterable[Any]) -> str | None:
    text = " ".join(str(v) for v in values if v).lower()
    return next((label for needle, label in DATABASES if needle in text), None)


def _collect(items: Iterable[tuple[int, Any]], build: Callable[[int, Any], Record]) -> Parsed:
    """Build each record; a build error or a reused id becomes a problem at that line.

    An id the file gives (a key, an `ID` column) must be unique; an id litrev made
    (a DOI, a hash) may repeat, as exports do hold duplicates: the later ones get
    their line number appended so that both are kept for dedupe.
    """
    parsed = Parsed()
    seen: dict[str, int] = {}
    for line, item in items:
        try:
            record = build(line, item)
        except BadRecord as e:
            parsed.problems.append(Problem(line, str(e)))
            continue
        if not (record.title or record.doi or record.pmid or record.authors):
            # Kept (a labelled set may count it) but worth a look.
            parsed.warnings.append(Problem(line, f"record {record.source_id!r} has no title, DOI, "
                                                 f"PMID or authors"))
        given = record.identifiers.pop("id_from", None) == "file"
        if record.id in seen:
            if given:
                parsed.problems.append(Problem(
                    line, f"id {record.source_id!r} is already used by the record at line "
                          f"{seen[record.id]}"))
                continue
            record.source_id = f"{record.source_id}-{line}"
            record.id = f"{record.source}:{record.source_id}"
        seen[record.id] = line
        parsed.records.append(record)
    return parsed


def _make(source: str, ids: tuple[str | None, str], raw: dict[str, Any], **fields: Any) -> Record:
    """`ids`: the id the file gives (or None) and the id to use when it gives none."""
    given, fallback = ids
    original_id = str(given or fallback).strip()
    fields["identifiers"] = {**fields.get("identifiers", {}), "id_from": "file" if given else "litrev"}
    return Record(id=f"{source}:{original_id}", source=source, source_id=original_id, raw=raw,
                  **fields)


# --- RIS ------------------------------------------------------------------------


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
    parsed = _collect(entries, lambda line, entry: _ris_record(entry, source))
    parsed.problems = sorted(problems + parsed.problems, key=lambda p: p.line)
    parsed.database = detect_database(
        [v for k in ("name_of_database", "database_provider", "urls", "accession_number")
         for v in _as_list(e.get(k))] for _, e in entries)
    return parsed


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    """rispy keeps unknown tags in a defaultdict; make the entry plain JSON."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in entry.items()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _ris_record(entry: dict[str, Any], source: str) -> Record:
    get = entry.get
    urls = _as_list(get("urls"))
    eid = next((m.group(1) for u in urls if (m := re.search(r"eid=([\w.-]+)", str(u)))), None)
    doi = _doi_from(get("doi"), urls=urls)
    database = str(get("name_of_database") or "").lower()
    pmid = _clean(get("accession_number")) if re.search(r"pubmed|medline", database) else None
    given = _clean(get("id")) or _clean(get("accession_number")) or eid
    date = _clean(get("date")) or _clean(get("publication_year")) or _clean(get("year"))
    identifiers = {k: v for k, v in (("doi", doi), ("accession_number", _clean(get("accession_number"))),
                                     ("scopus_eid", eid), ("issn", _clean(get("issn"))),
                                     ("pmid", pmid)) if v}
    return _make(
        source, (given, doi or content_id(entry)), entry,
        title=strip_markup(_clean(get("title") or get("primary_title"))),
        abstract=strip_markup(_clean(get("abstract") or get("notes_abstract"))),
        authors=split_authors(_as_list(get("authors")) + _as_list(get("first_authors"))),
        year=_year(get("year") or get("publication_year") or get("date")),
        publication_date=date,
        venue=_clean(get("secondary_title") or get("journal_name") or get("alternate_title3")
                     or get("alternate_title1") or get("alternate_title2")),
        volume=_clean(get("volume")),
        issue=_clean(get("number")),
        pages=_pages(get("start_page"), get("end_page")),
        doi=doi,
        pmid=pmid if pmid and pmid.isdigit() else None,
        type=_type(get("type_of_reference")),
        language=_clean(get("language")),
        keywords=_keywords(get("keywords")),
        identifiers=identifiers,
        url=next((str(u) for u in urls if u), None) or (f"https://doi.org/{doi}" if doi else None),
    )


# --- BibTeX ---------------------------------------------------------------------

# pylatexenc's decoding time grows faster than the text (100 KB took 0.4 s, 400 KB
# 2.7 s; a 10 MB abstract never finished), so a value is decoded in pieces of about
# LATEX_PIECE characters, cut at whitespace outside braces, math and % comments and
# not right after a control word (which swallows the space: `\o rsted` is "ørsted"),
# and a piece with no markup is not decoded at all. pylatexenc still costs ~10 µs a
# character of text with markup, so past LATEX_BUDGET such characters in one value
# (or in a piece longer than LATEX_MAX_PIECE) the text stays as written, with a warning.
LATEX_PIECE = 2_000
LATEX_MAX_PIECE = 50_000
LATEX_BUDGET = 100_000
LATEX_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}$%]")
# What pylatexenc changes in text (macros, groups, math, ~, a % comment, & as a
# column break, -- and quotes); a piece with none of it is already plain text.
LATEX_MARKUP = re.compile(r"[\\{}$~%&]|--|``|''")
SPACE = re.compile(r"\s")


def latex_pieces(text: str, size: int = LATEX_PIECE) -> list[str]:
    """`text` cut into pieces of about `size` characters that decode independently.

    Only the markup is tokenised; plain stretches between tokens are cut at a space.
    """
    if not LATEX_MARKUP.search(text):
        return [text]
    pieces: list[str] = []
    start = gap_start = depth = 0
    math = False
    for token in LATEX_TOKEN.finditer(text):
        if not (depth or math):
            start = _cut_stretch(text, pieces, start, gap_start, token.start(), size)
        value = token.group()
        gap_start = max(gap_start, token.end())
        if value[0] == "\\":
            gap_start += value[1:2].isalpha()  # a control word swallows the space after it
        elif value == "{":
            depth += 1
        elif value == "}":
            depth = max(depth - 1, 0)
        elif value == "$":
            math = not math
        else:  # a % comment runs to the end of its line
            line_end = text.find("\n", token.end())
            gap_start = len(text) if line_end < 0 else line_end
    if not (depth or math):
        start = _cut_stretch(text, pieces, start, gap_start, len(text), size)
    pieces.append(text[start:])
    return pieces


def _cut_stretch(text: str, pieces: list[str], start: int, low: int, high: int,
                 size: int) -> int:
    """Cut the plain stretch text[low:high] at spaces every `size` characters; the new start."""
    while high - start > size:
        space = SPACE.search(text, max(low, start + size), high)
        if not space:
            break
        pieces.append(text[start:space.start()])
        start = low = space.start()
    return start


class PiecewiseLatexDecoding(LatexDecodingMiddleware):
    """bibtexparser's LaTeX decoding in linear, bounded time (see LATEX_PIECE)."""

    def __init__(self) -> None:
        super().__init__()
        self.kept_as_written = 0  # values whose markup was (partly) left undecoded

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        decoded, errors, budget, kept = [], [], LATEX_BUDGET, False
        for piece in latex_pieces(python_string):
            if not LATEX_MARKUP.search(piece):
                decoded.append(piece)
            elif len(piece) > min(budget, LATEX_MAX_PIECE):
                decoded.append(piece)
                budget, kept = 0, True
            else:
                budget -= len(piece)
                text, error = super()._transform_python_value_string(piece)
                decoded.append(text)
                errors.append(error)
        self.kept_as_written += kept
        return "".join(decoded), next((e for e in errors if e), "")


def parse_bibtex(text: str, source: str) -> Parsed:
    splitter_log = logging.getLogger("bibtexparser.splitter")
    level = splitter_log.level
    splitter_log.setLevel(logging.CRITICAL)  # its warnings repeat the problems we report
    decoding = PiecewiseLatexDecoding()
    try:
        library = bibtexparser.parse_string(text, append_middleware=[decoding])
    except bibtexparser.exceptions.ParsingException as e:
        return Parsed(problems=[Problem(1, f"bibtexparser could not read the file ({e})")])
    finally:
        splitter_log.setLevel(level)
    problems = [Problem(block.start_line + 1, _bibtex_error(block)) for block in library.failed_blocks]
    entries = [(entry.start_line + 1, entry) for entry in library.entries]
    parsed = _collect(entries, lambda line, entry: _bibtex_record(entry, source))
    parsed.problems = sorted(problems + parsed.problems, key=lambda p: p.line)
    if decoding.kept_as_written:
        parsed.warnings.append(Problem(1, f"{decoding.kept_as_written} very long field(s) keep "
                                          f"part of their LaTeX as written (not decoded)"))
    return parsed


def _bibtex_error(block: Any) -> str:
    if isinstance(block, bibtexparser.model.DuplicateBlockKeyBlock):
        return f"entry key {block.key!r} is used twice"
    if isinstance(block, bibtexparser.model.DuplicateFieldKeyBlock):
        return f"an entry repeats a field ({block.error})".replace("\n", " ")[:200]
    error = block.error
    reason = getattr(error, "abort_reason", None) or str(error) or "unbalanced braces or quotes?"
    return f"BibTeX syntax error: {' '.join(reason.split())[:160]}"


def _bibtex_record(entry: Any, source: str) -> Record:
    fields = {f.key.lower(): f.value for f in entry.fields}
    raw = {"ENTRYTYPE": entry.entry_type, "ID": entry.key, **fields}
    get = fields.get
    doi = _doi_from(get("doi"), urls=[get("url")])
    return _make(
        source, (entry.key, entry.key), raw,
        title=_clean(get("title")),
        abstract=_clean(get("abstract")),
        authors=split_authors(_clean_and(get("author"))),
        year=_year(get("year") or get("date")),
        publication_date=_clean(get("date")),
        venue=_clean(get("journal") or get("journaltitle") or get("booktitle")),
        volume=_clean(get("volume")),
        issue=_clean(get("number") or get("issue")),
        pages=_pages(get("pages")),
        doi=doi,
        pmid=_clean(get("pmid")),
        pmcid=_clean(get("pmcid")),
        type=_type(entry.entry_type),
        language=_clean(get("language")),
        keywords=_keywords(re.split(r"\s*[;,]\s*", get("keywords") or "")),
        identifiers={k: v for k, v in (("doi", doi), ("pmid", _clean(get("pmid"))),
                                       ("isbn", _clean(get("isbn"))), ("issn", _clean(get("issn"))))
                     if v},
        url=_clean(get("url")) or (f"https://doi.org/{doi}" if doi else None),
    )


def _clean_and(value: str | None) -> list[str]:
    """BibTeX authors are joined by "and", whatever the spacing or line breaks."""
    return [a for a in re.split(r"\s+and\s+", re.sub(r"\s+", " ", value or "")) if a.strip()]


# --- CSV ------------------------------------------------------------------------

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
    parsed = _collect(parsed_rows, lambda line, row: _csv_record(row, columns, source))
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
        return next((v for c in columns.get(name, ()) if (v := _clean(row.get(c)))), None)

    doi = _doi_from(get("doi"))
    pmid = get("pmid")
    return _make(
        source, (get("id"), pmid or doi or content_id(row)), dict(row),
        title=strip_markup(get("title")),
        abstract=strip_markup(get("abstract")),
        authors=split_authors(get("authors")),
        year=_year(get("year")),
        publication_date=None,
        venue=get("venue"),
        volume=get("volume"),
        issue=get("issue"),
        pages=_pages(get("pages") or get("start_page"), None if get("pages") else get("end_page")),
        doi=doi,
        pmid=pmid.removesuffix(".0") if pmid else None,
        pmcid=get("pmcid"),
        type=_type(get("type")),
        language=get("language"),
        keywords=_keywords(get("keywords")),
        identifiers={k: v for k, v in (("doi", doi), ("pmid", pmid)) if v},
        url=get("url") or (f"https://doi.org/{doi}" if doi else None),
    )


# --- PubMed / MEDLINE (nbib) --------------------------------------------------------


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
    parsed = _collect(records, lambda line, tags: _medline_record(tags, source))
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
        return _clean((tags.get(tag) or [None])[0])

    ids = tags.get("AID", []) + tags.get("LID", [])
    doi = _doi_from([i for i in ids if i.endswith("[doi]")])
    pmid = one("PMID")
    if pmid and not pmid.isdigit():
        raise BadRecord(f"PMID {pmid!r} is not a number")
    types = [RECORD_TYPES[t.lower()] for t in tags.get("PT", []) if t.lower() in RECORD_TYPES]
    return _make(
        source, (pmid, doi or content_id(tags)), tags,
        title=strip_markup(one("TI") or one("BTI")),
        abstract=strip_markup(one("AB")),
        authors=split_authors(tags.get("FAU") or tags.get("AU") or []),
        year=_year(one("DP")),
        publication_date=one("DP"),
        venue=one("JT") or one("TA"),
        volume=one("VI"),
        issue=one("IP"),
        pages=_pages(one("PG")),
        doi=doi,
        pmid=pmid,
        pmcid=one("PMC"),
        type=next((t for t in types if t and t != "article"), None) or (types[0] if types else None),
        language=one("LA"),
        keywords=_keywords(tags.get("OT", []) + tags.get("MH", [])),
        identifiers={k: v for k, v in (("pmid", pmid), ("doi", doi), ("pmcid", one("PMC")),
                                       ("issn", one("IS"))) if v},
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
    )


