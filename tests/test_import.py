"""Importing RIS, BibTeX, CSV and PubMed files: parsers, encodings, all-or-nothing, provenance."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.db import open_db
from litrev.errors import InputFileError
from litrev.finish import finish_write
from litrev.harvest import importing
from litrev.harvest.importing import import_file, parse_file, read_text
from litrev.sources.files import parse, slugify, sniff_format
from litrev.sources.files.common import person, split_authors

FIXTURES = Path(__file__).parent / "fixtures" / "import"
DEDUP_SETS = ("stroke", "haematology", "respiratory", "digital_work", "special_cases")


def records_of(name, fmt=None, source=None):
    parsed = parse_file(FIXTURES / name, fmt, source).parsed
    assert parsed.problems == []
    return {r.source_id: r for r in parsed.records}


# --- parsers ------------------------------------------------------------------


def test_ris_scopus_export_maps_every_field():
    records = records_of("scopus.ris")
    assert list(records) == ["2-s2.0-85068560154", "2-s2.0-84991693574", "2-s2.0-84900000001"]
    r = records["2-s2.0-84991693574"]
    assert r.id == "scopus:2-s2.0-84991693574" and r.source == "scopus"
    assert r.title == "Benefits of peer support groups in the treatment of addiction"
    assert r.authors == ["Tracy, K.", "Wallace, S.P."]
    assert (r.year, r.venue, r.volume, r.pages) == (2016, "Substance Abuse and Rehabilitation", "7",
                                                    "143-154")
    assert r.doi == "10.2147/sar.s81535" and r.type == "article" and r.language == "English"
    assert r.abstract.startswith("Peer support can be defined")
    assert r.identifiers["scopus_eid"] == "2-s2.0-84991693574"
    assert r.raw["type_of_reference"] == "JOUR"
    chapter = records["2-s2.0-84900000001"]
    assert chapter.type == "book-chapter" and chapter.venue == "Handbook of Recovery Services"
    assert records["2-s2.0-85068560154"].keywords[:2] == ["peer recovery support services",
                                                         "recovery coaching"]


def test_latin1_crlf_ris_is_decoded():
    assert read_text(FIXTURES / "embase_latin1.ris")[1] == "cp1252"
    records = records_of("embase_latin1.ris")
    r = records["2013456789"]
    assert r.id == "embase:2013456789"
    assert r.authors == ["Müller, Jürgen", "García-López, José", "Østergaard, Søren"]
    assert r.title == "Peer mentors in alcohol services: a randomised trial in Bogotá and München"
    assert "Peer-Mentoren – Menschen" in r.abstract and "1.200 €" in r.abstract
    assert (r.year, r.issue, r.pages, r.doi) == (2021, "3", "121-130", "10.1024/0939-5911/a000712")
    assert records["2014000111"].year == 2020  # "2020///"
    assert records["2014000111"].title.startswith("Pair-aidance et réduction")


def test_utf8_bom_and_utf16_are_read(tmp_path):
    path = tmp_path / "x.ris"
    path.write_bytes("TY  - JOUR\nTI  - Café\nER  - \n".encode("utf-16"))
    assert read_text(path) == ("TY  - JOUR\nTI  - Café\nER  - \n", "utf-16")
    path.write_bytes(b"\xef\xbb\xbfTY  - JOUR\nTI  - Caf\xc3\xa9\nER  - \n")
    assert read_text(path)[1] == "utf-8"
    assert parse_file(path).parsed.records[0].title == "Café"


def test_pubmed_nbib():
    records = records_of("pubmed.nbib")
    r = records["31316428"]
    assert r.id == "pubmed:31316428" and r.pmid == "31316428" and r.pmcid == "PMC6611389"
    assert r.title == ("Lived Experience in New Models of Care for Substance Use Disorder: A "
                       "Systematic Review of Peer Recovery Support Services and Recovery Coaching.")
    assert r.authors == ["Eddie, David", "Hoffman, Lauren", "Kelly, John F"]
    assert (r.year, r.venue, r.volume, r.pages) == (2019, "Frontiers in psychology", "10", "1052")
    assert r.doi == "10.3389/fpsyg.2019.01052" and r.type == "review" and r.language == "eng"
    assert r.abstract.endswith("substance use and recovery outcomes.")
    assert r.raw["AD"] == [("Recovery Research Institute, Center for Addiction Medicine, "
                            "Massachusetts General Hospital and Harvard Medical School, Boston, "
                            "MA, United States.")]
    assert r.keywords == ["peer recovery support services", "recovery coaching"]
    assert records["27799837"].pages == "143-154"
    assert records["27799837"].doi == "10.2147/sar.s81535"


def test_bibtex_with_latex_and_braces():
    records = records_of("zotero.bib")
    r = records["muller2021peer"]
    assert r.id == "import:muller2021peer"
    assert r.title == "Peer Mentors in Alcohol Services: A Trial in München"
    assert r.authors == ["Müller, Jürgen", "García-López, José"]
    assert (r.year, r.pages, r.type) == (2021, "12-19", "proceedings-article")
    assert r.venue == "Proceedings of the European Conference on Addictive Behaviours"
    eddie = records["eddie2019lived"]
    assert eddie.doi == "10.3389/fpsyg.2019.01052" and eddie.authors[-1] == "Kelly, John F."
    assert eddie.abstract.startswith("Peer recovery support services (PRSS)")
    assert records["white2009peer"].authors == ["White, William L."]
    assert records["white2009peer"].type == "book"


def test_scopus_csv_with_bom_and_aliases():
    records = records_of("scopus.csv", source="Scopus")
    r = records["2-s2.0-84991693574"]  # the EID column is the original id
    assert r.id == "scopus:2-s2.0-84991693574"
    assert r.authors == ["Tracy, K.", "Wallace, S.P."]
    assert (r.year, r.venue, r.volume, r.pages, r.doi) == (
        2016, "Substance Abuse and Rehabilitation", "7", "143-154", "10.2147/sar.s81535")
    first = records["2-s2.0-85068560154"]
    assert '"with promise"' in first.abstract and first.type == "review"
    assert first.keywords == ["peer recovery support services", "recovery coaching"]


def test_web_of_science_tab_delimited_export():
    found = parse_file(FIXTURES / "wos.txt")
    assert (found.format, found.source, found.source_name) == ("csv", "web-of-science",
                                                               "Web of Science")
    records = {r.source_id: r for r in found.parsed.records}
    r = records["WOS:000384776400001"]  # UT, not the Keywords Plus column called ID
    assert r.authors == ["Tracy, Kathlene", "Wallace, Samuel P."]  # AF before AU
    assert (r.year, r.volume, r.pages, r.doi, r.pmid, r.type) == (
        2016, "7", "143-154", "10.2147/sar.s81535", "27799837", "review")
    assert records["WOS:000700000000002"].authors == ["Müller, Jürgen"]


def test_csv_semicolons_tabs_and_given_family_names():
    text = "record_id;pubmedID;title;authors;year\n7;10051933;A title;E J Reimer; G S Dunn;1999\n"
    parsed = parse(text, "csv", "x")
    # semicolon-delimited: "E J Reimer; G S Dunn" spans two cells, so the row is malformed
    assert parsed.problems and parsed.problems[0].line == 2
    text = "record_id\tpubmedID\ttitle\tauthors\tyear\n7\t10051933\tA title\tE J Reimer; G S Dunn\t1999\n"
    r = parse(text, "csv", "x").records[0]
    assert (r.id, r.pmid, r.authors, r.year) == ("x:7", "10051933", ["Reimer, E J", "Dunn, G S"], 1999)


def test_author_forms():
    assert split_authors("Zuber, J and Le Quintrec, M") == ["Zuber, J", "Le Quintrec, M"]
    assert split_authors("Reimer EJ; Dunn GS") == ["Reimer, EJ", "Dunn, GS"]
    assert person("Heather A. Piwowar") == "Piwowar, Heather A."
    assert person("Smith J.-P.") == "Smith, J.-P."
    assert person("WHO") == "WHO"


def test_sniffing_and_slugs():
    assert sniff_format("\ufeffTY  - JOUR\n") == "ris"
    assert sniff_format("PMID- 1\nTI  - x\n") == "nbib"
    assert sniff_format("% c\n@Article{k,\n title={x}}") == "bibtex"
    assert sniff_format('"ID","title"\n') == "csv"
    assert sniff_format("", "refs.nbib") == "nbib"
    assert sniff_format("just words", "notes.txt") is None
    assert slugify("Web of Science") == "web-of-science" and slugify("PubMed") == "pubmed"


def test_records_without_ids_get_stable_content_ids():
    text = "TY  - JOUR\nTI  - Same\nER  - \n\nTY  - JOUR\nTI  - Same\nER  - \n"
    first = [r.id for r in parse(text, "ris", "x").records]
    assert len(set(first)) == 2 and first == [r.id for r in parse(text, "ris", "x").records]
    assert first[0].startswith("x:sha1-")


def test_empty_record_is_kept_with_a_warning():
    parsed = parse("ID,title,year,number\nid_1,,,20/04/2012\n", "csv", "x")
    assert [r.id for r in parsed.records] == ["x:id_1"] and parsed.problems == []
    assert "has no title" in str(parsed.warnings[0])


# --- malformed files --------------------------------------------------------------


@pytest.mark.parametrize("name,lines,good", [
    ("broken.ris", [10, 15, 20], 2),
    ("broken.bib", [7], 2),
    ("broken.csv", [3, 4, 5], 2),
    ("broken.nbib", [9], 2),
])
def test_malformed_files_name_the_line_and_import_nothing(db, name, lines, good):
    parsed = parse_file(FIXTURES / name).parsed
    assert [p.line for p in parsed.problems] == lines
    assert len(parsed.records) == good
    with pytest.raises(InputFileError, match=rf"{name} line {lines[0]}: .*nothing was imported.*"
                                             r"--skip-bad"):
        import_file(db, FIXTURES / name)
    assert db["records"].count == 0 and db["harvest_runs"].count == 0


def test_skip_bad_imports_the_good_records_and_lists_the_bad(db):
    result = import_file(db, FIXTURES / "broken.csv", skip_bad=True)
    assert sorted(r["id"] for r in db["records"].rows) == ["import:r1", "import:r4"]
    assert [p.line for p in result.skipped] == [3, 4, 5]
    details = json.loads(db["harvest_runs"].get(result.run_id)["details"])
    assert details["records"] == 2 and len(details["skipped"]) == 3


def test_csv_without_a_title_column_is_refused(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name,colour\nA,red\n")
    with pytest.raises(InputFileError, match="line 1: no title, DOI or PMID column"):
        import_file(db, path)


def test_unknown_format_is_refused(db, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just words\n")
    with pytest.raises(InputFileError, match="Give --format"):
        import_file(db, path)


# --- storage and provenance ---------------------------------------------------------


def test_import_records_a_run_and_provenance(db):
    result = import_file(db, FIXTURES / "pubmed.nbib", query="peer mentors 2026-03")
    run = db["harvest_runs"].get(result.run_id)
    assert (run["kind"], run["source"], run["source_name"], run["status"]) == (
        "import", "import", "PubMed", "complete")
    assert run["file"].endswith("pubmed.nbib") and (run["fetched"], run["new"]) == (2, 2)
    assert json.loads(run["details"]) == {"format": "nbib", "records": 2,
                                          "query": "peer mentors 2026-03", "encoding": "utf-8",
                                          "id_prefix": "pubmed", "skipped": []}
    assert {r["record_id"] for r in db["provenance"].rows_where("run_id = ?", [result.run_id])} == {
        "pubmed:31316428", "pubmed:27799837"}
    row = db["records"].get("pubmed:31316428")
    assert json.loads(row["authors"])[0] == "Eddie, David" and json.loads(row["raw"])["PMID"] == [
        "31316428"]
    # Re-importing the same file changes nothing but logs a second run.
    again = import_file(db, FIXTURES / "pubmed.nbib")
    assert (again.counts.new, again.counts.updated) == (0, 0) and db["records"].count == 2
    labels = dict(db.execute("select source_name, records from records_by_source"))
    assert labels == {"PubMed": 2}


def test_source_label_and_database_detection(db):
    import_file(db, FIXTURES / "scopus.ris")
    import_file(db, FIXTURES / "zotero.bib", source="Web of Science")
    import_file(db, FIXTURES / "embase_latin1.ris")
    runs = [(json.loads(r["details"])["id_prefix"], r["source_name"]) for r in db["harvest_runs"].rows]
    assert runs == [("scopus", "Scopus"), ("web-of-science", "Web of Science"),
                    ("embase", "Embase")]
    record = db["records"].get("web-of-science:eddie2019lived")
    assert (record["source"], record["source_id"]) == ("web-of-science", "eddie2019lived")


def test_query_label_links_an_existing_saved_query(db):
    db["queries"].insert({"id": "peer-mentors", "name": "Peer mentors"})
    result = import_file(db, FIXTURES / "scopus.ris", query="peer-mentors")
    assert db["harvest_runs"].get(result.run_id)["query_id"] == "peer-mentors"


def test_import_then_dedupe_links_works(db):
    pytest.importorskip("litrev.dedupe.storage")
    import_file(db, FIXTURES / "scopus.ris")
    import_file(db, FIXTURES / "pubmed.nbib")
    finish_write(db)  # what `litrev import` runs after each file
    assert db.execute("select count(*) from records where work_id is null").fetchone()[0] == 0
    # The same two papers from Scopus and PubMed end up as one work each.
    same = db.execute("select count(distinct work_id) from records where doi = ?",
                      ["10.2147/sar.s81535"]).fetchone()[0]
    assert same == 1


# --- the shared labelled sets -------------------------------------------------------


@pytest.mark.parametrize("name", DEDUP_SETS)
def test_shared_dedup_sets_import_with_their_ids(shared_data, name):
    path = shared_data / "dedup" / name / "records_pre_merged.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    found = parse_file(path, source=name)
    parsed = found.parsed
    assert found.format == "csv" and parsed.problems == []
    assert [r.id for r in parsed.records] == [f"{name.replace('_', '-')}:{row['ID']}" for row in rows]
    by_id = {r.source_id: r for r in parsed.records}
    for row in rows[:50]:
        record = by_id[row["ID"]]
        assert record.title == (" ".join(row["title"].split()) or None)
        assert record.year == (int(row["year"]) if row["year"] else None)
    with_authors = next(row for row in rows if " and " in row["author"])
    assert len(by_id[with_authors["ID"]].authors) == with_authors["author"].count(" and ") + 1


def test_shared_screening_set_imports(shared_data, db):
    path = shared_data / "screening" / "Cohen_2006_UrinaryIncontinence.csv"
    result = import_file(db, path, source="PubMed")
    assert result.counts.new == 327 and result.skipped == []
    row = db["records"].get("pubmed:1")
    assert row["pmid"] and row["title"] and json.loads(row["authors"])


# --- command line -------------------------------------------------------------


def test_cli_import_and_errors(db_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(FIXTURES / "scopus.ris"), "--db", db_path,
                                 "--no-dedupe"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Imported 3 records from scopus.ris" in result.output and "'Scopus'" in result.output
    result = runner.invoke(cli, ["import", str(FIXTURES / "broken.nbib"), "--db", db_path])
    assert result.exit_code == 1
    assert "Error: broken.nbib line 9: not a MEDLINE line" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["import", str(FIXTURES / "broken.nbib"), "--db", db_path,
                                 "--skip-bad", "--no-dedupe", "--json"], catch_exceptions=False)
    data = json.loads(result.output)
    assert data["records"] == 2 and data["skipped"][0].startswith("line 9:")
    result = runner.invoke(cli, ["import", "missing.ris", "--db", db_path])
    assert result.exit_code == 1 and "Cannot read missing.ris" in result.output
    result = runner.invoke(cli, ["import", str(FIXTURES / "zotero.bib"), "--format", "ris",
                                 "--db", db_path])
    assert result.exit_code == 1 and "holds no records" in result.output


# --- very long BibTeX fields ------------------------------------------------------

LATEX_PROSE = ("Peer {mentors} in M\\\"unchen and \\o rsted -- results 50% off\nnext ``q'' $a b$ "
               "\\textbf{bold text} ~x. ")


def test_piecewise_latex_decoding_matches_bibtexparsers():
    from bibtexparser.middlewares import LatexDecodingMiddleware

    from litrev.sources.files.bibtex import PiecewiseLatexDecoding, latex_pieces
    value = LATEX_PROSE * 400  # 40 KB: cut into ~20 pieces
    assert len(latex_pieces(value)) > 10
    whole = LatexDecodingMiddleware()._transform_python_value_string(value)
    assert PiecewiseLatexDecoding()._transform_python_value_string(value) == whole
    assert latex_pieces("a b {c d} \\o rsted $x y$ 5% e f\ng", 1) == [
        "a", " b", " {c d}", " \\o rsted", " $x y$", " 5% e f", "\ng"]


def test_a_huge_bibtex_field_imports_in_linear_time(db, tmp_path):
    import time
    plain = "plain words about peer mentors and more words, " * 6_000  # ~290 KB
    abstract = "".join(f"M\\\"uller {plain}" for _ in range(10))  # ~3 MB, LaTeX here and there
    path = tmp_path / "huge.bib"
    path.write_text(f"@article{{k,\n  title = {{A \\'etude}},\n  abstract = {{{abstract}}}\n}}\n")
    started = time.perf_counter()
    result = import_file(db, path)
    assert time.perf_counter() - started < 10  # was minutes: pylatexenc is superlinear
    row = db["records"].get("import:k")
    assert row["title"] == "A étude" and row["abstract"].count("Müller") == 10
    assert "\\" not in row["abstract"] and result.warnings == []


def test_dense_latex_past_the_budget_is_kept_as_written_with_a_warning():
    from litrev.sources.files.bibtex import LATEX_BUDGET
    dense = LATEX_PROSE * (2 * LATEX_BUDGET // len(LATEX_PROSE))
    parsed = parse(f"@article{{k,\n  title = {{T}},\n  note = {{{dense}}}\n}}\n", "bibtex", "x")
    note = parsed.records[0].raw["note"].strip()
    assert note.startswith("Peer mentors in München") and note.endswith("\\textbf{bold text} ~x.")
    assert "keep part of their LaTeX as written" in str(parsed.warnings[0])


# --- truncated PubMed files ----------------------------------------------------------


@pytest.mark.parametrize("cut", ["PT  - Review\n", "PT  - Review", "PT  - Rev"])
def test_a_truncated_nbib_is_refused_not_retyped(db, tmp_path, cut):
    text = (FIXTURES / "pubmed.nbib").read_text()
    # The second record (Tracy 2016, line 44) is "Journal Article" then "Review".
    cut_at = text.index("PT  - Review", text.index("PMID- 27799837"))
    path = tmp_path / "cut.nbib"
    path.write_text(text[:cut_at] + cut)
    parsed = parse_file(path).parsed
    assert [p.line for p in parsed.problems] == [44] and len(parsed.records) == 1
    assert "cut short" in parsed.problems[0].message
    with pytest.raises(InputFileError, match=r"cut\.nbib line 44: .*cut short.*nothing was imported"):
        import_file(db, path)
    assert db["records"].count == 0 and db["harvest_runs"].count == 0
    # The whole file still imports, with its types.
    path.write_text(text)
    assert {r.type for r in parse_file(path).parsed.records} == {"review"}


def test_import_errors_and_warnings_escape_control_characters(db_path, tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text("name,\x1b[2Jcolour\u202e\nA,red\n")
    result = CliRunner().invoke(cli, ["import", str(path), "--db", db_path])
    assert result.exit_code == 1
    assert "no title, DOI or PMID column" in result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "\\x1b[2Jcolour\\u202e" in result.output
    path.write_text("ID,title\n\x1b]0;owned\x07,\n")  # kept with a warning that quotes its id
    result = CliRunner().invoke(cli, ["import", str(path), "--db", db_path, "--no-dedupe"],
                                catch_exceptions=False)
    assert "has no title" in result.output and "\x1b" not in result.output


# --- record identity: one file never overwrites another's records ---------------------


def write_rows(path, titles, start=1):
    rows = [f'{i},"{title}",20{10 + i}' for i, title in enumerate(titles, start=start)]
    path.write_text("record_id,title,year\n" + "\n".join(rows) + "\n")
    return path


def titles_by_id(db):
    return dict(db.execute("select id, title from records order by id"))


def test_a_second_file_numbered_from_1_adds_its_records(db, tmp_path):
    a = write_rows(tmp_path / "a.csv", ["Peer mentors in alcohol services", "Recovery coaches"])
    b = write_rows(tmp_path / "b.csv", ["Smartphone apps for smoking", "Mutual aid attendance",
                                        "Peer support in prisons"])
    import_file(db, a)
    second = import_file(db, b)
    assert (second.counts.new, second.counts.updated) == (3, 0)
    assert titles_by_id(db) == {
        "import:1": "Peer mentors in alcohol services", "import:2": "Recovery coaches",
        "import:b:1": "Smartphone apps for smoking", "import:b:2": "Mutual aid attendance",
        "import:3": "Peer support in prisons"}  # no one held import:3: b's own id
    # Each file re-imported updates itself, and only itself.
    for path in (a, b, a):
        again = import_file(db, path)
        assert (again.counts.new, again.counts.updated) == (0, 0)
    write_rows(a, ["Peer mentors in alcohol services", "Recovery coaches (corrected)"])
    assert import_file(db, a).counts.updated == 1
    assert titles_by_id(db)["import:2"] == "Recovery coaches (corrected)"
    assert dict(db.execute("select source_name, records from records_by_source")) == {
        "Imported file": 5}


def test_an_identical_record_in_another_file_is_shared_not_doubled(db, tmp_path):
    a = write_rows(tmp_path / "a.csv", ["Peer mentors in alcohol services"])
    import_file(db, a)
    copy = tmp_path / "copy of a.csv"
    copy.write_text(a.read_text())
    assert import_file(db, copy).counts.new == 0
    assert list(titles_by_id(db)) == ["import:1"]


def test_a_file_never_takes_over_a_harvested_record(db, tmp_path):
    from litrev.harvest.store import save_records, start_run
    from litrev.sources.normalise import Record
    run = start_run(db, kind="harvest", source="openalex", source_name="OpenAlex")
    save_records(db, [Record(id="openalex:W1", source="openalex", source_id="W1", title="Kept",
                             raw={"id": "W1"})], run)
    path = tmp_path / "mine.csv"
    path.write_text("id,title\nW1,Something else\n")
    import_file(db, path, source="OpenAlex")
    assert titles_by_id(db) == {"openalex:W1": "Kept", "openalex:mine:W1": "Something else"}


def screened(db, record_id):
    from litrev.screen.decisions import record_decision
    from litrev.screen.settings import ReviewSettings
    work_id = db["records"].get(record_id)["work_id"]
    record_decision(db, ReviewSettings(), work_id, "title-abstract", "sam", "include")
    return work_id


def test_a_reimport_that_renames_a_screened_record_is_refused(db, tmp_path):
    a = write_rows(tmp_path / "a.csv", ["Peer mentors in alcohol services", "Recovery coaches"])
    import_file(db, a)
    finish_write(db)
    work_id = screened(db, "import:1")
    runs = db["harvest_runs"].count
    write_rows(a, ["Smartphone apps for smoking", "Recovery coaches"])  # rows renumbered
    with pytest.raises(InputFileError, match=rf"a\.csv: record import:1 would change its title "
                                             rf".*work {work_id} has screening decisions"):
        import_file(db, a)
    assert titles_by_id(db)["import:1"] == "Peer mentors in alcohol services"
    assert db["harvest_runs"].count == runs
    # A spelling fix is not another paper, and an unscreened record may change.
    write_rows(a, ["Peer Mentors in Alcohol Services.", "Recovery coaches in A&E"])
    assert import_file(db, a).counts.updated == 2


def test_cli_refusal_is_one_line(db_path, tmp_path):
    a = write_rows(tmp_path / "a.csv", ["Peer mentors in alcohol services"])
    runner = CliRunner()
    runner.invoke(cli, ["import", str(a), "--db", db_path], catch_exceptions=False)
    from litrev.db import open_db
    screened(open_db(db_path), "import:1")
    write_rows(a, ["Smartphone apps for smoking"])
    result = runner.invoke(cli, ["import", str(a), "--db", db_path])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: a.csv: record import:1 would change its title")
    assert result.output.count("\n") == 1


def test_shared_screening_sets_numbered_from_1_both_stay(shared_data, db):
    # The issue's case: 851 records, then 327 more, both numbered from 1, no --source.
    first = shared_data / "screening" / "Cohen_2006_ADHD.csv"
    second = shared_data / "screening" / "Cohen_2006_UrinaryIncontinence.csv"
    assert import_file(db, first).counts.new == 851
    result = import_file(db, second)
    assert (result.counts.new, result.counts.updated) == (327, 0)
    assert db["records"].count == 1178
    assert db.execute("select sum(records) from records_by_source").fetchone()[0] == 1178
    assert db["records"].get("import:1")["pmid"] == "10051933"  # ADHD's first row, kept


# --- a file's source ------------------------------------------------------------------


def test_one_scopus_link_does_not_make_a_file_scopus(tmp_path):
    path = tmp_path / "litrev-export.ris"
    path.write_text(
        "TY  - JOUR\nID  - w1\nTI  - One\nUR  - https://doi.org/10.1/one\nER  - \n\n"
        "TY  - JOUR\nID  - w2\nTI  - Two\nUR  - https://www.scopus.com/inward/record.uri?eid=2\n"
        "ER  - \n")
    found = parse_file(path)
    assert (found.source, found.source_name) == ("import", "Imported file")
    assert [r.id for r in found.parsed.records] == ["import:w1", "import:w2"]
    assert parse_file(path, source="Scopus").source_name == "Scopus"


# --- chunked saving: screeners write between chunks; a kill mid-way is repaired by a re-run --


def decide_between_chunks(db, db_path, work_id):
    """A trace callback on the import's connection: at each BEGIN IMMEDIATE after the first, a
    screener on another connection (busy timeout 0.2 s) records a decision and notes what the
    import had committed by then."""
    from litrev.screen.decisions import record_decision
    from litrev.screen.settings import ReviewSettings
    screener = open_db(db_path)
    screener.execute("PRAGMA busy_timeout = 200")
    seen, errors = [], []

    def trace(sql):
        if sql.strip().upper() != "BEGIN IMMEDIATE":
            return
        try:
            record_decision(screener, ReviewSettings(), work_id, "title-abstract", "sam", "include")
            run = screener.execute("select group_concat(status) from harvest_runs "
                                   "where source_name = 'big'").fetchone()
            seen.append((screener.execute("select count(*) from records where source = 'big'")
                         .fetchone()[0], run[0]))
        except Exception as e:  # noqa: BLE001 (a trace callback's exceptions are swallowed)
            errors.append(e)

    db.conn.set_trace_callback(trace)
    return screener, seen, errors


def test_an_import_saves_in_chunks_and_a_screener_commits_between_them(db, db_path, tmp_path,
                                                                       monkeypatch):
    import_file(db, write_rows(tmp_path / "seed.csv", ["Peer mentors in alcohol services"]))
    finish_write(db)
    work_id = db["records"].get("import:1")["work_id"]
    monkeypatch.setattr(importing, "SAVE_CHUNK", 5)
    big = write_rows(tmp_path / "big.csv", [f"Study {i} of recovery coaching" for i in range(23)])
    screener, seen, errors = decide_between_chunks(db, db_path, work_id)
    result = import_file(db, big, source="big")
    db.conn.set_trace_callback(None)
    assert errors == []
    # The run row first, then five chunks (the screener saw 0, 5, ... 20 records committed,
    # the run still running), then the finished run: a decision went in between each.
    assert seen == [(0, None), (0, "running"), (5, "running"), (10, "running"),
                    (15, "running"), (20, "running"), (23, "running")]
    assert screener["decisions"].count == len(seen)
    run = db["harvest_runs"].get(result.run_id)
    assert (run["status"], run["fetched"], run["new"]) == ("complete", 23, 23)
    assert [r[0] for r in db.execute(
        "select rank from provenance where run_id = ? order by rank", [result.run_id])] == list(
        range(1, 24))


KILL_AFTER_TWO_CHUNKS = """
import os, signal, sys
import litrev.harvest.importing as importing
from litrev.db import open_db
importing.SAVE_CHUNK = 5
real, calls = importing.save_records, []
def save_then_die(*args, **kwargs):
    counts = real(*args, **kwargs)
    calls.append(1)
    if len(calls) == 3:  # inside the third chunk's transaction, its records written
        os.kill(os.getpid(), signal.SIGKILL)
    return counts
