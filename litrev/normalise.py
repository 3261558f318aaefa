"""Pure functions: a source's raw record in, a normalised `Record` out.

Nothing here touches the network or the database, so normalising can be
re-run offline from the raw JSON kept in `records.raw`.
"""

import html
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|urn:doi:)", re.IGNORECASE)
DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")


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
        return asdict(self)


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
    plain = SPACES.sub(" ", html.unescape(TAGS.sub(" ", text))).strip()
    return plain or None


def normalise_title(title: str | None) -> str:
    """A matching key for titles: no markup or accents, lower case, letters and digits only."""
    if not title:
        return ""
    text = unicodedata.normalize("NFKD", strip_markup(title) or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return SPACES.sub(" ", re.sub(r"[^a-z0-9]+", " ", text)).strip()
