import io

from rich.console import Console
from screen_support import add_works, settings, use, vote

from litrev import tags
from litrev.screen_tui import ScreeningSession, highlight, run_session

TA, FT = "title-abstract", "full-text"


class Keys:
    """Feeds keys and lines to the session as a person at the keyboard would."""

    def __init__(self, keys, lines=()):
        self.keys, self.lines, self.prompts = list(keys), list(lines), []

    def key(self):
        return self.keys.pop(0)

    def line(self, prompt):
        self.prompts.append(prompt)
        return self.lines.pop(0)


def console():
    return Console(file=io.StringIO(), width=100, color_system=None, force_terminal=False)


def session(db, s, keys, lines=(), reviewer="sam", stage=TA, out=None):
    feed = Keys(keys, lines)
    s.prioritise = False
    out = out or console()
    counts = run_session(db, s, stage, reviewer, read_key=feed.key, read_line=feed.line, console=out)
    return counts, out.file.getvalue(), feed


def current(db, reviewer="sam", stage=TA):
    return {r["work_id"]: (r["decision"], r["reason"]) for r in db.query(
        "select * from screening_votes where reviewer = ? and stage = ?", [reviewer, stage])}


def test_keys_include_exclude_with_reason_maybe_skip_and_quit(db):
    s = use(db, settings(ta=2))
    add_works(db, 5)
    counts, out, _ = session(db, s, ["i", "e", "3", "s", "m", "q"])
    assert current(db) == {1: ("include", None), 2: ("exclude", "Wrong comparator"), 4: ("maybe", None)}
    assert counts == {"include": 1, "exclude": 1, "maybe": 1, "undo": 0, "skip": 1}
    assert "1 of 5 left" in out and "Wrong comparator" in out
    assert "3 Wrong comparator" not in out  # reasons are numbered "3. ..."
    assert "3. Wrong comparator" in out
    # Resumable: the next session starts with what is left (the skipped work 3, then 5).
    _, out, _ = session(db, s, ["i", "q"])
    assert current(db)[3] == ("include", None)
    assert "1 of 2 left" in out


def test_undo_withdraws_the_last_decision_and_shows_the_work_again(db):
    s = use(db, settings(ta=2))
    add_works(db, 3)
    counts, out, _ = session(db, s, ["i", "e", "1", "u", "u", "m", "q"])
    # include 1, exclude 2, undo (2 back), undo (1 back), maybe on 1
    assert current(db) == {1: ("maybe", None)}
    assert [r[0] for r in db.execute("select decision from decisions order by id")] == [
        "include", "exclude", "undo", "undo", "maybe"]
    assert counts["undo"] == 2
    _, out, _ = session(db, s, ["u", "q"])
    assert "Nothing to undo in this session." in out


def test_exclusion_cancelled_by_another_key_and_note_saved_with_decision(db):
    s = use(db, settings(ta=1))
    add_works(db, 2)
    _, out, feed = session(db, s, ["e", "x", "n", "i", "q"], lines=["adolescents only?"])
    assert "Exclusion cancelled." in out
    row = db.execute("select work_id, decision, note from decisions").fetchone()
    assert row == (1, "include", "adolescents only?")
    assert feed.prompts == ["Note (saved with your decision on this work)"]


def test_full_text_requires_a_reason_from_the_full_list(db):
    s = use(db, settings(ta=1, ft=1))
    add_works(db, 2)
    vote(db, 1, "ali", "include")
    _, out, _ = session(db, s, ["e", "9", "q"], stage=FT)
    assert current(db, stage=FT) == {1: ("exclude", "Report not retrieved")}
    assert "Queue done: every work here has your decision." in out


def test_blind_the_screen_never_shows_other_screeners(db):
    s = use(db, settings(ta=2))
    add_works(db, 2)
    vote(db, 1, "ali", "exclude", reason="Wrong population")
    db["decisions"].update(1, {"note": "ALI-PRIVATE-NOTE"})
    _, out, _ = session(db, s, ["q"])
    assert "work 1" in out
    for secret in ("ali", "ALI-PRIVATE-NOTE", "Wrong population", "exclude,"):
        assert secret not in out


def test_empty_queue_says_so(db):
    s = use(db, settings(ta=1))
    _, out, _ = session(db, s, [])
    assert "Nothing left to screen at this stage." in out


def test_shows_title_authors_year_venue_and_position(db):
    s = use(db, settings(ta=1))
    add_works(db, 2)
    _, out, _ = session(db, s, ["q"])
    assert "Peer mentoring for people leaving residential alcohol treatment" in out
    assert "Smith, Jane, Okafor, Chidi" in out
    assert "2020 · Addiction · doi:10.1111/add.15001" in out
    assert "1 of 2 left · title-abstract · sam" in out
    assert "[i]nclude  [e]xclude" in out


def test_the_model_score_is_shown_only_when_there_is_one(db):
    s = use(db, settings(ta=1))
    add_works(db, 2)
    out = console()
    ScreeningSession(db, s, TA, "sam", [(1, -0.31), (2, None)], read_key=Keys(["s", "q"]).key,
                     console=out).run()
    text = out.file.getvalue()
    assert "model score -0.31" in text
    assert text.count("model score") == 1  # no score, nothing shown
    assert "relevance" not in text


