"""The learned design fallback: trained on a team's confirmed designs, used where the rules find no phrase."""

import json

import pytest
from click.testing import CliRunner

from litrev.cli import cli
from litrev.tags import model as design_model
from litrev.tags import storage as tags
from litrev.tags.designs import DECISIVE, suggest_design

# A review team's confirmed designs, in the shapes people write: service descriptions
# (case-study), conceptual and policy pieces (other) and trials (rct). The words vary
# from work to work as real abstracts do; the designs are what a reviewer would set.
SERVICES = ["a community alcohol and drug service", "a recovery café", "a prison drug service",
            "a homeless outreach team", "an NHS addiction service", "a women's recovery project"]
MENTORS = ["peer mentors", "volunteers in recovery", "recovery champions", "lived-experience workers"]
CASE_STUDY = (
    "How {service} set up {mentors}",
    ("{Mentors} with lived experience of recovery joined {service}. The service team describes how mentors were"
    " recruited, trained and supervised, how clients and staff responded, and reflects on what they would"
    " change; lessons for other services that want to involve people in recovery are set out."),
)
OTHER = (
    "Rethinking {topic}",
    ("This essay argues that {topic} needs a new policy framework. It discusses markets, regulation and the"
    " role of governments and banks, and proposes principles for future policy on {topic}."),
)
TOPICS = ["biodiversity finance", "conservation funding", "natural capital accounting", "green bonds",
          "payments for ecosystem services", "offsetting", "drug policy reform", "harm reduction funding",
          "alcohol licensing", "recovery capital", "social prescribing", "commissioning"]
RCT = (
    "A randomised controlled trial of {mentors} in {service}",
    ("Adults leaving treatment were randomly assigned to {mentors} or usual care in {service}. The primary"
    " outcome was abstinence at six months; mentoring increased abstinence and attendance."),
)


def confirmed_examples(n_each=12):
    examples = []
    for i in range(n_each):
        service, mentors, topic = SERVICES[i % len(SERVICES)], MENTORS[i % len(MENTORS)], TOPICS[i % len(TOPICS)]
        fill = {"service": service, "mentors": mentors, "Mentors": mentors.capitalize(), "topic": topic}
        for (title, abstract), design in ((CASE_STUDY, "case-study"), (OTHER, "other"), (RCT, "rct")):
            examples.append((title.format(**fill), abstract.format(**fill), design))
    return examples


UNSEEN = ("Mentoring in recovery services: how one city organised it",
          ("Volunteers in recovery were trained as mentors and paired with clients leaving detoxification. The"
          " service team reflects on referral routes, supervision and what they would change."))


@pytest.fixture(scope="module")
def model():
    return design_model.train(confirmed_examples())


def test_a_clear_unseen_abstract_gets_the_learned_design_with_learned_evidence(model):
    rules = suggest_design(*UNSEEN)[0]
    assert rules.evidence == design_model.NO_PHRASE and rules.value == "other"
    fused = design_model.fill_in(model, rules, *UNSEEN)
    assert fused.value == "case-study"
    assert fused.evidence.startswith("learned from 36 confirmed designs (p = 0.")
    assert fused.evidence.endswith("no design phrase found")
    assert design_model.THRESHOLD <= fused.confidence <= design_model.CAP < DECISIVE


def test_the_rules_decide_where_they_found_a_phrase(model):
    title, abstract = "Peer mentoring after detoxification: a randomised controlled trial", "Clients were randomised."
    rules = suggest_design(title, abstract)[0]
    assert design_model.fill_in(model, rules, title, abstract) == rules


def test_an_unsure_model_leaves_the_rules_suggestion(model):
    rules = suggest_design("Soil carbon", "")[0]
    design, p = model.predict([("Soil carbon", "")])[0]
    assert p < design_model.THRESHOLD
    assert design_model.fuse(rules, (design, p), model.trained_on) == rules


def test_too_few_confirmed_designs_train_nothing():
    examples = confirmed_examples()
    assert design_model.train(examples[: design_model.MIN_WORKS - 1]) is None
    assert design_model.train([e for e in confirmed_examples(40) if e[2] == "rct"]) is None  # one design only
    assert design_model.train(examples[: design_model.MIN_WORKS]) is not None
    rules = suggest_design(*UNSEEN)[0]
    assert design_model.fill_in(None, rules, *UNSEEN) == rules


