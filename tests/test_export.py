"""Exporting works: RIS/BibTeX round trips, CSV columns, ASReview labels, status filters, privacy."""

import csv
import io
import json
from pathlib import Path

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from click.testing import CliRunner

from litrev.cli import cli
from litrev.db import now, open_db
from litrev.errors import LitrevError
from litrev.harvest.importing import import_file
from litrev.report.export import export, select_works

FIXTURES = Path(__file__).parent / "fixtures" / "import"
SECRET = "PRIVATE NOTE: the first author is my supervisor"


def link_works(db):
    """One work per record, as dedupe would make for distinct records (dedupe is another stage)."""
    for record in list(db["records"].rows_where("work_id is null", order_by="id")):
        fields = ("title", "abstract", "authors", "year", "venue", "volume", "issue", "pages",
                  "doi", "pmid", "type", "language", "url")
        work_id = db["works"].insert({k: record[k] for k in fields} | {"created_at": now()}).last_pk
        db["records"].update(record["id"], {"work_id": work_id})


def work_of(db, record_id):
    return db["records"].get(record_id)["work_id"]


def vote(db, work_id, decision, stage="title-abstract", reason=None, note=None):
    db["decisions"].insert({"work_id": work_id, "stage": stage, "reviewer": "ann",
                            "decision": decision, "reason": reason, "note": note, "kind": "vote",
                            "decided_at": now()})


@pytest.fixture
def review(db):
    """Scopus and Embase imports: one work included, one excluded, one merged away, tags set."""
    import_file(db, FIXTURES / "scopus.ris")
    import_file(db, FIXTURES / "embase_latin1.ris")
    link_works(db)
    trial = work_of(db, "embase:2013456789")
    chapter = work_of(db, "scopus:2-s2.0-84900000001")
    review_ = work_of(db, "scopus:2-s2.0-85068560154")
    # The French paper turns out to be a duplicate of the trial (for this test): merged away.
    french = work_of(db, "embase:2014000111")
    db["works"].update(french, {"merged_into": trial})
    vote(db, trial, "include", note=SECRET)
    vote(db, trial, "include", stage="full-text", note=SECRET)
    vote(db, chapter, "exclude", reason="wrong population", note=SECRET)
    vote(db, review_, "maybe")
    db["tags"].insert_all([
        {"work_id": trial, "key": "country", "value": "DE", "origin": "manual", "status": "set",
         "reviewer": "ann", "created_at": now()},
        {"work_id": trial, "key": "country", "value": "CO", "origin": "auto", "status": "suggested",
         "confidence": 0.9, "evidence": "Bogotá", "created_at": now()},
        {"work_id": french, "key": "design", "value": "qualitative", "origin": "auto",
         "status": "suggested", "confidence": 0.8, "evidence": "qualitative", "created_at": now()},
    ])
    return db, {"trial": trial, "chapter": chapter, "review": review_, "french": french}


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_only_canonical_works_are_exported(review):
    db, ids = review
    works = select_works(db, "all")
    assert ids["french"] not in [w["work_id"] for w in works]
    assert len(works) == db["works"].count - 1


def test_csv_one_row_per_work_with_screening_tags_and_record_ids(review):
    db, ids = review
    text, count = export(db, "csv")
    table = {int(r["work_id"]): r for r in rows(text)}
    assert count == len(table) == 4
    trial = table[ids["trial"]]
    assert trial["title"] == "Peer mentors in alcohol services: a randomised trial in Bogotá and München"
    assert trial["authors"] == "Müller, Jürgen; García-López, José; Østergaard, Søren"
    assert (trial["year"], trial["venue"], trial["volume"], trial["issue"], trial["pages"]) == (
        "2021", "Sucht", "67", "3", "121-130")
    assert trial["status"] == "included" and trial["exclusion_reason"] == ""
    # A person's country tag wins over the suggestion; the merged work's records and tags count here.
    assert trial["country"] == "DE" and trial["design"] == "qualitative"
    assert trial["record_ids"] == "embase:2013456789; embase:2014000111"
    chapter = table[ids["chapter"]]
    assert (chapter["status"], chapter["exclusion_reason"]) == ("excluded", "wrong population")
    assert table[ids["review"]]["status"] == "maybe"


def test_csv_records_one_row_per_source_record(review):
    db, ids = review
    text, count = export(db, "csv", records=True)
    table = {r["record_id"]: r for r in rows(text)}
    assert count == len(table) == 5
    french = table["embase:2014000111"]
    assert (french["source"], french["original_id"]) == ("embase", "2014000111")
    assert int(french["work_id"]) == ids["trial"] and french["status"] == "included"
    assert list(rows(text)[0]) == ["record_id", "source", "original_id", "work_id", "title", "authors",
                                   "year", "venue", "volume", "issue", "pages", "doi", "pmid",
                                   "abstract", "status"]


