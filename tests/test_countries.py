"""Country of study: the suggester on real phrases and their traps (every round of rules)."""


import pytest

from litrev.tags.countries import suggest_countries
from litrev.tags.suggest import SUGGESTED, clean_abstract


def countries(title, abstract="", affiliations=()):
    return {s.value for s in suggest_countries(title, abstract, affiliations)
            if s.key == "country" and s.confidence >= SUGGESTED}


def nations(title, abstract=""):
    return {s.value for s in suggest_countries(title, abstract) if s.key == "nation"}


@pytest.mark.parametrize("title,abstract,expected", [
    ("Peer mentors in alcohol and drug services in Scotland: a qualitative study", "", {"GB"}),
    ("Recovery support in the NHS", "Peer workers in NHS drug services were interviewed.", {"GB"}),
    ("Does Infrastructure Reform Work for the Poor? A Case Study from Guatemala", "", {"GT"}),
    ("Could clinical audit improve the diagnosis of pulmonary tuberculosis in Cuba, Peru and Bolivia?", "",
     {"CU", "PE", "BO"}),
    ("Inappropriate drug prescribing in home-dwelling, elderly patients",
     ("In 1997, a US expert panel developed explicit criteria. To investigate the proportion of inappropriate "
     "medications among elderly patients in Helsinki, Finland, between 1998 and 1999."), {"FI"}),
    ("Carbon Sequestration for Linking Conservation and Rural Development in Madagascar", "", {"MG"}),
    ("Financing biodiversity measures in Slovenian forests.", "", {"SI"}),
    ("An online survey", "An online survey was performed in 854 German members of the Working Group.", {"DE"}),
    ("Mediterranean diet education", "SETTING: A socioeconomically deprived area in the Netherlands.", {"NL"}),
    ("Effect of telehealth", "SETTING: general practices in three regions of England (Cornwall, Kent, Newham).",
     {"GB"}),
    ("Local government finance", "Local councils in New South Wales and across Australia are constrained.",
     {"AU"}),
    ("Soil fungi", "functional diversity of soil fungi in a Georgia forest near Atlanta, USA.", {"US"}),
    ("Post-Soviet health reform", "Primary care clinics in the Republic of Georgia after 1991 (Tbilisi).",
     {"GE"}),
    ("Hospital readmissions in Jordan", "", {"JO"}),
    ("Agricultural policy in Chad", "Farmers in Chad and Niger face recurrent drought.", {"TD", "NE"}),
    ("Vaccination uptake in Türkiye", "", {"TR"}),
])
def test_countries_from_real_phrases(title, abstract, expected):
    assert countries(title, abstract) == expected


@pytest.mark.parametrize("title,abstract", [
    ("Turkey meat consumption and Salmonella", "Wild turkeys and turkey poults were sampled."),
    ("Guinea pig models of asthma", "Guinea pigs were sensitised to ovalbumin."),
    ("Kaolin (China clay) in tablet coating", "China clay is an excipient."),
    ("Jersey cows and milk fat", "Jersey cattle produce milk with more fat."),
    ("Water rights in New Mexico", "Acequias in New Mexico."),  # -> US, never MX
    ("Grazing in New South Wales", ""),  # -> AU, never Wales
    ("Forests of British Columbia", ""),  # -> CA, never GB
    ("Interview with Michael Jordan", "Chad Smith and Jordan Peterson discussed."),
    ("Drug interactions", "Interactions become known in the clinic, using the patient as \"guinea pig\"."),
    ("Tolerance of antimuscarinic drugs", ("We searched Medline (National Library of Medicine, Bethesda, Maryland, "
     "USA) and Embase (Excerpta Medica, Amsterdam, the Netherlands).")),
    ("Smoking cessation", "The cost per life-year saved is approximately UK pound 1000 or US$1500."),
    ("Bupropion", "Licensed in many countries including the US, Canada, UK, Australia and continental Europe."),
    ("Psychiatric guidance", "The American Psychiatric Association and the Dutch Cancer Society advise."),
    ("Traditional Chinese medicine for insomnia", "Spanish flu and German measles are historical names."),
    ("Scale translation", "The questionnaire was translated into French and German versions."),
    ("Conservation in the Congo Basin", ""),
    ("Management evaluation", "The Natural Heritage Services (NHS) reviewed its parks; NHS staff took part."),
    ("Indian Ocean fisheries", "American Indian tribes and the Indian Health Service."),
])
def test_false_positive_traps_name_no_wrong_country(title, abstract):
    found = countries(title, abstract)
    assert found <= {"US", "AU", "CA"}, found  # only the right country, when there is one
    if "New Mexico" in title:
        assert found == {"US"}
    if "New South Wales" in title:
        assert found == {"AU"}
    if "British Columbia" in title:
        assert found == {"CA"}


