"""Study design: one of `DESIGNS`, from explicit phrases in title and abstract and from
source metadata (OpenAlex `type`, MeSH publication types).

Pure: text in, `Suggestion`s out (see `litrev.tags.suggest` for what confidence means).
"""

import re
from collections.abc import Iterable

from litrev.tags.suggest import SUGGESTED, Suggestion, clean_abstract, fold, quote, sentence_at, unredefine

# --- study design -------------------------------------------------------------
#
# Taxonomy (docs/tagging.md, "Study design taxonomy"). Each rule: design, pattern,
# confidence in the abstract; a title match adds 0.05. The chosen design is
# the first in PRECEDENCE scoring >= DECISIVE (so "meta-analysis of randomised
# trials" is a review, "cost-effectiveness alongside a trial" an economic
# evaluation), else the highest-scoring one, else `other`.

DESIGNS = ("rct", "non-randomised", "cohort", "case-control", "cross-sectional", "qualitative",
           "mixed-methods", "systematic-review", "economic-evaluation", "case-study", "protocol",
           "commentary", "other")
DESIGN_LABELS = {  # how people read them (docs, gap map)
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
PRECEDENCE = ("commentary-meta", "protocol", "other", "systematic-review", "others-trials", "economic-evaluation",
              "extension", "follow-up", "rct", "mixed-methods", "non-randomised", "case-control", "cohort",
              "qualitative", "cross-sectional", "case-study", "guideline", "commentary", "narrative")
# Pseudo-designs that rank apart but are reported as another: an open extension of a
# trial is non-randomised (it outranks the trial it extends), and so is a follow-up of a
# parent trial's participants a cohort; a guideline named in the title is `other` only
# when no study design is found (a trial of guidelines is a trial).
REPORTED_AS = {"commentary-meta": "commentary", "extension": "non-randomised", "follow-up": "cohort",
               "guideline": "other", "others-trials": "systematic-review", "narrative": "systematic-review"}
DECISIVE = 0.8
_NOT = r"(?<!non-)(?<!non)(?<!not )(?<!quasi-)"
_DATABASES = r"(?:MEDLINE|PubMed|EMBASE|CINAHL|PsycINFO|PsycLit|Cochrane|Web of Science|Scopus|Science Citation Index)"
_COUNT = (r"(?:\d+|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|"
          r"seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
          r"fifteen|sixteen|seventeen|eighteen|nineteen)")
_TRIAL_KIND = (r"\b(?:randomi[sz]ed|double-blind|placebo-controlled|controlled|blind)\b[^.;]{0,60}?"
               r"\b(?:trials?|stud(?:y|ies)|evaluation)\b")
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
     r"(?:literature|evidence|studies|research|past research)\b|\bliterature (?:was|were|is|has been) (?:reviewed|searched)\b|\b(?:I|we) reviewed (?:the|some|available)\b(?! (?:[\w-]+ )?(?:records|charts|notes|files|cases))|"
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
    # A search or a pooling of published reports, by other words: "A systematic search of electronic databases",
    # "We analyzed 45 published cases".
    ("systematic-review", (r"\bsystematic (?:literature )?search(?:es)?\b|\b(?:analy[sz]ed|analysis of|pooled|"
     r"summari[sz]e[sd]?) (?:the )?(?:\d+|[a-z]+-?[a-z]*) (?:previously )?published (?:cases|case reports|reports|"
     r"studies|trials)\b"), 0.85, "any"),
    # A narrative review says what the article covers: "In this article, we will focus on the most recent data",
    # "In this article, the pharmacological basis ... are discussed", "the current status of ... is critically
    # assessed", "The present paper addresses". Below DECISIVE: a study phrase outranks it.
    ("systematic-review", (r"\bin this (?:article|paper|chapter),? (?:we|I) (?:will )?(?:focus|discuss|summari[sz]e|"
     r"consider|outline|examine)\b|\bin this (?:article|paper|chapter),? [^.;]{0,150}?\b(?:is|are|will be) "
     r"(?:(?:critically|briefly) )?(?:discussed|assessed|summari[sz]ed|examined)\b|"
     r"\b(?:this|the present) (?:article|paper|chapter) addresses\b"), 0.75, "abstract"),
    # A narrative review says so: "This article reviews ...", "The purpose of this article is to review".
    ("systematic-review", (r"\b(?:this|the present) (?:article|paper|chapter) reviews\b|\b(?:purpose|aim|objective) of "
     r"this (?:article|paper|chapter) (?:is|was) to review\b|\b(?:aims|aim) to review\b"), 0.8, "abstract"),
    ("systematic-review", (r"\b(?:two|three|four|five|six|seven|eight|nine|ten|several|\d+) (?:[\w-]+,? ){0,5}"
     r"(?:trials|studies) (?:have )?(?:demonstrated|shown|showed|found|reported)\b|\b(?:few|many|most|some) "
     r"(?:[\w-]+ ){0,2}(?:trials|studies) (?:have|are|were) (?:evaluated|examined|investigated|assessed|flawed|"
     r"limited)\b"), 0.75, "abstract"),
    # Others' trials summarised: "Placebo-controlled comparative trials of aripiprazole confirm efficacy", "was
    # well tolerated in randomised trials in children". A trial report says "in a trial" or "in two trials" (a count:
    # its own); own-trial wording ("we", "were randomised") lowers this below a trial phrase (`_OWN_TRIAL`).
    ("others-trials", (r"\btrials (?:of [\w-]+ )?(?:have )?(?:confirm|show|demonstrate|suggest|indicate|support)(?:s|ed)?\b|"
     r"\bin (?:several |many |large |recent |published )?(?:randomi[sz]ed|controlled|placebo-controlled|double-blind|"
     r"clinical|comparative|short-term|long-term) (?:[\w-]+ )?trials\b|"
     # "Comparative, randomised, double-blind studies show", "several randomised clinical trials have shown",
     # "In short (< or =6 weeks) randomised, double-blind clinical trials of patients with ...".
     r"\b(?:randomi[sz]ed|double-blind|placebo-controlled|comparative)(?:,? [\w-]+){0,4} (?:trials|studies) (?:have |has )?"
     r"(?:show|shown|showed|demonstrat\w+|confirm\w*|suggest\w*|indicat\w+|support\w*|found)\b|"
     r"\bin (?:short|long|large|several|recent)\b[^.;]{0,30}?\brandomi[sz]ed(?:,? [\w-]+){0,4} trials\b"), 0.85, "abstract"),
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
     r"\brandomi[sz]ed (?:to|into)\b|\brandomi[sz]ation\b|\brandom (?:assignment|allocation)\b|"
     r"\b(?:allocated|assigned|divided) (?:at )?random(?:ly)?\b", 0.9, "any"),
    ("rct", r"\bdouble[- ]blind(?:ed)?\b|\bplacebo[- ]controlled\b|\bRCTs?\b", 0.85, "any"),
    # "a randomised selection of healthcare workers received a questionnaire": random sampling, not allocation.
    ("rct", _NOT + r"\brandomi[sz]ed\b(?! (?:selection|sample|sampling|subsample|subset)\b)", 0.8, "any"),
    ("rct", r"\b(?:field|survey|laboratory|lab|vignette|conjoint) experiments?\b", 0.75, "any"),
    ("rct", r"\b(?:or|versus|vs\.?|with|and) placebo\b|\bplacebo (?:or|group|arm|tablets?)\b|\bplacebos\b", 0.6, "any"),
    # An open continuation of a trial: "crossover design (extension of a randomized clinical trial)", "in 854 patients
    # who had completed one of four 12 week randomized, controlled trials" (the trials are before this study).
    ("extension", (r"\b(?:open[- ]label )?extension (?:of|to) (?:an?|the) (?:[\w-]+ ){0,4}(?:trials?|stud(?:y|ies))\b|"
     r"\bopen[- ]label (?:extension|continuation)\b|\bwho had (?:previously |successfully )?completed\b"
     r"[^.;]{0,80}?\b(?:trials?|stud(?:y|ies))\b"), 0.85, "any"),
    # A parent trial: the trial the participants had been in before this study, named in the pluperfect or as
    # past ("who had participated in an 8-week, double-blind ... evaluation", "following participation in a
    # double-blind, placebo-controlled trial", "We conducted (and reported elsewhere) a randomized ... trial").
    # The trial is where the people came from, not this study's design: following them up, or analysing them
    # by something nobody allocated, is a cohort. Ranked after an open extension (treatment continued) and
    # before the trial itself. "who participated in a double-blind trial" (simple past) is the study's own trial.
    ("follow-up", (r"\bwho had (?:previously |earlier )?(?:been )?(?:participated|taken part|enrolled|assigned|"
     r"randomi[sz]ed)\b[^.;]{0,60}?" + _TRIAL_KIND + r"|\b(?:following|after) (?:their )?participation in\b"
     r"[^.;]{0,60}?" + _TRIAL_KIND + r"|\breported elsewhere\)?,? (?:an?|the)\b[^.;]{0,60}?" + _TRIAL_KIND), 0.85,
     "abstract"),
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
    # The investigators gave the study's people a treatment, said in any passive form, not only "were treated
    # with": "naltrexone was administered to 8 adults", "Clonidine was administered at the dose of", "The patients
    # then were treated for 6 weeks with". With no comparison or allocation named, that is an uncontrolled treatment
    # study (a fallback like the one above: any design phrase outranks it).
    ("non-randomised", (r"\b(?:were|was) (?:then |subsequently |each )?(?:treated|given|administered) "
     r"(?:for|with|to|at|orally|intravenously|daily|twice|once)\b|\badministered to " + _COUNT + r"\b"), 0.55,
     "abstract"),
    # Two treated groups compared without random allocation: "22 patients (group I) ... 22 patients (group II)".
    # A comparison unit or group named as the control, allocation not said: "A similar care unit was used as a control".
    ("non-randomised", r"\b(?:was|were) used as (?:an? )?(?:control|comparison)s?\b", 0.65, "abstract"),
    ("non-randomised", r"\bgroup (?:I|1|A)\b.{0,300}?\bgroup (?:II|2|B)\b", 0.55, "abstract"),
    # An experimental group beside a control group, allocation not said (a trial phrase outranks it).
    ("non-randomised", r"\b(?:experimental|intervention|treatment|study) group\b.{0,300}?\b(?:control|comparison) group\b",
     0.6, "abstract"),
    # Pharmacokinetic and crossover studies in volunteers without random allocation (fallback: any trial
    # phrase outranks it): "in eight healthy subjects", "a crossover design".
    ("non-randomised", (r"\b" + _COUNT + r" healthy (?:[\w-]+ ){0,2}(?:volunteers|subjects|men|women|adults)\b|"
     r"\bcross-?over (?:design|study|comparison)\b"), 0.6, "abstract"),
    ("mixed-methods", r"\bmixed[- ]methods?\b|\bmulti-?method\b", 0.9, "any"),
    ("case-control", r"\bcase[- ]control\b|\bnested case\b", 0.9, "any"),
    ("cohort", (r"\bcohort\b|\blongitudinal (?:study|survey|data|analysis)\b|\bprospective(?:ly)? (?:study|"
     r"investigation|followed)\b|\bfollow-up study\b|\bretrospective(?:ly)? (?:study|analysis|review|chart|record|"
     r"cohort)\b|(?<!trials )(?<!trial )\bregistry\b|\bchart review\b|\b(?:defined|identified|formed|assembled) "
     r"(?:\w+ )?cohorts\b"), 0.75, "any"),
    # Observational studies and drug surveillance follow patients over time: "an open label, observational
    # study of 2,250 patients", "a post-marketing surveillance study".
    ("cohort", r"\bobservational (?:study|studies)\b|\b(?:post-?marketing )?surveillance study\b", 0.7, "any"),
    ("cohort", r"\bat follow-?up\b|\bfollowed (?:up )?for\b|\bfollowed (?:up )?(?:until|to)\b", 0.65, "any"),
    ("qualitative", (r"\bqualitative\b(?! (?:and quantitative )?(?:differences?|changes?|improvements?|assessments?|evaluations?))|\bsemi-?structured interviews?\b|\bin-?depth interviews?\b|\bfocus groups?\b|"
     r"\bethnograph\w*|\bthematic(?:ally)? analy[sz]\w*|\bgrounded theory\b|\bphenomenolog\w*"), 0.8, "any"),
    ("qualitative", r"\binterviews? (?:with|of)\b|\binterviewed\b", 0.6, "any"),
    ("cross-sectional", (r"\bcross-?sectional\b|\bprevalence (?:study|survey)\b|\b(?:online|web-based|postal|mail|"
     r"telephone|national|questionnaire) survey\b|\bsurvey (?:was|were) (?:performed|conducted|carried out|"
     r"administered|sent|mailed)\b|\bsurvey administered\b|\bquestionnaires? (?:was|were) (?:mailed|sent|posted) to\b"),
     0.8, "any"),
    ("cross-sectional", r"\bsurvey(?:ed)?\b|\bquestionnaires?\b", 0.6, "any"),
    ("cross-sectional", r"(?<!qualitative )\bdescriptive (?:study|analysis)\b", 0.75, "any"),
    # One-time observations no phrase names (fallbacks): what newspapers wrote, "was examined among 159
    # adult patients", "boys with ADHD had higher ... than healthy control subjects".
    ("cross-sectional", r"\b(?:newspapers?|news media|media coverage|news stories)\b", 0.6, "any"),
    ("cross-sectional", (r"\b(?:assessed|examined|measured|evaluated|investigated|studied) (?:[\w-]+ ){0,4}(?:among|in) "
     r"(?:a (?:sample|total) of )?" + _COUNT + r" (?:[\w-]+ ){0,3}(?:patients|adults|children|physicians|women|men|"
     r"participants|subjects|respondents|residents|students|nurses)\b"), 0.55, "abstract"),
    # Measures taken once from a sample: "64 patients with MS completed the ... Battery", "by administering scales
    # ... to a sample of 110 women" (fallbacks: a trial or follow-up phrase outranks them).
    ("cross-sectional", (r"\b(?:completed|administer(?:ed|ing)|filled (?:in|out)) (?:[\w-]+ ){0,3}(?:scales?|batter(?:y|ies)|"
     r"tests?|measures|inventor(?:y|ies)|checklists?|instruments?)\b|\b(?:a|an) (?:random |representative |convenience |"
     r"consecutive |national |community )?sample of \d"), 0.55, "abstract"),
    # "than healthy control subjects", "together with age- and IQ-matched control subjects".
    ("cross-sectional", (r"\b(?:than|with|and|versus|vs\.?) (?:\d+ )?(?:(?:age|sex|gender|IQ)-?(?: and (?:age|sex|gender|"
     r"IQ))?[- ]matched |normal |healthy )+(?:control )?(?:subjects|controls|volunteers|children|adults|individuals)\b"),
     0.55, "abstract"),
    ("case-study", (r"\bcase (?:report|series)\b|\bwe (?:report|describe|present) (?:a|an|the|two|three) "
     r"(?:\w+ )?cases?\b|\bservice evaluation\b"), 0.8, "any"),
    # A case report's title names its one patient: "... in a patient with progressive voiding dysfunction".
    ("case-study", r"\b(?:in|of) an? (?:[\w-]+ ){0,3}(?:patient|man|woman|boy|girl|child|infant|neonate)\b(?! population)",
     0.75, "title"),
    ("case-study", r"\bcase stud(?:y|ies)\b|\bthe case of\b|\bthe experience of\b|\bour (?:initial |first )?experience\b",
     0.8, "title"),
    # Case reports abstracts rarely call themselves so: "A 16-year-old girl was admitted", "To report two cases",
    # "a study of two children".
    ("case-study", (r"\b(?:an?|\d+) ?-?(?:year|month|week)-old (?:[\w-]+ ){0,3}(?:man|woman|boy|girl|patient|male|"
     r"female|infant|child|neonate|gentleman|lady)\b|\b(?:report|describe|present)s? (?:of )?(?:a|an|one|two|three|"
     r"four|five) (?:[\w-]+ ){0,2}(?:cases?|patients)\b|\b(?:study|report) of (?:a|one|two|three) (?:children|"
     r"patients|cases)\b"), 0.75, "abstract"),
    # A retrospective look at one treated group: "A retrospective study was performed on 25 children who had been
    # treated with ...", "We retrospectively reviewed our experience with 30 pediatric patients treated with".
    ("case-study", (r"\bretrospective(?:ly)? (?:study|review|analysis|reviewed)\b[^.]{0,80}?\b" + _COUNT + r" (?:[\w-]+ )"
     r"{0,3}(?:patients|children|boys|girls|men|women|cases|infants)\b[^.]{0,60}?\b(?:treated|underwent|undergoing|"
     r"received|operated|managed)\b"), 0.8, "abstract"),
    # A series presented as such: "The author presents 14 children", "are presented in four children", "We present
    # eighteen cases"; a few patients in whom something happened: "Seizures occurred in two patients".
    ("case-study", (r"\b(?:(?:we|I|authors?) (?:present|report|describe)|presents|presented|reports|reported|describes|"
     r"described) (?:in |on )?(?:the )?" + _COUNT + r" (?:[\w-]+ ){0,3}(?:children|patients|cases|boys|girls|women|men|"
     r"infants|adults)\b|\b(?:occurred|developed|arose) in (?:both|two|three|four|five) (?:[\w-]+ ){0,2}(?:patients|"
     r"children|cases|women|men|boys|girls)\b"), 0.75, "abstract"),
    # A surgical or clinical series with no comparison group: "Fifteen consecutive ... patients underwent",
    # "we have operated on 40 children", "the records of 24 patients were reviewed".
    ("case-study", (r"\b" + _COUNT + r" (?:[\w-]+ ){0,3}(?:patients|children|boys|girls|men|women|cases|infants|"
     r"neonates)\b(?: \([^)]*\))?[^.;()]{0,100}?(?<!who )\bunderwent\b|\bwe have operated on " + _COUNT + r"\b|\b(?:records|charts|"
     r"files|findings) (?:in|of) " + _COUNT + r" (?:[\w-]+ ){0,4}(?:patients|children|cases|neonates|infants)\b"
     r"(?:[^.;]|\.(?=\d)){0,120}\b(?:were|was) reviewed\b|\bwe (?:retrospectively )?reviewed the (?:medical |clinical |case )?(?:records|charts|files) of\b"), 0.6,
     "abstract"),
    # A clinical series: "To report our experience of children with ...", "Preliminary results in eight patients".
    ("case-study", (r"\breport (?:on )?our (?:\w+ )?experience\b|\bour (?:initial |early )?experience (?:with|of|in)\b|"
     r"\bpreliminary results in (?:\d+|\w+) patients\b|\bpilot evaluation\b"), 0.8, "any"),
    ("case-study", (r"\b(?:we describe|describes|we report on) (?:a|an|the|one) "
     r"(?:[\w-]+ ){0,8}(?:project|programme|program|initiative|model|scheme)\b"), 0.7, "abstract"),
    # "case study" in an abstract is the article's design only when the article says it is one: "This unique case
    # study from the Kibale national park", "uses KwaZulu-Natal in South Africa as a case study", "presents a
    # financial case study of". Otherwise case studies are what a conceptual paper, a book or a review uses or
    # cites ("applied the framework to a case study of grassland management", "two case studies are presented
    # that exemplify", "Impact Case studies submitted to the UK Research Excellence Framework"): weak evidence.
    ("case-study", (r"\b(?:this|the present|our|as an?|presents? an?|reports? an?|is an?) "
     r"(?:(?!paper|article|chapter|book|report|study)[\w-]+ ){0,2}case stud(?:y|ies)\b"), 0.8, "abstract"),
    ("case-study", r"\bcase stud(?:y|ies)\b", 0.45, "abstract"),
    # A first-person surgical series: "we have submitted 127 patients to radical retropubic prostatectomy" (like "N
    # patients underwent"; "we have treated N children" is left alone: labelled a treatment series as often as a case
    # series); a system built and evaluated: "describes the design, implementation and evaluation of a prototype".
    ("case-study", (r"\bwe have (?:submitted|operated on|performed [\w-]+ (?:in|on)) " + _COUNT
     + r" (?:[\w-]+ ){0,3}(?:patients|children|boys|girls|men|women|cases|infants)\b|\bdescribes? the (?:design|"
     r"development|implementation)(?:,? (?:and )?(?:design|development|implementation))*,? and (?:first )?evaluation "
     r"of\b"), 0.7, "abstract"),
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
    # An argument for what should be done, with no study of its own (a fallback): "To prevent errors ..., we need to
    # understand", "it is important that health care organizations take a proactive position".
    ("commentary", (r"\bwe need to\b|\bit is (?:important|essential|imperative|time|crucial) (?:that|to|for)\b|"
     r"\b(?:must|should) take (?:a|the) lead\b|\bwe propose (?:here )?that\b|\bthis comment\b|\bthere is an? "
     r"(?:urgent|pressing) need to\b"), 0.6, "abstract"),
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

    title_text, text = fold(title or ""), fold(clean_abstract(abstract))
    for where, field in (("title", title_text), ("abstract", text)):
        for design, pattern, conf, scope in _DESIGN_RULES:
            if scope not in ("any", where):
                continue
            m = next((m for m in pattern.finditer(field if design != "rct" else unredefine(field, "RCT", _RCT_WORDS))
                      if not _FUTURE_RESEARCH.search(sentence_at(field, *m.span()))), None)
            if m:
                note(design, min(0.97, conf + (0.05 if where == "title" else 0)), quote(where, field, *m.span()))
    if source_type and source_type.lower() in SOURCE_TYPES:
        design, conf = SOURCE_TYPES[source_type.lower()]
        note(design, conf, f"source type: {source_type}")
    for mesh in mesh_types or []:
        if mesh and mesh.lower() in MESH_TYPES:
            design, conf = MESH_TYPES[mesh.lower()]
            note(design, conf, f"MeSH: {mesh}")
    if "other" in scores and "in vitro" in scores["other"][1].lower() and (
            re.search(r"\bin vivo\b", f"{title} {abstract}", re.IGNORECASE)
            or scores.get("systematic-review", (0.0, ""))[0] >= 0.85 or _RANDOMISED_DESIGN.search(text)):
        # Laboratory work beside people: "in vitro and in vivo performance", "in a randomized, open-label,
        # two-way crossover design ... in vitro skin flux", a drug review's "in vitro activity".
        scores["other"] = (0.6, scores["other"][1])
    if (scores.get("case-study", (0.0, ""))[0] >= 0.75 and "systematic-review" in scores
            and _LITERATURE.search(scores["systematic-review"][1]) and not _SYSTEMATIC.search(text)):
        # "We describe three patients ... We review the world literature": a case report with its literature.
        del scores["systematic-review"]
    if "protocol" in scores and _RESULTS.search(text):
        scores["protocol"] = (0.5, scores["protocol"][1])  # "eligible for this protocol study ... (P < .0001)": results
    if "others-trials" in scores and _OWN_TRIAL.search(text):
        scores["others-trials"] = (0.55, scores["others-trials"][1])  # a trial report citing earlier trials
    if not any(conf >= 0.65 for conf, _ in scores.values()) and _narrative(text):
        scores["narrative"] = (0.64, NARRATIVE)
    if "guideline" in scores and _GUIDELINE_STUDIED.search(title_text):
        del scores["guideline"]  # "Effect of computer-based guidelines on ...": a study of guidelines
    design, (conf, evidence) = _choose(scores)
    headed = _headed_design(text)
    if headed and headed[0] != design and evidence.startswith("abstract:"):
        # A structured abstract's "Design:" heading says what the study is; other phrases in the abstract
        # ("drawn from a systematic review of 10 725 case records", "four randomized trials" in the background)
        # do not outrank it. A design named in the title or the metadata still does.
        design, (conf, evidence) = headed
    return [Suggestion("design", REPORTED_AS.get(design, design), round(conf, 2), evidence)]


