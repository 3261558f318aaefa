import json

import pytest

from litrev.sources.normalise import (
    author_name,
    normalise_doi,
    normalise_jats,
    normalise_title,
    rebuild_abstract,
    record_from_crossref,
    record_from_openalex,
    strip_markup,
)


@pytest.mark.parametrize("raw,expected", [
    ("https://doi.org/10.1016/J.JSAT.2016.01.003", "10.1016/j.jsat.2016.01.003"),
    ("http://dx.doi.org/10.3389/fpsyg.2019.01052", "10.3389/fpsyg.2019.01052"),
    ("doi: 10.1000/xyz.", "10.1000/xyz"),
    ("not a doi", None),
    ("", None),
    (None, None),
])
def test_normalise_doi(raw, expected):
    assert normalise_doi(raw) == expected


def test_normalise_title_folds_markup_accents_and_punctuation():
    assert normalise_title("<i>Peer</i> mentors &amp; recovery: a Café study!") == \
        "peer mentors recovery a cafe study"


def test_strip_markup_jats():
    jats = "<jats:p>Peer <jats:italic>support</jats:italic> works.</jats:p>"
    assert strip_markup(jats) == "Peer support works."


# --- Source records -> Record (real recorded responses, plus inline fixtures that need no ../shared)


OPENALEX_WORK = {
    "id": "https://openalex.org/W2963045001",
    "doi": "https://doi.org/10.1016/J.JSAT.2016.01.003",
    "title": "Peer-Delivered Recovery Support Services for Addictions in the United States",
    "display_name": "Peer-Delivered Recovery Support Services for Addictions in the United States",
    "publication_year": 2016,
    "publication_date": "2016-01-22",
    "ids": {
        "openalex": "https://openalex.org/W2963045001",
        "doi": "https://doi.org/10.1016/j.jsat.2016.01.003",
        "mag": 2963045001,
        "pmid": "https://pubmed.ncbi.nlm.nih.gov/26882891",
    },
    "language": "en",
    "type": "review",
    "primary_location": {
        "landing_page_url": "https://doi.org/10.1016/j.jsat.2016.01.003",
        "source": {"id": "https://openalex.org/S1", "display_name": "Journal of Substance Abuse Treatment"},
    },
    "authorships": [
        {"author": {"display_name": "Ellen L. Bassuk"}, "countries": ["US"],
         "institutions": [{"display_name": "Harvard", "country_code": "US"}],
         "raw_author_name": "Ellen L. Bassuk"},
        {"author": {"display_name": "Justine Hanson"}, "countries": [],
         "institutions": [{"display_name": "Bolton", "country_code": "gb"}]},
        {"author": {"display_name": None}, "raw_author_name": "Ludwig van Beethoven Jr.",
         "countries": None, "institutions": None},
    ],
    "biblio": {"volume": "63", "issue": None, "first_page": "1", "last_page": "9"},
    "keywords": [{"display_name": "Peer support"}],
    "mesh": [{"descriptor_name": "Substance-Related Disorders"}, {"descriptor_name": "Peer support"}],
    "abstract_inverted_index": {
        "Peer": [0, 6], "support": [1, 7], "works": [2], "because": [3], "it": [4], "is": [5],
        "<i>support.</i>": [8],
    },
    "updated_date": "2025-06-11T00:03:37.532706",
}

CROSSREF_ITEM = {
    "DOI": "10.3389/FPSYG.2019.01052",
    "title": ["Lived Experience in New Models of Care for Substance Use Disorder"],
    "subtitle": ["A Systematic Review of Peer Recovery Support Services and Recovery Coaching"],
    "abstract": "<jats:title>Abstract</jats:title>\n  <jats:sec><jats:title>Aim</jats:title>"
                "<jats:p>Peer <jats:italic>recovery</jats:italic> support, in <jats:sc>SUD</jats:sc>.</jats:p>"
                "</jats:sec><jats:p>Second&amp;last.</jats:p>",
    "author": [
        {"given": "David", "family": "Eddie", "sequence": "first", "affiliation": []},
        {"family": "Hoffman", "sequence": "additional"},
        {"name": "Recovery Research Institute", "sequence": "additional"},
    ],
    "issued": {"date-parts": [[2019, 6, 19]]},
    "published-online": {"date-parts": [[2019, 6, 19]]},
    "container-title": ["Frontiers in Psychology"],
    "volume": "10",
    "page": "1052",
    "type": "journal-article",
    "language": "en",
    "ISSN": ["1664-1078"],
    "URL": "https://doi.org/10.3389/fpsyg.2019.01052",
    "indexed": {"date-time": "2025-03-01T10:00:00Z"},
    "deposited": {"date-time": "2019-06-19T08:00:00Z"},
}


