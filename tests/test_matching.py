"""Pure matching: normalised keys, each rule of score_pair, blocking and clustering."""

import csv
import json

import numpy as np
import pytest
from rapidfuzz import fuzz
from support.dedupe import (
    ALL,
    BATROXOBIN,
    ERRATUM,
    LIU_ABSTRACT,
    PNAS,
    PREPRINT,
    SERIES,
    bib_record,
    erratum_pair,
    rec,
    republished_pair,
)

from litrev.dedupe.matching import (
    MAX_BLOCK,
    TITLE_SAME_WITH_LOCATION,
    authors_key,
    candidate_pairs,
    cluster,
    duplicate_likelihood,
    find_duplicates,
    is_prefix,
    is_suffix,
    pages_key,
    plausible_number,
    prepare,
    score_pair,
    title_key,
    venue_similarity,
    worth_scoring,
)


def judge(a, b):
    return score_pair(prepare(a), prepare(b))


# --- normalising ------------------------------------------------------------------


@pytest.mark.parametrize("raw,key", [
    ("<i>In vitro</i> effects of caffeine &amp; alcohol.", "in vitro effects of caffeine alcohol"),
    ("Efficacy of batroxobin in vascular impairment. [Chinese]", "efficacy of batroxobin in vascular impairment"),
    ("[Current aspects of hemolytic uremic syndrome in children]. [Review] [16 refs]",
     "current aspects of hemolytic uremic syndrome in children"),
    ("Robot-assisted gait training.[Erratum appears in Exp Brain Res. 2010 May;202(4):943]",
     "robot assisted gait training"),
    ("Платформенная занятость: масштабы", "платформенная занятость масштабы"),
    ("Ecologically-oriented neurorehabilitation of memory", "ecologically oriented neurorehabilitation of memory"),
])
def test_title_key_drops_markup_annotations_and_accents_but_keeps_scripts(raw, key):
    assert title_key(raw) == key


@pytest.mark.parametrize("pages,key", [
    ("73-6", ("73", "76")), ("73--76", ("73", "76")), ("pp. 1297-1306", ("1297", "1306")),
    ("c37-c42", ("37", "42")), ("Cd002273", ("cd002273", "")), ("e505", ("505", "")), (None, ("", "")),
])
def test_pages_key(pages, key):
    assert pages_key(pages) == key


@pytest.mark.parametrize("authors", [
    ["Zhai, Qingjun", "Yue, Xiaoyan"], ["Zhai, Q. J.", "Yue, X. Y."], "Zhai, Q. J. and Yue, X. Y.",
    "Q. J. Zhai; X. Y. Yue", ["Qingjun, Zhai", "Xiaoyan, Yue"],
])
def test_author_formats_reduce_to_the_same_first_surname_and_matching_tokens(authors):
    tokens, first = authors_key(authors)
    assert first in ("zhai", "qingjun")
    assert {"zhai", "yue"} <= set(tokens.split())


def test_ovid_style_concatenated_authors_are_split():
    tokens, first = authors_key("Tan A.Schulze A.O'Donnell C. P.Davis P. G.")
    assert first == "tan" and {"tan", "schulze", "davis"} <= set(tokens.split())


def test_venue_abbreviations_match_full_names():
    assert venue_similarity(prepare({"id": "a", "venue": "Curr Opin Lipidol"}).venue,
                            prepare({"id": "b", "venue": "Current Opinion in Lipidology"}).venue) >= 90
    assert venue_similarity(prepare({"id": "a", "venue": "Proc. Natl. Acad. Sci. U.S.A."}).venue,
                            prepare({"id": "b", "venue": "PNAS"}).venue) >= 90
    assert venue_similarity(prepare({"id": "a", "venue": "Amcis 2017 Proceedings"}).venue,
                            prepare({"id": "b", "venue": "Americas Conference on Information Systems"}).venue) >= 90
    assert venue_similarity("addiction", "lancet") < 70


# --- rules ------------------------------------------------------------------------


