"""The fl-ansi theme is for plain 16-colour terminals: every cell of every view, charts and dialogs included, must
use only the terminal's 16 ANSI colours (or its default colours), never a 256-colour or an RGB one.

What is checked is what Textual would send to the terminal: the screen's composited strips, as
`App.export_screenshot` renders them (the SVG itself is no use here: it turns every colour into RGB).
"""

import asyncio
import json
from pathlib import Path

from rich.color import ColorType
from rich.console import Console
from rich.segment import Segment
from runfactory import sample_run
from test_app_bench import on_the_benchmark_tab, replay_live
from test_app_snapshots import Pinned, show_settled
from waiting import mounted, settled, until

from fl_tui.bench import chartdata
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.runfiles import describe_run
from fl_tui.core.config import Settings
from fl_tui.core.prompts import load_prompt_set
from fl_tui.core.resources import find_prompt_set
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.ask import AskScreen
from fl_tui.ui.screens.chart import ChartScreen
from fl_tui.ui.screens.confirm import ConfirmScreen
from fl_tui.ui.screens.path_prompt import PathPromptScreen
from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen

SIZE = (80, 24)
ANSI_TYPES = (ColorType.DEFAULT, ColorType.STANDARD)  # 30-37/90-97 and 39 (and their backgrounds)


def screen_segments(app) -> list[Segment]:
    """The whole screen's segments, a modal screen over its background included."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console = Console(width=app.size.width, height=app.size.height, force_terminal=True, color_system="truecolor",
                      legacy_windows=False, safe_box=False)
    return list(console.render(update))


def off_palette(app) -> list[str]:
    """Each colour outside the 16, once, with the text it painted (so a failure says where to look)."""
    found: dict[str, str] = {}
    for segment in screen_segments(app):
        style = segment.style
        if style is None or segment.control:
            continue
        for what, color in (("fg", style.color), ("bg", style.bgcolor)):
            if color is not None and color.type not in ANSI_TYPES:
                found.setdefault(f"{what} {color.name}", segment.text.strip()[:30])
    return [f"{colour} on {text!r}" for colour, text in sorted(found.items())]


def write_run(folder: Path, run: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(run))
    return folder


async def looked_at(pilot, what: str, seen: dict) -> None:
    await settled(pilot)
    seen[what] = off_palette(pilot.app)


async def test_fl_ansi_paints_only_with_the_16_ansi_colours(embedded, tmp_path, monkeypatch):
    monkeypatch.delenv("NO_COLOR")  # the suite's NO_COLOR would grey every colour out before it is seen
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    from fl_tui.core import locations

    engine = BenchEngine(embedded, ["fl-demo-fast"], load_prompt_set(find_prompt_set("quick")),
                         BenchSettings(rounds=1, warmup=0, max_tokens=8), locations.runs_dir() / "run-a")
    await asyncio.to_thread(asyncio.run, engine.run())  # a run with answers, for the Annotate tab to open
    base, new = write_run(tmp_path / "base", sample_run()), write_run(tmp_path / "new", sample_run())
    settings = Settings(theme="fl-ansi", rater="ann")
    app = FlTuiApp(lambda: Pinned(embedded), settings=settings, settings_path=tmp_path / "c.toml", specs=load_specs())
    seen: dict[str, list[str]] = {}
    async with app.run_test(size=SIZE) as pilot:
        for tab in ("models", "benchmark"):  # the catalog is offline: the Models tab shows its banner
            await show_settled(pilot, tab)
            await looked_at(pilot, f"{tab} tab", seen)
        for what, error in (("connecting", None), ("unreachable", "connection refused")):
            app.header.show(None, error)  # the poll puts the connected state back at its next answer
            seen[f"header {what}"] = off_palette(app)
        for severity in ("information", "warning", "error"):
            app.notify(f"a {severity} toast", title=severity, severity=severity, timeout=60)
        await looked_at(pilot, "toasts", seen)
        app.clear_notifications()

        pane = await on_the_benchmark_tab(pilot)
        pane.show_view("bench-live")
        log = pane.query_one("#bench-text")
        await until(pilot, lambda: log.size.width > 0, "the live view laid out")
        replay_live(pane)
        await until(pilot, lambda: log.line_count > 0, "the replayed run drawn")
        await looked_at(pilot, "live view", seen)
        pane.runner.running = False

        pane.picker.load(base)
        table = pane.query_one("#bench-summary-table")
        await until(pilot, lambda: table.row_count == 3, "the summary", seen=lambda: table.row_count)
        for kind, _title in chartdata.CHARTS:
            pane.summary.chart_kind = kind
            pane.summary.next_chart()  # draws the kind after `kind`: every kind once over the loop
            await looked_at(pilot, f"summary, chart after {kind}", seen)
        pane.summary.maximise()
        await until(pilot, lambda: isinstance(app.screen, ChartScreen), "the maximised chart")
        await looked_at(pilot, "maximised chart", seen)
        app.pop_screen()

        pane.picker.compare_files(base, new)
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        await looked_at(pilot, "comparison", seen)
        app.pop_screen()

        dialogs = {
            "help": lambda: app.action_help(),
            "confirm": lambda: app.push_screen(ConfirmScreen("Remove?", ["the model goes"], "Remove")),
            "run picker": lambda: app.push_screen(RunPickerScreen("Open a run", [describe_run(base),
                                                                                      describe_run(new)])),
            "path prompt": lambda: app.push_screen(PathPromptScreen()),
            "ask": lambda: app.push_screen(AskScreen("Your rater name", "", "e.g. ann")),
        }
        for name, open_it in dialogs.items():
            open_it()
            await until(pilot, lambda: len(app.screen_stack) == 2, f"the {name} dialog")
            await looked_at(pilot, f"{name} dialog", seen)
            app.pop_screen()
        await pilot.press("3")  # last: its keys 1-5 score
        annotate = await mounted(pilot, "#annotate-pane")
        await until(pilot, lambda: annotate.view is not None, "the run opened on the Annotate tab")
        await looked_at(pilot, "annotate tab", seen)
    assert len(seen) == 18, sorted(seen)  # every view was looked at
    bad = {view: colours for view, colours in seen.items() if colours}
    assert not bad, "\n".join(f"{view}: {'; '.join(colours)}" for view, colours in bad.items())
