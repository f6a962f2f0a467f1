"""A finished run: the report's table (with Checks when its answers were checked, Quality once people have scored
it), its failures, charts.

People's annotation files are read, and exports written (fsync'd), in thread workers: a tab that waits on a disk
or a folder of many files would otherwise hold every key press.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from fl_tui.bench import chartdata, summarytable
from fl_tui.bench.runschema import RunJson
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fit import cut, fit_widths
from fl_tui.core.textsafe import plain
from fl_tui.runs import finished
from fl_tui.ui.screens.chart import ChartScreen
from fl_tui.ui.widgets.bench.messages import BenchProblem, Exported, QualityRead
from fl_tui.ui.widgets.run_chart import RunChart

CELL_MAX = 48  # columns of one summary cell: longer than any Foundry Local variant id
# Shorter labels on screen (report.md keeps the long ones); the times are all in ms, as the note under it says.
SCREEN_LABELS = {"TTFT p50 (ms)": "TTFT p50", "TTFT p95 (ms)": "TTFT p95", "E2E p95 (ms)": "E2E p95",
                 "Avg latency (ms)": "E2E mean", "RSS peak (MB)": "RSS MB", "Disk (MB)": "Disk MB",
                 "Deterministic": "Same answers", "TTFT sd (ms)": "TTFT sd", "Goodput (req/s)": "Goodput"}
# Which columns a narrow terminal keeps, first to last: speed and quality side by side before the rest. A load run's
# level and goodput come before the rest (its rows are told apart by their level), and so does the endpoint in a
# run against several. Checks come next to Quality: at 80 columns they show beside the speed figures until
# people's scores take their place.
PRIORITY = ("Model", "Endpoint", "Level", "Status", "n", "TTFT p50 (ms)", "Decode tok/s", "Goodput (req/s)",
            "Quality", "Checks", "TTFT sd (ms)", "SLO met", "Speedup", "Output tok/s", "TTFT p95 (ms)", "E2E p95 (ms)",
            "RSS peak (MB)", "Avg latency (ms)", "Disk (MB)", "Deterministic")
SHRINKABLE = {"Model", "Quality"}  # cut with an ellipsis rather than left out (the interval goes first)
# Fitted and widened first (a plain run has no Endpoint, Level or Goodput column).
ESSENTIAL = {"Model", "Endpoint", "Level", "Status", "n", "TTFT p50 (ms)", "Decode tok/s", "Goodput (req/s)",
             "Quality"}


def fitted_columns(width: int, header: list[str], rows: list[list[str]]) -> dict[int, int]:
    """{index into `header`: width} of the columns shown at `width` cells, in `header`'s order."""
    rank = {name: i for i, name in enumerate(PRIORITY)}  # a column it does not know goes last, never fails
    order = sorted(range(len(header)), key=lambda i: rank.get(header[i], len(PRIORITY)))
    labels = [SCREEN_LABELS.get(header[i], header[i]) for i in order]
    cells = [[row[i][:CELL_MAX] for i in order] for row in rows]
    widths = fit_widths(width, labels, cells, shrink=[header[i] in SHRINKABLE for i in order],
                        essential=sum(header[i] in ESSENTIAL for i in order))
    return dict(sorted((order[j], w) for j, w in widths.items()))