def test_same_doi_merges_whatever_the_formatting():
    result = judge(PNAS[0], PNAS[1])
    assert (result.outcome, result.method, result.score) == ("merge", "doi", 1.0)


def test_same_doi_with_titles_sharing_no_word_is_decided_distinct_with_the_reason():
    a = rec("ris:1", "Understanding information privacy assimilation in IT organizations",
            doi="10.17705/1CAIS.04204", authors=["Attili, V. S. Prakash"], year=2018)
    b = rec("ris:2", "MISunderstood: a longitudinal analysis of major misperceptions",
            doi="10.17705/1CAIS.04204", authors=["Annabi, Hala"], year=2019)
    result = judge(a, b)
    assert result.outcome == "distinct"
    assert result.details["decided"] == "one identifier, titles share no word"


# Two abstracts of one congress, printed in a journal supplement that has one DOI.
SUPPLEMENT = {"doi": "10.1111/j.1538-7836.2011.04380_2.x", "year": 2011, "volume": "9",
              "issue": "Suppl. 2", "venue": "Journal of Thrombosis and Haemostasis"}


def test_supplement_abstracts_sharing_the_supplements_doi_are_decided_distinct():
    a = rec("embase:1", "Eculizumab in atypical haemolytic uraemic syndrome: two-year outcomes",
            authors=["Licht, C.", "Muus, P."], pages="A102", **SUPPLEMENT)
    b = rec("embase:2", "Thrombotic microangiopathy after haemolytic uraemic syndrome in children",
            authors=["Loirat, C.", "Fremeaux-Bacchi, V."], pages="A317", **SUPPLEMENT)
    c = rec("embase:3", "Platelet counts after haemolytic uraemic syndrome: a registry study",
            authors=["Licht, C.", "Muus, P."], **SUPPLEMENT)
    different_pages, different_authors = judge(a, b), judge(b, c)
    assert (different_pages.outcome, different_authors.outcome) == ("distinct", "distinct")
    assert different_pages.details["decided"].startswith("one identifier, different pages")
    assert different_authors.details["decided"] == "one identifier, different authors"


def test_same_doi_different_titles_same_authors_and_place_still_goes_to_review():
    # A translated title under its article's DOI: nothing says they are two works.
    a = rec("ris:1", "Peer mentors in alcohol services: a realist evaluation",
            doi="10.1000/peer.1", authors=["Smith, Jane"], year=2021, pages="10-20")
    b = rec("ris:2", "Mentores pares en servicios de alcohol: evaluación realista",
            doi="10.1000/peer.1", authors=["Smith, J."], year=2021, pages="10-20")
    result = judge(a, b)
    assert result.outcome == "review" and "decided" not in result.details


def test_no_doi_record_merges_on_title_authors_and_venue():
    assert judge(PNAS[0], PNAS[2]).outcome == "merge"
    assert judge(BATROXOBIN[0], BATROXOBIN[1]).outcome == "merge"


def test_series_parts_with_real_dois_never_merge():
    result = judge(*SERIES)
    assert result.outcome == "distinct" and "series" in result.details["conflict"]


def test_different_real_dois_are_distinct_or_reviewed_never_merged():
    a = rec("crossref:10.24251/hicss.2021.510", "Introduction to the minitrack on crowdsourcing and "
            "digital workforce", doi="10.24251/HICSS.2021.510", authors=["Deng, Xuefei"], year=2021)
    b = rec("crossref:10.24251/hicss.2022.544", "Introduction to the minitrack on crowdsourcing and "
            "digital workforce", doi="10.24251/HICSS.2022.544", authors=["Deng, Xuefei"], year=2022)
    assert judge(a, b).outcome in ("distinct", "review")


def test_doi_versions_of_one_cochrane_review_merge():
    a = rec("ris:1", "Air versus oxygen for resuscitation of infants at birth",
            doi="10.1002/14651858.CD002273.pub2", authors=["Tan, A.", "Davis, P. G."], year=2004)
    b = rec("ris:2", "Air versus oxygen for resuscitation of infants at birth",
            doi="10.1002/14651858.CD002273.pub3", authors=["Tan, A.", "Davis, P. G."], year=2005)
    assert (judge(a, b).outcome, judge(a, b).method) == ("merge", "doi-version")