def test_rebuild_abstract_places_repeated_words_at_every_position():
    index = {"the": [0, 4], "cat": [1], "saw": [3], "dog": [5], "and": [2], "the ": []}
    assert rebuild_abstract(index) == "the cat and saw the dog"


def test_rebuild_abstract_handles_unsorted_positions_and_none():
    assert rebuild_abstract({"b": [1], "a": [0], "c": [2]}) == "a b c"
    assert rebuild_abstract({"x": [10], "y": [3]}) == "y x"  # gaps are fine
    assert rebuild_abstract(None) is None
    assert rebuild_abstract({}) is None
    assert rebuild_abstract({"a": []}) is None


def test_rebuild_abstract_far_apart_positions_keep_every_word_in_order():
    # Positions so sparse that one slot each would be a gigabyte: still every word, in order.
    assert rebuild_abstract({"end": [10**9], "start": [0], "middle": [5_000]}) == "start middle end"


def test_rebuild_abstract_a_position_claimed_twice_keeps_the_first_word_listed():
    assert rebuild_abstract({"peer": [0], "mentor": [1], "mentors": [1]}) == "peer mentor"


@pytest.mark.parametrize("text,expected", [
    ("Peer  support\n workers", "Peer support workers"),
    ("Alcohol &amp; drug services", "Alcohol & drug services"),
    ("<jats:p>Recovery <i>coaches</i></jats:p>", "Recovery coaches"),
    ("<p>A&lt;B &amp; C</p>", "A<B & C"),
    ("   ", None),
])
def test_strip_markup_removes_tags_and_entities_and_folds_spaces(text, expected):
    assert strip_markup(text) == expected


@pytest.mark.parametrize("name,expected", [
    ("Heather Piwowar", "Piwowar, Heather"),
    ("E. O. Wilson", "Wilson, E. O."),
    ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
    ("Martin Luther King Jr.", "King, Martin Luther Jr."),
    ("Piwowar, Heather", "Piwowar, Heather"),
    ("Plato", "Plato"),
    ("  ", None),
    (None, None),
])
def test_author_name(name, expected):
    assert author_name(name) == expected


def test_record_from_openalex_inline():
    r = record_from_openalex(OPENALEX_WORK)
    assert r.id == "openalex:W2963045001" and r.source == "openalex" and r.source_id == "W2963045001"
    assert r.openalex_id == "W2963045001"
    assert r.doi == "10.1016/j.jsat.2016.01.003"
    assert r.pmid == "26882891" and r.pmcid is None
    assert r.abstract == "Peer support works because it is Peer support support."
    assert r.authors == ["Bassuk, Ellen L.", "Hanson, Justine", "van Beethoven, Ludwig Jr."]
    assert (r.year, r.publication_date) == (2016, "2016-01-22")
    assert r.venue == "Journal of Substance Abuse Treatment"
    assert (r.volume, r.issue, r.pages) == ("63", None, "1-9")
    assert r.countries == ["GB", "US"]
    assert r.keywords == ["Peer support", "Substance-Related Disorders"]
    assert r.identifiers["mag"] == "2963045001"
    assert r.url == "https://doi.org/10.1016/j.jsat.2016.01.003"
    assert r.source_updated == "2025-06-11T00:03:37.532706"
    assert r.raw is OPENALEX_WORK


def test_record_from_openalex_missing_fields():
    r = record_from_openalex({"id": "https://openalex.org/W1"})
    assert r.id == "openalex:W1"
    assert r.title is None and r.abstract is None and r.doi is None and r.year is None
    assert r.authors == [] and r.countries == [] and r.keywords == [] and r.identifiers == {}
    assert r.url == "https://openalex.org/W1"
    with pytest.raises(ValueError):
        record_from_openalex({"title": "no id"})


def test_record_from_crossref_inline():
    r = record_from_crossref(CROSSREF_ITEM)
    assert r.id == "crossref:10.3389/fpsyg.2019.01052" and r.doi == "10.3389/fpsyg.2019.01052"
    assert r.title == ("Lived Experience in New Models of Care for Substance Use Disorder: A Systematic "
                       "Review of Peer Recovery Support Services and Recovery Coaching")
    assert r.abstract == "Aim: Peer recovery support, in SUD. Second&last."
    assert r.authors == ["Eddie, David", "Hoffman", "Recovery Research Institute"]
    assert (r.year, r.publication_date) == (2019, "2019-06-19")
    assert (r.venue, r.volume, r.issue, r.pages) == ("Frontiers in Psychology", "10", None, "1052")
    assert r.identifiers == {"doi": "10.3389/fpsyg.2019.01052", "issn": "1664-1078"}
    assert r.source_updated == "2025-03-01T10:00:00Z"
    assert r.countries == []