def test_uk_nation_from_nations_cities_and_demonyms():
    assert nations("Peer support in Glasgow and Edinburgh") == {"Scotland"}
    assert nations("Welsh general practice") == {"Wales"}
    assert nations("NHS England commissioning") == {"England"}
    assert nations("Prisons in Northern Ireland") == {"Northern Ireland"}
    assert countries("Prisons in Northern Ireland") == {"GB"}
    assert nations("A UK survey") == set()  # the nation only where stated


def test_cities_skip_their_namesakes():
    assert countries("Homelessness in London, Ontario") == {"CA"}
    assert countries("Trauma care at the University of Alabama at Birmingham") == {"US"}


def test_affiliations_are_weak_and_only_without_text_evidence():
    weak = suggest_countries("Soil carbon and tillage", "A field trial.", ["KE", "KE"])
    assert [(s.value, s.confidence) for s in weak] == [("KE", 0.4)]
    assert "affiliations" in weak[0].evidence
    assert suggest_countries("Soil carbon", "", ["KE", "GB"]) == []  # authors disagree: say nothing
    text = suggest_countries("Soil carbon in Uganda", "", ["KE"])
    assert [s.value for s in text] == ["UG"]


def test_every_suggestion_carries_confidence_and_evidence():
    [s] = suggest_countries("Alcohol services", "Peer mentors in drug services in Manchester were interviewed.")[:1]
    assert s.value == "GB" and 0.5 <= s.confidence < 1 and "Manchester" in s.evidence


def test_citing_works_boilerplate_is_not_text():
    junk = "Part II examines public finance. Previous bookNext book FiguresreferencesRecommendeddetailsCited by" \
           "Watershed management in Thailand: concepts"
    assert "Thailand" not in clean_abstract(junk)
    assert countries("World Development Report 1988", junk) == set()


@pytest.mark.parametrize("abstract,expected", [
    ("High-dose benzodiazepine is a risk factor. In Lyon's prison, BDZs are often prescribed.", {"FR"}),
    ("Urban minority groups, such as those living in north Manhattan, are underserved.", {"US"}),
    ("DESIGN Population based case-control study. SETTING Adelaide Women's and Children's Hospital.", {"AU"}),
    ("505 charts were sampled from patients known to the city and county of San Francisco.", {"US"}),
    ("There are four conservation areas around Subotica in northern Backa.", {"RS"}),
])
def test_towns_and_cities_put_the_study_in_their_country(abstract, expected):
    assert countries("A study", abstract) == expected


def test_a_place_needs_a_setting_cue_and_names_its_country_in_the_evidence():
    # alone, a city's name is often a person's or a thing's
    assert countries("Evolution", "Darwin and Newton changed science; Paris wrote about it.") == set()
    [s] = [s for s in suggest_countries("Prisons", "In Lyon's prison, BDZs are often prescribed.") if s.key == "country"]
    assert s.value == "FR" and s.confidence >= SUGGESTED and "(Lyon: FR)" in s.evidence
    # a UK county or council area gives the nation too
    assert nations("Falls in care homes", "Care homes in Kent took part.") == {"England"}


def test_places_of_meetings_publishers_and_organisations_are_not_settings():
    assert countries("Proceedings", "Papers presented at a conference held at Sacramento, California, in 1997.") \
        == set()
    assert countries("Protected areas", "Gland, Switzerland and Cambridge, UK: IUCN World Commission.") == set()
    assert countries("Antimuscarinics", "Embase (Excerpta Medica, Amsterdam, the Netherlands) was used.") == set()
    assert countries("South Pacific programme", "The programme has its headquarters in Apia, Western Samoa.") \
        == set()


