"""A finished run: the report's table (with a Quality column once people have scored it), its failures, charts.

People's annotation files are read, and exports written (fsync'd), in thread workers: a tab that waits on a disk
or a folder of many files would otherwise hold every key press.
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from fl_tui.annotate.quality import people_files, quality_for
from fl_tui.bench import chartdata
from fl_tui.bench.report import TABLE_COLUMNS, render_json, table_row, write_reports
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.textsafe import plain
from fl_tui.ui.screens.chart import ChartScreen
from fl_tui.ui.widgets.bench.messages import Exported, QualityRead
from fl_tui.ui.widgets.run_chart import RunChart

CELL_MAX = 48  # columns of one summary cell: longer than any Foundry Local variant id


def _fitted(cell: str) -> Text:
    text = Text(cell)
    text.truncate(CELL_MAX, overflow="ellipsis")
    return text


class SummaryView(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.run: dict | None = None
        self.folder: Path | None = None
        self.chart_kind = chartdata.CHARTS[0][0]

    def compose(self) -> ComposeResult:
        yield DataTable(id="bench-summary-table", cursor_type="row")
        yield Static("", id="bench-highlights")
        yield RunChart(self.chart_kind, id="bench-chart")

    def show(self, run: dict, folder: Path) -> None:
        """Show `run` at once; its table follows when its annotation files are read."""
        self.run, self.folder = run, folder
        self.query_one("#bench-summary-table", DataTable).clear(columns=True)
        lines = [f"run {run['run_id']}" + ("  (stopped early)" if run.get("interrupted") else "")]
        lines += [f"{plain(m['model'])}: {m['status']}: {plain(m.get('error') or '')}"
                  for m in run.get("models") or [] if m.get("status") != "ok"]
        lines += ["n: next chart · m: maximise · e: export · v: live view · b: set-up"]
        self.query_one("#bench-highlights", Static).update(Text("\n".join(lines)))
        self.query_one("#bench-chart", RunChart).show(run, self.chart_kind)
        self.read_quality(run, folder)

    @work(thread=True, exclusive=True, group="bench-quality", exit_on_error=False)
    def read_quality(self, run: dict, folder: Path) -> None:
        files, _problems = people_files(folder, run) if folder.is_dir() else ([], [])
        self.post_message(QualityRead(run, quality_for(files)[0]))

    @on(QualityRead)
    def fill_table(self, message: QualityRead) -> None:
        if message.run is not self.run:  # another run was shown meanwhile
            return
        quality = message.quality
        table = self.query_one("#bench-summary-table", DataTable)
        table.clear(columns=True)
        header = (*TABLE_COLUMNS, *(["Quality"] if quality is not None else []))
        rows = [table_row(model, quality) for model in message.run.get("models") or []]
        for index, column in enumerate(header):
            # Widths from the cells themselves: left to the table's own measuring (on idle), the Model column
            # could keep its label's width ("fl-de") after runs were opened. A very long name is cut with an
            # ellipsis (report.md has it whole) so that one cell cannot push every figure off the screen.
            widest = max(cell_len(c) for c in [column, *(r[index] for r in rows)])
            table.add_column(column, key=column, width=min(widest, CELL_MAX))
        for index, cells in enumerate(rows):
            table.add_row(*(_fitted(c) for c in cells), key=f"s{index}")

    def next_chart(self) -> None:
        kinds = [k for k, _title in chartdata.CHARTS]
        self.chart_kind = kinds[(kinds.index(self.chart_kind) + 1) % len(kinds)]
        self.query_one("#bench-chart", RunChart).show(self.run, self.chart_kind)

    def maximise(self) -> None:
        self.app.push_screen(ChartScreen(self.run, self.chart_kind))

    @work(thread=True, exclusive=True, group="bench-export", exit_on_error=False)
    def export(self) -> None:
        """report.md, .csv and report.json into the run's folder (an unexpected error is the app's to show)."""
        run, folder = self.run, self.folder
        written = write_reports(folder, run)
        atomic_write_text(folder / "report.json", render_json(run))
        self.post_message(Exported([p.name for p in written] + ["report.json"], folder))

    @on(Exported)
    def tell_exported(self, message: Exported) -> None:
        names = ", ".join(message.names)
        self.notify(f"{names} in {plain(str(message.folder))}", title="exported", markup=False, timeout=10)