def test_status_filters(review):
    db, ids = review
    assert [w["work_id"] for w in select_works(db, "included")] == [ids["trial"]]
    assert sorted(w["work_id"] for w in select_works(db, "screened")) == sorted(
        [ids["trial"], ids["chapter"], ids["review"]])
    text, _ = export(db, "csv", status="included", records=True)
    assert sorted(r["record_id"] for r in rows(text)) == ["embase:2013456789", "embase:2014000111"]


def test_asreview_labels(review):
    db, ids = review
    text, _ = export(db, "asreview")
    table = {int(r["record_id"]): r for r in rows(text)}
    assert list(rows(text)[0]) == ["record_id", "title", "abstract", "authors", "year", "doi",
                                   "label_included"]
    assert table[ids["trial"]]["label_included"] == "1"
    assert table[ids["chapter"]]["label_included"] == "0"
    assert table[ids["review"]]["label_included"] == ""  # maybe: not decided
    assert table[ids["trial"]]["doi"] == "10.1024/0939-5911/a000712"


@pytest.mark.parametrize("fmt", ["ris", "bibtex", "csv", "asreview"])
def test_private_notes_never_leak(review, fmt):
    db, _ = review
    assert SECRET not in export(db, fmt)[0]
    if fmt == "csv":
        assert SECRET not in export(db, fmt, records=True)[0]


def test_ris_round_trip_every_field(review):
    db, ids = review
    text, _ = export(db, "ris")
    assert not text.startswith("1.")
    refs = {r["id"]: r for r in rispy.loads(text)}
    trial = refs[f"litrev-{ids['trial']}"]
    assert trial["type_of_reference"] == "JOUR"
    assert trial["title"] == "Peer mentors in alcohol services: a randomised trial in Bogotá and München"
    assert trial["authors"] == ["Müller, Jürgen", "García-López, José", "Østergaard, Søren"]
    assert (trial["year"], trial["secondary_title"], trial["volume"], trial["number"]) == (
        "2021", "Sucht", "67", "3")
    assert (trial["start_page"], trial["end_page"]) == ("121", "130")
    assert trial["doi"] == "10.1024/0939-5911/a000712"
    assert trial["abstract"].startswith("Hintergrund: Peer-Mentoren – Menschen")
    assert refs[f"litrev-{ids['chapter']}"]["type_of_reference"] == "CHAP"


def test_bibtex_round_trip_every_field(review):
    db, ids = review
    text, _ = export(db, "bibtex")
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    entries = {e.key: {f.key: f.value for f in e.fields} for e in library.entries}
    trial = entries[f"litrev{ids['trial']}"]
    assert trial["title"] == "Peer mentors in alcohol services: a randomised trial in Bogotá and München"
    assert trial["author"] == "Müller, Jürgen and García-López, José and Østergaard, Søren"
    assert (trial["year"], trial["journal"], trial["volume"], trial["number"]) == (
        "2021", "Sucht", "67", "3")
    assert trial["pages"] in ("121--130", "121–130")  # LaTeX "--" is an en dash once decoded
    assert trial["doi"] == "10.1024/0939-5911/a000712"
    assert trial["abstract"].startswith("Hintergrund: Peer-Mentoren – Menschen")
    chapter = entries[f"litrev{ids['chapter']}"]
    assert chapter["booktitle"] == "Handbook of Recovery Services"
    plain = bibtexparser.parse_string(text)  # without LaTeX decoding, too
    assert plain.failed_blocks == [] and len(plain.entries) == 4


def test_bibtex_escapes_latex_specials_and_drops_stray_braces(db):
    db["works"].insert({"id": 1, "title": "Drugs & alcohol: 50% {less harm} #peer",
                        "authors": json.dumps(["O'Brien, Seán"]), "year": 2020,
                        "doi": "10.1000/a_b", "url": "https://x.org/a_b?q=1&r=2"})
    text, _ = export(db, "bibtex")
    assert r"Drugs \& alcohol: 50\% less harm \#peer" in text
    entry = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()]).entries[0]
    assert entry["title"] == "Drugs & alcohol: 50% less harm #peer"
    assert entry["author"] == "O'Brien, Seán" and entry["doi"] == "10.1000/a_b"
    assert entry.entry_type == "misc"