@pytest.mark.parametrize("abstract,expected", [
    # the sentence that names the place says the data were gathered there
    ("A total of 107 GPs from two health authorities in the north west of England were interviewed.", {"GB"}),
    ("The study investigates compliance in one country. Cameroon was chosen because both banks work there.",
     {"CM"}),
    # a place, then its country
    ("The aim is to analyse the programmes for the federal state of Hesse, Germany.", {"DE"}),
    ("Outcomes: prescribing and dispensing by US pharmacies.", {"US"}),
])
def test_single_mentions_with_a_setting_are_strong(abstract, expected):
    assert countries("A study", abstract) == expected


def test_a_list_of_countries_is_not_a_place_and_its_country():
    assert countries("Payments", "Such schemes are applied in Honduras, Guatemala and Nicaragua.") == set()


def test_a_reviews_abstract_names_the_reviewed_studies_places_not_its_own():
    abstract = ("The following electronic databases were searched for randomised trials. In Mwanza, the incidence "
                "of HIV fell. In Mwanza, syphilis was less common. In Mwanza, treatment improved.")
    assert countries("Population-based interventions for STIs", abstract) == set()
    assert countries("Peer support in Scotland: a systematic review", abstract) == {"GB"}


@pytest.mark.parametrize("abstract,expected", [
    ("The mainstay of National Health Service smoking cessation strategy should be brief intervention.", {"GB"}),
    ("The Veterans Affairs (VA) Cooperative Study of Clozapine evaluated 423 patients.", {"US"}),
    ("A randomized controlled trial of 284 female veterans at 9 VA medical centers.", {"US"}),
    ("Data are shared across the five UK birth cohorts.", {"GB"}),
])
def test_a_health_system_used_or_served_places_the_study(abstract, expected):
    assert countries("A study", abstract) == expected


def test_a_health_system_named_in_passing_stays_weak():
    # compared with, not used: stays below the suggestion threshold
    assert countries("Insurance design", "Unlike Medicare, private insurers vary in cover.") == set()


def test_background_statistics_do_not_place_the_study():
    abstract = ("Smoking is the leading preventable cause of premature deaths among women in the United States. "
                "This article addresses the role of the midwife.")
    assert countries("Nicotine addiction in women", abstract) == set()
    weak = [s for s in suggest_countries("Nicotine addiction in women", abstract) if s.value == "US"]
    assert weak and weak[0].confidence < SUGGESTED and weak[0].evidence.endswith("(background statistic)")
    # ... but the same country named again as where the study was done still counts
    assert countries("Incontinence in care homes", "At least 50% of nursing home residents in Britain are "
                     "incontinent. METHODS: We recruited 40 nursing homes in Britain.") == {"GB"}
    # a statistic after the study's aim is a finding, not background
    assert countries("Burnout", "We surveyed 300 nurses in Brazil; 40% reported burnout.") == {"BR"}
    # "Setting:" without a space still ends the background
    assert countries("Therapy in type 1 diabetes", "Design:Randomized, controlled trial.Setting:8 diabetes centers in "
                     "London and Manchester, United Kingdom.Patients:344 adults with HbA1c of 8.2% to 15%.") == {"GB"}


def test_a_people_beside_a_named_place_is_not_a_second_setting():
    title = "Tolterodine and oxybutynin for treating Chinese women with an overactive bladder"
    abstract = "Women were recruited from two urogynaecology centres in Hong Kong."
    assert countries(title, abstract) == {"HK"}
    people = [s for s in suggest_countries(title, abstract) if s.value == "CN"]
    assert people and people[0].confidence < SUGGESTED and "a people" in people[0].evidence
    assert countries("Tolterodine in Chinese women", "") == {"CN"}  # alone, the demonym still places the study


@pytest.mark.parametrize("title,abstract", [
    ("Screening for Suicide Risk: A Systematic Review for the U.S. Preventive Services Task Force", ""),
    ("When to initiate dialysis: effect of proposed US guidelines on survival",
     "Recent guidelines from the US National Kidney Foundation recommend an earlier start of dialysis."),
    ("Pharmacologic treatment of insomnia", ("We pooled trials that evaluated pharmacotherapies available in the "
     "United States.")),
    ("Pharmacologic treatment of insomnia", ("Data Sources: MEDLINE and FDA documents. Study Selection: 35 randomized, "
     "controlled trials of pharmacotherapies used in the United States.")),
])
def test_countries_named_for_bodies_rules_and_markets_stay_weak(title, abstract):
    assert countries(title, abstract) == set()