def test_erratum_and_preprint_are_related_not_merged():
    assert judge(*ERRATUM).outcome == "related"
    assert judge(*ERRATUM).details["relation"] == "erratum"
    assert judge(*PREPRINT).details["relation"] == "preprint"


def test_web_of_science_erratum_pointer_is_a_relation():
    a = rec("ris:1", "Long-term effect of eculizumab on kidney function", authors=["Hillmen, P."],
            year=2010, venue="American Journal of Hematology", volume="85", pages="553-559")
    b = rec("ris:2", "Long-term effect of eculizumab on kidney function (vol 85, pg 553, 2010)",
            authors=["Hillmen, P."], year=2010, venue="American Journal of Hematology", volume="85",
            pages="911")
    assert judge(a, b).outcome == "related"


def test_years_apart_journal_vs_conference_and_generic_titles_do_not_merge():
    base = {"authors": ["Stahl, Bernd Carsten"], "venue": "Journal of Global IT Management"}
    assert judge(rec("a:1", "Cultural universality versus particularity in CMC", year=2004, **base),
                 rec("a:2", "Cultural universality versus particularity in CMC", year=2001, **base)
                 ).outcome == "distinct"
    journal = rec("a:3", "Learning-based scheduling for digital work platforms", year=2020,
                  authors=["Smith, John"], venue="Journal of Digital Studies")
    workshop = rec("a:4", "Learning-based scheduling for digital work platforms", year=2020,
                   authors=["Smith, John"], venue="Workshop of Digital Studies")
    assert judge(journal, workshop).outcome == "distinct"
    editorial = {"authors": ["Weber, Ron"], "year": 2002, "venue": "MIS Quarterly", "volume": "26"}
    assert judge(rec("a:5", "Editor's Comments", issue="1", **editorial),
                 rec("a:6", "Editor's Comments", issue="2", **editorial)).outcome == "distinct"


def test_different_people_same_title_boilerplate_do_not_merge():
    a = rec("a:1", "Communications of the Association for Information Systems Volume 52 Paper 41",
            authors=["Rao, Lila", "Mcnaughton, Maurice"], year=2023, venue="CAIS", volume="52")
    b = rec("a:2", "Communications of the Association for Information Systems Volume 52 Paper 40",
            authors=["Hu, Han-Fen", "Moody, Gregory D"], year=2023, venue="CAIS", volume="52")
    assert judge(a, b).outcome == "distinct"


def test_translated_title_merges_on_full_location_and_authors():
    a = rec("a:1", "Platform economy and crowdworking as challenges for the German model",
            authors=["Greef, S.", "Schroeder, W."], year=2020, venue="Industrielle Beziehungen",
            volume="27", issue="2", pages="205-226")
    b = rec("a:2", "Plattformökonomie und Crowdworking als Herausforderungen für das deutsche Modell",
            authors=["Greef, Samuel", "Schroeder, Wolfgang"], year=2020,
            venue="Industrielle Beziehungen", volume="27", issue="2", pages="205-226")
    assert judge(a, b).outcome == "merge"


def test_title_missing_its_leading_words_merges_on_authors_year_and_venue():
    # digital_work: one database glued a column heading before the title, and gave the year
    # as the volume; the other has the real volume. Same author, year and journal.
    a = rec("scopus:1", "Upwork’s CEO on how an introverted engineer learned to lead",
            authors=["Kasriel, S."], year=2016, venue="Harvard Business Review", volume="2016",
            issue="May")
    b = rec("wos:1", "How did it ... Upwork's CEO on how an introverted engineer learned to lead",
            authors=["Kasriel, Stephane"], year=2016, venue="Harvard Business Review", volume="94",
            issue="5", pages="35+")
    result = judge(a, b)
    assert (result.outcome, result.method) == ("merge", "fuzzy-suffix")
    assert "soft_conflicts" not in result.details  # volume "2016" is the year, not a volume


