"""The Benchmark summary's charts: painted with the theme's own colours, the scatter's legend covering no point, and
y ticks at round values, evenly spaced, none missing."""

import itertools
import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runfactory import make_run, model_from, requests_for
from test_app_bench import on_the_benchmark_tab
from test_app_snapshots import Pinned
from textual.color import Color
from textual.geometry import Region
from waiting import settled, until

from fl_tui.bench import chartdata
from fl_tui.bench.runschema import as_run
from fl_tui.core.config import Settings
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.chart import ChartScreen
from fl_tui.ui.widgets.run_chart import LABEL_MAX, SERIES_COLOURS, RunChart, _label

QUADRANTS = set("▖▗▘▝▚▞▌▐▀▄▙▛▜▟█")  # plotext's high-definition point markers


def fast_and_slow() -> dict:
    """The usual picture: the fast model has the lowest TTFT and the highest tok/s, the top-left corner, where
    plotext draws its legend."""
    fast = requests_for("fast-cpu", [20.0, 22.0, 24.0], [300.0, 310.0, 320.0], [200.0, 210.0, 220.0])
    slow = requests_for("slow-gpu", [300.0, 320.0, 340.0], [900.0, 950.0, 990.0], [20.0, 22.0, 24.0])
    return make_run([model_from("fast-cpu", fast), model_from("slow-gpu", slow)], fast + slow)


def row_of(y: float, low: float, high: float, rows: int) -> int:
    """The canvas row (0 = bottom) plotext puts `y` on, between the limits."""
    return round((y - low) / (high - low) * (rows - 1))


@given(st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 1e4)), min_size=1, max_size=6), st.integers(0, 50))
def test_limits_keep_every_point_inside_and_below_the_legend(points, spare_rows):
    rows = len(points) + 3 + spare_rows  # room for the legend, a spare row and two rows of data
    (x0, x1), (y0, y1) = chartdata.legend_clear_limits(points, len(points), rows)
    for x, y in points:
        assert x0 < x < x1 and y0 < y < y1
        assert row_of(y, y0, y1, rows) <= rows - len(points) - 2  # below the legend's rows and the spare one
    if min(x for x, _ in points) > 0 and min(y for _, y in points) > 0:
        assert x0 >= 0 and y0 >= 0  # no axis below 0 ms or 0 tok/s (a wide range once padded to -7,921)


def test_legend_entries_keep_their_level_when_a_long_name_is_cut():
    names = [f"fl-demo-fast-generic-cpu:1 @ c={level}" for level in (1, 2)]
    labels = [_label(name) for name in names]
    assert labels == ["fl-demo-fast-generic-… @ c=1", "fl-demo-fast-generic-… @ c=2"]
    assert all(len(label) <= LABEL_MAX for label in labels) and _label("short @ c=1") == "short @ c=1"


def chart_lines(chart: RunChart) -> list:
    return chart.render_lines(Region(0, 0, *chart.size))


def legend_covers_nothing(chart: RunChart, labels: list[str]) -> None:
    """The legend's rows hold the legend and the frame only, and each model's point is drawn elsewhere."""
    lines = ["".join(segment.text for segment in strip) for strip in chart_lines(chart)]
    legend = [line for line in lines if any(label in line for label in labels)]
    assert len(legend) == len(labels), lines
    for line in legend:
        after_label = line.split(next(label for label in labels if label in line))[1]
        assert set(after_label.rstrip().rstrip("│")) <= {" "}, lines
    drawn = [line for line in lines if line not in legend and set(line) & QUADRANTS]
    assert len(drawn) == len(labels), lines  # the two models' points, on rows of their own


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_scatter_legend_covers_no_point(embedded, size):
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=size) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.summary.chart_kind = "ttft_vs_decode"
        pane.show_run(as_run(fast_and_slow()), Path("/data/runs/sample"))
        chart = pane.query_one("#bench-chart", RunChart)
        await until(pilot, lambda: chart.size.height > 0 and chart.kind == "ttft_vs_decode", "the scatter drawn")
        await settled(pilot)
        legend_covers_nothing(chart, ["fast-cpu", "slow-gpu"])
        pane.summary.maximise()
        await until(pilot, lambda: isinstance(app.screen, ChartScreen), "the maximised chart")
        await settled(pilot)
        legend_covers_nothing(app.screen.query_one(RunChart), ["fast-cpu", "slow-gpu"])


async def test_charts_are_painted_with_the_theme_colours_and_follow_a_theme_change(embedded, monkeypatch):
    """Frame, ticks and labels take the widget's own colours, and each series one of the theme's colours."""
    monkeypatch.delenv("NO_COLOR")  # the suite's NO_COLOR would grey every colour out
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(theme="fl-dark"), specs=load_specs())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.show_run(as_run(fast_and_slow()), Path("/data/runs/sample"))
        chart = pane.query_one("#bench-chart", RunChart)
        await until(pilot, lambda: chart.size.height > 0, "the chart laid out")

        def painted_with_the_theme(what) -> None:
            series = {Color.parse(app.theme_variables[name]).rgb for name in SERIES_COLOURS}
            own = chart.rich_style
            segments = [segment for strip in chart_lines(chart) for segment in strip if segment.text.strip()]
            marks = {segment.style.color.triplet for segment in segments if set(segment.text) & QUADRANTS}
            assert len(marks) == 2 and marks <= series, what  # the two models, in two of the theme's colours
            others = {segment.style.color.triplet for segment in segments if not set(segment.text) & QUADRANTS}
            assert others == {own.color.triplet}, what
            assert {segment.style.bgcolor.triplet for segment in segments} == {own.bgcolor.triplet}, what

        for theme in ("fl-dark", "fl-light"):
            app.theme = theme
            await settled(pilot)
            painted_with_the_theme((theme, "the chart shown when the theme changed", chart.kind))
            for kind, _title in chartdata.CHARTS:
                chart.show(chart.run, kind)
                await settled(pilot)
                painted_with_the_theme((theme, kind))


Y_TICK = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[┤┼]")  # a y label, then the axis's tick mark


def y_ticks(chart: RunChart) -> list[tuple[int, float]]:
    """(screen row, value) of each y label the chart shows, top to bottom."""
    lines = ["".join(segment.text for segment in strip) for strip in chart_lines(chart)]
    return [(row, float(m.group(1))) for row, line in enumerate(lines) if (m := Y_TICK.match(line))]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_y_ticks_are_evenly_spaced_with_none_missing(embedded, size):
    """plotext's own ticks, seven spread between the limits, lost one to a shared row on a short chart (3, 2.5,
    1.5, 1, 0: no 2) and fell on halves of a request count."""
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=size) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.show_run(as_run(fast_and_slow()), Path("/data/runs/sample"))
        chart = pane.query_one("#bench-chart", RunChart)
        await until(pilot, lambda: chart.size.height > 0, "the chart laid out")
        for kind, _title in chartdata.CHARTS:
            chart.show(chart.run, kind)
            await settled(pilot)
            ticks = y_ticks(chart)
            values = [value for _row, value in ticks]
            steps = [a - b for a, b in itertools.pairwise(values)]  # top to bottom: the values fall
            assert len(ticks) >= 2 and steps and all(math.isclose(s, steps[0]) for s in steps), (kind, ticks)
            assert steps[0] > 0 and float(f"{steps[0]:.1g}") == steps[0], (kind, ticks)  # a round step: 1 digit
            if kind in ("ttft", "e2e"):
                assert all(value == int(value) for value in values), (kind, ticks)  # requests counted
