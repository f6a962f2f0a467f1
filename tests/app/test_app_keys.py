"""App-wide keys at 80x24: Tab never parks on the tab strip, Ctrl+T names the theme, help scrolls and lists the ids
a `[keys]` table uses; the footer follows a resize without overlapping itself."""

import itertools

import pytest
from test_app_models import make_app, said_by
from textual.widgets import Tabs
from waiting import mounted, settled, until

from fl_tui.ui.screens.help import HelpScreen
from fl_tui.ui.screens.runs import RunPickerScreen

SIZE = (80, 24)
WIDE = (120, 40)


async def test_tab_keys_stay_inside_the_tab_so_its_keys_keep_working(embedded, tmp_path, monkeypatch):
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        pane = app.query_one("#benchmark")
        await until(pilot, lambda: app.focused is not None and pane in app.focused.ancestors_with_self,
                    "the focus in the Benchmark tab", seen=lambda: app.focused)
        seen = []
        for key in ["shift+tab"] * 4 + ["tab"] * 4:
            await pilot.press(key)
            seen.append(app.focused)
        assert not any(isinstance(w, Tabs) for w in seen), seen
        assert all(w is not None and pane in w.ancestors_with_self for w in seen), seen
        await pilot.press("escape")  # leave any list the cycle landed in; `o` belongs to the pane, not a widget
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, RunPickerScreen), "the run picker opened by `o`",
                    seen=lambda: app.screen)


async def test_ctrl_t_switches_the_theme_and_names_it(embedded, tmp_path):
    app = make_app(embedded, tmp_path, theme="fl-dark")
    async with app.run_test(size=SIZE) as pilot:
        said = said_by(app)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: app.theme != "fl-dark", "another theme", seen=lambda: app.theme)
        assert any(app.theme in s for s in said), said


async def test_help_scrolls_at_once_and_lists_the_action_ids(embedded, tmp_path):
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen", seen=lambda: app.screen)
        scroller = app.screen.query_one("#help")
        await until(pilot, lambda: app.focused is scroller, "the help text focused", seen=lambda: app.focused)
        text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "app.quit" in text and "models.download" in text and "bench.start" in text
        assert "Models tab (on Annotate, 1-5 score: [ and ] there)" in text  # the digits score on that tab
        await until(pilot, lambda: scroller.max_scroll_y > 0, "help taller than the screen",
                    seen=lambda: scroller.max_scroll_y)
        await pilot.press("end")
        await until(pilot, lambda: scroller.scroll_y > 0, "the help scrolled by a key", seen=lambda: scroller.scroll_y)
        first = app.screen
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "the help closed", seen=lambda: app.screen)
        await pilot.press("2", "question_mark")  # another tab: the same keys are listed, the same screen is shown
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help again", seen=lambda: app.screen)
        assert app.screen is first  # laid out once, not at every `?`
        await until(pilot, lambda: scroller.scroll_y == 0, "the help opened at its top", seen=lambda: scroller.scroll_y)
        await until(pilot, lambda: app.focused is scroller, "the help text focused again", seen=lambda: app.focused)
        app.action_help()  # as the palette's "Help" would, over the help: not a second copy on the stack
        await pilot.pause()
        assert [type(s) for s in app.screen_stack].count(HelpScreen) == 1


async def test_a_key_that_cannot_act_now_says_why(embedded, tmp_path, monkeypatch):
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        said = said_by(app)
        await pilot.press("2")
        pane = await mounted(pilot, "#bench-pane")
        await until(pilot, lambda: pane.backend is not None, "the Benchmark tab connected", seen=lambda: pane.backend)
        views = pane.query_one("#bench-views")
        for key, reason in [("ctrl+x", "no run is going"), ("e", "no finished run on screen"),
                            ("n", "no finished run on screen"), ("v", "the live view shows a run as it runs")]:
            await pilot.press(key)
            await until(pilot, lambda reason=reason: any(reason in s for s in said), f"{key} saying {reason!r}",
                        seen=lambda: said)
        assert all("\n" not in s for s in said), said  # one line each
        assert views.current == "bench-setup"  # `v` before any run: no empty live view of `run None`


def footer_keys(app) -> list[tuple[str, object]]:
    """(label, screen region) of each key the footer shows, the palette's last."""
    return [(f"{key.key_display} {key.description}", key.region) for key in app.footer.query("FooterKey")
            if key.display]


@pytest.mark.parametrize(("tab", "pane_id"), [("2", "#bench-pane"), ("3", "#annotate-pane")])
async def test_the_footer_follows_a_resize_and_overlaps_nothing(embedded, tmp_path, monkeypatch, tab, pane_id):
    """The palette's key (docked right from 100 columns) left in place at 80 columns was drawn over the tab's keys
    (`f▏^p palettei`) on a tab whose keys did not change after the resize."""
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    app = make_app(embedded, tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        pane = await mounted(pilot, pane_id)
        await pilot.press(tab)
        await until(pilot, lambda: app.focused is not None and pane in app.focused.ancestors_with_self,
                    f"the focus in {pane_id}", seen=lambda: app.focused)
        for width, height in (WIDE, SIZE, WIDE):
            await pilot.resize_terminal(width, height)
            await settled(pilot)
            keys = footer_keys(app)
            palette = [label for label, _region in keys if "palette" in label]
            assert bool(palette) == (width >= 100), (width, keys)
            overlapping = [(a, b) for (a, ra), (b, rb) in itertools.combinations(keys, 2) if ra.overlaps(rb)]
            assert overlapping == [], (width, keys)