importing.save_records = save_then_die
importing.import_file(open_db(sys.argv[1]), sys.argv[2], source="big")
"""


def comparable_records(db):
    return db.execute("select id, source, source_id, title, year, raw, raw_sha256, work_id "
                      "from records order by id").fetchall()


def test_an_import_killed_mid_way_is_repaired_by_a_rerun(db, db_path, tmp_path, monkeypatch):
    big = write_rows(tmp_path / "big.csv", [f"Study {i} of recovery coaching" for i in range(23)])
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_TWO_CHUNKS, db_path, str(big)],
                            check=False)
    assert killed.returncode == -9
    # Two whole chunks, none of the third; the run still says running.
    assert db["records"].count == 10
    assert [(r["status"], r["fetched"]) for r in db["harvest_runs"].rows] == [("running", 10)]
    monkeypatch.setattr(importing, "SAVE_CHUNK", 5)
    again = import_file(db, big, source="big")
    assert (again.counts.fetched, again.counts.new, again.counts.updated) == (23, 13, 0)
    finish_write(db)
    clean = open_db(tmp_path / "clean.db")
    import_file(clean, big, source="big")
    finish_write(clean)
    assert comparable_records(db) == comparable_records(clean)
    assert dict(db.execute("select source_name, records from records_by_source")) == {"big": 23}
    assert db.execute("select count(*), count(distinct record_id) from provenance where run_id = ?",
                      [again.run_id]).fetchone() == (23, 23)


def test_a_malformed_record_past_the_first_chunks_writes_nothing(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "SAVE_CHUNK", 5)
    path = write_rows(tmp_path / "big.csv", [f"Study {i}" for i in range(30)])
    path.write_text(path.read_text() + '31,"Study 31",2041,extra\n')
    with pytest.raises(InputFileError, match=r"big\.csv line 32: .*nothing was imported"):
        import_file(db, path)
    assert db["records"].count == 0 and db["harvest_runs"].count == 0


def test_an_id_another_import_takes_mid_way_stops_this_one_and_a_rerun_scopes_it(
        db, db_path, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "SAVE_CHUNK", 5)
    a = write_rows(tmp_path / "a.csv", [f"Study {i} of recovery coaching" for i in range(12)])
    b = write_rows(tmp_path / "b.csv", ["Smartphone apps for smoking"], start=7)
    other, begins = open_db(db_path), []

    def trace(sql):  # b.csv is imported by another connection once a.csv's first chunk is in
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            begins.append(sql)
            if len(begins) == 3:
                import_file(other, b)
    db.conn.set_trace_callback(trace)
    with pytest.raises(InputFileError, match=r"a\.csv: record id 'import:7' is already used by "
                                             r"another file's record; the import stopped after 5 "
                                             r"of 12 records \(run 1, marked failed\)"):
        import_file(db, a)
    db.conn.set_trace_callback(None)
    assert titles_by_id(db)["import:7"] == "Smartphone apps for smoking"
    assert db["harvest_runs"].get(1)["status"] == "failed"
    import_file(db, a)  # the re-run: its saved ids kept, the taken one scoped
    titles = titles_by_id(db)
    assert titles["import:1"] == "Study 0 of recovery coaching"
    assert titles["import:a:7"] == "Study 6 of recovery coaching"
    assert titles["import:7"] == "Smartphone apps for smoking" and len(titles) == 13