def test_training_is_deterministic(model):
    again = design_model.train(confirmed_examples())
    texts = [UNSEEN, ("Rethinking drug policy", "An essay on regulation."), ("Soil carbon", "")]
    assert model.predict(texts) == again.predict(texts)


# --- in the database: `auto_tag` trains once on people's design tags ---------------------

def add_work(db, work_id, title, abstract=""):
    db["works"].insert({"id": work_id, "title": title, "abstract": abstract})


def confirmed_db(db, n_each=12):
    for work_id, (title, abstract, design) in enumerate(confirmed_examples(n_each), start=1):
        add_work(db, work_id, title, abstract)
        tags.set_tags(db, work_id, [("design", design)], "ann")
    add_work(db, 100, *UNSEEN)
    add_work(db, 101, "Peer mentors for people leaving prison: a randomised controlled trial",
             "Participants were randomly assigned to a peer mentor or usual care.")
    return db


def design_of(db, work_id):
    return next(r for r in tags.effective_tags(db, work_id) if r["key"] == "design")


def test_auto_tag_learns_from_confirmed_designs_for_untagged_works(db):
    confirmed_db(db)
    counts = tags.auto_tag(db, learned=True)
    assert counts["learned"] >= 1
    learned = design_of(db, 100)
    assert (learned["value"], learned["origin"]) == ("case-study", "auto")
    assert learned["evidence"].startswith("learned from 36 confirmed designs")
    assert learned["confidence"] <= design_model.CAP
    trial = design_of(db, 101)
    assert trial["value"] == "rct" and not trial["evidence"].startswith("learned")
    # a person's tag still wins, over the learned suggestion too
    assert (design_of(db, 1)["origin"], design_of(db, 1)["value"]) == ("manual", "case-study")
    tags.set_tags(db, 100, [("design", "other")], "bo")
    assert (design_of(db, 100)["origin"], design_of(db, 100)["value"]) == ("manual", "other")


def test_accepted_suggestions_count_as_confirmed_and_conflicting_ones_do_not(db):
    confirmed_db(db)
    assert len(tags.confirmed_designs(db)) == 36
    tags.set_tags(db, 1, [("design", "case-study"), ("design", "other")], "ann")  # two designs: no single label
    assert len(tags.confirmed_designs(db)) == 35
    tags.auto_tag(db)
    suggestion = next(r for r in tags.pending_reviews(db, "design") if r["work_id"] == 101)
    tags.review(db, "ann", lambda row: ("accept", None) if row["id"] == suggestion["id"] else ("skip", None))
    assert ("Peer mentors for people leaving prison: a randomised controlled trial",
            "Participants were randomly assigned to a peer mentor or usual care.", "rct") in tags.confirmed_designs(db)


def test_below_the_minimum_auto_tag_is_the_rules_alone(db):
    confirmed_db(db, n_each=9)  # 27 confirmed designs
    counts = tags.auto_tag(db, learned=True)
    assert "learned" not in counts
    assert design_of(db, 100)["evidence"] == design_model.NO_PHRASE


def test_on_by_default_and_no_learned_leaves_the_rules_alone(db_path):
    from litrev.db import open_db
    confirmed_db(open_db(db_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["tag", "--auto", "--no-learned", "--json", "--db", db_path], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "learned" not in json.loads(result.output)
    assert design_of(open_db(db_path), 100)["evidence"] == design_model.NO_PHRASE


def test_cli_tag_auto_makes_learned_suggestions(db_path):
    from litrev.db import open_db
    confirmed_db(open_db(db_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["tag", "--auto", "--db", db_path], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "design suggestions were learned from the team's confirmed designs" in result.output
    listed = runner.invoke(cli, ["tag", "list", "100", "--json", "--db", db_path], catch_exceptions=False)
    design = next(r for r in json.loads(listed.output) if r["key"] == "design")
    assert design["value"] == "case-study" and design["evidence"].startswith("learned from 36 confirmed designs")