def test_a_short_title_ending_a_longer_one_is_not_a_duplicate():
    # haematology: a short title can end an unrelated longer one (share of the longer < 0.75).
    base = {"authors": ["Noris, M.", "Remuzzi, G."], "year": 2009,
            "venue": "New England Journal of Medicine"}
    a = rec("a:1", "Atypical hemolytic uremic syndrome", volume="361", pages="1676-1687", **base)
    b = rec("a:2", "Age-related penetrance of hereditary atypical hemolytic uremic syndrome",
            volume="362", pages="100-108", **base)
    assert judge(a, b).outcome != "merge"
    # A real volume that differs is still a conflict when neither is a year.
    c = rec("a:3", "How did it ... atypical hemolytic uremic syndrome in adults and children",
            volume="361", **base)
    d = rec("a:4", "Atypical hemolytic uremic syndrome in adults and children", volume="360", **base)
    assert judge(c, d).outcome != "merge"


def test_one_text_registered_under_two_dois_merges_as_a_republication():
    result = judge(*republished_pair())
    assert (result.outcome, result.method) == ("merge", "republication")
    # Whitespace, case and punctuation in the abstract do not matter.
    assert judge(*republished_pair(LIU_ABSTRACT.upper().replace(". ", ".  "))).outcome == "merge"


def test_two_dois_without_the_same_abstract_are_never_merged():
    # No abstract (JMIS "Special Section" introductions 2009/2010), another abstract, or the
    # same abstract under other authors (a commentary): never merged by the machine. Two
    # DOIs in two volumes a year apart are decided distinct, with the reason kept.
    for pair in (republished_pair(None), republished_pair("A different text. " * 20)):
        result = judge(*pair)
        assert result.outcome == "distinct"
        assert result.details["decided"] == "different DOIs and places in print or years"
    assert judge(*republished_pair(authors_b=("Zimmer, Michael",))).outcome == "distinct"


def test_two_dois_with_nothing_else_to_tell_them_apart_go_to_review():
    a, b = republished_pair(None)
    for record in (a, b):
        record.volume = record.issue = record.pages = None
    b.year = a.year
    result = judge(a, b)
    assert result.outcome == "review" and result.details["conflict"] == "different DOIs"


def test_yearly_columns_under_two_dois_are_decided_distinct_not_queued():
    # digital_work: "Editorial Notes" by one editor in every issue, each with its own DOI.
    common = {"authors": ["Agarwal, Ritu"], "venue": "Information Systems Research", "volume": "22"}
    a = rec("crossref:10.1287/isre.1110.0355", "Editorial notes on the journal",
            doi="10.1287/isre.1110.0355", year=2011, issue="1", pages="1-4", **common)
    b = rec("crossref:10.1287/isre.1110.0369", "Editorial notes on the journal",
            doi="10.1287/isre.1110.0369", year=2011, issue="2", pages="213-214", **common)
    result = judge(a, b)
    assert result.outcome == "distinct"
    assert result.details["decided"] == "different DOIs and places in print or years"


def test_an_erratum_carrying_its_articles_abstract_merges_as_a_copy():
    result = judge(*erratum_pair())
    assert (result.outcome, result.method) == ("merge", "erratum-copy")
    # An erratum with no abstract, or its own text, is the notice itself: related, not merged.
    assert judge(*erratum_pair(None)).outcome == "related"
    notice = "In the original publication of this article, the affiliation of the third author was wrong. " * 3
    assert judge(*erratum_pair(notice)).outcome == "related"


