"""A table shown again after a tab switch is drawn from its caches (fl_tui/ui/widgets/kept_table.py), unlike
Textual's DataTable, which renders every row again; a new theme still redraws it, in the new colours. The model
picker (fl_tui/ui/widgets/pick_list.py) keeps its rendered options the same way."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Input, SelectionList, TabbedContent, TabPane
from waiting import settled, until

from fl_tui.ui.widgets.kept_table import KeptTable
from fl_tui.ui.widgets.pick_list import PickList


class TwoTabs(App):
    """The widget `make` gives (id "table") focused in one tab, an input in the other."""

    def __init__(self, make: Callable[[], Widget]):
        super().__init__()
        self.make = make

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="rows"):
            with TabPane("Rows", id="rows"):
                yield self.make()
            with TabPane("Other", id="other"):
                yield Input(id="field")

    def on_mount(self) -> None:
        self.query_one("#table").focus()

    def show(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one("#table" if tab == "rows" else "#field").focus()


def rows(table_class: type[DataTable]) -> Callable[[], DataTable]:
    """A table of five models, as the Models tab shows them."""
    def make() -> DataTable:
        table = table_class(id="table", cursor_type="row", zebra_stripes=True)
        table.add_columns("alias", "device", "size")
        for i in range(5):
            table.add_row(f"model-{i}", "cpu", f"{i + 1} MB")
        return table

    return make


def count_row_renders(monkeypatch, table: DataTable) -> list[int]:
    calls: list[int] = []
    real = table._render_line_in_row

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(table, "_render_line_in_row", counted)
    return calls


def painted(table: DataTable) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in strip] for strip in table.render_lines(table.size.region)]


async def switch_away_and_back(pilot, app: TwoTabs, table: DataTable) -> None:
    app.show("other")
    await until(pilot, lambda: app.focused is app.query_one("#field") and not table.is_on_screen,
                "the other tab shown", seen=lambda: app.focused)
    await settled(pilot)
    app.show("rows")
    await until(pilot, lambda: app.focused is table and table.is_on_screen, "the table shown again",
                seen=lambda: app.focused)
    await settled(pilot)


@pytest.mark.parametrize(("table_class", "kept"), [(KeptTable, True), (DataTable, False)])
async def test_a_table_shown_again_is_drawn_from_its_caches(monkeypatch, table_class, kept):
    """The DataTable row is the control: the same round trip renders its rows again."""
    app = TwoTabs(rows(table_class))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one("#table", DataTable)
        await until(pilot, lambda: app.focused is table and table.is_on_screen, "the table shown and focused")
        await settled(pilot)
        before = painted(table)
        calls = count_row_renders(monkeypatch, table)
        await switch_away_and_back(pilot, app, table)
        table.refresh()  # what a later repaint finds: every line drawn again from the table's own caches
        await settled(pilot)
        after = painted(table)
        assert after == before  # the same rows, focused, as before the round trip
        assert (len(calls) == 0) is kept, len(calls)


async def test_a_new_theme_redraws_the_kept_rows_in_its_colours(monkeypatch):
    app = TwoTabs(rows(KeptTable))
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one("#table", KeptTable)
        await until(pilot, lambda: app.focused is table and table.is_on_screen, "the table shown and focused")
        await settled(pilot)
        dark = painted(table)
        calls = count_row_renders(monkeypatch, table)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settled(pilot)
        light = painted(table)
        assert calls, "no row was drawn again for the new theme"
        assert [[text for text, _ in line] for line in light] == [[text for text, _ in line] for line in dark]
        assert light != dark  # same text, other styles


@pytest.mark.parametrize(("list_class", "kept"), [(PickList, True), (SelectionList, False)])
async def test_a_model_picker_shown_again_keeps_its_rendered_options(list_class, kept):
    """The model picker (an OptionList) keys its rendered options by their style, so only the same-size Resize of a
    tab shown again would drop them; Textual's SelectionList is the control."""
    app = TwoTabs(lambda: list_class(*((f"model-{i}", i) for i in range(5)), id="table"))
    async with app.run_test(size=(60, 12)) as pilot:
        picker = app.query_one("#table", SelectionList)
        await until(pilot, lambda: app.focused is picker and picker.is_on_screen, "the picker shown and focused")
        await settled(pilot)
        cache = picker._option_render_cache
        keys = cache.keys()  # an LRUCache: no iteration of its own
        before = {key: cache.get(key) for key in keys}
        assert before, "no option rendered before the round trip"
        await switch_away_and_back(pilot, app, picker)
        picker.refresh()
        await settled(pilot)
        assert picker.render_lines(picker.size.region)
        assert all(cache.get(key) is strips for key, strips in before.items()) is kept
