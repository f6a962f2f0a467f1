"""The Annotate tab by keys on a real demo-model run: the JSON on disk equals the key presses, and it resumes."""

import asyncio
import json
import shutil

import pytest
from rich.style import Style
from textual.geometry import Region
from waiting import ThreadLog, mounted, settled, until

from fl_tui.annotate.session import OVERALL, ScoringSession
from fl_tui.annotate.store import annotation_path
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.runfiles import read_run
from fl_tui.core.config import Settings
from fl_tui.core.prompts import load_prompt_set
from fl_tui.core.resources import find_prompt_set
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.widgets.annotate.pane import NO_RUN_TO_SCORE
from fl_tui.ui.widgets.annotate.panel import head_text

SIZE = (100, 32)


@pytest.fixture
def run_dir(embedded, tmp_path, monkeypatch):
    """A fresh data folder holding one run: the fast demo model, the default prompts, 3 rounds = 12 answers."""
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    from fl_tui.core import locations

    folder = locations.runs_dir() / "run-a"
    engine = BenchEngine(embedded, ["fl-demo-fast"], load_prompt_set(find_prompt_set("default")),
                         BenchSettings(rounds=3, warmup=0, max_tokens=16), folder)
    asyncio.run(engine.run())
    return folder


def make_app(backend, rater="tester"):
    return FlTuiApp(lambda: backend, settings=Settings(rater=rater), specs=load_specs())


async def settle(pane, pilot):
    """Every queued key has been applied and saved, and the view it left is drawn."""
    await pane.idle()
    await settled(pilot)


async def open_tab(pilot):
    await pilot.press("3")
    pane = await mounted(pilot, "#annotate-pane")
    await until(pilot, lambda: pane.view is not None, "the latest run to open on the Annotate tab",
                seen=lambda: (pilot.app.query_one("#tabs").active, pilot.app.focused, pilot.app.screen))
    return pane


async def test_scoring_by_keys_is_what_the_file_holds_and_it_resumes(embedded, run_dir):
    expected: list[dict] = []
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        assert pane.view.total == 12 and pane.view.blind
        assert pane.view.item.model is None  # blind: the model is hidden
        for i in range(10):
            rows = pane.view.rows
            scores = {}
            for r, name in enumerate(rows):
                value = 1 + (i + r) % 5
                await pilot.press(str(value))
                await settle(pane, pilot)
                scores[name] = value
                await pilot.press("down")
            expected.append(scores)
            if i == 3:
                await pilot.press("e")
                await until(pilot, lambda: type(pilot.app.screen).__name__ == "AskScreen", "the note dialog")
                await pilot.press(*"terse but right", "enter")
                await settle(pane, pilot)
            await pilot.press("n")
            await settle(pane, pilot)
            await pilot.press("up", "up", "up", "up", "up")  # back to the first row for the next answer
        assert pane.view.item.index == 10
        await pilot.press("p", "p")  # answer 9 (index 8): clear its overall by pressing the same key again
        await settle(pane, pilot)
        await pilot.press(*["down"] * (len(pane.view.rows) - 1))
        await pilot.press(str(expected[8]["overall"]))
        await settle(pane, pilot)
        expected[8]["overall"] = None
        assert pane.view.progress == (9, 12)

    saved = json.loads(annotation_path(run_dir, "tester").read_text())
    assert saved["schema"] == "fl-tui/annotations/1" and saved["rater"] == "tester" and saved["seed"] is not None
    for i, want in enumerate(expected):
        item = saved["items"][i]
        assert item["overall"] == want.pop("overall")
        assert item["scores"] == want
    assert saved["items"][3]["note"] == "terse but right"
    assert all(item["overall"] is None for item in saved["items"][10:])

    app = make_app(embedded)  # reopened: it starts at the first unscored answer
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        assert pane.view.item.index == 8 and pane.view.progress == (9, 12)


async def test_a_rater_is_asked_once_and_remembered(embedded, run_dir, tmp_path):
    app = FlTuiApp(lambda: embedded, settings=Settings(), settings_path=tmp_path / "c.toml", specs=load_specs())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: type(app.screen).__name__ == "AskScreen", "the rater question",
                    seen=lambda: app.screen)
        await pilot.press(*"ann", "enter")
        pane = await open_tab(pilot)
        assert pane.view.rater == "ann"
        await settled(pilot)
    assert 'rater = "ann"' in (tmp_path / "c.toml").read_text()


