"""One way to name a work: every command that takes a work goes through `resolve_work`.

People copy ids from wherever they saw the work: litrev's own work id, a record id
(`openalex:W123`, `crossref:10.1000/x`, `scopus:...`), a DOI in any spelling
(`10.1000/X`, `doi:10.1000/x`, `https://doi.org/10.1000/x`), a PubMed id (`pmid:123`,
`PMID 123`, a pubmed.ncbi.nlm.nih.gov URL) or an OpenAlex id (`W123`, an openalex.org URL).
All of them name the same canonical work (a merged work's id names the work it was merged into).
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from litrev.errors import LitrevError, UnknownIdError
from litrev.sources.normalise import normalise_doi

OPENALEX_ID = re.compile(r"^(?:openalex:|https?://(?:api\.)?openalex\.org/(?:works/)?)?(W\d+)$", re.IGNORECASE)
PMID = re.compile(r"^(?:pmid:?\s*|https?://pubmed\.ncbi\.nlm\.nih\.gov/)(\d+)/?$", re.IGNORECASE)

_BY_RECORD = """
    select distinct canonical_works.canonical_id from records
    join canonical_works on canonical_works.work_id = records.work_id
    where {where}
"""


_BY_WORK_DOI = """
    select canonical_works.canonical_id from works
    join canonical_works on canonical_works.work_id = works.id
    where lower(works.doi) = ?
"""


def resolve_work(db: Database, value: str | int) -> int:
    """The canonical work id that `value` names; a one-line error when none or several do."""
    text = str(value).strip()
    if text.isdigit():
        row = db.execute("select canonical_id from canonical_works where work_id = ?", [int(text)]).fetchone()
        if row is None:
            raise UnknownIdError(f"No work {text!r} in the database. Give a work id, record id, DOI, "
                                 "PMID or OpenAlex id.")
        return int(row[0])
    where, params = _record_match(text)
    sql, args = _BY_RECORD.format(where=where), params
    if doi := normalise_doi(text):  # a work's own DOI too (works made by import or by hand)
        sql += " union " + _BY_WORK_DOI
        args = [*params, doi]
    rows = db.execute(sql, args).fetchall()
    if not rows:
        if db.execute(f"select 1 from records where {where}", params).fetchone():
            raise LitrevError(f"{text} has no work yet. Run `litrev dedupe` first.")
        raise UnknownIdError(f"No work {text!r} in the database. Give a work id, record id, DOI, "
                             "PMID or OpenAlex id.")
    if len(rows) > 1:
        raise UnknownIdError(f"{text!r} matches {len(rows)} works. Give a work id instead.")
    return int(rows[0][0])


def _record_match(text: str) -> tuple[str, list[str]]:
    """A WHERE clause over `records` for every kind of id `text` could be."""
    if match := OPENALEX_ID.match(text):
        short = match.group(1).upper()
        return "records.id = ? or records.openalex_id = ?", [f"openalex:{short}", short]
    if match := PMID.match(text):
        return "records.pmid = ?", [match.group(1)]
    if doi := normalise_doi(text):
        return "records.id = ? or records.doi = ?", [text, doi]
    return "records.id = ?", [text]
