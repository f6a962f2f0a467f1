"""Dialogs at 80x24: each leaves the header visible, and the comparison's rows scroll sideways instead of wrapping."""

import io
import json

from rich.console import Console
from runfactory import make_run, model_from, requests_for, sample_run
from test_app_bench import on_the_benchmark_tab
from test_app_snapshots import Pinned
from textual.widgets import Static
from waiting import settled, until

from fl_tui.bench.runfiles import RunListing, RunState, describe_run
from fl_tui.core.config import Settings
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.ask import AskScreen
from fl_tui.ui.screens.confirm import ConfirmScreen
from fl_tui.ui.screens.path_prompt import PathPromptScreen
from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen

SIZE = (80, 24)


def screen_rows(app) -> list[str]:
    """The text of each row of the screen as composited (a dialog over the screen behind it)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console = Console(width=SIZE[0], height=SIZE[1], file=io.StringIO(), force_terminal=True, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    console.print(update)
    return console.export_text().splitlines()


def slower(run: dict) -> dict:
    """`run` with alpha-cpu's requests three times slower: REGRESSION flags widen the comparison's rows."""
    alpha = requests_for("alpha-cpu", [150.0, 180.0, 210.0], [2700.0, 3000.0, 3300.0], [7.0, 7.5, 8.0])
    beta = [r for r in run["requests"] if r["model"] == "beta-gpu"]
    new = make_run([model_from("alpha-cpu", alpha)], alpha)
    return {**new, "models": new["models"] + [m for m in run["models"] if m["model"] != "alpha-cpu"],
            "requests": new["requests"] + beta}


async def test_dialogs_leave_the_header_visible(embedded, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text(json.dumps(sample_run()))
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        await until(pilot, lambda: "connected" in screen_rows(app)[0] or "offline" in screen_rows(app)[0],
                    "the header's first status", seen=lambda: screen_rows(app)[0])
        header = screen_rows(app)[0]
        pane.picker.load(tmp_path / "run")
        await until(pilot, lambda: pane.summary.run is not None, "the run opened")
        dialogs = {
            "help": app.action_help,
            "confirm": lambda: app.push_screen(ConfirmScreen("Remove?", ["the model goes"], "Remove")),
            "run picker": lambda: app.push_screen(RunPickerScreen("Open a run", [describe_run(tmp_path / "run")])),
            "long run picker": lambda: app.push_screen(RunPickerScreen("Open a run", [
                RunListing(tmp_path, f"r{i}", RunState.OK) for i in range(60)])),
            "path prompt": lambda: app.push_screen(PathPromptScreen()),
            "ask": lambda: app.push_screen(AskScreen("Your rater name", "", "e.g. ann")),
            "comparison": lambda: app.push_screen(TextScreen("base -> new\n\nno deltas")),
            "maximised chart": pane.summary.maximise,
        }
        for name, open_it in dialogs.items():
            open_it()
            await until(pilot, lambda: len(app.screen_stack) == 2, f"the {name} dialog")
            await settled(pilot)
            assert screen_rows(app)[0] == header, name
            app.pop_screen()


async def test_the_comparison_scrolls_sideways_instead_of_wrapping(embedded, tmp_path):
    folders = []
    for name, run in (("base", sample_run()), ("new", slower(sample_run()))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps(run))
        folders.append(tmp_path / name)
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.picker.compare_files(*folders)
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        await settled(pilot)
        box = app.screen.query_one("#help")
        lines = app.screen.text.splitlines()
        assert any("REGRESSION" in line for line in lines)
        assert max(map(len, lines)) > box.scrollable_content_region.width  # wider than the box: it must scroll
        assert box.query_one(Static).size.height == len(lines)  # one screen row per line: nothing wrapped
        assert not any("REGRESSION" in row for row in screen_rows(app))  # the flags are past the right edge…
        for _ in range(3):  # half a box a key: the far columns are a few keys away, not one column a key
            await pilot.press("right")
        await until(pilot, lambda: box.scroll_x == box.max_scroll_x, "scrolled to the right edge",
                    seen=lambda: (box.scroll_x, box.max_scroll_x))
        await settled(pilot)
        assert any("REGRESSION" in row for row in screen_rows(app))  # …and scrolling sideways shows them


async def test_results_text_wraps_at_the_box_instead_of_being_cut(embedded):
    line = "agreement of ann and bob over 12 pairs both judged: " + "the same verdict in most of them " * 4
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TextScreen(line, wrap=True))
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the results", seen=lambda: app.screen)
        await settled(pilot)
        box = app.screen.query_one("#help")
        assert len(line) > box.scrollable_content_region.width and box.max_scroll_x == 0
        rows = "".join(row.strip() for row in screen_rows(app))
        assert "most of them the same verdict in most of them" in rows.replace("┃", "").replace("  ", " ")
