import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.screen import settings, use, vote

from litrev.cli import cli
from litrev.errors import LitrevError
from litrev.harvest.store import finish_run, save_records, start_run
from litrev.report.prisma import prisma_counts, render
from litrev.sources.normalise import Record

TA, FT = "title-abstract", "full-text"


def run(db, source, source_name, kind, records, started_at):
    run_id = start_run(db, kind=kind, source=source, source_name=source_name, query_id=None)
    with db.atomic():
        counts = save_records(db, records, run_id)
    finish_run(db, run_id, "complete", counts)
    db.execute("update harvest_runs set started_at = ? where id = ?", [started_at, run_id])
    db.execute("update provenance set found_at = ? where run_id = ?", [started_at, run_id])
    return run_id


def rec(prefix, key, title="A study"):
    source = prefix.split(":")[0]
    return Record(id=f"{prefix}{key}", source=source, source_id=str(key), raw={"id": key, "title": title},
                  title=title, doi=f"10.1000/{key}")


def link(db, record_id, work_id):
    db["records"].update(record_id, {"work_id": work_id})


def build(db, update=False):
    """A review as litrev stores it: three databases, a citation search, duplicates, a merge.

    Databases arm: OpenAlex 12 + Crossref 8 + PubMed 5 = 25 records, 16 works (9 duplicates).
    Other methods: 4 records found only by citation searching, 3 new works (1 duplicate of a
    database work). Title-abstract: 1-8 and 17-18 included, 9-14 and 19 excluded, 15-16 waiting.
    Full text: 1-3, 17 included; 4 not retrieved; 5-6 wrong population, 7 wrong design,
    18 wrong outcomes; 8 waiting.
    """
    use(db, settings(ta=1, ft=1))
    db["works"].insert_all([{"id": i, "title": f"Work {i}"} for i in range(1, 21)])
    oa = [rec("openalex:W", i) for i in range(1, 13)]
    run(db, "openalex", "OpenAlex", "harvest", oa, "2026-01-05T09:00:00+00:00")
    run(db, "crossref", "Crossref", "harvest", [rec("crossref:10.1000/c", i) for i in range(1, 9)],
        "2026-01-05T10:00:00+00:00")
    run(db, "import", "PubMed", "import", [rec("pubmed:", i) for i in range(1, 6)], "2026-01-06T10:00:00+00:00")
    run(db, "citations", "Citation searching", "citations",
        [rec("openalex:W", 1)] + [rec("openalex:W", i) for i in (102, 103, 104)] + [rec("crossref:10.1000/x", 5)],
        "2026-01-20T10:00:00+00:00")
    for i in range(1, 13):
        link(db, f"openalex:W{i}", i)
    for i in range(1, 9):
        link(db, f"crossref:10.1000/c{i}", i if i <= 6 else i + 6)  # c7, c8 -> works 13, 14
    for i, w in zip(range(1, 6), (7, 8, 15, 16, 20)):
        link(db, f"pubmed:{i}", w)
    db["works"].update(20, {"merged_into": 16})
    for i, w in zip((102, 103, 104), (17, 18, 19)):
        link(db, f"openalex:W{i}", w)
    link(db, "crossref:10.1000/x5", 2)  # a citation-search record of a database work
    for w in list(range(1, 9)) + [17, 18]:
        vote(db, w, "sam", "include")
    for w in list(range(9, 15)) + [19]:
        vote(db, w, "sam", "exclude")
    for w in (1, 2, 3, 17):
        vote(db, w, "sam", "include", stage=FT)
    vote(db, 4, "sam", "exclude", stage=FT, reason="Report not retrieved")
    vote(db, 5, "sam", "exclude", stage=FT, reason="Wrong population")
    vote(db, 6, "ali", "exclude", stage=FT, reason="Wrong population")
    vote(db, 7, "sam", "exclude", stage=FT, reason="Wrong study design")
    vote(db, 18, "sam", "exclude", stage=FT, reason="Wrong outcomes")
    if update:
        db["works"].insert_all([{"id": 21, "title": "Work 21"}, {"id": 22, "title": "Work 22"}])
        update_run = run(db, "openalex", "OpenAlex", "harvest",
                         [rec("openalex:W", 1), rec("openalex:W", 21), rec("openalex:W", 22)],
                         "2026-03-01T09:00:00+00:00")
        link(db, "openalex:W21", 21)
        link(db, "openalex:W22", 22)
        vote(db, 21, "sam", "include")
        vote(db, 21, "sam", "include", stage=FT)
        vote(db, 22, "sam", "exclude")
        return update_run
    return None