def test_cluster_lets_a_republication_pair_join_two_dois():
    dois = {"a": "10.1057/jit.2009.2", "b": "10.1057/jit.2008.23", "c": "10.1057/jit.2008.23"}
    merges = [("a", "b", 1.0), ("b", "c", 1.0)]
    groups = cluster(["a", "b", "c"], merges, dois=dois)
    assert groups["a"] != groups["b"] == groups["c"]  # without the bridge, two DOIs stay apart
    groups = cluster(["a", "b", "c"], merges, dois=dois, doi_bridges=[("b", "a")])
    assert groups["a"] == groups["b"] == groups["c"]
    # A person's "different" still wins over the bridge.
    groups = cluster(["a", "b", "c"], merges, cannot_link=[("a", "b")], dois=dois, doi_bridges=[("a", "b")])
    assert groups["a"] != groups["b"]


# --- blocking and clustering ------------------------------------------------------------


def test_blocking_is_not_all_pairs():
    records = [rec(f"ris:{i}", f"A distinct study number {i} of peer support in recovery services "
                   f"{'abcdefghij'[i % 10]}{i}", authors=[f"Author{i}, A."], year=2000 + i % 20)
               for i in range(400)]
    prepared = [prepare(r) for r in records]
    assert len(candidate_pairs(prepared)) < 400 * MAX_BLOCK


def worth_one_pair(a, b):
    """The cheap first look's rule, pair by pair (worth_scoring judges whole arrays of pairs)."""
    short, long = sorted((a.base_title, b.base_title), key=len)
    return bool((a.doi_base and a.doi_base == b.doi_base) or (a.pmid and a.pmid == b.pmid)
                or (a.volume and a.volume == b.volume and a.first_page and a.first_page == b.first_page)
                or is_prefix(short, long) or is_suffix(short, long)
                or fuzz.ratio(a.base_title, b.base_title) >= TITLE_SAME_WITH_LOCATION)


def test_worth_scoring_keeps_exactly_the_pairs_its_rule_keeps():
    """One surname-and-year block of titles on each side of every rule's edge: a prefix of 20
    characters and of 19, an ending with and without a word break, above and below 3/4 of the
    longer title, near and far titles, a shared DOI, PMID or volume and first page."""
    long = "peer mentors in alcohol and drug services a qualitative study of recovery coaching"
    titles = [long, long[:20], long[:19], long[-60:].split(" ", 1)[1], "x" + long[-62:],
              long[-40:].split(" ", 1)[1], long.replace("peer", "pear"), "housing first for people",
              "housing first for people who inject drugs", "an unrelated trial of naloxone kits",
              "an unrelated trial of naloxone kits in prisons"]
    records = [rec(f"ris:{i}", t, authors=["Smith, A."], year=2020) for i, t in enumerate(titles)]
    records += [rec("ris:d1", "one title about mentoring", doi="10.1234/peer.1", authors=["Smith, A."], year=2020),
                rec("ris:d2", "a different title entirely", doi="10.1234/peer.1", authors=["Smith, A."], year=2020),
                rec("ris:p1", "first paper on coaching", pmid="123", authors=["Smith, A."], year=2020),
                rec("ris:p2", "second paper on housing", pmid="123", authors=["Smith, A."], year=2020),
                rec("ris:v1", "third paper on peers", volume="12", pages="33-40", authors=["Smith, A."], year=2020),
                rec("ris:v2", "fourth item on prisons", volume="12", pages="33-39", authors=["Smith, A."], year=2020)]
    prepared = [prepare(r) for r in records]
    n = len(prepared)
    candidates = sorted(candidate_pairs(prepared))
    codes = np.array([i * n + j for i, j in candidates], dtype=np.int64)
    kept = [divmod(int(c), n) for c in worth_scoring(prepared, codes)]
    expected = [(i, j) for i, j in candidates if worth_one_pair(prepared[i], prepared[j])]
    assert kept == expected
    assert 0 < len(expected) < len(candidates)  # the block has pairs on both sides of the rule
    ids = {(prepared[i].id, prepared[j].id) for i, j in kept}
    assert {("ris:0", "ris:1"), ("ris:0", "ris:3"), ("ris:d1", "ris:d2"), ("ris:p1", "ris:p2"),
            ("ris:v1", "ris:v2")} <= ids
    assert not {("ris:0", "ris:2"), ("ris:0", "ris:5"), ("ris:7", "ris:9")} & ids