@pytest.mark.parametrize("abstract,expected", [
    (("PLACE AND DURATION OF STUDY: The study was conducted in the department of Obstetrics and Gynaecology at the "
     "Aga Khan University, Karachi, between January 1 and August 31, 2002."), {"PK"}),
    ("SETTING: University Hospitals Bristol, a tertiary, mixed medical and surgical ICU with 20 beds.", {"GB"}),
    (("Guidelines were used at the ambulatory care clinic at the Marshall University School of Medicine (Huntington, "
     "West Virginia). METHODS: Preventive care guidelines were distributed."), {"US"}),
    (("A retrospective study was performed by reviewing charts of patients at Oregon State Hospital, Salem, who were "
     "treated during July and August 1999."), {"US"}),
    ("33,946 patients with a prescription recorded in the Régie de l'Assurance Maladie du Québec database.", {"CA"}),
])
def test_an_institutions_town_or_a_regional_database_places_the_study(abstract, expected):
    assert countries("A study", abstract) == expected


def test_a_hospital_named_after_its_city_gives_the_nation():
    found = suggest_countries("A study", "SETTING: University Hospitals Bristol, a tertiary ICU.")
    assert ("nation", "England") in {(s.key, s.value) for s in found if s.confidence >= SUGGESTED}
    assert countries("Novels", "The novels of Jack London were read.") == set()


@pytest.mark.parametrize("abstract", [
    "For example, CI may wish to fund programs in Mexico.",
    "Free-trade agreements encourage agroindustry (e.g., sugarcane plantations in Mexico and Costa Rica).",
    ("We compared tolterodine with oxybutynin using a dose titration strategy analogous to that used in routine "
     "clinical practice in the United Kingdom and Republic of Ireland."),
])
def test_places_given_as_examples_or_comparisons_stay_weak(abstract):
    assert countries("A study", abstract) == set()
    assert any(s.evidence.endswith("(an example or comparison)") for s in suggest_countries("A study", abstract))


def test_a_country_named_twice_but_never_as_the_setting_stays_weak():
    abstract = ('The meanings of "Canada" and "Air" cannot be combined. Air Canada is an airline; Canada is not '
                "a kind of air.")
    assert countries("Distributed representations of words", abstract) == set()
    # a health system named twice is still a setting clue
    assert countries("Care teams", "The Veterans Health Administration started PACT. How the Veterans Health "
                     "Administration should adapt PACT for women was not considered.") == {"US"}


@pytest.mark.parametrize("abstract,expected", [
    (("The incremental cost-effectiveness ratio was 14 911 pounds, cost-effective at the National Institute of "
      "Health and Care Excellence threshold of 20 000 pounds per QALY."), {"GB"}),
    (("Scientists from six university rheumatology centres (Berlin, Dusseldorf, Erlangen, Freiburg) work "
      "together."), {"DE"}),
])
def test_more_setting_clues(abstract, expected):
    assert countries("A study", abstract) == expected


def test_a_cited_works_place_is_not_the_setting():
    assert countries("Agricultural landscapes", "Smallholder production in Nicaragua et al. 2003) was compared.") \
        == set()
    assert countries("Proceedings", "A contingent valuation study of processed maize demand in Mali, D. Boughton "
                     "et al; will European diets be similar?") == set()


@pytest.mark.parametrize("title,abstract", [
    # a comparison norm, a background statistic, a list of examples, a review's background figures, a participant group
    ("Urge incontinence", ("A questionnaire was mailed to 591 patients. Quality of life was lower in 5 of 8 dimensions "
     "compared with the general US population.")),
    ("Beliefs regarding mammography screening", ("One in 8 US women will develop invasive breast cancer in their "
     "lifetime. The purpose of this study was to investigate beliefs.")),
    ("Informed consent before the Nuremberg code", ("This assumes importance for the abuse of people in experiments "
     "conducted since the second world war in the United States, Canada, Russia, and other nations.")),
    ("Overactive bladder and the pharmacist", ("Articles identified through a MEDLINE search were retrieved. Total "
     "costs of OAB in the United States were estimated to be $12.6 billion in 2000.")),
    ("Physician advice to adolescents about smoking", ("We used a large, predominately African-American sample of 11th "
     "graders. African American teens were more frequently advised.")),
])
def test_comparisons_examples_and_participant_groups_do_not_place_the_study(title, abstract):
    assert countries(title, abstract) == set()