async def test_scores_show_beside_speed_in_the_benchmark_summary(embedded, run_dir):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        await pilot.press(*[key for _row in pane.view.rows for key in ("4", "down")])  # every aspect and overall
        await settle(pane, pilot)
        bench = await mounted(pilot, "#bench-pane")
        table = await mounted(pilot, "#bench-summary-table")  # the pane's children come after the pane
        bench.show_run(read_run(run_dir), run_dir)
        await until(pilot, lambda: table.row_count > 0, "the summary table, once the annotation files are read")
        assert [c.label.plain for c in table.columns.values()][-1] == "Quality (people)"
        assert str(table.get_row_at(0)[-1]) == "4.00 (n=1, n too small)"  # one answer scored 4: no interval
        assert "Quality scored by tester" in str(bench.query_one("#bench-table-note").render())


async def test_without_people_scores_the_summary_shows_a_judge_labelled_as_one(embedded, run_dir):
    session = ScoringSession.open(run_dir, "ann", overall_only=True)
    session.set_score(OVERALL, 2)
    data = json.loads(session.path.read_text())
    session.path.unlink()
    (run_dir / "annotations.model-x.json").write_text(json.dumps({**data, "rater": "model:x"}))
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        bench = await mounted(pilot, "#bench-pane")
        table = await mounted(pilot, "#bench-summary-table")  # the pane's children come after the pane
        bench.show_run(read_run(run_dir), run_dir)
        await until(pilot, lambda: table.row_count > 0, "the summary table, once the annotation files are read")
        assert [c.label.plain for c in table.columns.values()][-1] == "Quality (judge)"
        assert str(table.get_row_at(0)[-1]) == "2.00 (n=1, n too small)"
        assert "Quality judged by model:x" in str(bench.query_one("#bench-table-note").render())


async def test_fast_typing_scores_the_aspect_each_key_was_meant_for(embedded, run_dir):
    """Moves, row changes and scores typed with no pause in between: each score lands on the answer and the
    aspect the keys before it led to (the worker applies them in order, cursor included)."""
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        keys = []
        for i in range(6):  # answer i: its first row gets i % 5 + 1, its second row (if any) 5 - i % 5
            keys += [str(i % 5 + 1), "down", str(5 - i % 5), "up", "n"]
        await pilot.press(*keys)
        await settle(pane, pilot)
        assert pane.view.item.index == 6

    with ScoringSession.open(run_dir, "tester") as session:
        for i in range(6):
            item = session.item(i)
            rows = [*item.scored_aspects, OVERALL]
            got = [item.overall if r == OVERALL else item.scores.get(r) for r in rows[:2]]
            assert got == [i % 5 + 1, 5 - i % 5][:len(rows)], (i, rows, got)


async def test_opening_saving_and_results_run_off_the_ui_loop(embedded, run_dir, monkeypatch):
    """Listing runs, opening a session, every fsync'd save and reading people's files for the results each run
    on a worker thread: on the UI loop's thread they would hold every key press while they run."""
    from fl_tui.annotate import session as session_mod
    from fl_tui.ui.widgets.annotate import pane as pane_mod

    log = ThreadLog(monkeypatch)
    for module, name in ((pane_mod, "list_runs"), (pane_mod, "results_text"), (session_mod, "save")):
        log.wrap(module, name)
    real_open = ScoringSession.open.__func__

    class Watched(ScoringSession):
        @classmethod
        def open(cls, *args, **kwargs):
            log.note("open")
            return real_open(ScoringSession, *args, **kwargs)

    monkeypatch.setattr(pane_mod, "ScoringSession", Watched)
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        await pilot.press("3")
        await settle(pane, pilot)
        await pilot.press("s")
        await until(pilot, lambda: type(app.screen).__name__ == "TextScreen", "the results", seen=lambda: app.screen)
        await settled(pilot)
    assert log.names() == {"list_runs", "open", "save", "results_text"}
    assert log.on_the_loop() == []


LONG_ASPECT = ("retrieves relevant documents or passages for the query, ranks them by how well they match it, and "
               "keeps only the few that answer it")


def with_aspects(run_dir, aspects):
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    for prompt in run["prompts"]:
        prompt["expected_aspects"] = aspects
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return run


