"""The app driven by keys (Textual's pilot) against the real in-process runtime with the demo models."""

import shutil
import threading

import httpx
import pytest
from rich.text import Text
from waiting import settled, until

from fl_tui.connection.base import BackendError, Capability, ModelEntry
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.config import Settings, load_settings
from fl_tui.demo.build import FAST, SLOW
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.confirm import ConfirmScreen

SIZE = (100, 30)
WIDE = (140, 30)  # every column of the demo models fits


def make_app(backend, tmp_path, **settings):
    return FlTuiApp(lambda: backend, settings=Settings(**settings), settings_path=tmp_path / "config.toml",
                    specs=load_specs())


def said_by(app) -> list[str]:
    """Every notification's message, recorded as the app is told it."""
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, *args, **kwargs: (said.append(str(message)), notify(message, *args, **kwargs))[1]
    return said


def column_keys(app):
    return [key.value for key in app.query_one("#models-table").columns]


def headers(app):
    return [str(c.label) for c in app.query_one("#models-table").columns.values()]


def details_text(app) -> str:
    """The details as drawn, wrapped to the pane's width, every line (scrolled out of view or not)."""
    static = app.query_one("#models-details")
    return "\n".join(strip.text.rstrip() for strip in static.render_lines(static.region.reset_offset))


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
    async with app.run_test(size=WIDE) as pilot:
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


async def test_an_unknown_theme_is_said_not_silently_ignored(embedded, tmp_path):
    app = make_app(embedded, tmp_path, theme="no-such-theme")
    said = said_by(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any("theme 'no-such-theme' is not known; using fl-dark" in m for m in said),
                    "the warning about the theme", seen=lambda: said)
        assert app.theme == "fl-dark"


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
        await until(pilot, lambda: "download: catalog unreachable" in details_text(app), "the reason in the details",
                    seen=lambda: details_text(app))


