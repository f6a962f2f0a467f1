"""Scoring sessions on a real run (`fl-tui bench` against `fl-tui serve`, quick set, 2 rounds): the items, blind order
from the stored seed, scoring and clearing, notes, navigation, resume, time per item, and the file always equal to
what was done."""

import json
import random
import shutil

import pytest

from fl_tui.annotate import session as session_mod
from fl_tui.annotate.cursor import ScoringCursor, when
from fl_tui.annotate.rubric import BUILTIN_SCALE
from fl_tui.annotate.session import OVERALL, NothingToScore, ScoringSession, build_items, newest_to_score
from fl_tui.annotate.stats import quality_by_model
from fl_tui.annotate.store import load_annotations
from fl_tui.bench.runfiles import read_run
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.prompts import PromptSet
from fl_tui.demo.build import FAST, SLOW

ASPECTS = ["mentions retrieval", "two sentences"]


@pytest.fixture
def run_dir(bench_run, tmp_path):
    """A private copy of the run, its first prompt given expected aspects (the quick set has none)."""
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(bench_run / "requests.jsonl", out)
    run = json.loads((bench_run / "run.json").read_text(encoding="utf-8"))
    run["prompts"][0]["expected_aspects"] = ASPECTS
    (out / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return out


def on_disk(session: ScoringSession) -> dict:
    return json.loads(session.path.read_text(encoding="utf-8"))


def test_items_are_the_measured_answers_shuffled_by_the_stored_seed(run_dir):
    session = ScoringSession.open(run_dir, "Ann")
    run = read_run(run_dir)
    data = on_disk(session)
    assert session.path == run_dir / "annotations.ann.json" and not session.resumed
    assert data["rater"] == "Ann" and data["run_id"] == run.run_id and data["blind"] is True
    assert isinstance(data["seed"], int) and data["seed"] == session.seed
    assert session.total == 8  # 2 models x 2 prompts x 2 rounds; the warm-ups are not scored
    measured = [r.id for r in run.requests if not r.warmup]
    ids = [item["request_id"] for item in data["items"]]
    assert sorted(ids) == sorted(measured)
    assert ids == [i.request_id for i in build_items(run, seed=data["seed"])]  # the order follows from the seed
    assert {item["model"] for item in data["items"]} == {FAST.model_id, SLOW.model_id}
    assert data["rubric"]["scale"] == {str(k): v for k, v in BUILTIN_SCALE.items()}
    assert data["rubric"]["aspects"] == {run.prompts[0]["id"]: ASPECTS, run.prompts[1]["id"]: []}


def test_the_same_seed_gives_the_same_order_and_another_seed_another(run_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    a = ScoringSession.open(run_dir, "ann", seed=11)
    b = ScoringSession.open(other, "ann", seed=11)
    c = ScoringSession.open(other, "bob", seed=12)
    order = [i["request_id"] for i in on_disk(a)["items"]]
    assert order == [i["request_id"] for i in on_disk(b)["items"]]
    assert order != [i["request_id"] for i in on_disk(c)["items"]]
    assert on_disk(a)["seed"] == 11 and on_disk(c)["seed"] == 12


def test_blind_hides_the_model_until_revealed_or_all_scored(run_dir):
    session = ScoringSession.open(run_dir, "ann")
    view = session.current
    assert session.blind and not session.revealed
    assert view.model is None and view.request_id is None
    assert view.answer and view.prompt and view.round in (1, 2)
    session.reveal()
    assert session.revealed and session.current.model in (FAST.model_id, SLOW.model_id)
    assert on_disk(session)["revealed"] is True
    assert ScoringSession.open(run_dir, "ann").revealed  # remembered

    fresh = ScoringSession.open(run_dir, "bob")
    for i in range(fresh.total):
        fresh.goto(i)
        for aspect in fresh.current.scored_aspects:
            fresh.set_score(aspect, 3)
        assert not fresh.revealed
        fresh.set_score(OVERALL, 3)
    assert fresh.all_scored and fresh.revealed and on_disk(fresh)["revealed"] is False
    assert fresh.current.model is not None


def test_r_shows_and_hides_the_models_and_a_show_is_recorded(run_dir):
    session = ScoringSession.open(run_dir, "ann")
    cursor = ScoringCursor(session)
    assert cursor.toggle_models() == "model names shown (r hides them)" and session.current.model is not None
    assert cursor.toggle_models() == "model names hidden (r shows them)"
    assert not session.revealed and session.current.model is None and session.current.request_id is None
    assert cursor.view().item.model is None
    assert on_disk(session)["revealed"] is True  # the rater has seen them: later scores are not blind
    for i in range(session.total):  # hidden stays hidden, even once every answer is scored
        session.goto(i)
        for row in (*session.current.scored_aspects, OVERALL):
            session.set_score(row, 4)
    assert session.all_scored and session.current.model is None
    assert cursor.toggle_models() == "model names shown (r hides them)" and session.current.model is not None
    not_blind = ScoringCursor(ScoringSession.open(run_dir, "bob", blind=False))
    assert not_blind.toggle_models() == "model names hidden (r shows them)"  # not blind: r hides them too
    assert not_blind.session.current.model is None


def test_scored_means_complete_and_partly_is_counted_apart(run_dir):
    session = ScoringSession.open(run_dir, "ann", blind=False)
    with_aspects = next(i for i, v in enumerate(session.items()) if v.aspects)
    without = next(i for i, v in enumerate(session.items()) if not v.aspects)
    session.goto(with_aspects)
    session.set_score(OVERALL, 4)  # overall, aspects missing: partly
    assert (session.progress, session.partly) == ((0, 8), 1) and not session.current.scored
    session.goto(without)
    session.set_score(OVERALL, 2)  # no aspects to score: complete
    assert (session.progress, session.partly) == ((1, 8), 1) and session.current.scored
    view = ScoringCursor(session).view()
    assert (view.progress, view.partly) == ((1, 8), 1)
    # The results count the same way: the partly scored answer is not in n.
    quality = quality_by_model([session.file()])
    assert sum(q["n"] for q in quality.values()) == 1 and sum(q["partly"] for q in quality.values()) == 1


def test_the_newest_run_with_answers_is_the_one_to_open(run_dir, tmp_path):
    empty = tmp_path / "empty"
    shutil.copytree(run_dir, empty)
    run = json.loads((empty / "run.json").read_text())
    for r in run["requests"]:
        r["status"] = "failed"
    (empty / "run.json").write_text(json.dumps(run))
    starting = tmp_path / "starting"  # a run that has not written its run.json yet
    starting.mkdir()
    (starting / "requests.jsonl").write_text("")
    assert newest_to_score([starting, empty, run_dir]) == run_dir
    assert newest_to_score([starting, empty]) is None
    with pytest.raises(NothingToScore):
        ScoringSession.open(empty, "ann")


def test_not_blind_keeps_run_order_and_names(run_dir):
    session = ScoringSession.open(run_dir, "ann", blind=False)
    run = read_run(run_dir)
    assert session.seed is None and session.revealed
    assert [v.request_id for v in session.items()] == [r.id for r in run.requests if not r.warmup]


def test_scores_set_clear_and_validate(run_dir):
    session = ScoringSession.open(run_dir, "ann")
    with_aspects = next(i for i, v in enumerate(session.items()) if v.aspects)
    session.goto(with_aspects)
    assert session.current.aspects == tuple(ASPECTS) == session.current.scored_aspects
    assert session.set_score(OVERALL, 4) == 4
    assert session.set_score(OVERALL, 4) is None  # the same key again clears it
    assert session.set_score(OVERALL, 2) == 2
    assert session.set_score(ASPECTS[0], 5) == 5
    assert session.set_score(1, 3) == 3  # by index
    assert session.set_score(1, 3) is None
    assert not session.current.scored
    session.set_score(ASPECTS[1], 1)
    assert session.current.scored and session.progress == (1, 8)
    item = on_disk(session)["items"][with_aspects]
    assert (item["overall"], item["scores"]) == (2, {ASPECTS[0]: 5, ASPECTS[1]: 1}) and item["scored_at"]
    for bad in (0, 6, True, 2.5, "3"):
        with pytest.raises(UserError, match="whole number from 1 to 5"):
            session.set_score(OVERALL, bad)
    with pytest.raises(UserError, match="not an aspect"):
        session.set_score("made up", 3)
    with pytest.raises(UserError, match="aspect 3 does not exist"):
        session.set_score(2, 3)
    assert on_disk(session)["items"][with_aspects] == item  # refused changes wrote nothing new


def test_overall_only_needs_just_the_overall(run_dir):
    session = ScoringSession.open(run_dir, "ann", overall_only=True)
    with_aspects = next(i for i, v in enumerate(session.items()) if v.aspects)
    session.goto(with_aspects)
    assert session.overall_only and session.current.scored_aspects == () and session.current.aspects
    with pytest.raises(UserError, match="overall quality only"):
        session.set_score(ASPECTS[0], 3)
    session.set_score(OVERALL, 5)
    assert session.current.scored and on_disk(session)["rubric"]["overall_only"] is True


def test_notes_navigation_and_next_unscored(run_dir):
    session = ScoringSession.open(run_dir, "ann", overall_only=True)
    assert session.index == 0 and not session.prev()
    session.set_note("  looks truncated \n")
    assert session.current.note == "  looks truncated" and on_disk(session)["items"][0]["note"] == "  looks truncated"
    assert session.next() and session.index == 1
    assert session.prev() and session.index == 0
    session.goto(7)
    assert not session.next() and session.index == 7
    with pytest.raises(IndexError):
        session.goto(8)
    for i in (0, 1, 3):
        session.goto(i)
        session.set_score(OVERALL, 4)
    session.goto(1)
    assert session.next_unscored() and session.index == 2
    session.goto(7)
    session.set_score(OVERALL, 1)
    assert session.next_unscored() and session.index == 2  # wraps round past the scored ones
    for i in range(8):
        session.goto(i)
        if session.current.overall is None:
            session.set_score(OVERALL, 3)
    assert not session.next_unscored() and session.progress == (8, 8)


def test_resume_starts_at_the_first_unscored_and_keeps_the_file_settings(run_dir):
    session = ScoringSession.open(run_dir, "ann", overall_only=True, seed=5)
    order = [item.request_id for item in session.file().items]
    for i in (0, 1, 2, 4):
        session.goto(i)
        session.set_score(OVERALL, 5)
    session.close()
    again = ScoringSession.open(run_dir, "ann", seed=99, overall_only=False, blind=False)
    assert again.resumed and again.index == 3
    assert again.seed == 5 and again.overall_only and again.blind  # the file's settings, not the new arguments
    assert [item.request_id for item in again.file().items] == order
    assert [v.overall for v in again.items()] == [5, 5, 5, None, 5, None, None, None]


def test_one_round_scores_each_model_and_prompt_once(run_dir):
    session = ScoringSession.open(run_dir, "ann", one_round=True)
    views = session.items()
    assert session.total == 4 and {v.round for v in views} == {1}
    session.reveal()
    assert len({(v.model, v.prompt_id) for v in session.items()}) == 4


def test_time_is_counted_while_an_item_is_current(run_dir, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(session_mod, "time_now", lambda: clock[0])
    session = ScoringSession.open(run_dir, "ann", overall_only=True)
    clock[0] += 5
    session.set_score(OVERALL, 3)
    assert on_disk(session)["items"][0]["seconds_spent"] == 5.0
    clock[0] += 2
    assert session.current.seconds_spent == 7.0  # live, before it is saved
    session.next()
    clock[0] += 4
    session.prev()
    clock[0] += 1.5
    session.close()
    items = on_disk(session)["items"]
    assert (items[0]["seconds_spent"], items[1]["seconds_spent"]) == (8.5, 4.0)


def test_the_file_always_equals_the_actions(run_dir):
    """A long random sequence of actions, mirrored in a plain model; after each the file on disk equals the model."""
    session = ScoringSession.open(run_dir, "ann", seed=3)
    rng = random.Random(1)
    model = [{"overall": None, "scores": {}, "note": ""} for _ in range(session.total)]
    for step in range(150):
        action = rng.choice(["score", "score", "aspect", "note", "move", "unscored"])
        view = session.current
        entry = model[session.index]
        if action == "score":
            value = rng.randint(1, 5)
            entry["overall"] = None if entry["overall"] == value else value
            assert session.set_score(OVERALL, value) == entry["overall"]
        elif action == "aspect" and view.scored_aspects:
            aspect, value = rng.choice(view.scored_aspects), rng.randint(1, 5)
            if entry["scores"].get(aspect) == value:
                del entry["scores"][aspect]
            else:
                entry["scores"][aspect] = value
            session.set_score(aspect, value)
        elif action == "note":
            entry["note"] = f"note {step}"
            session.set_note(f"note {step}")
        elif action == "move":
            session.goto(rng.randrange(session.total))
        elif action == "unscored":
            session.next_unscored()
        items = on_disk(session)["items"]
        assert [{k: item[k] for k in ("overall", "scores", "note")} for item in items] == model
    reopened = ScoringSession.open(run_dir, "ann")
    assert [{"overall": v.overall, "scores": v.scores, "note": v.note} for v in reopened.items()] == model
    assert load_annotations(session.path, read_run(run_dir)) == session.file()


def test_rater_names(run_dir):
    for bad in ("", "   ", "a\nb", "x" * 101):
        with pytest.raises(UserError):
            ScoringSession.open(run_dir, bad)
    with pytest.raises(UserError, match="judge models"):
        ScoringSession.open(run_dir, "model:someone")
    ScoringSession.open(run_dir, "Ann")
    before = (run_dir / "annotations.ann.json").read_bytes()
    with pytest.raises(FileProblem, match="belongs to rater 'Ann', not 'ann'"):
        ScoringSession.open(run_dir, "ann")
    assert (run_dir / "annotations.ann.json").read_bytes() == before


def test_prompt_set_rubric_is_stored_and_kept(run_dir):
    override = PromptSet(name="quick", prompts=[{"id": "p1", "prompt": "x"}], rubric={"scale": {"5": "flawless"}})
    session = ScoringSession.open(run_dir, "ann", prompt_set=override)
    assert session.scale[5] == "flawless" and session.scale[1] == BUILTIN_SCALE[1]
    assert on_disk(session)["rubric"]["scale"]["5"] == "flawless"
    assert ScoringSession.open(run_dir, "ann").scale[5] == "flawless"


def test_a_run_without_answers_makes_no_file(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    for r in run["requests"]:
        r["status"] = "failed"
    (run_dir / "run.json").write_text(json.dumps(run))
    with pytest.raises(UserError, match="no answers to score"):
        ScoringSession.open(run_dir, "ann")
    assert not (run_dir / "annotations.ann.json").exists()


def test_the_head_line_names_the_run_its_models_and_date(run_dir):
    view = ScoringCursor(ScoringSession.open(run_dir, "ann")).view()
    run = read_run(run_dir)
    assert view.run_id == run.run_id and view.run_models == len(run.models) == 2
    assert view.run_started == when(run.started_at) and view.run_started.endswith(" UTC")
    assert when("2026-12-02T07:36:41+00:00") == "2026-12-02 07:36 UTC"
    assert when("2026-12-02T07:36:41+02:00") == "2026-12-02 07:36 +0200"
    assert when("yesterday") is None and when(None) is None


# -- undo, skip, auto-advance --------------------------------------------------------------------------------------


def test_undo_takes_back_scores_notes_and_skips_in_order_across_a_restart(run_dir):
    session = ScoringSession.open(run_dir, "ann", overall_only=True, blind=False)
    session.set_score(OVERALL, 4)
    session.set_note("first")
    session.next()
    session.set_score(OVERALL, 2)
    session.set_score(OVERALL, 5)
    second = session.current.request_id
    assert session.skip() is True  # marks it (it was scored, so it stays scored) and goes on
    session.close()

    again = ScoringSession.open(run_dir, "ann")  # the steps are in the file
    assert len(on_disk(again)["undo"]) == 5 and again.can_undo
    assert again.undo() and again.current.request_id == second and not again.file().items[1].skipped
    assert again.undo() and again.current.overall == 2  # 5 -> 2
    assert again.undo() and again.current.overall is None
    assert again.undo() and again.index == 0 and again.current.note == "" and again.current.overall == 4
    assert again.undo() and again.current.overall is None and again.file().items[0].scored_at is None
    assert not again.undo() and not again.can_undo
    assert "undo" not in on_disk(again) and all(i["overall"] is None for i in on_disk(again)["items"])


def test_the_undo_steps_kept_are_bounded(run_dir, monkeypatch):
    from fl_tui.annotate import store

    monkeypatch.setattr(session_mod, "UNDO_MAX", 3)
    session = ScoringSession.open(run_dir, "ann", overall_only=True, blind=False)
    for value in (1, 2, 3, 4, 5):
        session.set_score(OVERALL, value)
    assert [c["overall"] for c in on_disk(session)["undo"]] == [2, 3, 4]  # before the 3rd, 4th and 5th score
    assert store.UNDO_MAX == 1000


def test_a_skipped_answer_is_marked_not_unscored_and_next_unscored_passes_it(run_dir):
    session = ScoringSession.open(run_dir, "ann", overall_only=True, blind=False)
    first = session.current.request_id
    assert session.skip() is True and session.index == 1  # on to the next unscored
    assert session.skipped == 1 and session.progress == (0, 8) and session.item(0).skipped
    assert on_disk(session)["items"][0]["skipped"] is True
    for _ in range(7):
        session.set_score(OVERALL, 3)
        session.next_unscored()
    assert session.progress == (7, 8) and not session.next_unscored()  # only the skipped one is left
    session.goto(0)
    assert session.current.request_id == first and session.skip() is False  # x again: no longer skipped
    assert session.next_unscored() is True and session.index == 0  # unmarked, it is the one left to score
    session.skip()
    session.set_score(OVERALL, 4)  # scoring a skipped answer takes the mark off
    assert session.skipped == 0 and session.all_scored
    quality = quality_by_model([load_annotations(session.path)])
    assert sum(q["n"] for q in quality.values()) == 8


def test_auto_advance_goes_on_once_an_answer_is_complete(run_dir):
    session = ScoringSession.open(run_dir, "ann", blind=False)  # the first prompt has two aspects
    cursor = ScoringCursor(session, auto_advance=True)
    first = session.current
    assert first.scored_aspects == tuple(ASPECTS)
    cursor.row = 2
    cursor.score(4)  # the overall, aspects missing: not complete, stays
    assert session.index == 0
    cursor.row = 0
    cursor.score(3)
    cursor.row = 1
    cursor.score(3)
    cursor.row = 2
    cursor.score(5)  # replaces the overall 4 and completes the answer
    assert session.index == 1 and cursor.row == 0 and session.item(0).scored
    plain_cursor = ScoringCursor(session)
    plain_cursor.row = len(plain_cursor.rows()) - 1
    plain_cursor.score(2)
    assert session.index == 1  # without auto-advance it stays