def test_incremental_blocking_only_pairs_touching_new_records():
    prepared = [prepare(r) for r in ALL]
    new = {PNAS[2].id}
    pairs = candidate_pairs(prepared, new)
    assert pairs and all(new & {prepared[i].id, prepared[j].id} for i, j in pairs)


def test_cluster_honours_cannot_link_and_different_dois():
    groups = cluster(["a", "b", "c"], [("a", "b", 0.99), ("b", "c", 0.97)], cannot_link=[("a", "c")])
    assert groups["a"] == groups["b"] and groups["c"] != groups["a"]
    groups = cluster(["a", "b", "c"], [("a", "b", 0.99), ("b", "c", 0.97)],
                     dois={"a": "10.1/x", "c": "10.1/y"})
    assert groups["a"] == groups["b"] != groups["c"]


def test_find_duplicates_on_the_inline_fixture():
    outcomes = {(p.a, p.b): p.outcome for p in find_duplicates(ALL)}
    assert outcomes[("crossref:10.1073/pnas.1604234114", "openalex:W2751213400")] == "merge"
    assert outcomes[("embase:20102", "medline:20101")] == "merge"
    assert outcomes.get(tuple(sorted(r.id for r in SERIES))) in (None, "distinct")


# --- the shared labelled cases ----------------------------------------------------------------


def test_edge_case_pairs(shared_data):
    cases = json.loads((shared_data / "dedup" / "edge_case_pairs.json").read_text())["cases"]
    wrong = []
    for case in cases:
        a, b = bib_record(case["record_a"]), bib_record(case["record_b"], suffix="b")
        result = judge(a, b)
        if (result.outcome == "merge") != case["expected_duplicate"]:
            wrong.append((case["id"], result.outcome, result.details))
    assert not wrong


def test_special_cases_set_groups_exactly_as_labelled(shared_data):
    folder = shared_data / "dedup" / "special_cases"
    with open(folder / "records_pre_merged.csv", newline="") as f:
        records = [bib_record(row) for row in csv.DictReader(f)]
    with open(folder / "merged_record_ids.csv", newline="") as f:
        gold = {frozenset(f"bib:{i}" for i in row["merged_ids"].split(";")) for row in csv.DictReader(f)}
    pairs = find_duplicates(records)
    groups = cluster([r.id for r in records], [(p.a, p.b, p.score) for p in pairs if p.outcome == "merge"])
    found: dict[str, set[str]] = {}
    for record_id, root in groups.items():
        found.setdefault(root, set()).add(record_id)
    assert {frozenset(g) for g in found.values() if len(g) > 1} == gold


def test_cross_source_pairs_merge(shared_data):
    normalise = pytest.importorskip("litrev.sources.normalise")
    if not hasattr(normalise, "record_from_openalex"):
        pytest.skip("record_from_openalex is not there yet")
    folder = shared_data / "cross_source_pairs"
    for i in range(5):
        work = json.loads((folder / f"pair{i}_openalex.json").read_text())
        item = json.loads((folder / f"pair{i}_crossref.json").read_text())["message"]
        a, b = normalise.record_from_openalex(work), normalise.record_from_crossref(item)
        assert judge(a, b).outcome == "merge", (i, judge(a, b).details)


# --- malformed volumes and issues (issue 19) ------------------------------------------


@pytest.mark.parametrize("value,year,number", [
    ("50", 2011, "50"), ("4 (1) (no pagination)", 2011, "4"), ("9 Suppl 23", 1996, "9"),
    ("1)", 2011, ""), ("SUPPL. 1", 2011, ""), ("Suppl 2", 2011, ""), ("2016", 2016, ""),
    ("2015-April", 2015, ""), ("(1)", 2011, "1"), ("1999", 2016, "1999"), ("Ph.D.", 2011, ""),
])
def test_plausible_number_drops_fields_that_cannot_be_a_volume(value, year, number):
    assert plausible_number(value, year) == number


