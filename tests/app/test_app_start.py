"""The first screen comes before the heavy tabs: the Models tab needs no numpy, httpx, plotext or SDK, and the
Benchmark and Annotate panes, imported after it in a thread, take their tab's place without pulling the focus away."""

from __future__ import annotations

import subprocess
import sys
import threading

from conftest import REPO
from test_app_models import make_app
from waiting import mounted, until

from fl_tui.ui import app as app_module
from fl_tui.ui.later_panes import PaneSlot

HEAVY = ("numpy", "httpx", "plotext", "foundry_local_sdk", "jsonschema")  # jsonschema: checks, not models.json


def test_the_app_module_imports_none_of_what_only_the_later_tabs_use():
    code = (
        "import sys\nimport fl_tui.cli.app_cmd, fl_tui.ui.app\nfrom fl_tui.models.specs import load_specs\n"
        "load_specs()\n"
        f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


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
