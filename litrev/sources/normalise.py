"""Pure functions: a source's raw record in, a normalised `Record` out.

Nothing here touches the network or the database, so normalising can be
re-run offline from the raw JSON kept in `records.raw`.
"""

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any

DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|urn:doi:)", re.IGNORECASE)
DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")
# Inline (character-level) tags vanish without a space, so "<i>E. coli</i>," stays "E. coli,";
# every other tag (paragraphs, list items, titles) becomes a word break.
INLINE_TAGS = re.compile(
    r"</?(?:jats:|mml:)?(?:italic|bold|sc|sup|sub|underline|monospace|styled-content|i|b|em|"
    r"strong|span|u|small|inline-formula)(?:\s[^>]*)?/?>",
    re.IGNORECASE,
)
# JATS abstracts open with a heading ("Abstract", "Summary") that is not part of the text;
# section headings inside ("Aim", "Methods") are kept as "Aim: ...".
ABSTRACT_HEADING = re.compile(
    r"^\s*<(?:jats:)?title>\s*(?:abstract|summary|graphical abstract)\s*[.:]?\s*</(?:jats:)?title>",
    re.IGNORECASE,
)
SECTION_TITLE = re.compile(r"<(?:jats:)?title>(.*?)</(?:jats:)?title>", re.IGNORECASE | re.DOTALL)
NAME_PARTICLES = {
    "van", "von", "de", "der", "den", "del", "della", "di", "da", "das", "dos", "du", "la", "le",
    "ter", "ten", "bin", "ibn", "al", "el", "st", "st.", "zu", "vom",
}
NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