# A heading opens the abstract or follows a sentence's end: not "We used a mixed methods design: a survey and ...".
_DESIGN_HEADING = re.compile(r"(?:^|(?<=[.;?]\s)|(?<=[.;?]\s\s)|(?<=\n))\s*(?:(?:STUDY )?DESIGN|(?:Study )?[Dd]esign)\s*:\s*"
                             r"(?:/st>\s*)?"
                             r"([^.]{3,200})")


def _headed_design(text: str) -> tuple[str, tuple[float, str]] | None:
    """The design named under a "Design:" heading, if any: (design, (confidence, evidence))."""
    m = _DESIGN_HEADING.search(text)
    if not m:
        return None
    heading = m.group(1)
    scores: dict[str, tuple[float, str]] = {}
    for design, pattern, conf, scope in _DESIGN_RULES:
        found = pattern.search(heading) if scope in ("any", "abstract") else None
        if found and conf > scores.get(design, (0.0, ""))[0]:
            scores[design] = (conf, quote("abstract", text, m.start(1) + found.start(), m.start(1) + found.end()))
    scores = {d: (max(c, DECISIVE), e) for d, (c, e) in scores.items() if c >= 0.65}
    if not scores:
        return None
    return _choose(scores)


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
_LITERATURE = re.compile(r"\bliterature\b|\bpublished cases\b", re.IGNORECASE)
_SYSTEMATIC = re.compile(r"\bsystematic|\bmeta-?analys|\b" + _DATABASES, re.IGNORECASE)
# A trial named as the design, not only "randomized to incubation order".
_RANDOMISED_DESIGN = re.compile(r"\brandomi[sz]ed,? (?:[\w-]+,? ){0,4}(?:trials?|design|study|crossover)\b", re.IGNORECASE)
# Reported results: a protocol has none yet.
_RESULTS = re.compile(r"\bp ?(?:<|=|>|≤) ?0?\.\d|\b(?:95%|95 ?per ?cent) (?:confidence interval|CI)\b", re.IGNORECASE)
_RCT_WORDS = re.compile(r"randomi[sz]ed (?:controlled |clinical )?trials?\W*$", re.IGNORECASE)
NARRATIVE = ("abstract: states what is known in the present tense, about treatment or disease, and reports no "
             "study of its own (narrative review)")