def check_adds_up(arm):
    assert arm["identified_total"] == sum(arm["identified"].values())
    works = arm["identified_total"] - arm["duplicates_removed"]
    assert works == arm["records_screened"] + arm["awaiting_screening"]
    assert arm["records_screened"] == arm["records_excluded"] + arm["reports_sought"]
    assert arm["reports_sought"] == (arm["reports_not_retrieved"] + arm["reports_assessed"]
                                     + arm["awaiting_assessment"])
    assert arm["reports_assessed"] == arm["reports_excluded_total"] + arm["studies_included"]
    assert arm["reports_excluded_total"] == sum(arm["reports_excluded"].values())


def test_counts_on_a_realistic_database(db):
    build(db)
    c = prisma_counts(db)
    assert c["form"] == "new" and c["warnings"] == []
    assert c["databases"] == {
        "identified": {"Crossref": 8, "OpenAlex": 12, "PubMed": 5},
        "identified_total": 25,
        "duplicates_removed": 9,
        "records_screened": 14,
        "records_excluded": 6,
        "awaiting_screening": 2,
        "reports_sought": 8,
        "reports_not_retrieved": 1,
        "reports_assessed": 6,
        "reports_excluded": {"Wrong population": 2, "Wrong study design": 1},
        "reports_excluded_total": 3,
        "awaiting_assessment": 1,
        "studies_included": 3,
    }
    assert c["other"] == {
        "identified": {"Citation searching": 4},
        "identified_total": 4,
        "duplicates_removed": 1,
        "records_screened": 3,
        "records_excluded": 1,
        "awaiting_screening": 0,
        "reports_sought": 2,
        "reports_not_retrieved": 0,
        "reports_assessed": 2,
        "reports_excluded": {"Wrong outcomes": 1},
        "reports_excluded_total": 1,
        "awaiting_assessment": 0,
        "studies_included": 1,
    }
    assert c["included"] == {"studies": 4, "reports": 4}
    for arm in ("databases", "other"):
        check_adds_up(c[arm])
    # The diagram agrees with the views every other command uses.
    assert db.execute("select count(*) from work_status where status = 'included'").fetchone()[0] == 4


def test_updated_review_form_counts_only_new_records(db):
    update_run = build(db, update=True)
    for since in (str(update_run), "2026-02-01"):
        c = prisma_counts(db, since=since)
        assert c["form"] == "updated"
        db_arm = c["databases"]
        # W1 was found again by the update (an old record): not new, not identified again.
        assert db_arm["identified"] == {"OpenAlex": 2}
        assert (db_arm["records_screened"], db_arm["records_excluded"], db_arm["studies_included"]) == (2, 1, 1)
        assert c["other"]["identified_total"] == 0
        assert c["previous"] == {"studies": 4, "reports": 4}
        assert c["included"] == {"studies": 1, "reports": 1}
        assert c["total"] == {"studies": 5, "reports": 5}
        check_adds_up(db_arm)
    c = prisma_counts(db, since="2026-02-01", previous_studies=7, previous_reports=9)
    assert c["previous"] == {"studies": 7, "reports": 9} and c["total"] == {"studies": 8, "reports": 10}
    with pytest.raises(LitrevError, match="no run with that id"):
        prisma_counts(db, since="99")
    with pytest.raises(LitrevError, match="neither a run id nor a date"):
        prisma_counts(db, since="last week")