@dataclass
class Record:
    """One bibliographic record as one source described it, normalised.

    `id` is the stable natural key: `openalex:W123`, `crossref:10.1000/x`, or
    `<import source>:<original id>`. Lists are plain Python lists here and JSON
    in the database.
    """

    id: str
    source: str
    source_id: str
    raw: dict[str, Any]
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    publication_date: str | None = None
    venue: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    openalex_id: str | None = None
    type: str | None = None
    language: str | None = None
    countries: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    source_updated: str | None = None

    def as_row(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies `raw` (~20 ms for a rich
        # OpenAlex work), which capped harvests at ~30 records/s.
        return {f.name: getattr(self, f.name) for f in fields(self)}


def author_list(value: Any) -> list[str]:
    """A stored `authors` value (JSON list text) as a list; "A; B" text is split too."""
    if not value:
        return []
    if isinstance(value, list):
        return [str(a) for a in value]
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return [a.strip() for a in str(value).split(";") if a.strip()]
    return [str(a) for a in loaded if a] if isinstance(loaded, list) else [str(loaded)]


def normalise_doi(value: str | None) -> str | None:
    """`https://doi.org/10.1000/ABC` -> `10.1000/abc`; anything not DOI-shaped -> None.

    DOIs are case-insensitive by specification, so lower-casing is safe.
    """
    if not value:
        return None
    doi = DOI_PREFIXES.sub("", value.strip()).strip().rstrip(".").lower()
    return doi if DOI_SHAPE.match(doi) else None


def strip_markup(text: str | None) -> str | None:
    """Plain text from JATS/HTML fragments: tags removed, entities decoded, spaces folded."""
    if text is None:
        return None
    if "<" in text:  # most text has no markup: skip the regexes (a harvest strips every abstract)
        text = TAGS.sub(" ", INLINE_TAGS.sub("", text))
    if "&" in text:
        text = html.unescape(text)
    plain = " ".join(text.split())  # the same as SPACES.sub(" ", text), twice as fast
    return plain or None


def normalise_title(title: str | None) -> str:
    """A matching key for titles: no markup or accents, lower case, letters and digits only."""
    if not title:
        return ""
    text = unicodedata.normalize("NFKD", strip_markup(title) or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return SPACES.sub(" ", re.sub(r"[^a-z0-9]+", " ", text)).strip()


def rebuild_abstract(inverted_index: dict[str, list[int]] | None) -> str | None:
    """OpenAlex's `abstract_inverted_index` back to text.

    Each word maps to every position it holds ("in": [3, 57, 73]), so a word is
    placed once per position and the text is read in position order.
    """
    if not inverted_index:
        return None
    places = [p for p in inverted_index.values() if p]
    if not places:
        return None
    size = 1 + max(map(max, places))
    if size > 4 * sum(map(len, places)) + 1000:  # far-apart positions: sort, don't allocate
        at = {place: word for word, positions in reversed(inverted_index.items())
              for place in positions or ()}
        return strip_markup(" ".join(at[place] for place in sorted(at)))
    # One slot per position: twice as fast as sorting the positions.
    slots: list[str | None] = [None] * size
    for word, positions in reversed(inverted_index.items()):  # the first word listed wins
        for place in positions or ():
            slots[place] = word
    return strip_markup(" ".join([w for w in slots if w is not None]))


def normalise_jats(text: str | None) -> str | None:
    """A Crossref JATS abstract as plain text, without its "Abstract" heading."""
    if not text:
        return None
    body = ABSTRACT_HEADING.sub("", text)
    body = SECTION_TITLE.sub(lambda m: f" {(strip_markup(m.group(1)) or '').rstrip(':.')}: ", body)
    return strip_markup(body)


def author_name(display_name: str | None) -> str | None:
    """"Heather A. Piwowar" -> "Piwowar, Heather A."; "Ludwig van Beethoven" -> "van Beethoven, Ludwig".

    A name already written "Family, Given" is kept; a single word (an organisation,
    a mononym) stays as it is. Suffixes go after the given names ("King, Martin L. Jr.").
    """
    if not display_name:
        return None
    name = SPACES.sub(" ", display_name).strip()
    if not name or "," in name:
        return name or None
    words = name.split(" ")
    suffix = []
    while len(words) > 2 and words[-1].lower() in NAME_SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) == 1:
        return " ".join(words + suffix)
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in NAME_PARTICLES:
        start -= 1
    return f"{' '.join(words[start:])}, {' '.join(words[:start] + suffix)}"


def openalex_short_id(value: str | None) -> str | None:
    """`https://openalex.org/W2741809807` -> `W2741809807`."""
    if not value:
        return None
    return str(value).rstrip("/").rsplit("/", 1)[-1].upper() or None


def _pmid(value: Any) -> str | None:
    match = re.search(r"(\d+)/?$", str(value or ""))
    return match.group(1) if match else None


def _pmcid(value: Any) -> str | None:
    match = re.search(r"(?:PMC)?(\d+)/?$", str(value or ""), re.IGNORECASE)
    return f"PMC{match.group(1)}" if match else None


def _unique(values) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def record_from_openalex(work: dict[str, Any]) -> Record:
    """An OpenAlex work (from `/works` or `/works/W...`) as a `Record`."""
    ids = work.get("ids") or {}
    short = openalex_short_id(work.get("id") or ids.get("openalex"))
    if not short:
        raise ValueError("an OpenAlex work without an id")
    biblio = work.get("biblio") or {}
    location = work.get("primary_location") or {}
    source = location.get("source") or {}
    authorships = work.get("authorships") or []
    countries = set()
    for authorship in authorships:
        countries.update(c for c in authorship.get("countries") or [] if c)
        countries.update(i.get("country_code") for i in authorship.get("institutions") or []
                         if i and i.get("country_code"))
    keywords = [k.get("display_name") for k in work.get("keywords") or [] if isinstance(k, dict)]
    keywords += [m.get("descriptor_name") for m in work.get("mesh") or [] if isinstance(m, dict)]
    doi = normalise_doi(work.get("doi") or ids.get("doi"))
    return Record(
        id=f"openalex:{short}",
        source="openalex",
        source_id=short,
        raw=work,
        title=strip_markup(work.get("display_name") or work.get("title")),
        abstract=rebuild_abstract(work.get("abstract_inverted_index")),
        authors=[name for name in (
            author_name((a.get("author") or {}).get("display_name") or a.get("raw_author_name"))
            for a in authorships
        ) if name],
        year=_int(work.get("publication_year")),
        publication_date=work.get("publication_date"),
        venue=source.get("display_name"),
        volume=_text(biblio.get("volume")),
        issue=_text(biblio.get("issue")),
        pages=_pages(biblio.get("first_page"), biblio.get("last_page")),
        doi=doi,
        pmid=_pmid(ids["pmid"]) if ids.get("pmid") else None,
        pmcid=_pmcid(ids["pmcid"]) if ids.get("pmcid") else None,
        openalex_id=short,
        type=work.get("type"),
        language=work.get("language"),
        countries=sorted(c.upper() for c in countries),
        keywords=_unique(keywords),
        identifiers={k: str(v) for k, v in ids.items() if v not in (None, "")},
        url=location.get("landing_page_url") or (f"https://doi.org/{doi}" if doi else work.get("id")),
        source_updated=work.get("updated_date"),
    )


def record_from_crossref(item: dict[str, Any]) -> Record:
    """A Crossref work (an item of `/works`, or the `message` of `/works/{doi}`) as a `Record`."""
    if "DOI" not in item and isinstance(item.get("message"), dict):
        item = item["message"]
    doi = normalise_doi(item.get("DOI"))
    if not doi:
        raise ValueError(f"a Crossref work without a valid DOI: {item.get('DOI')!r}")
    parts = _first_date_parts(item)
    identifiers = {"doi": doi}
    for key in ("ISSN", "ISBN"):
        values = _unique(item.get(key) or [])
        if values:
            identifiers[key.lower()] = "; ".join(values)
    return Record(
        id=f"crossref:{doi}",
        source="crossref",
        source_id=doi,
        raw=item,
        title=_crossref_title(item),
        abstract=normalise_jats(item.get("abstract")),
        authors=[n for n in (_crossref_author(a) for a in item.get("author") or []) if n],
        year=parts[0] if parts else None,
        publication_date="-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts)) or None,
        venue=strip_markup(_first(item.get("container-title"))),
        volume=_text(item.get("volume")),
        issue=_text(item.get("issue")),
        pages=_text(item.get("page")),
        doi=doi,
        type=item.get("type"),
        language=item.get("language"),
        keywords=_unique(item.get("subject") or []),
        identifiers=identifiers,
        url=item.get("URL") or f"https://doi.org/{doi}",
        source_updated=(item.get("indexed") or {}).get("date-time")
        or (item.get("deposited") or {}).get("date-time"),
    )


def _crossref_title(item: dict[str, Any]) -> str | None:
    title = strip_markup(_first(item.get("title")))
    subtitle = strip_markup(_first(item.get("subtitle")))
    if not subtitle or (title and normalise_title(subtitle) in normalise_title(title)):
        return title
    if not title:
        return subtitle
    return f"{title.rstrip(' :')}: {subtitle}"


def _crossref_author(author: dict[str, Any]) -> str | None:
    family, given = (author.get("family") or "").strip(), (author.get("given") or "").strip()
    if family and given:
        return f"{family}, {given}"
    return family or given or (author.get("name") or "").strip() or None


def _first_date_parts(item: dict[str, Any]) -> list[int]:
    """The earliest-known date Crossref gives: `issued`, else print or online publication."""
    for key in ("issued", "published", "published-print", "published-online", "created"):
        parts = ((item.get(key) or {}).get("date-parts") or [[]])[0] or []
        parts = [int(p) for p in parts if p is not None]
        if parts:
            return parts[:3]
    return []


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return next((v for v in value if v), None)
    return value or None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _pages(first: Any, last: Any) -> str | None:
    first, last = _text(first), _text(last)
    if first and last and first != last:
        return f"{first}-{last}"
    return first or last
