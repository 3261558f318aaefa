"""Realistic records for the dedupe tests: the shapes harvests and imports really produce."""

from litrev.sources.normalise import Record


def rec(id_: str, title: str, **fields) -> Record:
    source, _, source_id = id_.partition(":")
    return Record(id=id_, source=source, source_id=source_id, raw={"id": source_id, "title": title},
                  title=title, **fields)


PNAS_TITLE = "Reputation offsets trust judgments based on social biases among Airbnb users"
PNAS_AUTHORS = ["Abrahao, Bruno", "Parigi, Paolo", "Gupta, Alok", "Cook, Karen S."]

# The same PNAS paper from OpenAlex, Crossref and a Scopus export (no DOI, initials).
PNAS = [
    rec("openalex:W2751213400", PNAS_TITLE, doi="10.1073/pnas.1604234114", authors=PNAS_AUTHORS,
        year=2017, venue="Proceedings of the National Academy of Sciences", volume="114",
        issue="37", pages="9848-9853", openalex_id="W2751213400", type="article"),
    rec("crossref:10.1073/pnas.1604234114", PNAS_TITLE, doi="10.1073/PNAS.1604234114",
        authors=PNAS_AUTHORS, year=2017, venue="Proc. Natl. Acad. Sci. U.S.A.", volume="114",
        issue="37", pages="9848-9853", type="journal-article",
        abstract="Online platforms rely on reputation systems to build trust between strangers."),
    rec("scopus:2-s2.0-85029", PNAS_TITLE + ".", authors=["Abrahao, B.", "Parigi, P.", "Gupta, A."],
        year=2017, venue="PNAS", pages="9848-53"),
]

# A stroke-set pair: the MEDLINE record carries a language tag, the Embase one does not.
BATROXOBIN = [
    rec("medline:20101", "Efficacy observation of batroxobin for treatment of vascular cognitive "
        "impairment. [Chinese]", authors=["Zhai, Q. J.", "Yue, X. Y.", "Hong, Z."], year=2010,
        venue="Chinese Journal of Cerebrovascular Diseases", volume="7", issue="2", pages="73-76"),
    rec("embase:20102", "Efficacy observation of batroxobin for treatment of vascular cognitive "
        "impairment", authors=["Zhai, Qingjun", "Yue, Xiaoyan", "Hong, Zhen"], year=2010,
        venue="Chin J Cerebrovasc Dis", volume="7", issue="2", pages="73-6"),
]

# Two parts of one series: same authors, venue and year, both with real DOIs.
SERIES = [
    rec("crossref:10.1016/j.jsat.2019.01.001", "Peer recovery support in addiction services: "
        "Part 1, a scoping review", doi="10.1016/j.jsat.2019.01.001",
        authors=["Reif, Sharon", "Braude, Lisa"], year=2019,
        venue="Journal of Substance Abuse Treatment", volume="98", pages="1-12"),
    rec("crossref:10.1016/j.jsat.2019.01.002", "Peer recovery support in addiction services: "
        "Part 2, a scoping review", doi="10.1016/j.jsat.2019.01.002",
        authors=["Reif, Sharon", "Braude, Lisa"], year=2019,
        venue="Journal of Substance Abuse Treatment", volume="98", pages="13-25"),
]

ERRATUM = [
    rec("crossref:10.1057/s41265-017-0001", "How do requirements evolve over time? A case study of "
        "enterprise software requirements", doi="10.1057/s41265-017-0001",
        authors=["Schneider, Stephan", "Wollersheim, Jan"], year=2018,
        venue="Journal of Information Technology", volume="33", pages="151-170"),
    rec("crossref:10.1057/s41265-017-0002", "Erratum to: How do requirements evolve over time? A "
        "case study of enterprise software requirements", doi="10.1057/s41265-017-0002",
        authors=["Schneider, Stephan", "Wollersheim, Jan"], year=2018,
        venue="Journal of Information Technology", volume="33", pages="171"),
]