def test_each_decision_retrains_and_reranks_the_rest_and_shows_the_stopping_signal(db):
    from rank_support import IRRELEVANT, RELEVANT

    s = use(db, settings(ta=1))
    s.prioritise = True
    papers = [RELEVANT[0], IRRELEVANT[0]] + IRRELEVANT[1:6] + RELEVANT[1:4]
    db["works"].insert_all({"id": i, "title": t, "abstract": a} for i, (t, a) in enumerate(papers, 1))
    vote(db, 1, "sam", "include")  # a peer-mentor study is in
    out = console()
    # Excluding the statin study (work 2) gives the model both classes to learn from.
    session = ScreeningSession(db, s, TA, "sam", [(w, None) for w in range(2, 11)],
                               read_key=Keys(["e", "1", "q"]).key, console=out, prioritise=True)
    session.run()
    assert current(db)[2] == ("exclude", "Wrong population")
    next_three = [work_id for work_id, _ in session.queue[:3]]
    assert set(next_three) == {8, 9, 10}  # the peer-support works jumped the queue
    assert all(score is not None for _, score in session.queue)
    text = out.file.getvalue()
    assert "Excludes in a row since your last include: 1." in text
    assert ("Stopping rule: keep screening: 95% recall is not yet shown with 95% "
            "confidence (p = ") in text
    assert "relevant works left" not in text and "relevance" not in text
    assert "model score +" in text  # the works the model put first score above zero


def test_the_stopping_rule_says_when_you_can_stop(db):
    """Ten works, both includes found first and seven excludes after: with 9 of 10
    screened, H0 (recall < 95%: one more include hides among the last 8) holds only if
    it is the one work left: p = 1/8, keep screening. At a 60% target H0 needs two more
    includes among those 8, impossible when 7 of them were excludes: p = 0, stop."""
    from rank_support import IRRELEVANT, RELEVANT

    s = use(db, settings(ta=1))
    s.prioritise = True
    papers = RELEVANT[:2] + IRRELEVANT[:8]
    db["works"].insert_all({"id": i, "title": t, "abstract": a} for i, (t, a) in enumerate(papers, 1))
    vote(db, 1, "sam", "include")
    vote(db, 2, "sam", "include")
    for w in range(3, 10):
        vote(db, w, "sam", "exclude", reason="Wrong population")
    out = console()
    ScreeningSession(db, s, TA, "sam", [(10, None)], read_key=Keys(["q"]).key, console=out,
                     prioritise=True).run()
    assert "keep screening: 95% recall is not yet shown with 95% confidence (p = 0.125)" \
        in out.file.getvalue()
    s.recall_target = 0.6
    out = console()
    ScreeningSession(db, s, TA, "sam", [(10, None)], read_key=Keys(["q"]).key, console=out,
                     prioritise=True).run()
    assert ("you can stop: at least 60% of relevant works found, with 95% confidence "
            "(p = 0.000)") in out.file.getvalue()


def test_keywords_are_highlighted_green_and_red():
    text = highlight("Peer support for drug users; rats were not used. Protocol.",
                     ["peer", "drug"], ["rats", "protocol"])
    spans = {text.plain[sp.start:sp.end]: str(sp.style) for sp in text.spans}
    assert spans == {"Peer": "bold green", "drug": "bold green", "rats": "bold red",
                     "Protocol": "bold red"}
    out = Console(file=io.StringIO(), force_terminal=True, color_system="standard", width=80)
    out.print(text)
    assert "\x1b[1;32mPeer" in out.file.getvalue() and "\x1b[1;31mrats" in out.file.getvalue()


def test_tag_key_confirms_suggestions_or_sets_typed_tags(db):
    s = use(db, settings(ta=1))
    add_works(db, 2)
    db["tags"].insert_all([
        {"work_id": 1, "key": "country", "value": "GB", "origin": "auto", "status": "suggested",
         "confidence": 0.9, "evidence": "title: UK"},
        {"work_id": 1, "key": "design", "value": "rct", "origin": "auto", "status": "suggested",
         "confidence": 0.9, "evidence": "randomised controlled trial"},
    ])
    _, out, _ = session(db, s, ["t", "i", "t", "q"], lines=["", "country=Netherlands design=qualitative"])
    assert "country=GB (suggested)" in out
    assert {(t["key"], t["value"], t["origin"]) for t in tags.effective_tags(db, 1)} == {
        ("country", "GB", "manual"), ("design", "rct", "manual")}
    assert {(t["key"], t["value"]) for t in tags.effective_tags(db, 2)} == {
        ("country", "NL"), ("design", "qualitative")}


def test_bad_tag_is_reported_not_raised(db):
    s = use(db, settings(ta=1))
    add_works(db, 1)
    _, out, _ = session(db, s, ["t", "q"], lines=["country=Atlantis"])
    assert "Unknown country 'Atlantis'" in out
