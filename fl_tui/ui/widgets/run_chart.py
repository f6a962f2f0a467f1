"""One plotext chart of a finished run. It is drawn when the run or the chart kind changes, never per token:
textual-plotext rebuilds the whole plot on every render."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from fl_tui.bench import chartdata
from fl_tui.core.textsafe import plain


def _label(model: str) -> str:
    return plain(model, keep_newlines=False)[:28]


class RunChart(PlotextPlot):
    def __init__(self, kind: str = "ttft", **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.run: dict | None = None

    def show(self, run: dict | None, kind: str | None = None) -> None:
        self.run, self.kind = run, kind or self.kind
        self.draw()

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        title = dict(chartdata.CHARTS)[self.kind]
        plt.title(title)
        if self.run is not None:
            if self.kind in ("ttft", "e2e"):
                for model, values in chartdata.distribution(self.run, f"{self.kind}_ms").items():
                    if values:
                        plt.hist(values, bins=20, label=_label(model))
                plt.xlabel("ms")
            elif self.kind == "itl_position":
                for model, (positions, gaps) in chartdata.gap_by_position(self.run).items():
                    if positions:
                        plt.plot(positions, gaps, label=_label(model))
                plt.xlabel("token position")
            else:
                for model, (ttft, tps) in chartdata.ttft_vs_decode(self.run).items():
                    plt.scatter([ttft], [tps], label=_label(model))
                plt.xlabel("TTFT p50 (ms)")
                plt.ylabel("decode tok/s")
        self.refresh()