PREPRINT = [
    rec("openalex:W300", "Peer mentors in alcohol and drug services: a realist evaluation",
        doi="10.31234/osf.io/abcde", authors=["Smith, Jane", "Okafor, Chidi"], year=2021,
        venue="PsyArXiv", type="preprint"),
    rec("openalex:W301", "Peer mentors in alcohol and drug services: a realist evaluation",
        doi="10.1016/j.drugpo.2022.103600", authors=["Smith, Jane", "Okafor, Chidi"], year=2022,
        venue="International Journal of Drug Policy", volume="101", pages="103600",
        type="article"),
]

OTHER = [
    rec("ris:7", "Lived experience workers in opioid treatment programmes: a qualitative study",
        authors=["Nguyen, Thi", "Walsh, Ciaran"], year=2020, venue="Addiction", volume="115",
        pages="1020-1029"),
    rec("ris:8", "Recovery coaching after emergency department visits for overdose",
        authors=["Garcia, Maria"], year=2019, venue="Drug and Alcohol Dependence", volume="204",
        pages="107553"),
]

ALL = PNAS + BATROXOBIN + SERIES + ERRATUM + PREPRINT + OTHER


LIU_ABSTRACT = ("Project sponsorship is assumed to be critical to the success of information systems "
                "development and implementation. However, there is limited research on the effect of "
                "vendor-based sponsorship on the management of information technology (IT) projects. "
                "This paper contributes to that emerging body of evidence.")


def republished_pair(abstract_b: str | None = LIU_ABSTRACT, authors_b=("Liu, Li", "Yetton, Philip")):
    # digital_work: one article printed in J Inf Technol 24(1) 2009 and again in 25(1) 2010.
    a = rec("crossref:10.1057/jit.2009.2", "Sponsorship and IT vendor management of projects",
            doi="10.1057/JIT.2009.2", authors=["Liu, Li", "Yetton, Philip"], year=2009,
            venue="Journal of Information Technology", volume="24", issue="1", pages="46-54",
            abstract=LIU_ABSTRACT)
    b = rec("crossref:10.1057/jit.2008.23", "Sponsorship and IT vendor management of projects",
            doi="10.1057/JIT.2008.23", authors=list(authors_b), year=2010,
            venue="Journal of Information Technology", volume="25", issue="1", pages="56-64",
            abstract=abstract_b)
    return a, b


SCHNEIDER_ABSTRACT = ("In recent years, organizations have increasingly sourced cloud-based enterprise "
                      "software (ES). Although comprehensively capturing organizations' requirements "
                      "considerably affects the success of an ES sourcing project, little is known about "
                      "how requirements evolve beyond the implementation.")


def erratum_pair(erratum_abstract: str | None = SCHNEIDER_ABSTRACT):
    # digital_work: J Inf Technol 33(2) 2018, the article (pp. 151-170) and its erratum (p. 171),
    # which one database indexed with the article's abstract.
    title = ("How do requirements evolve over time? A case study investigating the role of context "
             "and experiences in the evolution of enterprise software requirements")
    common = {"authors": ["Schneider, Stephan", "Wollersheim, Jan", "Krcmar, Helmut", "Sunyaev, Ali"],
              "year": 2018, "venue": "Journal of Information Technology", "volume": "33", "issue": "2"}
    article = rec("crossref:10.1057/s41265-016-0001-y", title, doi="10.1057/s41265-016-0001-y",
                  pages="151-170", abstract=SCHNEIDER_ABSTRACT, **common)
    erratum = rec("crossref:10.1057/s41265-017-0039-5", "Erratum to - " + title,
                  doi="10.1057/s41265-017-0039-5", pages="171", abstract=erratum_abstract, **common)
    return article, erratum


def bib_record(row: dict, suffix: str = ""):
    def get(*names):
        for name in names:
            value = str(row.get(name) or "").strip()
            if value and value.lower() not in ("none", "unknown", "nan"):
                return value
        return None

    authors = get("author") or ""
    return rec(f"bib:{row['ID']}{suffix}", get("title") or "", doi=get("doi"),
               authors=[a for a in authors.replace(";", " and ").split(" and ") if a.strip()],
               year=int(get("year")[:4]) if get("year") else None, venue=get("journal", "booktitle"),
               volume=get("volume"), issue=get("number", "issue"), pages=get("pages"))