def test_export_round_trips_through_litrev_import(review, tmp_path):
    db, _ = review
    for fmt, suffix in (("ris", "ris"), ("bibtex", "bib"), ("csv", "csv")):
        path = tmp_path / f"out.{suffix}"
        path.write_text(export(db, fmt)[0], encoding="utf-8")
        other = open_db(tmp_path / f"{fmt}.db")
        import_file(other, path)
        back = {r["title"]: r for r in other["records"].rows}
        trial = back["Peer mentors in alcohol services: a randomised trial in Bogotá and München"]
        assert (trial["year"], trial["venue"], trial["volume"], trial["issue"], trial["pages"],
                trial["doi"]) == (2021, "Sucht", "67", "3", "121-130", "10.1024/0939-5911/a000712"), fmt
        assert json.loads(trial["authors"])[0] == "Müller, Jürgen"


def test_records_needs_csv(db):
    with pytest.raises(LitrevError, match="--records .* --format csv"):
        export(db, "ris", records=True)


def test_cli_export(review, tmp_path):
    _, ids = review
    db_path = str(tmp_path / "evidence.db")
    out = tmp_path / "included.ris"
    result = CliRunner().invoke(cli, ["export", "--status", "included", "--format", "ris", "-o",
                                      str(out), "--db", db_path], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Wrote 1 works" in result.output
    assert [r["id"] for r in rispy.loads(out.read_text(encoding="utf-8"))] == [f"litrev-{ids['trial']}"]
    result = CliRunner().invoke(cli, ["export", "--records", "--format", "csv", "-o", "-",
                                      "--db", db_path], catch_exceptions=False)
    assert result.output.startswith("record_id,source,original_id,work_id")
    result = CliRunner().invoke(cli, ["export", "--format", "ris", "-o", "x.ris",
                                      "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "No database at" in result.output


def test_export_counts_tags_as_gaps_and_the_public_site_do(review):
    """A weak affiliation hint (0.23) is not a study's country in the export, as in `gaps`."""
    from litrev.report.gaps import gap_table

    db, ids = review
    db["tags"].insert_all([
        {"work_id": ids["chapter"], "key": "country", "value": "FR", "origin": "auto",
         "status": "suggested", "confidence": 0.23, "evidence": "affiliation", "created_at": now()},
        {"work_id": ids["review"], "key": "country", "value": "NZ", "origin": "auto",
         "status": "suggested", "confidence": 0.5, "evidence": "Auckland", "created_at": now()},
    ])
    table = {int(r["work_id"]): r for r in rows(export(db, "csv")[0])}
    assert table[ids["chapter"]]["country"] == ""
    assert table[ids["review"]]["country"] == "NZ"  # at the threshold: counted
    gaps = {r["country"] for r in gap_table(db, "all", "design")["rows"]}
    assert "FR" not in gaps and "NZ" in gaps


FORMULAS = {"title": '=HYPERLINK("http://evil.example","Click")', "venue": "+cmd|' /C calc'!A0",
            "abstract": "@SUM(1+1)", "pages": "-2+3", "issue": "-5"}


def test_csv_exports_neutralise_formula_cells(db, tmp_path):
    db["works"].insert({"id": 1, "authors": json.dumps(["=1+1, Mal"]), "year": 2020, **FORMULAS})
    for fmt, title in (("csv", "title"), ("asreview", "title")):
        row = rows(export(db, fmt)[0])[0]
        assert row[title] == "'" + FORMULAS["title"] and row["authors"] == "'=1+1, Mal", fmt
        assert rows(export(db, fmt, keep_formulas=True)[0])[0][title] == FORMULAS["title"]
    row = rows(export(db, "csv")[0])[0]
    assert (row["venue"], row["abstract"], row["pages"]) == (
        "'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3")
    assert row["issue"] == "-5" and row["year"] == "2020"  # numbers stay numbers
    db["records"].insert({"id": "x:1", "source": "x", "source_id": "1", "title": FORMULAS["venue"],
                          "authors": "[]", "raw": "{}", "first_seen": now(), "last_seen": now()})
    assert rows(export(db, "csv", records=True)[0])[0]["title"] == "'" + FORMULAS["venue"]
    out = tmp_path / "works.csv"
    for flag, expected in (([], "'" + FORMULAS["title"]), (["--keep-formulas"], FORMULAS["title"])):
        result = CliRunner().invoke(cli, ["export", "--format", "csv", "-o", str(out), *flag,
                                          "--db", str(tmp_path / "evidence.db")],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert rows(out.read_text(encoding="utf-8"))[0]["title"] == expected
