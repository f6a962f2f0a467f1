"""The model picker's marks say picked or not in their characters, not only in their colour."""

from textual.app import App
from waiting import until

from fl_tui.ui.widgets.pick_list import NOT_PICKED, PICKED, PickList


class Picking(App):
    def compose(self):
        yield PickList(("fl-demo-fast", "fast", True), ("fl-demo-slow", "slow", False), id="picks")


def lines(app):
    picks = app.query_one(PickList)
    return [picks.render_line(y).text for y in range(picks.option_count)]


async def test_picked_and_not_picked_rows_read_differently_without_colour():
    app = Picking()
    async with app.run_test(size=(40, 6)) as pilot:
        await until(pilot, lambda: lines(app)[0].strip(), "the list drawn", seen=lambda: lines(app))
        assert [line[:4] for line in lines(app)] == [f"{PICKED} ", f"{NOT_PICKED} "]
        assert "fl-demo-fast" in lines(app)[0] and "X" not in "".join(lines(app))
        app.query_one(PickList).focus()
        await pilot.press("down", "space")  # the slow one picked with the keys
        await until(pilot, lambda: lines(app)[1].startswith(PICKED), "the second row marked picked",
                    seen=lambda: lines(app))
        assert app.query_one(PickList).selected == ["fast", "slow"]
        assert len(lines(app)[1]) == len(lines(app)[0])  # the marks keep the row's width


def test_the_model_picker_offers_an_alias_alone_when_it_runs_one_variant_and_each_variant_when_it_has_several():
    from fl_tui.connection.base import ModelEntry
    from fl_tui.ui.widgets.bench.setup_form import model_choices

    models = [ModelEntry("fast-generic-cpu:1", "fast", cached=True),
              ModelEntry("phi-generic-cpu:1", "phi", cached=True), ModelEntry("phi-generic-gpu:1", "phi", cached=True),
              ModelEntry("mine:1", "mine", cached=True), ModelEntry("big-generic-cpu:1", "big")]
    specs = {"fast": {}, "phi": {}, "big": {}}
    assert model_choices(models, specs, usable_only=True) == [
        "fast", "phi", "mine:1", "phi-generic-cpu:1", "phi-generic-gpu:1"]  # not downloaded: `big` is not offered
    assert "big-generic-cpu:1" not in model_choices(models, specs, usable_only=False)  # its name stands for it
