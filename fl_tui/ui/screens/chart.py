"""A chart maximised to the whole screen (`m` on the Benchmark tab)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from fl_tui.bench.runschema import RunJson
from fl_tui.ui.widgets.run_chart import RunChart


class ChartScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,m,q", "close", "Close", id="chart.close")]

    def __init__(self, run: RunJson, kind: str):
        super().__init__()
        self.run, self.kind = run, kind

    def compose(self) -> ComposeResult:
        yield RunChart(self.kind, id="chart-max")

    def on_mount(self) -> None:
        self.query_one(RunChart).show(self.run, self.kind)

    def action_close(self) -> None:
        self.dismiss(None)
