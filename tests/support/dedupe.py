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
