"""Pure duplicate matching: normalised match keys, blocking, pair scoring, clustering.

Nothing here touches the database (that is `litrev.dedupe.storage`). The flow is
`prepare()` each record once -> `candidate_pairs()` by blocking keys (never
all-pairs) -> `score_pair()` -> `find_duplicates()` returns the scored pairs,
and `cluster()` turns merge pairs into groups, honouring cannot-link constraints.

Thresholds were tuned on the labelled sets in ../shared/data/dedup (stroke,
haematology, respiratory: medical, no DOI; digital_work: information systems,
with DOIs) and the hand-made special_cases/edge_case_pairs.json. Each constant
names the sets that set it; none was tuned on one set alone.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Prefix

from litrev.sources.normalise import normalise_doi, strip_markup

# --- thresholds (0-100 rapidfuzz scale) -------------------------------------------
# Normalised titles at or above this are the same title. 95 keeps typos, a dropped
# word in a long title and British/American spelling (stroke, respiratory); the
# distinct pairs that came closest in all sets differ in one content word ("adult"
# vs "pediatric" trial registrations, haematology) and are caught by the author
# and location checks, or by the series-number rule ("Part 1"/"Part 2").
TITLE_SAME = 95.0
# Identical but for punctuation/case: lets a pair through a soft conflict (a
# venue spelled two ways, a supplement page range) when authors and year agree.
# Set on haematology and respiratory (journal names in English vs transliterated,
# abstract vs article pages); digital_work has no pair that it wrongly merges.
TITLE_EXACT = 98.0
# Between this and TITLE_SAME, with agreeing authors, a pair goes to review.
TITLE_REVIEW = 85.0
# With volume + first page + year agreeing (the medical sets give them for nearly
# every record), a title this similar is a translation or annotation variant of
# the same article (stroke "[Chinese]", respiratory bilingual titles).
TITLE_SAME_WITH_LOCATION = 80.0
# Author lists compared as token sets (all name tokens of two letters or more,
# token_set_ratio), so "Xu, S. F." matches "Xu, Shi-fen" and "Andrea, C." matches
# "Carignani, Andrea". 75 rejects the different-people pairs in edge_case_pairs.json
# (Hall L. vs Hall G.) and the CAIS boilerplate titles; 90 is "strong" agreement.
AUTHORS_SAME = 75.0
AUTHORS_STRONG = 90.0
# When DOIs agree, titles need only be recognisably the same paper: the one
# labelled case of a wrongly shared DOI (edge_case_pairs: Attili vs Annabi) scores < 40.
TITLE_MIN_FOR_DOI = 60.0
# Venues below this (after abbreviation folding) are a soft conflict when both are given.
VENUE_SAME = 70.0
VENUE_STRONG = 90.0
# A year apart (online-first vs issue) needs the venue spelled the same (edge_case_pairs
# Pare 2023/2024 merges; respiratory's Billeter 2012/2013, abbreviated vs full, is labelled distinct).
VENUE_SAME_NAME = 98.0
# A title that is a prefix of the other (subtitle dropped) must be this long.
PREFIX_MIN_CHARS = 20
# A title that ends the other (leading words dropped: a column heading such as "How did
# it ..." glued on by one database, digital_work's Kasriel/HBR pair; "Hyred" dropped
# before "Hybrid job recommendation system") must be this long and cover this share of
# the longer title, and it merges only under the prefix rule's conditions (strong
# authors, same year, same venue or first page, no soft conflict). A short ending is
# shared by unrelated titles ("Atypical hemolytic uremic syndrome" ends "Age-related
# penetrance of hereditary atypical hemolytic uremic syndrome", haematology: share 0.48);
# the true suffix duplicates in the labelled sets cover 0.84 of the longer title, and
# no pair labelled distinct meets all the conditions.
SUFFIX_MIN_CHARS = 30
SUFFIX_MIN_SHARE = 0.75
# Republication: the same text registered twice under two DOIs (digital_work: Liu &
# Yetton, J Inf Technol 24(1) 2009 and again 25(1) 2010, same title, authors and
# abstract word for word). Such a pair merges only when its abstracts agree on their first
# ABSTRACT_HEAD characters (folded) and in length within ABSTRACT_LENGTH_SLACK, each at least
# ABSTRACT_MIN_CHARS long, on top of identical titles, strong authors, the same venue and
# years at most one apart. Without the abstract such pairs stay in review: digital_work's
# two same-title, same-author pairs a year apart without abstracts (JMIS "Special
# Section" introductions 2009/2010, Markus's JIT commentary 2014/2015) are distinct, and
# a shared abstract with other authors (JIT "Studying cyborgs" and its commentary) is
# stopped by the author check.
# The same test merges an erratum record that carries its article's abstract word for word
# (method "erratum-copy"): a database indexed the article a second time under the erratum's
# title and DOI, and screeners would read the article's text twice (digital_work: Schneider et
# al., J Inf Technol 33(2) 2018, "Erratum to - How do requirements evolve over time?", p. 171,
# labelled one with its article). Errata with no abstract or their own text stay related: the
# set's other four errata whose articles it holds have none and are labelled distinct.
ABSTRACT_HEAD = 400
ABSTRACT_MIN_CHARS = 200
ABSTRACT_LENGTH_SLACK = 0.1
# Merge methods that judged one text under two DOIs: such a pair may join two DOIs' groups.
ONE_TEXT_TWO_DOIS = frozenset({"republication", "erratum-copy"})
# Blocks larger than this are skipped for the weak keys (common surname + year);
# the title keys still reach those records. Keeps the cost near linear.
MAX_BLOCK = 60
# In a title block bigger than MAX_BLOCK each record meets this many title-order neighbours.
NEIGHBOURHOOD = 10

STOPWORDS = {"the", "of", "and", "in", "for", "on", "a", "an", "to", "de", "la", "und", "der",
             "proceedings", "proc", "annual", "journal", "j"}
VENUE_ALIASES = {
    "amcis": "americas conference information systems",
    "icis": "international conference information systems",
    "ecis": "european conference information systems",
    "pacis": "pacific asia conference information systems",
    "hicss": "hawaii international conference system sciences",
    "chi": "conference human factors computing systems",
    "cscw": "conference computer supported cooperative work",
    "pnas": "national academy sciences united states america",
}
GENERIC_TITLES = {
    "", "unknown", "book review", "book reviews", "editorial", "introduction", "letter",
    "letters", "letter to the editor", "reply", "response", "comment", "commentary",
    "erratum", "correction", "corrigendum", "news", "abstracts", "index", "preface", "foreword",
    "in this issue", "contents", "table of contents", "untitled", "no title", "editors comments",
    "editor s comments", "guest editorial", "issue information", "front matter", "back matter",
}
RECURRING = re.compile(r"\b(editor s comments|editors comments|editorial|minitrack|in this issue|"
                       r"call for papers|book reviews?|issue information|reviewer acknowledg)")
RELATED_PREFIXES = [
    ("erratum", re.compile(r"^(erratum|errata|corrigendum|correction|corrections)\b( to| for| in| on)?")),
    ("retraction", re.compile(r"^(retraction|retracted|withdrawn|retraction note|notice of retraction)\b"
                              r"( of| to| for| on| notice)?")),
    ("comment", re.compile(r"^(comment|comments|commentary|reply|response|letter|re)\b( to| on| regarding)?")),
]
PREPRINT_VENUES = re.compile(
    r"arxiv|biorxiv|medrxiv|ssrn|research square|preprints|psyarxiv|socarxiv|osf preprints|"
    r"europe pmc preprint|preprint"
)
PREPRINT_DOI_PREFIXES = ("10.48550/", "10.1101/", "10.21203/", "10.2139/", "10.20944/", "10.31234/",
                         "10.31235/", "10.31219/", "10.22541/", "10.36227/")
CONFERENCE_WORDS = re.compile(
    r"\b(conference|symposium|workshop|congress|meeting|colloquium|"
    r"hicss|amcis|icis|ecis|pacis)\b"
)
JOURNAL_CONFERENCE = re.compile(r"[.;]\s*(conference|meeting|congress)\s*:.*$", re.IGNORECASE | re.DOTALL)
# A field that starts with punctuation, a closing bracket after its first number ("1)"),
# or a supplement word: not a volume (see plausible_number).
IMPLAUSIBLE_NUMBER = re.compile(r"^([^\w(]|\d+\s*[)\]]|(suppl|supplement|sup|s)\b)", re.IGNORECASE)
DOI_VERSION = re.compile(r"(\.pub\d+|[./_-]v\d+|\.r\d+)$")
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
SERIES_NUMBER = re.compile(r"\b(?:part|phase|study|trial|paper|volume|vol|chapter|section|wave)\s+([ivx]+|\d+)\b")
ANNOTATIONS = [
    re.compile(r"\[?\s*erratum appears in.*$", re.IGNORECASE | re.DOTALL),  # MEDLINE, often cut off
    re.compile(r"\[[^\]]{0,30}\]"),  # [Chinese], [Review], [16 refs], [Abstract]
]
ERRATUM_POINTER = re.compile(r"\bvol \d+ pg \w+( \d{4})?$")
COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
NON_LETTERS = re.compile(r"[\W_]+")  # keeps letters of every script (Cyrillic, CJK titles)


@dataclass(slots=True)  # one per record: at 500,000 records a per-object dict costs ~0.5 GB
class Prepared:
    """The match keys of one record, computed once."""

    id: str
    doi: str | None = None
    doi_base: str | None = None  # DOI without a version suffix (.pub2, v3)
    pmid: str | None = None
    openalex_id: str | None = None
    title: str = ""  # normalised, annotations removed
    title_generic: bool = True  # "Editorial", "UNKNOWN", a recurring column
    series: frozenset[str] = frozenset()  # "part 2", "phase iii"
    numbers: frozenset[str] = frozenset()  # other numbers in the title
    relation: str | None = None  # erratum | retraction | comment
    base_title: str = ""  # title without the erratum/comment prefix
    authors: str = ""  # name tokens, space-separated
    first_author: str = ""
    year: int | None = None
    venue: str = ""
    venue_conference: bool = False
    venue_full: str = ""  # folded, with any ".Conference: ..." part
    preprint: bool = False
    volume: str = ""
    issue: str = ""
    first_page: str = ""
    last_page: str = ""
    abstract_head: str = ""  # the abstract's first ABSTRACT_HEAD characters, raw (folded on use)
    abstract_chars: int = 0  # the whole abstract's length


@dataclass
class Pair:
    """A machine judgement about two records (a < b)."""

    a: str
    b: str
    score: float
    method: str
    outcome: str  # merge | review | distinct | related
    details: dict[str, Any] = field(default_factory=dict)


# --- normalising match keys ----------------------------------------------------


def fold(text: str | None) -> str:
    """Lower case letters and digits (accents dropped, any script kept), single spaces."""
    if not text:
        return ""
    text = str(text)
    if "<" in text or "&" in text:
        text = strip_markup(text) or ""
    if not text.isascii():
        text = COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(NON_LETTERS.sub(" ", text.lower()).split())


def title_key(title: str | None) -> str:
    """The folded title without database annotations ("[Chinese]", "[Erratum appears in ...]")."""
    text = (strip_markup(title) or "").strip().strip('"').strip()
    if "[" in text or "rratum" in text:
        for pattern in ANNOTATIONS:
            stripped = pattern.sub(" ", text).strip()
            if len(stripped) >= 12:
                text = stripped
        text = text.rstrip(". ")
        if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
            text = text[1:-1]  # MEDLINE brackets translated titles
    return fold(text)


def title_numbers(title: str) -> tuple[frozenset[str], frozenset[str]]:
    """(series numbers such as "part 2"/"phase iii", other numbers) of a folded title."""
    series = frozenset(str(ROMAN.get(n, n)).lstrip("0") for n in SERIES_NUMBER.findall(title))
    numbers = frozenset(t.lstrip("0") or "0" for t in title.split() if t.isdigit())
    return series, numbers


def author_names(authors: Any) -> list[str]:
    """A list of author strings from a list, or a BibTeX/RIS-style joined string."""
    if not authors:
        return []
    if isinstance(authors, str):
        if ";" in authors:
            return [a for a in authors.split(";") if a.strip()]
        return [a for a in re.split(r"\s+and\s+", authors) if a.strip()]
    return [str(a) for a in authors if a]


def surname(name: str) -> str:
    """The family name of "Family, Given", "Given Family" or "Family GI" (Vancouver)."""
    if "," in name:
        return fold(name.split(",")[0])
    tokens = fold(name).split()
    long = [t for t in tokens if len(t) > 1]
    if not long:
        return tokens[-1] if tokens else ""
    return long[-1] if len(tokens[0]) == 1 else long[0]  # "B. Abrahao" / "Zhai QJ"


def authors_key(authors: Any, limit: int = 6) -> tuple[str, str]:
    """(name tokens of the first `limit` authors, first author's surname).

    All tokens of two letters or more, not only surnames: exports swap family
    and given names ("Ching-yi, Wu") and token_set_ratio then still matches.
    """
    names = author_names(authors)
    if len(names) == 1 and names[0].count(".") > 3 and "," not in names[0]:
        # "Tan A.Schulze A.O'Donnell C. P." (Ovid): split after initials before a capital
        names = re.split(r"(?<=\.)(?=[A-Z][a-z])", names[0])
    names = names[:limit]
    tokens = [t for t in fold(" ; ".join(names)).split()
              if len(t) > 1 and t not in ("jr", "unknown", "anonymous", "et", "al")]
    first = surname(names[0]).split() if names else []
    return " ".join(tokens), (first[-1] if first else "")


@lru_cache(maxsize=65536)
def venue_key(venue: str | None) -> str:
    text = JOURNAL_CONFERENCE.sub("", str(venue or ""))
    tokens = []
    for token in fold(text).split():
        if token in STOPWORDS or (token.isdigit() and len(token) == 4):
            continue
        tokens.extend(VENUE_ALIASES.get(token, token).split())
    return " ".join(tokens)


@lru_cache(maxsize=65536)
def _fold_cached(text: str | None) -> str:
    return fold(text)


@lru_cache(maxsize=65536)
def _is_conference(venue: str | None) -> bool:
    return bool(CONFERENCE_WORDS.search(fold(JOURNAL_CONFERENCE.sub("", venue or ""))))


@lru_cache(maxsize=262144)
def venue_similarity(a: str, b: str) -> float:
    """0-100; an abbreviation ("Curr Opin Lipidol") matches its full form."""
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return 100.0
    ta, tb = a.split(), b.split()
    if ta and tb and _abbreviated_pairs(ta, tb) == min(len(ta), len(tb)):
        return 95.0
    return max(fuzz.ratio(a, b), fuzz.token_set_ratio(a, b) * 0.9)


def _abbreviates(short: str, word: str) -> bool:
    """"natl" -> "national", "acad" -> "academy": same first letter, letters in order."""
    if word.startswith(short):
        return True
    if short[0] != word[0] or len(short) < 3:
        return False
    rest = iter(word)
    return all(c in rest for c in short)


def _abbreviated_pairs(ta: list[str], tb: list[str]) -> int:
    """How many tokens pair up, in order, one abbreviating the other."""
    i = j = matched = 0
    while i < len(ta) and j < len(tb):
        if _abbreviates(ta[i], tb[j]) or _abbreviates(tb[j], ta[i]):
            matched, i, j = matched + 1, i + 1, j + 1
        elif len(ta) - i > len(tb) - j:
            i += 1
        else:
            j += 1
    return matched


def pages_key(pages: str | None) -> tuple[str, str]:
    """("73", "76") from "73-6", "73--76", "pp. 73-76", "c37-c42"; ("cd002273", "") from article numbers."""
    text = fold(pages).replace("pp ", "")
    parts = [p for p in text.split() if p]
    if not parts:
        return "", ""
    parts = [re.sub(r"^[a-z](?=\d)", "", p) for p in parts[:2]]
    first, last = parts[0].lstrip("0") or parts[0], (parts[1] if len(parts) > 1 else "")
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return first, last


def year_of(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", str(value or ""))
    return int(match.group(1)) if match else None


def number_of(value: Any) -> str:
    """The first number in a volume/issue field ("4 (1) (no pagination)" -> "4")."""
    match = re.search(r"\d+", str(value or ""))
    return match.group(0).lstrip("0") if match else ""


def plausible_number(value: Any, year: int | None) -> str:
    """The volume (or issue) number, or "" when the field cannot be one.

    Exports cut "50(Suppl. 1)" into volume "1)" and issue "SUPPL. 1", put the supplement in
    the volume ("Suppl 2"), or the year ("2016", "2015-April"): such a field says nothing
    against the other record's real volume, so it is treated as missing rather than as a
    conflict. A volume with its supplement after it ("9 Suppl 23") keeps its number.
    """
    text = str(value or "").strip()
    number = number_of(text)
    if not number or IMPLAUSIBLE_NUMBER.match(text):
        return ""
    if len(number) == 4 and year_of(number) and (year is None or abs(int(number) - year) <= 1):
        return ""
    return number


def doi_base(doi: str | None) -> str | None:
    """The normalised DOI without a version suffix (".pub2", "v3"): one work's versions share it."""
    doi = normalise_doi(doi)
    return DOI_VERSION.sub("", doi) if doi else None


def prepare(record: Any) -> Prepared:
    """Match keys for a `Record`, a database row or a plain dict."""
    get = record.get if isinstance(record, Mapping) else lambda k, d=None: getattr(record, k, d)
    doi = normalise_doi(get("doi"))
    title = title_key(get("title"))
    relation, base = None, title
    for name, pattern in RELATED_PREFIXES:
        match = pattern.match(title)
        if match and len(title) > match.end() + 10:
            relation, base = name, title[match.end():].strip()
            break
    pointer = ERRATUM_POINTER.search(title)
    if pointer and not relation:  # Web of Science errata: "<title> (vol 85, pg 553, 2010)"
        relation, base = "erratum", title[:pointer.start()].strip()
    series, numbers = title_numbers(base)
    authors, first = authors_key(get("authors"))
    raw_venue = get("venue")
    venue = venue_key(raw_venue)
    first_page, last_page = pages_key(get("pages"))
    kind = (get("type") or "").lower()
    preprint_venue = bool(PREPRINT_VENUES.search(_fold_cached(raw_venue)))
    abstract = get("abstract") or ""
    abstract_chars = get("abstract_chars") or len(abstract)  # load_prepared reads only the head
    year = year_of(get("year"))
    return Prepared(
        id=str(get("id")),
        doi=doi,
        doi_base=doi_base(doi),
        pmid=str(get("pmid")).strip() if get("pmid") else None,
        openalex_id=str(get("openalex_id")).strip() if get("openalex_id") else None,
        title=title,
        title_generic=title in GENERIC_TITLES or len(title) < 12 or bool(RECURRING.search(title)),
        series=series,
        numbers=numbers,
        relation=relation,
        base_title=base,
        authors=authors,
        first_author=first,
        year=year,
        venue=venue,
        venue_full=_fold_cached(raw_venue),
        venue_conference=_is_conference(raw_venue),
        preprint=kind in ("preprint", "posted-content") or preprint_venue or bool(
            not raw_venue and doi and doi.startswith(PREPRINT_DOI_PREFIXES)),
        volume=plausible_number(get("volume"), year),
        issue=plausible_number(get("issue"), year),
        first_page=first_page,
        last_page=last_page,
        abstract_head=abstract[:ABSTRACT_HEAD] if abstract_chars >= ABSTRACT_MIN_CHARS else "",
        abstract_chars=abstract_chars,
    )


# --- blocking ------------------------------------------------------------------


def block_keys(p: Prepared) -> list[tuple]:
    """Keys that put likely duplicates into the same small block."""
    keys: list[tuple] = []
    if p.doi_base:
        keys.append(("doi", p.doi_base))
    if p.pmid:
        keys.append(("pmid", p.pmid))
    if p.openalex_id:
        keys.append(("oa", p.openalex_id))
    squashed = p.base_title.replace(" ", "")
    if len(squashed) >= 12:
        keys.append(("t0", squashed[:20]))
        keys.append(("t1", squashed[-20:]))
    if p.first_author and p.year:
        keys.append(("ay", p.first_author, p.year))
    if p.first_page and p.volume:
        keys.append(("vp", p.volume, p.first_page))
    return keys


WEAK_KEYS = {"ay", "vp"}


def candidate_pairs(prepared: list[Prepared], new_ids: set[str] | None = None,
                    skip: set[tuple] | frozenset = frozenset()) -> set[tuple[int, int]]:
    """Index pairs (i < j) sharing a block; with `new_ids`, only pairs touching a new record.

    `skip`: blocks known (from the whole database) to be weak blocks over MAX_BLOCK, when
    `prepared` holds only part of the database (an incremental run).
    """
    n = len(prepared)
    return {divmod(int(code), n) for code in _pair_codes(prepared, new_ids, skip)}


def _blocks(prepared: list[Prepared], skip: set[tuple] | frozenset) -> Iterator[tuple[list[int], int]]:
    """Each block to compare, as (member indices, window): a member meets the next `window`."""
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        for key in block_keys(p):
            blocks[key].append(i)
    for key, members in blocks.items():
        if len(members) < 2 or (key[0] in WEAK_KEYS and len(members) > MAX_BLOCK) or key in skip:
            continue
        if len(members) > MAX_BLOCK:
            # A common title start ("the effect of ..."): compare only near neighbours in
            # title order (sorted neighbourhood), so a big block costs n * window, not n^2.
            yield sorted(members, key=lambda i: prepared[i].base_title), NEIGHBOURHOOD
        else:
            yield members, len(members)


def _pair_codes(prepared: list[Prepared], new_ids: set[str] | None,
                skip: set[tuple] | frozenset) -> np.ndarray:
    """Every candidate pair once, as the int64 code i * n + j (i < j), in ascending order.

    Built as arrays, blocks of one size at a time, not as a set of tuples: at 500,000
    records the blocks hold ~19 million pairs, which as tuples took 2 GB and a minute to sort.
    """
    n = len(prepared)
    by_size: dict[int, list[list[int]]] = defaultdict(list)
    chunks: list[np.ndarray] = []
    for members, window in _blocks(prepared, skip):
        if window >= len(members):
            by_size[len(members)].append(members)  # in index order: each pair is (smaller, larger)
            continue
        m = np.asarray(members, dtype=np.int64)
        first = np.concatenate([m[:-k] for k in range(1, window + 1)])
        second = np.concatenate([m[k:] for k in range(1, window + 1)])
        chunks.append(np.minimum(first, second) * n + np.maximum(first, second))
    for size, blocks in by_size.items():
        rows, (x, y) = np.asarray(blocks, dtype=np.int64), np.triu_indices(size, 1)
        chunks.append((rows[:, x] * n + rows[:, y]).ravel())
    codes = np.sort(np.concatenate([np.empty(0, dtype=np.int64), *chunks]))
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    codes = codes[first]  # each once (a sort and a look back: np.unique hashes, 10x slower)
    if new_ids is not None:
        new = np.fromiter((p.id in new_ids for p in prepared), dtype=bool, count=n)
        codes = codes[new[codes // n] | new[codes % n]]
    return codes


# --- scoring -------------------------------------------------------------------


def score_pair(a: Prepared, b: Prepared) -> Pair:
    """Decide one pair: merge, review, related or distinct, with the method and field scores."""
    if a.id > b.id:
        a, b = b, a
    title = fuzz.ratio(a.title, b.title) if a.title and b.title else 0.0
    short, long = _short_long(a.base_title, b.base_title)
    prefix, suffix = is_prefix(short, long), is_suffix(short, long)
    details: dict[str, Any] = {"title": round(title, 1)}
    if prefix and title < TITLE_SAME:
        details["title_prefix"] = True
    if suffix and title < TITLE_SAME:
        details["title_suffix"] = True
    authors = fuzz.token_set_ratio(a.authors, b.authors) if a.authors and b.authors else None
    if authors is not None:
        details["authors"] = round(authors, 1)
    venue = venue_similarity(a.venue, b.venue) if a.venue and b.venue else None
    if venue is not None:
        details["venue"] = round(venue, 1)
    years = abs(a.year - b.year) if a.year and b.year else None
    if years is not None:
        details["years_apart"] = years

    def pair(score: float, method: str, outcome: str) -> Pair:
        return Pair(a.id, b.id, round(score / 100, 3), method, outcome, details)

    def review(score: float, method: str) -> Pair:
        """A near miss: decided distinct when the records are plainly two works, else queued."""
        reason = apart_reason(a, b, details)
        if reason:
            details["decided"] = reason
            return pair(score, method, "distinct")
        details["likelihood"] = duplicate_likelihood(details)
        return pair(score, method, "review")

    # 1. Exact identifiers.
    for method, x, y in (("doi", a.doi, b.doi), ("pmid", a.pmid, b.pmid),
                         ("openalex", a.openalex_id, b.openalex_id)):
        if x and x == y:
            titled = bool(a.title and b.title) and not prefix and not a.title_generic
            # Each abstract of a journal supplement may carry the supplement's one DOI: a
            # shared identifier is not enough when titles differ and pages or authors do too.
            if titled and (title < TITLE_MIN_FOR_DOI or title < TITLE_SAME and (
                    _pages_differ(a, b) or (authors is not None and authors < AUTHORS_SAME))):
                details["conflict"] = f"same {method}, different titles"
                return review(title, method)
            return pair(100, method, "merge")
    # 2. Related, not the same: errata, retractions, comments, preprint vs published.
    if a.relation != b.relation and (a.relation or b.relation):
        base = fuzz.ratio(a.base_title, b.base_title) if a.base_title and b.base_title else 0
        if base >= TITLE_SAME:
            details["relation"] = a.relation or b.relation
            if details["relation"] == "erratum" and authors is not None and authors >= AUTHORS_STRONG \
                    and (venue or 0) >= VENUE_STRONG and same_abstract(a, b):
                return pair(base, "erratum-copy", "merge")  # the article indexed again under the erratum
            return pair(base, "relation", "related")
        return pair(title, "fuzzy", "distinct")
    authors_ok = authors is None or authors >= AUTHORS_SAME
    if a.preprint != b.preprint and title >= TITLE_SAME and authors_ok:
        details["relation"] = "preprint"
        return pair(title, "relation", "related")
    # 3. Evidence that two records are different works.
    located = bool(a.volume and a.volume == b.volume and a.first_page and a.first_page == b.first_page)
    same_pages = located and bool(a.last_page) and a.last_page == b.last_page
    hard = _hard_conflict(a, b, years)
    if hard == "journal vs conference" and same_pages and years == 0 and title >= TITLE_EXACT \
            and authors is not None and authors >= AUTHORS_STRONG:
        hard = None  # a proceedings volume catalogued as a book series (digital_work, Springer AISC)
    if hard:
        details["conflict"] = hard
        if hard == "doi version" and title >= TITLE_SAME and authors_ok:
            return pair(title, "doi-version", "merge")
        if hard == "different DOIs" and title >= TITLE_EXACT and authors is not None \
                and authors >= AUTHORS_STRONG and (years or 0) <= 1:
            if (venue or 0) >= VENUE_STRONG and same_abstract(a, b):
                return pair(title, "republication", "merge")  # one text registered twice
            return review(title, "fuzzy")  # a republication, or a series: a person decides
        return pair(title, "fuzzy", "distinct")
    if a.title_generic or b.title_generic:
        same_issue = located and a.issue == b.issue and years == 0
        return pair(title, "fuzzy", "merge" if same_issue and title >= TITLE_SAME and authors_ok else "distinct")
    soft = _soft_conflicts(a, b, years, venue)
    if soft:
        details["soft_conflicts"] = soft
    strong_authors = authors is not None and authors >= AUTHORS_STRONG
    # 4. Fuzzy title + authors + location.
    if title >= TITLE_SAME and authors_ok:
        if not soft:
            # Proceedings often carry the year after the conference; journals' online-first
            # records are the other year-apart case and need the same journal name.
            needed = VENUE_STRONG if a.venue_conference and b.venue_conference else VENUE_SAME_NAME
            if years == 1 and not located and (venue is None or venue < needed):
                return review(title, "fuzzy")  # an online-first and an issue record, or two editions
            if authors is not None or located or (venue or 0) >= VENUE_STRONG and years == 0:
                return pair(title, "fuzzy", "merge")
            return review(title, "fuzzy")
        # Same title, authors, year: a venue spelled two ways, or a conference abstract and
        # the article in one journal volume (haematology, stroke count these as one).
        in_volume = (venue or 0) >= VENUE_STRONG and bool(a.volume) and a.volume == b.volume
        # Pages and issue both differing is an erratum or a second piece (haematology FPs).
        tolerable = set(soft) in ({"venues differ"}, {"pages differ"}, {"issues differ"},
                                  {"venues differ", "pages differ"}) and (
            in_volume or set(soft) == {"venues differ"})
        if tolerable and title >= TITLE_EXACT and strong_authors and years == 0:
            return pair(title, "fuzzy", "merge")
        return review(title, "fuzzy")
    if located and years == 0 and authors_ok and (title >= TITLE_SAME_WITH_LOCATION or prefix):
        return pair(title, "fuzzy-location", "merge")
    # A translated title: same authors, venue, volume, page range and year (digital_work
    # German/English pairs). ACM-style articles all start at page 1, hence the last page.
    if located and a.last_page and a.last_page == b.last_page and strong_authors and years == 0 \
            and (venue or 0) >= VENUE_STRONG and not soft:
        return pair(title, "location", "merge")
    if (prefix or suffix) and strong_authors and years == 0 and not soft and (
            (venue or 0) >= VENUE_STRONG or (a.first_page and a.first_page == b.first_page)):
        return pair(title, "fuzzy-prefix" if prefix else "fuzzy-suffix", "merge")
    if (title >= TITLE_REVIEW or prefix) and authors_ok:
        return review(title, "fuzzy")
    return pair(title, "fuzzy", "distinct")


def apart_reason(a: Prepared, b: Prepared, details: Mapping[str, Any]) -> str | None:
    """Why a near miss is plainly two works, or None when a person should look.

    Each rule is general (an identifier or a place in print that two copies of one work
    cannot disagree on) and was checked on all five labelled sets, where it decides
    only pairs labelled distinct but two whose labels contradict their own twins (a
    conference abstract printed in two journals' supplements, stroke and haematology):
    - one DOI on two records whose titles share no word, or whose pages or authors
      differ: a supplement's or an issue's DOI carried by each abstract in it, or a DOI
      wrongly copied (edge_case_pairs: Attili vs Annabi);
    - two DOIs and two places in print (volume, issue or first page) or two years: a
      yearly column ("Editorial Notes", a minitrack's introduction) or a series
      (digital_work, special_cases: all 476 such pairs are distinct; a republication
      with the same abstract merged before this);
    - two of another journal, volume and first page: the same title printed twice (an
      abstract and its article, a reprint), which the sets count as two works;
    - a year apart in another volume or a journal named otherwise (a conference abstract
      and the next year's article; two years of a column), or a year apart with nothing
      but the title to compare (trial registrations without authors or venue);
    - a title that is not the same on other pages of one journal: two items of one
      issue or series ("Gateways to clinical trials: April 2004").
    An online-first record and its issue (no volume yet, pages 1-n) meets none of these.
    """
    conflict = details.get("conflict") or ""
    if conflict.startswith("same "):
        if not _content_words(a.title) & _content_words(b.title):
            return "one identifier, titles share no word"
        if _pages_differ(a, b):
            return "one identifier, different pages: a supplement's or an issue's DOI"
        if details.get("authors", 100) < AUTHORS_SAME:
            return "one identifier, different authors"
        return None
    if conflict == "different DOIs" and (_places_differ(a, b) or details.get("years_apart")):
        return "different DOIs and places in print or years"
    soft = set(details.get("soft_conflicts", ()))
    places = soft & {"venues differ", "volumes differ", "pages differ"}
    if len(places) >= 2:
        return "printed in two places: " + ", ".join(sorted(places))
    if details.get("years_apart") == 1:
        if "volumes differ" in soft or details.get("venue", 100) < VENUE_STRONG:
            return "a year apart in another volume or venue"
        if "authors" not in details and "venue" not in details:
            return "a year apart with only the title to compare"
    if "pages differ" in soft and details.get("title", 0) < TITLE_SAME:
        return "another title on other pages of one journal"
    return None


def _pages_differ(a: Prepared, b: Prepared) -> bool:
    return bool(a.first_page and b.first_page and a.first_page != b.first_page)


def _content_words(title: str) -> set[str]:
    return {w for w in title.split() if len(w) > 3 and w not in STOPWORDS}


def _places_differ(a: Prepared, b: Prepared) -> bool:
    return any(x and y and x != y for x, y in ((a.volume, b.volume), (a.issue, b.issue),
                                              (a.first_page, b.first_page)))


def duplicate_likelihood(details: Mapping[str, Any]) -> float:
    """0-1: how likely a queued pair is one work, to put the likeliest first.

    The title similarity, discounted for each missing or weak piece of evidence. The
    factors are deliberately coarse: on the labelled sets the queue's duplicates are the
    pairs with agreeing authors, the same year and at most one soft conflict.
    """
    likelihood = details.get("title", 0) / 100
    authors = details.get("authors")
    likelihood *= 0.85 if authors is None else 1.0 if authors >= AUTHORS_STRONG else \
        0.9 if authors >= AUTHORS_SAME else 0.6
    likelihood *= {0: 1.0, 1: 0.8}.get(details.get("years_apart"), 0.9)
    likelihood *= 0.75 ** len(details.get("soft_conflicts", ()))
    if details.get("conflict"):
        likelihood *= 0.5
    return round(likelihood, 3)


def _hard_conflict(a: Prepared, b: Prepared, years: int | None) -> str | None:
    if a.series != b.series:
        return "series numbers differ"
    if a.doi and b.doi and a.doi != b.doi:
        return "doi version" if a.doi_base == b.doi_base else "different DOIs"
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return "numbers in titles differ"
    if years is not None and years > 1:
        return "years differ"
    if a.venue and b.venue and a.venue_conference != b.venue_conference:
        # "J Thromb Haemost.Conference: 23rd Congress of ..." holds the congress's own name.
        short, long = sorted((a.venue_full, b.venue_full), key=len)
        if not (len(short) >= 15 and short in long):
            return "journal vs conference"
    return None


def is_prefix(short: str, long: str) -> bool:
    """`short` is `long` without its end (a subtitle dropped), and long enough (PREFIX_MIN_CHARS)."""
    return len(short) >= PREFIX_MIN_CHARS and long.startswith(short)


def is_suffix(short: str, long: str) -> bool:
    """`short` is `long` without some leading words, and most of it (SUFFIX_MIN_*)."""
    return len(short) >= SUFFIX_MIN_CHARS and len(short) >= SUFFIX_MIN_SHARE * len(long) \
        and long.endswith(" " + short)


def same_abstract(a: Prepared, b: Prepared) -> bool:
    """Both abstracts given, long, of about the same length and the same text (first characters, folded)."""
    if not a.abstract_head or not b.abstract_head:
        return False
    longer = max(a.abstract_chars, b.abstract_chars)
    if abs(a.abstract_chars - b.abstract_chars) > ABSTRACT_LENGTH_SLACK * longer:
        return False
    ha, hb = fold(a.abstract_head), fold(b.abstract_head)
    n = min(len(ha), len(hb)) - 20  # the cut at ABSTRACT_HEAD may fall mid-word differently
    return n >= ABSTRACT_MIN_CHARS // 2 and ha[:n] == hb[:n]


def _soft_conflicts(a: Prepared, b: Prepared, years: int | None, venue: float | None) -> list[str]:
    found = []
    if venue is not None and venue < VENUE_SAME:
        found.append("venues differ")
    # A year put in the volume field is no volume (plausible_number: digital_work's Kasriel,
    # HBR "2016" vs 94; no labelled pair is split by it alone), nor is a supplement fragment.
    if a.volume and b.volume and a.volume != b.volume:
        found.append("volumes differ")
    elif years == 0 and a.issue and b.issue and a.issue != b.issue and max(int(a.issue), int(b.issue)) < 100:
        # Issue numbers above 99 are record numbers some exports put there (respiratory).
        found.append("issues differ")
    # Online-first records are paged 1-n before the issue assigns real pages.
    online_first = bool(years) and "1" in (a.first_page, b.first_page)
    if a.first_page and b.first_page and a.first_page != b.first_page and not online_first \
            and not (a.last_page and a.last_page == b.last_page):
        found.append("pages differ")
    return found


def find_duplicates(records: Iterable[Any], new_ids: set[str] | None = None) -> list[Pair]:
    """Score every candidate pair (blocked, never all-pairs); pairs judged distinct are dropped
    unless they were close calls worth keeping for --explain (title >= TITLE_REVIEW)."""
    prepared = [r if isinstance(r, Prepared) else prepare(r) for r in records]
    return score_candidates(prepared, new_ids)


def score_candidates(prepared: list[Prepared], new_ids: set[str] | None = None,
                     skip: set[tuple] | frozenset = frozenset()) -> list[Pair]:
    """Scored pairs worth keeping: all but the clearly distinct (kept for --explain when close
    or decided by a rule)."""
    n, out = len(prepared), []
    for code in worth_scoring(prepared, _pair_codes(prepared, new_ids, skip)):
        i, j = divmod(int(code), n)
        result = score_pair(prepared[i], prepared[j])
        if result.outcome != "distinct" or result.details.get("title", 0) >= TITLE_REVIEW \
                or "decided" in result.details:  # kept so --explain shows why
            out.append(result)
    return out


def _short_long(x: str, y: str) -> tuple[str, str]:
    """(shorter, longer), the first when equal: sorted(key=len) without its cost per pair."""
    return (y, x) if len(y) < len(x) else (x, y)


WORTH_SLICE = 2_000_000  # pairs judged per numpy pass: bounds the arrays' memory


def worth_scoring(prepared: list[Prepared], codes: np.ndarray) -> np.ndarray:
    """The pair codes (i * n + j) worth a full score: a cheap first look, most blocked pairs
    sharing a surname and a year and nothing else.

    Every rule in score_pair that can end in merge, review or related needs a shared
    identifier (DOI, PMID, OpenAlex id), the same volume and first page, one base title
    the start or the end of the other (is_prefix, is_suffix), or base titles at least
    TITLE_SAME_WITH_LOCATION close. An ending is always that close (it covers at least
    SUFFIX_MIN_SHARE of the longer title, so fuzz.ratio >= 2 * 0.75 / 1.75 = 85.7), so it
    needs no test of its own. Judged on whole arrays of pairs, as is_prefix and fuzz.ratio
    would judge each: equal keys by integer codes, the titles by rapidfuzz's pairwise C loops.
    """
    n = len(prepared)
    keys = [_key_codes(values) for values in (
        (p.doi_base for p in prepared), (p.pmid for p in prepared), (p.openalex_id for p in prepared),
        ((p.volume, p.first_page) if p.volume and p.first_page else None for p in prepared))]
    titles = np.array([p.base_title for p in prepared], dtype=object)
    chars = np.fromiter((len(p.base_title) for p in prepared), dtype=np.int64, count=n)
    kept = []
    for start in range(0, len(codes), WORTH_SLICE):
        part = codes[start:start + WORTH_SLICE]
        i, j = part // n, part % n
        worth = np.zeros(len(part), dtype=bool)
        for key in keys:
            worth |= key[i] == key[j]
        # (short, long) as _short_long orders them: the first of the pair when equally long.
        swap = chars[j] < chars[i]
        short, long = np.where(swap, j, i), np.where(swap, i, j)
        worth |= _starts(titles, short, long, chars, ~worth & (chars[short] >= PREFIX_MIN_CHARS))
        rest = np.flatnonzero(~worth)
        close = process.cpdist(titles[i[rest]], titles[j[rest]], scorer=fuzz.ratio,
                               score_cutoff=TITLE_SAME_WITH_LOCATION)
        worth[rest[close > 0]] = True
        kept.append(part[worth])
    return np.concatenate(kept) if kept else codes


def _starts(titles: np.ndarray, short: np.ndarray, long: np.ndarray, chars: np.ndarray,
            where: np.ndarray) -> np.ndarray:
    """is_prefix for the pairs `where` says (its length rule already applied): the long title
    starts with the whole short one."""
    out, at = np.zeros(len(short), dtype=bool), np.flatnonzero(where)
    common = process.cpdist(titles[short[at]], titles[long[at]], scorer=Prefix.similarity)
    out[at] = common == chars[short[at]]
    return out


def _key_codes(values: Iterable[Any]) -> np.ndarray:
    """One int per record: equal for equal values, and for an empty value one no other has."""
    seen: dict[Any, int] = {}
    return np.array([seen.setdefault(v, len(seen)) if v else -1 - i for i, v in enumerate(values)],
                    dtype=np.int64)


# --- clustering ----------------------------------------------------------------


def cluster(
    ids: Iterable[str],
    merges: Iterable[tuple[str, str, float]],
    cannot_link: Iterable[tuple[str, str]] = (),
    dois: Mapping[str, str] | None = None,
    forced: Iterable[tuple[str, str]] = (),
    doi_bridges: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """Group ids by merge pairs (highest score first); returns id -> group representative.

    `forced` pairs (a person's "same" verdict) are joined first. Two groups are never
    joined when a cannot-link pair (a person's "different" verdict) spans them, nor,
    by the machine, when each carries a different DOI: that stops a chain of fuzzy
    matches from gluing two distinct published papers together. The exception is a
    merge pair in `doi_bridges` (a republication or an erratum copy: the pair itself was
    judged one text under two DOIs), which may join its two DOIs' groups.
    """
    bridges = {(min(x, y), max(x, y)) for x, y in doi_bridges}
    parent = {i: i for i in ids}
    members: dict[str, set[str]] = {i: {i} for i in parent}
    group_dois: dict[str, set[str]] = {i: ({dois[i]} if dois and dois.get(i) else set()) for i in parent}
    apart: dict[str, set[str]] = defaultdict(set)
    for x, y in cannot_link:
        apart[x].add(y)
        apart[y].add(x)

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    ordered = [(x, y, True) for x, y in sorted(forced)]
    ordered += [(x, y, False) for x, y, _s in sorted(merges, key=lambda m: (-m[2], m[0], m[1]))]
    for x, y, by_person in ordered:
        if x not in parent or y not in parent:
            continue
        rx, ry = find(x), find(y)
        if rx == ry:
            continue
        if not by_person and group_dois[rx] and group_dois[ry] and not group_dois[rx] & group_dois[ry] \
                and (min(x, y), max(x, y)) not in bridges:
            continue
        small, big = (rx, ry) if len(members[rx]) <= len(members[ry]) else (ry, rx)
        if any(other in members[big] for m in members[small] for other in apart.get(m, ())):
            continue
        root, child = min(rx, ry), max(rx, ry)
        parent[child] = root
        members[root] |= members.pop(child)
        group_dois[root] |= group_dois.pop(child)
    return {i: find(i) for i in parent}