class SummaryView(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.run: RunJson | None = None
        self.folder: Path | None = None
        self.chart_kind = chartdata.CHARTS[0][0]
        self._header: list[str] = []
        self._quality_label: str | None = None  # whose scores the Quality column holds (quality_for)
        self._rows: list[list[str]] = []
        self._fitted_at: int | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="bench-summary-table", cursor_type="row")
        yield Static("", id="bench-table-note")
        yield Static("", id="bench-row-detail")
        yield Static("", id="bench-highlights")
        yield RunChart(self.chart_kind, id="bench-chart")

    def show(self, run: RunJson, folder: Path) -> None:
        """Show `run` at once; its table follows when its annotation files are read."""
        self.run, self.folder = run, folder
        self.query_one("#bench-summary-table", DataTable).clear(columns=True)
        self._header, self._rows = [], []
        self.query_one("#bench-table-note", Static).update("")
        self.query_one("#bench-row-detail", Static).update("")
        kinds = chartdata.kinds_for(run)
        swept = kinds[len(chartdata.CHARTS):]
        if swept:  # a sweep's own chart first: what the run was for
            self.chart_kind = swept[0]
        elif self.chart_kind not in kinds:
            self.chart_kind = kinds[0]
        lines = [f"run {run.run_id}" + ("  (stopped early)" if run.interrupted else "")]
        lines += [f"{plain(m.model)}: {m.status}: {plain(m.error or '')}" for m in run.models if m.status != "ok"]
        lines += ["n: next chart · m: maximise · e: export · v: live view · b: set-up"]
        self.query_one("#bench-highlights", Static).update(Text("\n".join(lines)))
        self.query_one("#bench-chart", RunChart).show(run, self.chart_kind)
        self.read_quality(run, folder)

    @work(thread=True, exclusive=True, group="bench-quality", exit_on_error=False)
    def read_quality(self, run: RunJson, folder: Path) -> None:
        self.post_message(QualityRead(run, *finished.quality_of(folder, run)))

    @on(QualityRead)
    def fill_table(self, message: QualityRead) -> None:
        if message.run is not self.run:  # another run was shown meanwhile
            return
        quality = message.quality
        run = message.run
        self._quality_label = message.label
        self._header = summarytable.header(run, quality is not None)
        self._rows = [summarytable.row(run, model, self._header, quality) for model in run.models]
        self._fitted_at = None
        self.fit_table()

    def on_resize(self) -> None:
        self.fit_table()

    def fit_table(self) -> None:
        """Columns by priority for the width there is, long text cut with an ellipsis (report.md has it whole),
        and a note saying how many columns did not fit. Widths come from the cells themselves: left to the table's
        own measuring, the Model column could keep its label's width ("fl-de") after runs were opened."""
        # Hidden (another tab shown), it has no size yet: the screen's width until it is laid out.
        width = (self.size.width or self.app.size.width) - 1  # less the table's vertical scrollbar
        if not self._header or width <= 0 or width == self._fitted_at:
            return
        self._fitted_at = width
        widths = fitted_columns(width, self._header, self._rows)
        table = self.query_one("#bench-summary-table", DataTable)
        table.clear(columns=True)
        for index, column_width in widths.items():
            name = self._header[index]
            table.add_column(self._label(name), key=name, width=column_width)
        for number, cells in enumerate(self._rows):
            table.add_row(*(Text(cut(cells[i], w)) for i, w in widths.items()), key=f"s{number}")
        hidden = len(self._header) - len(widths)
        more = f" · {hidden} more column{'s' if hidden != 1 else ''} in report.md (e exports)" if hidden else ""
        whose = f" · Quality {self._quality_label}" if self._quality_label and "Quality" in self._header else ""
        self.query_one("#bench-table-note", Static).update(Text(plain(f"times in ms{whose}{more}",
                                                                      keep_newlines=False)))

    def _label(self, name: str) -> str:
        """A column's label on screen; Quality says whose scores it holds (a person's, or a judge model's)."""
        if name == "Quality" and self._quality_label:
            return "Quality (judge)" if self._quality_label.startswith("judged") else "Quality (people)"
        return SCREEN_LABELS.get(name, name)

    @on(DataTable.RowHighlighted, "#bench-summary-table")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        """The focused row's mean ± std of each figure: more than the table's columns hold at 80 columns."""
        models = self.run.models if self.run is not None else []
        index = event.cursor_row
        if 0 <= index < len(models):
            line = summarytable.detail_line(models[index])
            width = max(1, (self.size.width or self.app.size.width))
            self.query_one("#bench-row-detail", Static).update(Text(cut(line, width)))

    def next_chart(self) -> None:
        kinds = chartdata.kinds_for(self.run)  # a sweep's chart only for a run that swept
        at = kinds.index(self.chart_kind) if self.chart_kind in kinds else -1
        self.chart_kind = kinds[(at + 1) % len(kinds)]
        self.query_one("#bench-chart", RunChart).show(self.run, self.chart_kind)

    def maximise(self) -> None:
        self.app.push_screen(ChartScreen(self.run, self.chart_kind))

    @work(thread=True, exclusive=True, group="bench-export", exit_on_error=False)
    def export(self) -> None:
        """report.md, .csv and .json into the run's folder, exactly as `fl-tui report` writes them (an unexpected
        error is the app's to show)."""
        try:
            report = finished.gather(self.folder)
        except (FileProblem, UserError) as exc:  # the run's files changed on disk since they were shown
            self.post_message(BenchProblem("cannot export", str(exc)))
            return
        written = finished.export(report)
        self.post_message(Exported([p.name for p in written], report.folder, report.notes))

    @on(BenchProblem)
    def tell_problem(self, message: BenchProblem) -> None:
        self.notify(plain(message.error), title=message.title, severity="error", markup=False)

    @on(Exported)
    def tell_exported(self, message: Exported) -> None:
        names = ", ".join(message.names)
        self.notify(f"{names} in {plain(str(message.folder))}", title="exported", markup=False, timeout=10)
        for note in message.notes:
            self.notify(note, title="export", severity="warning", markup=False, timeout=10)
