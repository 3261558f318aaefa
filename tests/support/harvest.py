"""Realistic OpenAlex works and Crossref items (the real APIs' shapes). The replay server's
fixture, `replay`, is in tests/conftest.py.

The shapes follow the recorded 2025-26 responses in ../shared/data; values are
made up around the review's topic so tests read naturally.
"""

import copy

TOPICS = ["peer mentors", "peer support workers", "peer recovery coaches",
          "lived experience workers", "recovery champions"]
SETTINGS = ["alcohol and drug services", "opioid treatment programmes",
            "addiction recovery", "substance use disorder treatment"]

_OPENALEX_WORK = {
    "id": "https://openalex.org/W4000000000",
    "doi": "https://doi.org/10.1000/litrev.0",
    "title": None,
    "display_name": None,
    "publication_year": 2021,
    "publication_date": "2021-03-15",
    "ids": {"openalex": "https://openalex.org/W4000000000",
            "doi": "https://doi.org/10.1000/litrev.0",
            "pmid": "https://pubmed.ncbi.nlm.nih.gov/33000000"},
    "language": "en",
    "primary_location": {
        "id": "doi:10.1000/litrev.0", "is_oa": True,
        "landing_page_url": "https://doi.org/10.1000/litrev.0", "pdf_url": None,
        "source": {"id": "https://openalex.org/S4210194320",
                   "display_name": "Journal of Substance Abuse Treatment",
                   "issn_l": "0740-5472", "issn": ["0740-5472"], "is_oa": False,
                   "is_in_doaj": False, "is_core": True, "host_organization": None,
                   "type": "journal", "raw_type": "journal-article"},
        "license": "cc-by", "version": "publishedVersion", "is_accepted": True,
        "is_published": True, "raw_source_name": "Journal of Substance Abuse Treatment",
    },
    "type": "article",
    "indexed_in": ["crossref", "pubmed"],
    "open_access": {"is_oa": True, "oa_status": "gold", "oa_url": "https://doi.org/10.1000/litrev.0",
                    "any_repository_has_fulltext": False},
    "authorships": [
        {"author_position": "first",
         "author": {"id": "https://openalex.org/A5000000001", "display_name": "Aroha Ngata",
                    "orcid": None},
         "institutions": [{"id": "https://openalex.org/I1", "display_name": "University of Otago",
                           "ror": "https://ror.org/01jmxt844", "country_code": "NZ",
                           "type": "education", "lineage": ["https://openalex.org/I1"]}],
         "countries": ["NZ"], "is_corresponding": True, "raw_author_name": "Aroha Ngata",
         "raw_affiliation_strings": ["University of Otago, Dunedin, New Zealand"],
         "affiliations": []},
        {"author_position": "last",
         "author": {"id": "https://openalex.org/A5000000002", "display_name": "Sean O'Neill",
                    "orcid": "https://orcid.org/0000-0002-1825-0097"},
         "institutions": [{"id": "https://openalex.org/I2", "display_name": "University of Glasgow",
                           "ror": "https://ror.org/00vtgdb53", "country_code": "GB",
                           "type": "education", "lineage": ["https://openalex.org/I2"]}],
         "countries": ["GB"], "is_corresponding": False, "raw_author_name": "Sean O'Neill",
         "raw_affiliation_strings": ["University of Glasgow"], "affiliations": []},
    ],
    "countries_distinct_count": 2,
    "cited_by_count": 7,
    "biblio": {"volume": "121", "issue": "4", "first_page": "108", "last_page": "119"},
    "is_retracted": False,
    "is_paratext": False,
    "primary_topic": {"id": "https://openalex.org/T10234", "display_name": "Substance Abuse Treatment"},
    "topics": [],
    "keywords": [{"id": "https://openalex.org/keywords/peer-support", "display_name": "Peer support",
                  "score": 0.61}],
    "mesh": [{"descriptor_ui": "D013375", "descriptor_name": "Substance-Related Disorders",
              "qualifier_ui": "", "qualifier_name": None, "is_major_topic": True}],
    "referenced_works_count": 0,
    "referenced_works": [],
    "related_works": [],
    "abstract_inverted_index": None,
    "counts_by_year": [],
    "updated_date": "2026-10-01T04:12:33.914510",
    "created_date": "2021-03-20T00:00:00",
}


