"""The footer keeps its key widgets while the keys it shows stay the same (fl_tui/ui/widgets/kept_footer.py), unlike
Textual's Footer, which builds them all again on every focus change; keys that change are shown at once."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from waiting import settled, until

from fl_tui.ui.widgets.kept_footer import KeptFooter


class Box(Widget, can_focus=True):
    DEFAULT_CSS = "Box { height: 3; }"
    BINDINGS = [Binding("x", "noop", "Expand")]

    def action_noop(self) -> None:
        pass


class OtherBox(Widget, can_focus=True):
    DEFAULT_CSS = "OtherBox { height: 3; }"
    BINDINGS = [Binding("y", "yank", "Yank"), Binding("z", "zoom", "Zoom")]

    def action_yank(self) -> None:
        pass

    def action_zoom(self) -> None:
        pass


class Boxes(App):
    def __init__(self, footer_class: type[Footer]):
        super().__init__()
        self.footer_class = footer_class

    def compose(self) -> ComposeResult:
        yield Box(id="one")
        yield Box(id="two")
        yield OtherBox(id="other")
        yield self.footer_class()


def footer_keys(app: App) -> list[FooterKey]:
    return list(app.query(FooterKey))


def descriptions(app: App) -> list[str]:
    return [key.description for key in footer_keys(app)]


@pytest.mark.parametrize(("footer_class", "kept"), [(KeptFooter, True), (Footer, False)])
async def test_the_same_keys_keep_their_widgets(footer_class, kept):
    """Textual's Footer is the control: the same focus change builds its keys again."""
    app = Boxes(footer_class)
    async with app.run_test(size=(80, 10)) as pilot:
        app.query_one("#one").focus()
        await until(pilot, lambda: "Expand" in descriptions(app), "the focused box's key in the footer",
                    seen=lambda: descriptions(app))
        await settled(pilot)
        before = footer_keys(app)
        app.query_one("#two").focus()  # the same bindings
        await settled(pilot)
        assert descriptions(app) == [key.description for key in before]
        assert (footer_keys(app) == before) is kept


async def test_other_keys_are_shown():
    app = Boxes(KeptFooter)
    async with app.run_test(size=(80, 10)) as pilot:
        app.query_one("#one").focus()
        await until(pilot, lambda: "Expand" in descriptions(app), "the first box's key", seen=lambda: descriptions(app))
        app.query_one("#other").focus()
        await until(pilot, lambda: {"Yank", "Zoom"} <= set(descriptions(app)) and "Expand" not in descriptions(app),
                    "the other box's keys instead", seen=lambda: descriptions(app))
        app.query_one("#two").focus()
        await until(pilot, lambda: "Expand" in descriptions(app) and "Yank" not in descriptions(app),
                    "the first keys back", seen=lambda: descriptions(app))