# A trial's own wording: "we", "were randomised", "this study" (then others' trials it cites are background).
_OWN_TRIAL = re.compile(r"\b(?:we|our)\b|\b(?:were|was) (?:randomi[sz]ed|randomly)\b|\brandomly (?:assigned|allocated)\b|"
                        r"\b(?:this|the present) (?:study|trial)\b", re.IGNORECASE)
# A narrative clinical review that never says "review" ("Pharmacological management of incontinence": "Detrusor
# instability responds to drugs ... Evidence for oestrogen replacement alone is lacking"): no study of its own,
# present tense throughout, about treatment or disease, and not describing an organisation or programme.
_OWN_STUDY = re.compile(
    r"\b(?:we|us)\b|\bour\b(?! (?:knowledge|understanding))|\b(?:this|the present|the current) (?:study|investigation|"
    r"survey|paper|article|project|report)\b|\bp ?[<=>]|\b\d+ (?:[\w-]+ ){0,3}(?:patients|children|subjects|participants|"
    r"women|men|respondents|volunteers|boys|girls|adults|physicians|nurses|hospitals|practices)\b|\b(?:were|was) "
    r"(?:randomi\w+|enrolled|recruited|included|studied|assessed|measured|examined|compared|treated|given|analy[sz]ed|"
    r"collected|interviewed|surveyed|observed|conducted|performed)\b|\bauthors?\b|\b(?:initiative|network|consortium|"
    r"foundation|funded)\b", re.IGNORECASE)
_PRESENT = re.compile(r"\b(?:is|are|has|have|can|cannot|may|might|should|must|remains?|does|do|seems?|appears?|offers?|"
                      r"represents?|provides?|requires?|depends?|includes?)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:was|were|had|did)\b", re.IGNORECASE)
_CLINICAL = re.compile(r"\b(?:treatments?|therapy|therapies|drugs?|patients|diagnos\w+|clinical|pharmaco\w+|"
                       r"medications?|efficacy|symptoms?|diseases?|incontinence|bladder|syndrome|urinary|infections?|"
                       r"doses?)\b", re.IGNORECASE)


def _narrative(text: str) -> bool:
    return (len(text) >= 150 and not _OWN_STUDY.search(text) and len(_PRESENT.findall(text)) >= 3
            and len(_PAST.findall(text)) <= 1 and len({m.lower() for m in _CLINICAL.findall(text)}) >= 3)
