"""The last model list seen, shown from the first frame while the backend opens: marked as such, acted on by no
key, replaced by the backend's own list (which is kept for the next start), and dropped when the backend fails."""

from __future__ import annotations

import threading
import time

import pytest
from test_app_models import said_by, table_ids
from waiting import mounted, settled, until

from fl_tui.connection.base import BackendError, ModelEntry
from fl_tui.core.config import Settings
from fl_tui.demo.build import FAST, SLOW
from fl_tui.models.last_list import LastModels
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.widgets.models.pane import WAITING_FOR_LIST
from fl_tui.ui.widgets.models.table import ModelsTable

GONE = ModelEntry("gone-since-generic-cpu:1", "gone-since", device="CPU", cached=True)


def app_with_last(tmp_path, open_backend, models=(GONE,), **kwargs) -> tuple[FlTuiApp, LastModels]:
    keeper = LastModels("k", tmp_path / "last-models.json")
    keeper.keep(list(models))
    last, problem = LastModels("k", keeper.path).load()
    assert problem is None
    app = FlTuiApp(open_backend, settings=Settings(), settings_path=tmp_path / "config.toml", specs=load_specs(),
                   last_models=keeper, last_list=last, **kwargs)
    return app, keeper


async def later_tabs_loaded(pilot) -> None:
    """A failed opening loads the other tabs at once: a test ends after they have settled, not while they mount
    and read the remembered set-up."""
    pane = await mounted(pilot, "#bench-pane")
    await mounted(pilot, "#annotate-pane")
    await until(pilot, lambda: pane.form.sets, "the Benchmark form's prompt sets read")
    await settled(pilot)


def banner(app) -> str:
    widget = app.query_one("#models-banner")
    return str(widget.render()) if widget.display else ""


async def test_the_last_list_is_shown_until_the_backends_own_replaces_it_and_is_kept(embedded, tmp_path):
    release, asked = threading.Event(), []

    def held_open():
        asked.append(1)
        release.wait(60)
        return embedded

    frames: list[int] = []
    app, keeper = app_with_last(tmp_path, held_open, after_first_frame=lambda: frames.append(len(asked)))
    said = said_by(app)
    async with app.run_test(size=(120, 30)) as pilot:
        try:
            await until(pilot, lambda: asked, "the backend asked for")
            assert frames == [0]  # asked for only once the first frame was out
            assert table_ids(app) == [GONE.id]
            assert "last seen" in banner(app) and "connecting" in banner(app)
            await pilot.press("l")
            await until(pilot, lambda: said, "a key's answer")
            assert said == [WAITING_FOR_LIST]  # no action runs on the last list
        finally:
            release.set()
        await until(pilot, lambda: FAST.model_id in table_ids(app), "the backend's own list",
                    seen=lambda: table_ids(app))
        assert GONE.id not in table_ids(app)
        assert "last seen" not in banner(app) and "catalog unreachable" in banner(app)
        await until(pilot, lambda: FAST.model_id in keeper.path.read_text("utf-8"), "the live list kept")
    kept = LastModels("k", keeper.path).load()[0]
    assert {FAST.model_id, SLOW.model_id} <= {m.id for m in kept.models} and GONE.id not in kept.models


async def test_a_backend_that_fails_takes_the_last_list_away(tmp_path):
    def failing():
        raise BackendError("nothing listens on box:5273")

    app, _keeper = app_with_last(tmp_path, failing)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.header.state == "unreachable", "the failure shown")
        await later_tabs_loaded(pilot)
        assert table_ids(app) == [] and banner(app) == ""


@pytest.mark.parametrize("size", [(120, 30), (80, 24), (100, 30)])
async def test_the_last_lists_rows_are_drawn_for_the_width_the_table_gets(tmp_path, size, monkeypatch):
    """Drawn at mount, before the first layout, so they are in the first frame: for the width that layout then
    gives the table (beside the details, or stacked above them), else the first Resize would draw them again."""
    cleared, rows_at_resize = [], []
    real_clear, real_resize = ModelsTable.clear, ModelsTable.on_resize
    monkeypatch.setattr(ModelsTable, "clear", lambda self, columns=False: cleared.append(columns) or real_clear(
        self, columns=columns))
    monkeypatch.setattr(ModelsTable, "on_resize", lambda self, event: rows_at_resize.append(self.row_count) or
                        real_resize(self, event))
    release = threading.Event()

    def held_then_failing():
        release.wait(60)
        raise BackendError("not in this test")

    app, _keeper = app_with_last(tmp_path, held_then_failing,
                                 models=(GONE, ModelEntry("x" * 60 + ":1", "x" * 60, device="GPU")))
    async with app.run_test(size=size) as pilot:
        try:
            await until(pilot, lambda: rows_at_resize, "the table's first Resize")
            await pilot.pause()
            assert rows_at_resize[0] == 2  # drawn before the first layout, so in the first frame
            assert len(table_ids(app)) == 2
            assert cleared == [True], cleared  # the columns were chosen once, at mount: the Resize kept them
        finally:
            release.set()
        await until(pilot, lambda: app.header.state == "unreachable", "the opening's end")
        await later_tabs_loaded(pilot)


def test_the_banner_says_the_time_alone_today_and_the_date_before_and_fits_80_columns():
    from fl_tui.ui.widgets.models.banner import last_seen_message

    now = time.mktime((2026, 12, 6, 15, 0, 0, 0, 0, -1))
    today = last_seen_message(time.mktime((2026, 12, 6, 9, 5, 0, 0, 0, -1)), now)
    earlier = last_seen_message(time.mktime((2026, 11, 30, 9, 5, 0, 0, 0, -1)), now)
    assert "last seen 09:05," in today and "last seen 2026-11-30 09:05," in earlier
    assert len(earlier) <= 78  # the banner's width at 80 columns


async def test_no_key_acts_on_the_last_list_once_the_backend_is_up_until_its_own_list_is_here(embedded, tmp_path):
    """On another tab the polls ask for no list: the backend is up, the last list still shown, and still refused."""
    release = threading.Event()

    def held_open():
        release.wait(60)
        return embedded

    app, _keeper = app_with_last(tmp_path, held_open)
    async with app.run_test(size=(120, 30)) as pilot:
        try:
            await pilot.press("3")
            await until(pilot, lambda: app.tabs.active == "annotate", "the Annotate tab")
        finally:
            release.set()
        await until(pilot, lambda: app.header.state != "connecting", "the backend's first status")
        pane = app.models_pane
        assert pane.backend is not None and pane.showing_last and table_ids(app) == [GONE.id]
        assert pane.why_not("load", ()) == WAITING_FOR_LIST and pane.why_not("remove", ()) == WAITING_FOR_LIST
        assert pane.why_not("sort", ()) is None  # sorting the rows shown acts on no model
        app.action_show_tab("models")  # not by keys: on Annotate digits are scores, and `[` may go to its name field
        await until(pilot, lambda: FAST.model_id in table_ids(app), "the backend's own list on the Models tab",
                    seen=lambda: (table_ids(app), pane.showing_last, app.tabs.active, app._polling))
        assert not pane.showing_last and pane.why_not("load", ()) is None


def test_a_name_a_server_sent_with_a_lone_surrogate_is_kept_and_read_back(tmp_path):
    odd = ModelEntry("odd\ud800:1", "odd\ud800")
    keeper = LastModels("k", tmp_path / "last-models.json")
    keeper.keep([odd])
    assert LastModels("k", keeper.path).load()[0].models == [odd]
