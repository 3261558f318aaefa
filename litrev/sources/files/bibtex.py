"""BibTeX files (read with bibtexparser 2, LaTeX decoded in linear time)."""

import logging
import re
from typing import Any

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware

from litrev.sources.files.common import (
    Parsed,
    Problem,
    clean,
    collect,
    doi_from,
    keyword_list,
    make_record,
    page_range,
    parse_year,
    record_type,
    split_authors,
)
from litrev.sources.normalise import Record

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
    parsed = collect(entries, lambda line, entry: _bibtex_record(entry, source))
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
    doi = doi_from(get("doi"), urls=[get("url")])
    return make_record(
        source, (entry.key, entry.key), raw,
        title=clean(get("title")),
        abstract=clean(get("abstract")),
        authors=split_authors(_clean_and(get("author"))),
        year=parse_year(get("year") or get("date")),
        publication_date=clean(get("date")),
        venue=clean(get("journal") or get("journaltitle") or get("booktitle")),
        volume=clean(get("volume")),
        issue=clean(get("number") or get("issue")),
        pages=page_range(get("pages")),
        doi=doi,
        pmid=clean(get("pmid")),
        pmcid=clean(get("pmcid")),
        type=record_type(entry.entry_type),
        language=clean(get("language")),
        keywords=keyword_list(re.split(r"\s*[;,]\s*", get("keywords") or "")),
        identifiers={k: v for k, v in (("doi", doi), ("pmid", clean(get("pmid"))),
                                       ("isbn", clean(get("isbn"))), ("issn", clean(get("issn"))))
                     if v},
        url=clean(get("url")) or (f"https://doi.org/{doi}" if doi else None),
    )


def _clean_and(value: str | None) -> list[str]:
    """BibTeX authors are joined by "and", whatever the spacing or line breaks."""
    return [a for a in re.split(r"\s+and\s+", re.sub(r"\s+", " ", value or "")) if a.strip()]
