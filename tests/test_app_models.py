"""The app driven by keys (Textual's pilot) against the real in-process runtime with the demo models."""

import shutil

import httpx
import pytest
from rich.text import Text
from waiting import settled, until

from fl_tui.connection.base import ModelEntry
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.config import Settings, load_settings
from fl_tui.demo.build import FAST, SLOW
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.confirm import ConfirmScreen

SIZE = (100, 30)


def make_app(backend, tmp_path, **settings):
    return FlTuiApp(lambda: backend, settings=Settings(**settings), settings_path=tmp_path / "config.toml",
                    specs=load_specs())


def table_ids(app):
    table = app.query_one("#models-table")
    return [row.value for row in table.rows]


def cell(app, model_id, column):
    return str(app.query_one("#models-table").get_cell(model_id, column))


async def select(pilot, app, model_id):
    table = app.query_one("#models-table")
    table.move_cursor(row=table_ids(app).index(model_id))
    pane = app.query_one("#models-pane")
    await until(pilot, lambda: (pane.selected() or ModelEntry(id="")).id == model_id, f"{model_id} selected",
                seen=pane.selected)


async def test_lists_the_demo_models_with_an_offline_banner(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(table_ids(app)) >= 2, "the demo models", seen=lambda: table_ids(app))
        assert {FAST.model_id, SLOW.model_id} <= set(table_ids(app))
        assert cell(app, FAST.model_id, "cached") == "✓"
        assert cell(app, FAST.model_id, "caps") == "chat,demo"
        assert "catalog unreachable" in str(app.query_one("#models-banner").render())
        assert "offline catalog" in str(app.query_one("#status-header").render())


async def test_load_and_unload_by_keys_change_the_loaded_mark(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: FAST.model_id in table_ids(app), "the fast demo model", seen=lambda: table_ids(app))
        await select(pilot, app, FAST.model_id)
        await pilot.press("l")
        await until(pilot, lambda: cell(app, FAST.model_id, "loaded") == "●", "the loaded mark")
        assert [m.id for m in embedded.list_loaded()] == [FAST.model_id]
        await pilot.press("u")
        await until(pilot, lambda: cell(app, FAST.model_id, "loaded") == "", "the loaded mark gone")
        assert embedded.list_loaded() == []


async def test_remove_asks_with_focus_on_no_and_honours_it(embedded, tmp_path):
    folder = tmp_path / "spare"
    shutil.copytree(next(m for m in embedded.list_models() if m.id == FAST.model_id).path, folder)
    embedded.register(folder, "spare:1", "spare")
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "spare:1" in table_ids(app), "the registered folder", seen=lambda: table_ids(app))
        await select(pilot, app, "spare:1")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.focused is not None,
                    "the confirmation with its focus", seen=lambda: app.screen)
        assert app.focused.id == "no"
        assert "unregister spare:1" in str(app.screen.query_one("#dialog-body").render())
        await pilot.press("enter")  # "No" has the focus
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the confirmation closed")
        await settled(pilot)
        assert "spare:1" in {m.id for m in embedded.list_models()}
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation again")
        await pilot.press("y")
        await until(pilot, lambda: "spare:1" not in table_ids(app), "the folder gone", seen=lambda: table_ids(app))
        assert (folder / "model.onnx").exists()


async def test_filter_and_sort(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(table_ids(app)) >= 2, "the demo models", seen=lambda: table_ids(app))
        await pilot.press("slash", *"slow")
        await until(pilot, lambda: table_ids(app) == [SLOW.model_id], "only the slow model",
                    seen=lambda: table_ids(app))
        await pilot.press("escape")
        await until(pilot, lambda: len(table_ids(app)) >= 2 and app.focused.id == "models-table",
                    "the filter cleared and the table focused", seen=lambda: (table_ids(app), app.focused))
        before = table_ids(app)
        await pilot.press("S")  # reverse
        await until(pilot, lambda: table_ids(app) == list(reversed(before)), "the reversed order",
                    seen=lambda: table_ids(app))
        await pilot.press("s")
        pane = app.query_one("#models-pane")
        await until(pilot, lambda: pane.sort_key == "id", "sorted by id", seen=lambda: pane.sort_key)


async def test_theme_switch_is_remembered(embedded, tmp_path):
    app = make_app(embedded, tmp_path, theme="fl-dark")
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "fl-dark"
        await pilot.press("ctrl+t")
        await until(pilot, lambda: app.theme == "fl-light", "the next theme", seen=lambda: app.theme)
        await settled(pilot)  # the save runs in a worker
    saved, problem = load_settings(tmp_path / "config.toml")
    assert problem is None and saved.theme == "fl-light"


async def test_download_is_shown_disabled_with_the_reason_offline(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(table_ids(app)) >= 2, "the demo models", seen=lambda: table_ids(app))
        pane = app.query_one("#models-pane")
        assert pane.check_action("download", ()) is None and pane.check_action("load", ()) is True
        assert "download: catalog unreachable" in str(app.query_one("#models-details").render())


async def test_help_and_palette_list_every_models_action(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen",
                    seen=lambda: app.screen)
        await settled(pilot)
        shown = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        for words in ("?, f1         Help", "Unload all", "Register folder", "TTFT", "TPOT"):
            assert words in shown
        await pilot.press("escape")
        labels = [label for label, _callback, _help in _palette(app)]
        assert "Models: Load (l)" in labels and "App: Help (?, f1)" in labels


def _palette(app):
    from fl_tui.ui.commands import ActionsProvider

    return list(ActionsProvider(app.screen).commands())


NASTY = "[bold]boom[/]\x1b[31m\x1b]0;title\x07:1"


@pytest.fixture
def nasty_server():
    """A server answering with markup and escapes in model names: server text is untrusted."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [{"id": NASTY, "object": "model"}]})

    return OpenAICompatBackend("http://127.0.0.1:9", client=httpx.Client(transport=httpx.MockTransport(handler)))


async def test_markup_and_escapes_in_model_names_are_shown_literally(nasty_server, tmp_path):
    app = make_app(nasty_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(table_ids(app)) == 1, "the server's one model", seen=lambda: table_ids(app))
        shown = app.query_one("#models-table").get_cell(NASTY, "id")
        assert isinstance(shown, Text) and shown.plain == "[bold]boom[/]:1" and not shown.spans
        details = app.query_one("#models-details").render()
        assert "[bold]boom[/]" in str(details) and "\x1b" not in str(details)


async def test_theme_switch_edits_the_file_in_place_and_never_overwrites_a_broken_one(embedded, tmp_path):
    from waiting import settled, until

    path = tmp_path / "config.toml"
    path.write_text('# mine\nrounds = 7\nmax_token = 256\n')
    app = make_app(embedded, tmp_path, theme="fl-dark")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await settled(pilot)
    assert path.read_text() == '# mine\nrounds = 7\nmax_token = 256\ntheme = "fl-light"\n'
    broken = 'rounds = = 7\n'
    path.write_text(broken)
    app = make_app(embedded, tmp_path, theme="fl-dark")
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, *args, **kwargs: (said.append(str(message)), notify(message, *args, **kwargs))[1]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: any("settings not saved" in m for m in said),
                    "a notification that the settings were not saved", seen=lambda: said)
    assert path.read_text() == broken