def test_conference_abstract_with_a_malformed_volume_merges_with_its_copy():
    # The unseen set's misses: "50(Suppl. 1)" cut into volume "1)" and issue "SUPPL. 1" in one
    # export; same title, authors, year, journal and pages in both.
    common = {"authors": ["Okafor, C.", "Walsh, C."], "year": 2015, "pages": "A123",
              "venue": "Alcohol and Alcoholism"}
    title = "Peer mentoring in alcohol treatment services: a pilot evaluation"
    a = rec("embase:1", title, volume="1)", issue="SUPPL. 1", **common)
    b = rec("medline:2", title, volume="50", issue="Suppl. 1", **common)
    result = judge(a, b)
    assert result.outcome == "merge" and "soft_conflicts" not in result.details


# --- near misses decided without a person (issue 19) -------------------------------------


TWICE = {"authors": ["Graham, R.", "Teasell, R.", "Salter, K."], "year": 2010}
TWICE_TITLE = "Aphasia and cognitive communication rehabilitation: state of the evidence"


def test_same_title_printed_in_two_journals_is_decided_distinct():
    # stroke: a congress abstract in Can J Neurol Sci 37(3) S99 and in Stroke 41(7) e494.
    a = rec("embase:1", TWICE_TITLE, venue="Canadian Journal of Neurological Sciences", volume="37",
            issue="3", pages="S99", **TWICE)
    b = rec("embase:2", TWICE_TITLE, venue="Stroke", volume="41", issue="7", pages="e494", **TWICE)
    result = judge(a, b)
    assert result.outcome == "distinct"
    assert result.details["decided"].startswith("printed in two places")


def test_a_year_apart_in_another_venue_is_decided_distinct():
    # digital_work: an ICIS paper in 2017 and the same title at HICSS in 2018.
    authors = ["Liang, Chen", "Hong, Kevin", "Gu, Bin"]
    a = rec("ris:1", "Home bias in online employment", authors=authors, year=2017,
            venue="International Conference on Information Systems")
    b = rec("ris:2", "Home bias in online employment", authors=authors, year=2018,
            venue="Proceedings of the 51st Hawaii International Conference on System Sciences")
    assert judge(a, b).details["decided"] == "a year apart in another volume or venue"


def test_another_title_on_other_pages_of_one_journal_is_decided_distinct():
    # haematology: monthly "Gateways to clinical trials" columns in one volume.
    common = {"authors": ["Bayes, M.", "Rabasseda, X.", "Prous, J. R."], "year": 2004,
              "venue": "Methods and Findings in Experimental and Clinical Pharmacology", "volume": "26"}
    a = rec("embase:1", "Gateways to clinical trials: April 2004", issue="3", pages="211-244", **common)
    b = rec("embase:2", "Gateways to clinical trials", issue="6", pages="473-503", **common)
    assert judge(a, b).details["decided"] == "another title on other pages of one journal"


def test_identical_title_in_two_issues_of_one_volume_stays_in_review():
    # haematology labels such reprints duplicates, and errata look the same: a person decides.
    common = {"authors": ["Le Quintrec, M.", "Zuber, J."], "year": 2009, "volume": "9",
              "venue": "American Journal of Transplantation"}
    title = "Anti-factor H autoantibodies in a fifth renal transplant recipient"
    a = rec("embase:1", title, issue="5", pages="1223-1229", **common)
    b = rec("embase:2", title, issue="9", pages="2205", **common)
    result = judge(a, b)
    assert result.outcome == "review" and 0 < result.details["likelihood"] < 1


def test_likelihood_ranks_agreeing_evidence_above_a_higher_title_score_with_conflicts():
    agreeing = {"title": 94.0, "authors": 100.0, "years_apart": 0}
    conflicting = {"title": 100.0, "authors": 80.0, "years_apart": 0,
                   "soft_conflicts": ["issues differ", "pages differ"]}
    assert duplicate_likelihood(agreeing) > duplicate_likelihood(conflicting)
    assert duplicate_likelihood({"title": 100.0, "authors": 100.0, "years_apart": 0}) == 1.0
