"""What the suggesters share: `Suggestion` (key, value, confidence, evidence) and text helpers.

The suggesters are pure, text and metadata in, suggestions out: `litrev.tags.countries`
finds the country of study (ISO 3166 alpha-2, plus the UK nation) and `litrev.tags.designs`
the study design (one of `DESIGNS`). Nothing here touches the database; `litrev.tags.storage`
stores suggestions and people's tags.

Confidence is the tagger's own estimate that a suggestion is right, on 0..1:
>= 0.8 an explicit statement (a country named in the title, "randomised
controlled trial"), 0.5-0.8 a strong clue (a demonym, a city, a design
keyword in the abstract only), < 0.5 weak evidence (author affiliations only,
a single passing mention, a background statistic, an example, a country named
only as the home of a body or a rule, a people beside a named place) shown to
reviewers, with the reason in the evidence, but not counted as suggested.
The thresholds were checked against benchmarks/tagging.py, not tuned per record.
"""

import re
import unicodedata
from dataclasses import dataclass

SUGGESTED = 0.5  # confidence at and above which a suggestion counts as made (benchmarks, gaps)


@dataclass(frozen=True)
class Suggestion:
    key: str  # country | nation | design
    value: str
    confidence: float
    evidence: str


def fold(text: str) -> str:
    """Accents off (Türkiye -> Turkiye), case kept: country names are capitalised in text."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


_BOILERPLATE = re.compile(r"Previous (?:book|article|chapter) ?Next|Figures ?[Rr]eferences|\bCited [Bb]y\b|"
                         r"\[(?:Google Scholar|Cross[Rr]ef|PubMed|Web of Science ®)\]")


def clean_abstract(text: str | None) -> str:
    """Drop what publisher pages append to some OpenAlex abstracts (lists of citing works)."""
    text = text or ""
    m = _BOILERPLATE.search(text)
    return text[: m.start()] if m else text


def blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def sentence_at(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("? ", 0, start), -1) + 1
    right = text.find(". ", end)
    return text[left: right if right >= 0 else len(text)]


def quote(where: str, text: str, start: int, end: int) -> str:
    left = text.rfind(" ", 0, max(0, start - 25)) + 1
    right = text.find(" ", min(len(text), end + 25))
    snippet = text[left: right if right > 0 else len(text)].strip()
    return f'{where}: "{snippet}"'


def unredefine(text: str, acronym: str, expansion: re.Pattern) -> str:
    """Blank out `acronym` when the text defines it as something else:
    "retention control training (RCT)", "Natural Heritage Services (NHS)"."""
    at = text.find(f"({acronym})")
    if at < 0 or expansion.search(text[max(0, at - 60): at]):
        return text
    return re.sub(rf"\b{acronym}s?\b", lambda m: " " * len(m.group(0)), text)
