"""Snapshots of each tab at 80x24, and of the Models tab at 120x40, in the dark and ANSI themes (textual-snapshot).

The runtime is the real one; a thin proxy only pins what changes from run to run (the web service's random
port and the temporary data dir) so the pictures are comparable. Update with `pytest --snapshot-update`.
"""

import dataclasses
import json
import re

import pytest
from conftest import ROOT
from runfactory import sample_run
from waiting import mounted, settled, until

from fl_tui.annotate.session import ScoringSession
from fl_tui.core.config import Settings
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp

TEST_DIR = re.compile(r"/\S*?/fl-tui-tests-[^/\s]+")  # conftest.ROOT, as mkdtemp names it


class Pinned:
    """Delegates to the real backend, replacing the random port and temp paths in what it reports."""

    def __init__(self, backend):
        self._backend = backend

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def _pin(self, text):
        """The test data dir as /data: by its name, whichever spelling of the temporary folder the runtime gives."""
        return TEST_DIR.sub("/data", text.replace(str(ROOT), "/data")) if text else text

    def status(self):
        s = self._backend.status()
        return dataclasses.replace(s, endpoint="http://127.0.0.1:5273", cache_path=self._pin(s.cache_path))

    def host_pid(self):
        return None  # no live RSS reading of the hosting process: it changes from run to run

    def list_models(self):
        return [dataclasses.replace(m, path=self._pin(m.path)) for m in self._backend.list_models()]


async def show_settled(pilot, tab: str) -> None:
    """The demo models listed, `tab` shown with the focus inside it, and nothing left running that feeds it."""
    app = pilot.app
    table = app.query_one("#models-table")
    await until(pilot, lambda: table.row_count >= 2, "the demo models in the table", seen=lambda: table.row_count)
    app.action_show_tab(tab)
    pane = app.query_one(f"#{tab}")
    await until(pilot, lambda: app.query_one("#tabs").active == tab and app.focused is not None
                and pane in app.focused.ancestors_with_self, f"the {tab} tab shown with the focus in it",
                seen=lambda: (app.query_one("#tabs").active, app.focused))
    await settled(pilot)


@pytest.mark.parametrize("theme", ["fl-dark", "fl-ansi"])
@pytest.mark.parametrize("tab", ["models", "benchmark", "annotate"])
def test_tab_snapshot(snap_compare, embedded, tmp_path, monkeypatch, theme, tab):
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))  # no runs: the Annotate tab shows the same each time
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(theme=theme), settings_path=tmp_path / "c.toml",
                   specs=load_specs())

    async def before(pilot):
        await show_settled(pilot, tab)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("theme", ["fl-dark", "fl-ansi"])
def test_models_wide_snapshot(snap_compare, embedded, tmp_path, monkeypatch, theme):
    """At 120x40 the details sit beside the table, which still shows every column that matters."""
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(theme=theme), settings_path=tmp_path / "c.toml",
                   specs=load_specs())

    async def before(pilot):
        await show_settled(pilot, "models")
        pane = app.query_one("#models-pane")
        await until(pilot, lambda: pane.models and all("fl-tui-tests-" not in (m.path or "") for m in
                                                       pane.models.values()),
                    "the models listed with their paths pinned (the details show one)",
                    seen=lambda: [(type(app.backend).__name__, m.path) for m in pane.models.values()])
        await settled(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


def scoring_run(runs_dir):
    """The sample run (fixed ids, dates and answers) with prompts whose aspects are long enough to wrap, and its
    annotation file made with a fixed seed, so the blind order is the same each time."""
    run = sample_run()
    run["prompts"] = [
        {"id": f"p{i}", "prompt": f"Explain retrieval augmented generation to a new colleague, case {i}, in two "
         "sentences, naming what is retrieved and how it reaches the model.",
         "expected_aspects": ["retrieves relevant documents or passages for the query and ranks them by relevance",
                              "adds the retrieved text to the model's prompt as context", "keeps to two sentences"]}
        for i in (1, 2, 3)
    ]
    folder = runs_dir / "sample"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    ScoringSession.open(folder, "tester", seed=1).close()
    return folder


@pytest.mark.parametrize("theme", ["fl-dark", "fl-ansi"])
def test_annotate_scoring_snapshot(snap_compare, embedded, tmp_path, monkeypatch, theme):
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    from fl_tui.core import locations

    scoring_run(locations.runs_dir())
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(theme=theme, rater="tester"),
                   settings_path=tmp_path / "c.toml", specs=load_specs())

    async def before(pilot):
        await show_settled(pilot, "annotate")
        pane = await mounted(pilot, "#annotate-pane")
        await until(pilot, lambda: pane.view is not None, "the sample run open", seen=lambda: pane.view)
        await pilot.press("4", "down")  # the first aspect scored: its stars and what a 4 means
        await pane.idle()
        await settled(pilot)
        pilot.app.clear_notifications()  # "resumed at answer 1" lasts seconds: on a slow machine it is already gone
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
