import io

from rich.console import Console
from support.screen import add_works, settings, use, vote

from litrev.screen.terminal import ScreeningSession, highlight, run_session
from litrev.tags import storage as tags

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
    from support.rank import IRRELEVANT, RELEVANT

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
    from support.rank import IRRELEVANT, RELEVANT

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


# --- frames that fit an 80x24 terminal (issue 16) ---------------------------------------------

LEGEND = "[i]nclude  [e]xclude  [m]aybe"
LONG_ABSTRACT = " ".join(f"w{i:04d}" for i in range(1, 3001))  # 3,000 words, each findable
PGDN, PGUP = "\x1b[6~", "\x1b[5~"


class Frames(Keys):
    """Keys that photograph the 80x24 screen before each key: what was drawn since the last one."""

    def __init__(self, keys, lines=()):
        super().__init__(keys, lines)
        self.console = Console(record=True, width=80, height=24, file=io.StringIO(), color_system=None)
        self.frames = []

    def snap(self):
        drawn = self.console.export_text(clear=True)
        if drawn:  # nothing drawn: the last frame is still on screen
            self.frames.append(drawn)

    def key(self):
        self.snap()
        return super().key()

    def line(self, prompt):
        self.snap()
        return super().line(prompt)


def screen_frames(db, s, keys, lines=(), stage=TA):
    feed = Frames(keys, lines)
    s.prioritise = False
    run_session(db, s, stage, "sam", read_key=feed.key, read_line=feed.line, console=feed.console)
    return feed.frames


def words_in(frame):
    return {w for w in frame.replace("│", " ").split() if w.startswith("w") and w[1:].isdigit()}


def long_work(db):
    add_works(db, 2)
    db["works"].update(1, {"abstract": LONG_ABSTRACT})


def test_every_frame_fits_80x24_with_title_position_and_legend(db):
    s = use(db, settings(ta=1, ft=1))
    long_work(db)
    keys = [" "] * 40 + ["n", "e", "x", "t", "?", "q"]
    frames = screen_frames(db, s, keys, lines=["a note", ""])
    assert len(frames) == len(keys) + 1  # and the tags line before its question
    for frame in frames:
        assert len(frame.splitlines()) <= 24, frame
        assert "Peer mentoring for people leaving residential alcohol" in frame
        assert "1 of 2 left" in frame
    reason_menu = frames[42]
    assert "1. Wrong population" in reason_menu and "any other key cancels" in reason_menu
    assert all(LEGEND in f for i, f in enumerate(frames) if i != 42)


def test_a_3000_word_abstract_is_paged_and_every_page_is_reachable(db):
    s = use(db, settings(ta=1))
    long_work(db)
    frames = screen_frames(db, s, [" "] * 30 + ["q"])
    pages = [f for f in frames if "page " in f]
    total = int(pages[0].split("page 1 of ")[1].split()[0])
    assert total >= 5
    for n, frame in enumerate(frames[:total], 1):
        assert f"page {n} of {total}" in frame
    assert f"page {total} of {total}" in frames[-1]  # space on the last page stays there
    seen = set().union(*(words_in(f) for f in frames))
    assert seen == set(LONG_ABSTRACT.split())  # no word lost between pages
    assert len(words_in(frames[0])) < 3000


def test_pgdn_and_pgup_page_forward_and_back(db):
    s = use(db, settings(ta=1))
    long_work(db)
    frames = screen_frames(db, s, [PGDN, PGDN, PGUP, "b", "q"])
    assert [f.split("page ")[1].split(" of")[0] for f in frames] == ["1", "2", "3", "2", "1"]


def test_a_decision_on_page_two_is_saved_and_the_next_work_starts_on_page_one(db):
    s = use(db, settings(ta=1))
    long_work(db)
    frames = screen_frames(db, s, [" ", "e", "2", "q"])
    assert "page 2 of" in frames[1]
    assert current(db) == {1: ("exclude", "Wrong intervention")}
    assert "Recovery coaches in emergency departments" in frames[-1]
    assert "Saved: exclude (Wrong intervention) on work 1." in frames[-1]
    assert "page " not in frames[-1]  # work 2's short abstract is one page


def test_a_long_title_is_cut_so_the_legend_stays(db):
    s = use(db, settings(ta=1))
    long_work(db)
    db["works"].update(1, {"title": "Peer support " * 60})
    frames = screen_frames(db, s, [" ", "q"])
    for frame in frames:
        assert len(frame.splitlines()) <= 24 and LEGEND in frame and "…" in frame


def test_a_question_or_a_message_keeps_the_page_and_its_text(db):
    s = use(db, settings(ta=1))
    long_work(db)
    frames = screen_frames(db, s, [" ", " ", "e", "x", "?", "n", "q"], lines=["check dose"])
    on_page_3 = frames[2]
    total = on_page_3.split("page 3 of ")[1].split()[0]
    for after in (frames[4], frames[5], frames[6]):  # cancelled, unknown key, note
        assert f"page 3 of {total}" in after
        assert words_in(after) == words_in(on_page_3)
    assert "Exclusion cancelled." in frames[4] and "Note: check dose" in frames[6]
