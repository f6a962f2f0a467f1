"""One plotext chart of a finished run. It is drawn when the run, the chart kind or the app's theme changes, never
per token: textual-plotext rebuilds the whole plot on every render.

Colours come from the app's theme: plotext's "clear" theme leaves the canvas, frame, ticks and labels uncoloured,
so they take the widget's own (themed) foreground and background, and each series gets one of the theme's colours,
sent as an ANSI colour number when the theme is an ANSI one (fl-ansi: the 16 terminal colours only).
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

from fl_tui.bench import chartaxis, chartdata
from fl_tui.bench.runschema import RunJson
from fl_tui.core.fit import cut
from fl_tui.core.textsafe import plain

SERIES_COLOURS = ("primary", "accent", "success", "error", "secondary", "warning")  # theme variables, in order
# The sweep charts: (data, x label, y label).
SWEEPS = {
    "tps_vs_concurrency": (chartdata.throughput_by_concurrency, "concurrency", "output tok/s"),
    "ttft_vs_prompt": (chartdata.ttft_by_prompt_length, "prompt tokens", "TTFT p50 (ms)"),
}
FRAME_ROWS = 5  # rows of the widget that are not canvas: title, two axes, the x ticks, the x label
HISTOGRAMS = ("ttft", "e2e")  # their y axis counts requests: whole-number ticks
BINS = 20


LABEL_MAX = 28  # columns of a legend entry


def _label(series: str) -> str:
    """A legend entry: a long model name is cut with `…`, never its level (`… @ c=2`), so levels stay apart."""
    text = plain(series, keep_newlines=False)
    model, at, level = text.rpartition(" @ ")
    if cell_len(text) <= LABEL_MAX or not at or cell_len(level) > LABEL_MAX // 2:
        return cut(text, LABEL_MAX)
    return cut(model, LABEL_MAX - cell_len(at + level)) + at + level


def plot_colour(colour: Color) -> int | str | tuple[int, int, int]:
    """A Textual colour as plotext takes it: an ANSI number (sent as that palette colour), "default", or RGB."""
    if colour.ansi is not None:
        return "default" if colour.ansi < 0 else colour.ansi
    return colour.rgb


class RunChart(PlotextPlot):
    def __init__(self, kind: str = "ttft", **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.run: RunJson | None = None
        self.ylim: tuple[float, float] | None = None  # the histograms' and the gap chart's, set by draw
        self.theme = "clear"  # plotext's theme that colours nothing: the widget's own colours show through

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.draw())

    def show(self, run: RunJson | None, kind: str | None = None) -> None:
        self.run, self.kind = run, kind or self.kind
        self.draw()

    def series_colours(self) -> list[int | str | tuple[int, int, int]]:
        variables = self.app.theme_variables
        colours = [plot_colour(Color.parse(variables[name])) for name in SERIES_COLOURS]
        return list(dict.fromkeys(colours))  # a theme may use one colour twice (accent = warning)

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.ylim = None
        title = chartdata.TITLES[self.kind]
        plt.title(title)
        colours = self.series_colours()
        if self.run is not None:
            if self.kind in HISTOGRAMS:
                series = chartdata.distribution(self.run, f"{self.kind}_ms").items()
                peak = 0
                for i, (model, values) in enumerate(series):
                    if values:  # what plt.hist draws, with its tallest bar known for the y axis
                        xs, counts = chartaxis.histogram(values, BINS)
                        plt.bar(xs, counts, label=_label(model), color=colours[i % len(colours)], reset_ticks=False)
                        peak = max(peak, *counts)
                if peak:
                    self.ylim = (0, peak)
                plt.xlabel("ms")
            elif self.kind == "itl_position":
                every_gap = []
                for i, (model, (positions, gaps)) in enumerate(chartdata.gap_by_position(self.run).items()):
                    if positions:
                        plt.plot(positions, gaps, label=_label(model), color=colours[i % len(colours)])
                        every_gap += gaps
                if every_gap:
                    self.ylim = chartaxis.data_limits(every_gap)
                plt.xlabel("token position")
            elif self.kind in SWEEPS:
                data, xlabel, ylabel = SWEEPS[self.kind]
                ticks: set[float] = set()
                for i, (model, (xs, ys)) in enumerate(data(self.run).items()):
                    plt.plot(xs, ys, label=_label(model), color=colours[i % len(colours)], marker="braille")
                    ticks.update(xs)
                if ticks:
                    plt.xticks(sorted(ticks), [f"{x:g}" for x in sorted(ticks)])  # the levels run, not 1.5 or 3
                plt.xlabel(xlabel)
                plt.ylabel(ylabel)
            else:
                for i, (model, (ttft, tps)) in enumerate(chartdata.ttft_vs_decode(self.run).items()):
                    plt.scatter([ttft], [tps], label=_label(model), color=colours[i % len(colours)])
                plt.xlabel("TTFT p50 (ms)")
                plt.ylabel("decode tok/s")
        self.refresh()

    def render(self) -> RenderResult:
        """The scatter's and the sweeps' limits depend on the height (the legend's rows stay clear of the data):
        set at each size. A sweep keeps its x axis (the levels run). The y ticks are chosen for the height too
        (fl_tui/bench/chartaxis.py: round values, evenly spaced, none lost to a shared row)."""
        ylim = self.ylim
        if self.run is not None and (self.kind == "ttft_vs_decode" or self.kind in SWEEPS):
            if self.kind == "ttft_vs_decode":
                series = {name: [point] for name, point in chartdata.ttft_vs_decode(self.run).items()}
            else:
                series = {name: list(zip(*xy, strict=True)) for name, xy in SWEEPS[self.kind][0](self.run).items()}
            points = [point for line in series.values() for point in line]
            if points:
                rows = self.size.height - FRAME_ROWS
                (x0, x1), (y0, y1) = chartdata.legend_clear_limits(points, len(series), rows)
                if self.kind == "ttft_vs_decode":
                    self.plt.xlim(x0, x1)
                ylim = (y0, y1)
        if ylim is not None:
            self.plt.ylim(*ylim)
            self.plt.yticks(*chartaxis.nice_ticks(*ylim, self.size.height - FRAME_ROWS, whole=self.kind in HISTOGRAMS))
        return super().render()