def openalex_work(i: int, **changes) -> dict:
    """The i-th made-up OpenAlex work (stable id W4000000000+i); `changes` override keys."""
    work = copy.deepcopy(_OPENALEX_WORK)
    wid = f"W{4000000000 + i}"
    doi = f"10.1000/litrev.{i}"
    topic, setting = TOPICS[i % len(TOPICS)], SETTINGS[i % len(SETTINGS)]
    title = f"{topic.capitalize()} in {setting}: study {i}"
    abstract = f"{topic} support people in {setting} and {topic} are valued"
    index: dict[str, list[int]] = {}
    for pos, word in enumerate(abstract.split()):
        index.setdefault(word, []).append(pos)
    work.update(id=f"https://openalex.org/{wid}", doi=f"https://doi.org/{doi}", title=title,
                display_name=title, abstract_inverted_index=index,
                publication_year=2000 + i % 26)
    work["ids"].update(openalex=f"https://openalex.org/{wid}", doi=f"https://doi.org/{doi}",
                       pmid=f"https://pubmed.ncbi.nlm.nih.gov/{33000000 + i}")
    work["primary_location"]["id"] = f"doi:{doi}"
    work["primary_location"]["landing_page_url"] = f"https://doi.org/{doi}"
    work.update(changes)
    return work


_CROSSREF_ITEM = {
    "indexed": {"date-parts": [[2026, 6, 2]], "date-time": "2026-06-02T13:43:08Z",
                "timestamp": 1780407788344, "version": "3.54.1"},
    "reference-count": 41,
    "publisher": "Elsevier BV",
    "issue": "2",
    "license": [],
    "content-domain": {"domain": ["elsevier.com"], "crossmark-restriction": True},
    "short-container-title": ["Drug and Alcohol Dependence"],
    "published-print": {"date-parts": [[2022, 2]]},
    "abstract": None,
    "DOI": "10.1016/j.drugalcdep.0",
    "type": "journal-article",
    "created": {"date-parts": [[2021, 12, 1]], "date-time": "2021-12-01T10:00:00Z",
                "timestamp": 1638352800000},
    "page": "109-118",
    "source": "Crossref",
    "is-referenced-by-count": 3,
    "title": None,
    "prefix": "10.1016",
    "volume": "231",
    "author": [
        {"given": "Maria", "family": "Lopes", "sequence": "first",
         "affiliation": [{"name": "University of Lisbon, Portugal"}],
         "ORCID": "https://orcid.org/0000-0001-5109-3700", "authenticated-orcid": False},
        {"given": "Tom", "family": "Baker", "sequence": "additional", "affiliation": []},
    ],
    "member": "78",
    "container-title": ["Drug and Alcohol Dependence"],
    "language": "en",
    "deposited": {"date-parts": [[2022, 1, 5]], "date-time": "2022-01-05T08:00:00Z",
                  "timestamp": 1641369600000},
    "score": 31.2,
    "issued": {"date-parts": [[2022, 2]]},
    "references-count": 41,
    "URL": "https://doi.org/10.1016/j.drugalcdep.0",
    "ISSN": ["0376-8716"],
    "issn-type": [{"type": "print", "value": "0376-8716"}],
    "published": {"date-parts": [[2022, 2]]},
}


def crossref_item(i: int, **changes) -> dict:
    item = copy.deepcopy(_CROSSREF_ITEM)
    doi = f"10.1016/j.drugalcdep.{i}"
    topic, setting = TOPICS[i % len(TOPICS)], SETTINGS[i % len(SETTINGS)]
    item.update(DOI=doi, URL=f"https://doi.org/{doi}",
                title=[f"{topic.capitalize()} in {setting}: a qualitative study ({i})"],
                abstract=f"<jats:title>Abstract</jats:title><jats:p>{topic} in {setting}.</jats:p>")
    item.update(changes)
    return item