def test_unlinked_records_are_reported(db):
    build(db)
    save_records(db, [rec("openalex:W", 500)], 1)
    c = prisma_counts(db)
    assert c["warnings"] == ["1 records are not deduplicated yet and are left out; run `litrev dedupe`."]
    assert c["databases"]["identified"]["OpenAlex"] == 12


def svg_text(svg):
    """Every text line of the SVG joined, so a phrase wrapped over two lines still matches."""
    root = ET.fromstring(svg)
    return " ".join(" ".join((t.text or "").split()) for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_svg_is_valid_xml_with_every_number(db):
    build(db)
    svg = render(prisma_counts(db), "svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = svg_text(svg)
    for phrase in ("Identification of studies via databases and registers",
                   "Identification of studies via other methods", "OpenAlex (n = 12)",
                   "Duplicate records removed (n = 9)", "Records screened (n = 14)",
                   "Records excluded (n = 6)", "Reports sought for retrieval (n = 8)",
                   "Reports not retrieved (n = 1)", "Reports assessed for eligibility (n = 6)",
                   "Wrong population (n = 2)", "Citation searching (n = 4)",
                   "Studies included in review (n = 4)", "Identification", "Screening", "Included"):
        assert phrase in text, phrase


def test_updated_svg_has_previous_and_total_boxes(db):
    build(db, update=True)
    svg = svg_text(render(prisma_counts(db, since="2026-02-01"), "svg"))
    for phrase in ("Previous studies", "Studies included in previous version of review (n = 4)",
                   "New studies included in review (n = 1)", "Total studies included in review (n = 5)",
                   "Identification of new studies via databases and registers"):
        assert phrase in svg


def test_json_md_html_outputs(db):
    build(db)
    counts = prisma_counts(db)
    assert json.loads(render(counts, "json")) == counts
    md = render(counts, "md")
    assert md.startswith("# PRISMA 2020 flow diagram\n")
    assert "  - Wrong population (n = 2)" in md and "- Records screened (n = 14)" in md
    html = render(counts, "html")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html


def test_cli_prisma_writes_files(db_path, tmp_path):
    from litrev.db import open_db

    build(open_db(db_path))
    settings_file = tmp_path / "review.toml"
    settings_file.write_text("[stages.title-abstract]\nscreeners = 1\n[stages.full-text]\nscreeners = 1\n")
    args = ["--db", db_path, "--settings", str(settings_file)]
    r = CliRunner().invoke(cli, ["prisma", "--format", "json", *args], catch_exceptions=False)
    assert json.loads(r.output)["included"] == {"studies": 4, "reports": 4}
    out = tmp_path / "prisma.svg"
    r = CliRunner().invoke(cli, ["prisma", "-o", str(out), *args], catch_exceptions=False)
    assert r.exit_code == 0 and ET.parse(out).getroot().tag.endswith("svg")
    r = CliRunner().invoke(cli, ["prisma", "--since", "nope", *args])
    assert r.exit_code == 1 and r.output.startswith("Error: --since 'nope'")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_svg_renders_in_headless_chromium(tmp_path):
    """Both forms in one page, one browser start: a real drawing, not a blank or broken page."""
    from litrev.db import open_db

    svgs = []
    for update in (False, True):
        db = open_db(tmp_path / f"e{int(update)}.db")
        build(db, update=update)
        svgs.append(render(prisma_counts(db, since="2026-02-01" if update else None), "svg"))
    page = tmp_path / "prisma.html"
    page.write_text("<!DOCTYPE html><html><body style='margin:0'>" + "".join(svgs) + "</body></html>")
    png = tmp_path / "prisma.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
         "--window-size=1560,1300", page.as_uri()],
        check=True, capture_output=True, timeout=60,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 40_000  # drawings, not a blank page
    keep = Path(__file__).parent / ".artifacts"
    if keep.is_dir():  # `mkdir tests/.artifacts` to look at the picture
        shutil.copy(png, keep / "prisma.png")
