"""The Annotate tab by keys on a real demo-model run: the JSON on disk equals the key presses, and it resumes."""

import asyncio
import json

import pytest

from fl_tui.annotate.store import annotation_path
from fl_tui.app import FlTuiApp
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.config import Settings
from fl_tui.prompts import load_prompt_set
from fl_tui.resources import find_prompt_set, load_specs

SIZE = (100, 32)


@pytest.fixture
def run_dir(embedded, tmp_path, monkeypatch):
    """A fresh data folder holding one run: the fast demo model, the default prompts, 3 rounds = 12 answers."""
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    from fl_tui import locations

    folder = locations.runs_dir() / "run-a"
    engine = BenchEngine(embedded, ["fl-demo-fast"], load_prompt_set(find_prompt_set("default")),
                         BenchSettings(rounds=3, warmup=0, max_tokens=16), folder)
    asyncio.run(engine.run())
    return folder


def make_app(backend, rater="tester"):
    return FlTuiApp(lambda: backend, settings=Settings(rater=rater), specs=load_specs())


async def settle(pane, pilot):
    """Wait until every queued save has been written, then for the redraw."""
    await asyncio.to_thread(pane._worker.submit(lambda: None).result)
    await pilot.pause(0.05)


async def open_tab(pilot):
    await pilot.press("3")
    pane = pilot.app.query_one("#annotate-pane")
    for _ in range(100):
        if pane.session is not None:
            return pane
        await pilot.pause(0.05)
    raise AssertionError("the run did not open")


async def test_scoring_by_keys_is_what_the_file_holds_and_it_resumes(embedded, run_dir):
    expected: list[dict] = []
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        assert pane.session.total == 12 and pane.session.blind
        assert pane.session.current.model is None  # blind: the model is hidden
        for i in range(10):
            rows = pane._rows()
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
                await pilot.pause(0.1)
                await pilot.press(*"terse but right", "enter")
                await settle(pane, pilot)
            await pilot.press("n")
            await settle(pane, pilot)
            await pilot.press("up", "up", "up", "up", "up")  # back to the first row for the next answer
        assert pane.session.index == 10
        await pilot.press("p", "p")  # answer 9 (index 8): clear its overall by pressing the same key again
        await settle(pane, pilot)
        await pilot.press(*["down"] * (len(pane._rows()) - 1))
        await pilot.press(str(expected[8]["overall"]))
        await settle(pane, pilot)
        expected[8]["overall"] = None
        assert pane.session.progress == (9, 12)

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
        assert pane.session.index == 8 and pane.session.progress == (9, 12)


async def test_a_rater_is_asked_once_and_remembered(embedded, run_dir, tmp_path):
    app = FlTuiApp(lambda: embedded, settings=Settings(), settings_path=tmp_path / "c.toml", specs=load_specs())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause(0.3)
        await pilot.press(*"ann", "enter")
        pane = await open_tab(pilot)
        assert pane.session.rater == "ann"
        await app.workers.wait_for_complete()
    assert 'rater = "ann"' in (tmp_path / "c.toml").read_text()


async def test_scores_show_beside_speed_in_the_benchmark_summary(embedded, run_dir):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(pilot)
        await pilot.press(*["down"] * (len(pane._rows()) - 1), "4")  # the overall score
        await settle(pane, pilot)
        bench = app.query_one("#bench-pane")
        from fl_tui.bench.runfiles import load_run

        bench.show_run(load_run(run_dir), run_dir)
        table = bench.query_one("#bench-summary-table")
        assert [c.label.plain for c in table.columns.values()][-1] == "Quality"
        assert str(table.get_row_at(0)[-1]).startswith("4.00")  # one answer scored 4: mean 4, n=1