async def test_every_models_key_acts_or_says_why_not(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    said = said_by(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: FAST.model_id in table_ids(app), "the fast demo model", seen=lambda: table_ids(app))
        await select(pilot, app, FAST.model_id)

        async def press(key, words):
            said.clear()
            await pilot.press(key)
            await until(pilot, lambda: any(words in m for m in said), f"{key!r} saying {words!r}", seen=lambda: said)

        await press("d", "cannot download: catalog unreachable")  # offline: disabled, and it says why
        said.clear()
        run = next(callback for label, callback, _ in _palette(app) if label == "Models: Download (d)")
        run()  # the palette says why too
        await until(pilot, lambda: any("cannot download" in m for m in said), "the palette saying why",
                    seen=lambda: said)
        await press("c", "no download to cancel")
        await press("u", f"{FAST.model_id} is not loaded")
        await press("U", "no model is loaded")
        await press("r", "model list refreshed: ")
        await press("l", f"load {FAST.model_id}: done")
        await until(pilot, lambda: cell(app, FAST.model_id, "loaded") == "●", "the loaded mark")
        await press("l", f"{FAST.model_id} is already loaded")
        await press("S", "sorted by Alias, descending")
        assert headers(app)[0] == "Alias ▼"
        await press("s", "sorted by Variant, descending")
        assert headers(app)[:2] == ["Alias", "Variant ▼"]
        await settled(pilot)
    assert not any(m.startswith(f"unload {FAST.model_id}") for m in said)  # nothing claimed an unload


async def test_a_workshop_participant_may_not_manage_the_rooms_models(embedded, tmp_path):
    """A `fl-tui web` session's app (FL_TUI_ROOM=participant): load, remove, register and the rest are refused,
    saying why; the models stay as they were. The same app without the role loads (the test above)."""
    from fl_tui.connection.roles import REASON, withheld

    app = FlTuiApp(lambda: embedded, settings=Settings(), settings_path=tmp_path / "config.toml", specs=load_specs(),
                   withheld=withheld({"FL_TUI_ROOM": "participant"}))
    said = said_by(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: FAST.model_id in table_ids(app), "the fast demo model", seen=lambda: table_ids(app))
        await select(pilot, app, FAST.model_id)
        for key, verb in (("l", "load"), ("x", "remove"), ("a", "register a folder"), ("U", "unload")):
            said.clear()
            await pilot.press(key)
            await until(pilot, lambda verb=verb: any(f"cannot {verb}: {REASON}" in m for m in said),
                        f"{key!r} refused", seen=lambda: said)
        await until(pilot, lambda: REASON in details_text(app), "the reason in the details",
                    seen=lambda: details_text(app))
        await settled(pilot)
    assert not any(m.loaded for m in embedded.list_models())
    assert withheld({}) == {}  # anyone else: nothing withheld


class WithCatalog:
    """The real runtime, plus one catalog model that is not downloaded and a download that runs until cancelled."""

    def __init__(self, backend):
        self._backend = backend
        self.started = threading.Event()

    def __getattr__(self, name):
        return getattr(self._backend, name)

    @property
    def capabilities(self):
        return {**self._backend.capabilities, Capability.DOWNLOAD: None}

    def supports(self, cap):
        return self.capabilities.get(cap, "not supported") is None

    def list_models(self):
        return [*self._backend.list_models(), ModelEntry(id="catalog-model:1", alias="catalog-model", device="CPU")]

    def download(self, name, progress, cancel):
        self.started.set()
        cancel.wait(60)
        raise BackendError("download cancelled")


async def test_download_and_cancel_act_and_say_so_and_say_why_when_they_cannot(embedded, tmp_path):
    backend = WithCatalog(embedded)
    app = make_app(backend, tmp_path)
    said = said_by(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "catalog-model:1" in table_ids(app), "the catalog model",
                    seen=lambda: table_ids(app))
        await select(pilot, app, "catalog-model:1")

        async def press(key, words):
            said.clear()
            await pilot.press(key)
            await until(pilot, lambda: any(words in m for m in said), f"{key!r} saying {words!r}", seen=lambda: said)

        await press("x", "catalog-model:1 is not in the cache: nothing to remove")
        await press("d", "download queued: catalog-model:1")
        await press("d", "catalog-model:1 is already queued")
        await until(pilot, backend.started.is_set, "the download running")
        await press("c", "cancelling the download of catalog-model:1")
        jobs = app.query_one("#models-pane").downloads.jobs
        await until(pilot, lambda: jobs[0].state == "cancelled", "the download cancelled", seen=lambda: jobs)
        await press("c", "no download to cancel")
        await settled(pilot)


async def test_at_80_columns_the_useful_columns_fit_and_long_names_are_cut_but_whole_in_the_details(
        embedded, tmp_path):
    long_id = "a-workshop-model-with-a-very-long-name-generic-cpu:1"
    folder = tmp_path / "long"
    shutil.copytree(next(m for m in embedded.list_models() if m.id == FAST.model_id).path, folder)
    embedded.register(folder, long_id, "a-workshop-model-with-a-long-alias")
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: long_id in table_ids(app), "the long-named model", seen=lambda: table_ids(app))
        pane = app.query_one("#models-pane")
        assert pane.has_class("-stacked")  # the details are under the table: it has the whole width
        assert column_keys(app)[:6] == ["alias", "id", "device", "cached", "loaded", "size"]
        shown = cell(app, long_id, "id")
        assert shown.endswith("…") and long_id.startswith(shown[:-1])
        assert cell(app, long_id, "cached") == "✓" and cell(app, long_id, "size").endswith("MB")
        await select(pilot, app, long_id)
        await until(pilot, lambda: long_id in details_text(app).replace("\n", "").replace(" ", ""),
                    "the whole id in the details", seen=lambda: details_text(app))

        await pilot.resize_terminal(200, 40)  # wide: the details beside, and every column whole
        await until(pilot, lambda: not pane.has_class("-stacked") and "caps" in column_keys(app),
                    "the wide layout", seen=lambda: (pane.classes, column_keys(app)))
        await until(pilot, lambda: cell(app, long_id, "id") == long_id, "the id whole",
                    seen=lambda: cell(app, long_id, "id"))
        assert app.query_one("#models-details-box").region.x > app.query_one("#models-table").region.right - 1

        await pilot.resize_terminal(80, 24)  # and back
        await until(pilot, lambda: pane.has_class("-stacked") and cell(app, long_id, "id").endswith("…"),
                    "the narrow layout again", seen=lambda: (pane.classes, column_keys(app)))


async def test_help_and_palette_list_every_models_action(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen",
                    seen=lambda: app.screen)
        await settled(pilot)
        shown = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        for words in ("?, f1         Help", "Unload all", "Register a local model folder", "TTFT", "TPOT"):
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
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: len(table_ids(app)) == 1, "the server's one model", seen=lambda: table_ids(app))
        shown = app.query_one("#models-table").get_cell(NASTY, "id")
        assert isinstance(shown, Text) and shown.plain == "[bold]boom[/]:1" and not shown.spans
        await until(pilot, lambda: "[bold]boom[/]:1" in details_text(app), "the name in the details",
                    seen=lambda: details_text(app))
        assert "\x1b" not in details_text(app)


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
    said = said_by(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: any("settings not saved" in m for m in said),
                    "a notification that the settings were not saved", seen=lambda: said)
    assert path.read_text() == broken