@pytest.mark.parametrize("abstract,expected", [
    # a structured "Setting" heading places a pooled analysis in every country it lists
    (("Design: Analysis of nine linked studies with a random effects meta-analysis. Setting: Public and private "
      "healthcare settings, 2007-13, in Afghanistan, Cameroon, Ghana, Nigeria, Tanzania, and Uganda."),
     {"AF", "CM", "GH", "NG", "TZ", "UG"}),
    ("A randomized study was performed in private practice offices in rural eastern North Carolina.", {"US"}),
    ("Two hundred and eighty questionnaires were sent to junior surgical staff throughout England.", {"GB"}),
    ("Veterans Health Administration (VA) intensive care units develop an infrastructure for quality improvement.",
     {"US"}),
])
def test_fifth_round_setting_clues(abstract, expected):
    assert countries("A study", abstract) == expected


@pytest.mark.parametrize("title,abstract,expected", [
    # a list with "the" and "of" in its names
    ("Tolterodine in older patients", ("Incontinence, older care and urological clinics in the United Kingdom, "
     "France, and the Republic of Ireland. One hundred and seventy-seven older patients."), {"GB", "FR", "IE"}),
    # a direction before a state
    ("Urinary incontinence and hospitalization", ("Review of medical records from 5986 members, aged 65 years and "
     "older, of a large health maintenance organization in northern California. There was an increased risk."),
     {"US"}),
    # the study group that ran the trial, named for its country
    ("Randomized trial of modafinil for narcolepsy: US Modafinil in Narcolepsy Multicenter Study Group.", "", {"US"}),
    # a health system named in the methods or results is the participants' own
    ("Individualized drug use assessment in the elderly", ("To quantify how seniors' ability to take drugs may "
     "correlate with age. Cross-sectional study. The multivariate model used Mini-Mental State Examination "
     "(p = 0.002) and Medicaid assistance within 10 years (p = 0.021) as significant factors."), {"US"}),
    # the gap the study fills, in its own country
    ("Medical care of type 2 diabetes", ("In 2009, the society published recommendations. In Switzerland, few data "
     "are currently available on metabolic control. We aimed to investigate clinical care in our clinic."), {"CH"}),
    # first-person study verbs in the sentence that names the place
    ("Study of a novel curriculum", ("We studied knowledge and practices before and after a controlled test of a "
     "curriculum using residents and faculty in 16 family medicine residencies in the United States."), {"US"}),
])
def test_sixth_round_setting_clues(title, abstract, expected):
    assert countries(title, abstract) == expected


@pytest.mark.parametrize("abstract,expected,nation", [
    (("Design: Randomised stratified controlled trial. Setting: 12 general practices in Tayside. Subjects: 3373 "
     "children."), {"GB"}, "Scotland"),
    (("Design: Cluster randomised controlled trial. Setting: 27 general practices in Avon. Participants: 614 "
     "patients."), {"GB"}, "England"),
])
def test_former_uk_counties_and_regions_place_a_study(abstract, expected, nation):
    assert countries("Controlled trial in general practice", abstract) == expected
    assert nation in nations("Controlled trial in general practice", abstract)


def test_a_province_places_a_study_but_region_words_do_not():
    assert countries("Educational intervention among residents", "We examined the effect on residents in "
                     "Hormozgan University of Medical Sciences. METHODS: This quasi-experimental study.") == {"IR"}
    # Cameroon's "East" and "South" regions are words first
    assert countries("Forest payments", "Payments were made in East and South of the basin.") == set()


def test_sixth_round_country_traps():
    # a study group needs "Study Group"/"Trial Group"/"Investigators": a US body alone stays weak
    assert countries("Screening: recommendations of the US Preventive Services Task Force", "") == set()
    # an HMO is not placed in the US (labellers do not: "2 group model HMO practices")
    assert countries("Education and feedback", "Practitioners from 2 group model HMO practices were "
                     "randomised.") == set()
    # a gap named elsewhere: "data from other countries" is not the gap
    assert countries("Drug use", "Few data from other countries exist. In Japan, prescribing rose by 40% each "
                     "year.") == set()


def test_reference_lists_after_an_abstract_are_not_text():
    assert clean_abstract("Protected areas in Indonesia. [Google Scholar]Sunderlin, W. Oslo, Norway.") \
        == "Protected areas in Indonesia. "