def shown_text(widget) -> str:
    """What `widget` draws on screen, its lines joined and spaces collapsed (a wrapped text reads straight on)."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join("".join(segment.text for segment in line) for line in lines).split())


def recording(app) -> list[str]:
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, *args, **kwargs: (said.append(str(message)), notify(message, *args, **kwargs))[1]
    return said


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_long_aspect_wraps_whole_and_the_head_names_the_run(embedded, run_dir, size):
    run = with_aspects(run_dir, [LONG_ASPECT, "short"])
    app = make_app(embedded)
    async with app.run_test(size=size) as pilot:
        pane = await open_tab(pilot)
        await settled(pilot)
        scores = app.query_one("#ann-scores")
        assert scores.size.height >= 5  # two lines or more for the long aspect, one per other row, the meaning
        text = shown_text(scores)
        assert LONG_ASPECT in text and "short" in text and "overall" in text and "…" not in text
        head = shown_text(app.query_one("#ann-head"))
        assert f"run {run['run_id']} · 1 model · " in head and "rater tester" in head
        assert "scored 0/12" in head and "…" not in head
        answer = shown_text(app.query_one("#ann-answer"))
        assert answer.startswith(f"Prompt {pane.view.item.prompt_id} · round") and "Answer:" in answer


async def test_r_shows_and_hides_the_models_and_says_which(embedded, run_dir):
    app = make_app(embedded)
    said = recording(app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        assert pane.view.item.model is None
        await pilot.press("r")
        await settle(pane, pilot)
        assert pane.view.item.model == "fl-demo-fast-generic-cpu:1" and said[-1] == "model names shown (r hides them)"
        assert "model fl-demo-fast-generic-cpu:1" in shown_text(app.query_one("#ann-head"))
        await pilot.press("r")
        await settle(pane, pilot)
        assert pane.view.item.model is None and said[-1] == "model names hidden (r shows them)"
        assert "model hidden (r shows)" in shown_text(app.query_one("#ann-head"))


async def test_partly_scored_answers_are_counted_apart_in_the_head(embedded, run_dir):
    with_aspects(run_dir, ["covers it"])
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        await pilot.press("4", "n", "4", "down", "5")  # answer 1: its aspect only; answer 2: aspect and overall
        await settle(pane, pilot)
        assert (pane.view.progress, pane.view.partly) == ((1, 12), 1)
        assert "scored 1/12 (1 partly)" in shown_text(app.query_one("#ann-head"))


def without_answers(folder):
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    for request in run["requests"]:
        request["status"] = "failed"
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")


async def test_the_tab_opens_the_newest_run_with_answers_passing_over_one_without(embedded, run_dir):
    empty = run_dir.parent / "run-b"  # newer (written later, and its name sorts after run-a's on equal times)
    shutil.copytree(run_dir, empty)
    without_answers(empty)
    app = make_app(embedded)
    said = recording(app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        assert pane.view.run_id == json.loads((run_dir / "run.json").read_text())["run_id"]
        assert said == []  # no toast about the run without answers
    assert not (empty / "annotations.tester.json").exists()


async def test_with_no_run_to_score_the_tab_says_so_in_one_line(embedded, run_dir):
    without_answers(run_dir)
    app = make_app(embedded)
    said = recording(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        head = app.query_one("#ann-head")
        await until(pilot, lambda: NO_RUN_TO_SCORE in shown_text(head), "the no-run message",
                    seen=lambda: shown_text(head))
        assert said == [] and head.size.height == 1  # one line at 80 columns
        await pilot.press("s")
        await until(pilot, lambda: said == ["no run open: press o to open one"], "s to say why it does nothing",
                    seen=lambda: said)


async def test_z_undoes_and_x_skips_by_keys(embedded, run_dir):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        await pilot.press("4", "down", "2")  # the first aspect, then the next row
        await settle(pane, pilot)
        first = pane.view.item
        assert first.scores and first.index == 0
        await pilot.press("z")
        await settle(pane, pilot)
        assert len(pane.view.item.scores) == len(first.scores) - 1 and pane.view.item.index == 0
        await pilot.press("x")
        await settle(pane, pilot)
        assert pane.view.item.index == 1 and pane.view.skipped == 1
        assert "(1 skipped)" in head_text(pane.view, Style()).plain
        saved = json.loads(annotation_path(run_dir, "tester").read_text())
        assert saved["items"][0]["skipped"] is True and len(saved["undo"]) == 2
        await pilot.press("z")  # the skip taken back: shown where it was
        await settle(pane, pilot)
        assert pane.view.item.index == 0 and pane.view.skipped == 0
