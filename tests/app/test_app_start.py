"""The first screen comes before the heavy tabs: the Models tab needs no numpy, httpx, plotext, SDK, psutil or
pydantic, nor does the runtime's start need numpy once the demo models are built; and the Benchmark and Annotate
panes, imported after it in a thread, take their tab's place without pulling the focus away."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from conftest import REPO
from rich.color import Color as RichColor
from rich.style import Style
from test_app_models import make_app
from textual.filter import ANSIToTruecolor
from waiting import mounted, settled, until

from fl_tui.connection.base import BackendError
from fl_tui.core.settings import Settings
from fl_tui.ui import app as app_module
from fl_tui.ui.later_panes import PaneSlot

# jsonschema: checks, not models.json; psutil: the live view's RSS and the runtime's host process, found later;
# pydantic (and tomlkit, for saving): settings and models.json that are plainly valid are read without them
HEAVY = ("numpy", "httpx", "plotext", "foundry_local_sdk", "jsonschema", "psutil", "pydantic", "tomlkit")


def test_the_app_module_imports_none_of_what_only_the_later_tabs_use(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('theme = "fl-ansi"\nrounds = 5\ntimeout_s = 60.0\n[keys]\n"models.load" = "L"\n', "utf-8")
    code = (
        "import sys\nfrom pathlib import Path\nimport fl_tui.cli.app_cmd, fl_tui.ui.app\n"
        "from fl_tui.core.config import load_settings\nfrom fl_tui.models.specs import load_specs\n"
        f"settings, problem = load_settings(Path({str(config)!r}), env={{}})\nspecs = load_specs()\n"
        "print('READ', settings.theme, settings.keys, problem, len(specs) > 0)\n"
        f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "READ fl-ansi {'models.load': 'L'} None True" in proc.stdout, proc.stdout + proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


def test_opening_the_runtime_checks_built_demo_models_without_numpy(tmp_path):
    """The runtime's start, which the models on the first screen wait for, checks the demo models' stamps (and looks
    for SmolLM2) every time; numpy is for building them, once."""
    root = f"Path({str(tmp_path)!r})"
    build = f"from pathlib import Path\nfrom fl_tui.demo.install import ensure_demo_models as e\ne({root})\n"
    subprocess.run([sys.executable, "-c", build], check=True, cwd=REPO, timeout=120)
    check = (
        "import sys\nfrom pathlib import Path\nfrom fl_tui.demo.install import ensure_demo_models\n"
        "from fl_tui.demo.smollm2.convert import ensure_smollm2\nimport fl_tui.connection.embedded\n"
        f"folders = ensure_demo_models({root}) + ensure_smollm2({root}, [])\n"
        "print('FOLDERS', len(folders), 'NUMPY', 'numpy' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "NUMPY False" in proc.stdout and "FOLDERS 0" not in proc.stdout, proc.stdout + proc.stderr


async def test_a_tab_chosen_before_its_pane_arrives_gets_it_with_the_focus(embedded, tmp_path, monkeypatch):
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    release = threading.Event()
    real = app_module.import_panes

    def held_import():
        release.wait(60)
        return real()

    monkeypatch.setattr(app_module, "import_panes", held_import)
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one("#models-table").row_count > 0, "the models listed")
        await pilot.press("2")
        slot = app.query_one("#bench-slot", PaneSlot)
        await until(pilot, lambda: app.focused is slot, "the slot focused on the Benchmark tab",
                    seen=lambda: app.focused)
        assert "loading the Benchmark tab" in str(slot.render())
        assert app.bench_pane is None
        release.set()
        pane = await mounted(pilot, "#bench-pane")
        await until(pilot, lambda: app.focused is not None and pane in app.focused.ancestors_with_self,
                    "the focus in the mounted Benchmark pane", seen=lambda: app.focused)
        assert app.tabs.active == "benchmark"
        assert not app.query(PaneSlot)
        await until(pilot, lambda: pane.form.choices, "the models listed before the pane arrived, offered to it")
        assert pane.backend is embedded


def no_backend():
    raise BackendError("no backend in this test")


async def started_with(theme: str | None, tmp_path, switch_to: str | None = None) -> tuple:
    """What decides how the app looks, once its first screen has settled: its theme classes, the ANSI colour
    filter, and the CSS a few widgets got; and how often the whole stylesheet was parsed again."""
    app = app_module.FlTuiApp(no_backend, settings=Settings(theme=theme or "fl-dark"),
                              settings_path=tmp_path / f"{theme}-{switch_to}.toml")
    reparsed = []
    real = app.stylesheet.reparse
    app.stylesheet.reparse = lambda: reparsed.append(1) or real()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        if switch_to:
            app.theme = switch_to
            await settled(pilot)
        red = [(f.enabled, f.truecolor_style(Style(color="red"), RichColor.parse("black"))) for f in app._filters
               if isinstance(f, ANSIToTruecolor)]
        looks = (sorted(c for c in app.classes if c.startswith("-")), red,
                 [(w.styles.background, w.styles.color) for w in (app.screen, app.header, app.footer, app.tabs)])
    return app.theme, looks, len(reparsed)


@pytest.mark.parametrize("theme", ["fl-light", "fl-ansi"])
async def test_the_theme_a_person_chose_is_there_from_the_first_parse_of_the_stylesheet(theme, tmp_path):
    """The chosen theme is set before the app runs, so the stylesheet is parsed once; the app then looks exactly
    as one that switched to the theme while running."""
    name, looks, reparsed = await started_with(theme, tmp_path)
    assert (name, reparsed) == (theme, 0)
    switched_name, switched_looks, _ = await started_with("fl-dark", tmp_path, switch_to=theme)
    assert switched_name == theme and looks == switched_looks


def test_collection_is_off_until_the_first_frame_and_on_after_with_start_up_frozen(tmp_path, monkeypatch):
    """The start-up's garbage collections cost about 30 ms of the first frame (docs/figures.md): none run before
    it; after it, collection is on again, with what start-up made kept out of it."""
    import argparse
    import gc

    from fl_tui.cli.app_cmd import run_app
    from fl_tui.cli.ending import ExitPlan

    seen = []

    def run(self):
        seen.append(("before", gc.isenabled()))
        self.after_first_frame()
        seen.append(("after", gc.isenabled(), gc.get_freeze_count() > 0))
        return 0

    monkeypatch.setattr(app_module.FlTuiApp, "run", run)
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    args = argparse.Namespace(config=None, endpoint="http://127.0.0.1:9", debug=False, exit_plan=ExitPlan())
    try:
        assert run_app(args) == 0
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen == [("before", False), ("after", True, True)]