def test_record_from_crossref_dates_fallbacks_and_missing_fields():
    item = {"DOI": "https://doi.org/10.1000/X", "published-print": {"date-parts": [[2021, 3]]},
            "issued": {"date-parts": [[None]]}, "deposited": {"date-time": "2021-04-01T00:00:00Z"}}
    r = record_from_crossref(item)
    assert r.id == "crossref:10.1000/x"
    assert (r.year, r.publication_date) == (2021, "2021-03")
    assert r.title is None and r.abstract is None and r.authors == []
    assert r.source_updated == "2021-04-01T00:00:00Z"
    with pytest.raises(ValueError):
        record_from_crossref({"title": ["no DOI"]})


def test_crossref_subtitle_already_in_title_is_not_repeated():
    item = {"DOI": "10.1000/y", "title": ["Peer mentors: a review"], "subtitle": ["A review"]}
    assert record_from_crossref(item).title == "Peer mentors: a review"


def test_normalise_jats_keeps_inline_words_together():
    assert normalise_jats("<jats:p>In <jats:italic>E. coli</jats:italic>, CO<jats:sub>2</jats:sub> rose."
                          "</jats:p>") == "In E. coli, CO2 rose."
    assert normalise_jats(None) is None


# Real recorded responses (../shared/data)

def test_openalex_real_list_page(shared_data):
    page = json.loads((shared_data / "openalex/extracted_json/pro_fetch_search_biodiversity_AND_finance__00.json")
                      .read_text())
    records = [record_from_openalex(w) for w in page["results"]]
    assert len(records) == 200 and len({r.id for r in records}) == 200
    assert all(r.id.startswith("openalex:W") for r in records)
    with_abstract = [(w, r) for w, r in zip(page["results"], records) if w.get("abstract_inverted_index")]
    assert with_abstract
    for work, r in with_abstract:
        for word, places in work["abstract_inverted_index"].items():
            if "<" not in word and "&" not in word:  # every occurrence of a word is placed
                assert r.abstract.count(" ".join(word.split())) >= len(places), word
    assert any(r.countries for r in records)
    assert all(r.countries == sorted(set(r.countries)) for r in records)
    assert any("Conservation of Natural Resources" in r.keywords for r in records)


def test_openalex_real_entity(shared_data):
    work = json.loads((shared_data / "openalex/openalex-python_entities/W2741809807.json").read_text())
    r = record_from_openalex(work)
    assert r.id == "openalex:W2741809807" and r.doi == "10.7717/peerj.4375"
    assert (r.pmid, r.pmcid) == ("29456894", "PMC5815332")
    assert r.abstract.startswith("Despite growing interest in Open Access (OA) to scholarly literature")
    assert r.abstract.count(" in ") >= 4  # "in" sits at five positions in the index
    assert r.authors[0] == "Piwowar, Heather"
    assert (r.year, r.venue, r.volume, r.pages) == (2018, "PeerJ", "6", "e4375")
    assert r.countries == ["CA", "US"]


def test_crossref_real_jats_abstracts(shared_data):
    body = json.loads((shared_data / "crossref/extracted_json_habanero/test_works_field_queries__00.json")
                      .read_text())
    records = [record_from_crossref(item) for item in body["message"]["items"]]
    abstracts = [r.abstract for r in records if r.abstract]
    assert abstracts
    for text in abstracts:
        assert "jats" not in text and "<" not in text
        assert not text.lower().startswith(("abstract", "summary"))
    first = records[0]
    assert first.id == "crossref:10.1111/ele.14024" and first.authors == ["Boettiger, Carl"]
    assert (first.year, first.venue, first.pages) == (2022, "Ecology Letters", "1655-1664")
    assert first.abstract.startswith("Encouraged by decision makers")


def test_crossref_real_habanero_files_all_normalise(shared_data):
    folder = shared_data / "crossref/extracted_json_habanero"
    seen = 0
    for path in sorted(folder.glob("*.json")):
        message = json.loads(path.read_text()).get("message")
        if not isinstance(message, dict):
            continue
        items = message.get("items") if "items" in message else [message] if "DOI" in message else []
        for item in items:
            r = record_from_crossref(item)
            assert r.id == f"crossref:{r.doi}" and r.doi == r.doi.lower()
            seen += 1
    assert seen > 50


@pytest.mark.parametrize("n", range(5))
def test_cross_source_pairs_agree(shared_data, n):
    folder = shared_data / "cross_source_pairs"
    oa = record_from_openalex(json.loads((folder / f"pair{n}_openalex.json").read_text()))
    cr = record_from_crossref(json.loads((folder / f"pair{n}_crossref.json").read_text()))
    assert oa.doi == cr.doi
    assert oa.year == cr.year
    a, b = normalise_title(oa.title), normalise_title(cr.title)
    assert a == b or b.startswith(a) or a.startswith(b)  # Crossref may add a subtitle
