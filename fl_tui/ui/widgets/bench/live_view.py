"""The live view of a run: the progress line, one row per model (per model and level when the run sweeps load
levels or prompt lengths, with goodput when it has SLOs), failures, arrival sparklines, the answer.

It draws a `LiveState` when the pane's clock says so, changing only what changed: every cell update and every
auto-height box re-layout costs a repaint, and the clock runs at 10 Hz while a run goes.
"""

from __future__ import annotations

import psutil
from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static

from fl_tui.bench.events import Phase
from fl_tui.bench.live import LiveState, level_name
from fl_tui.core.fit import CELL_PADDING, cut
from fl_tui.core.textsafe import plain
from fl_tui.ui.widgets.bench.answer_log import AnswerLog
from fl_tui.ui.widgets.kept_table import KeptTable

# (label, width): the whole row fits 80 columns with the table's cell padding; the Model column takes what a
# wider terminal has to spare (LiveView.fit_model_column)
LIVE_COLUMNS = (("Model", 14), ("Status", 8), ("Done", 5), ("TTFT50", 6), ("TTFT95", 6), ("ITL95", 5),
                ("tok/s", 7), ("RSS MB", 6), ("Det", 3))
SPARK_POINTS = 120


def live_columns(swept: bool, slo: bool) -> tuple[tuple[str, int], ...]:
    """A sweep's rows name their level, and SLOs add goodput; to stay within 80 columns they leave out what is
    per model rather than per level (RSS, determinism: in the summary), and with both, TTFT p50 and width."""
    if not (swept or slo):
        return LIVE_COLUMNS
    both = swept and slo
    return (("Model", 11 if swept else 14), *((("Level", 9),) if swept else ()), ("Status", 7), ("Done", 5),
            *(() if both else (("TTFT50", 6),)), ("TTFT95", 6), ("ITL95", 5), ("tok/s", 6 if both else 7),
            *((("SLO%", 4), ("good/s", 6)) if slo else ()))


def _short(value: float | None) -> str:
    """Milliseconds and rates, short enough for narrow columns."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"


def _det(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[value]


def _rss(host: psutil.Process | None) -> str:
    if host is None:
        return ""
    try:
        return f"  RSS now {host.memory_info().rss / 2**20:.0f} MB"
    except psutil.Error as exc:
        return f"  RSS: {type(exc).__name__}"


def progress_line(width: int, run_id: str | None, done: int, total: int, figures: dict, rss: str) -> str:
    """The line over the table, in `width` cells: the figures first, then the run id where there is room (the
    summary names the run), so p99 and RSS are not cut off at 80 columns."""
    ttft = (f"TTFT p50 {_short(figures.get('ttft_p50'))}  p95 {_short(figures.get('ttft_p95'))}  "
            f"p99 {_short(figures.get('ttft_p99'))} ms")
    line = f"measured {done}/{total}  live {ttft}{rss}"
    with_id = f"{line}  run {run_id}"
    return with_id if cell_len(with_id) <= width else line


class LiveView(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.columns = LIVE_COLUMNS
        self._model_width = dict(LIVE_COLUMNS)["Model"]  # the Model column's width now (grows with the terminal)
        self._names: list[str] = []  # the rows' model names, for the Model column's width
        self._state: LiveState | None = None  # the run drawn last: its rows are drawn again when the columns change
        self._cells: dict[str, list[str]] = {}  # the table's shown cells, by row key
        self._failures_shown: list[str] = []
        self._checks_shown: list[str] = []
        self._sparks = 0  # rolling sparklines mounted, one per model

    def compose(self) -> ComposeResult:
        yield Static("", id="bench-progress")
        table = KeptTable(id="bench-rows", cursor_type="none")
        for label, width in LIVE_COLUMNS:
            table.add_column(label, key=label, width=width)
        yield table
        legend = Static("", id="bench-legend")
        legend.display = False  # a run against several endpoints only
        yield legend
        checks = Static("", id="bench-checks")
        checks.display = False  # until an answer has been checked
        yield checks
        yield Static("", id="bench-failures")
        with Horizontal(classes="spark-row"):
            yield Label("in flight ", classes="spark-label")
            yield Sparkline([], id="bench-spark-now")
        yield Vertical(id="bench-rolling")
        yield Static("", id="bench-prompt")
        yield AnswerLog(id="bench-text", max_lines=200, auto_scroll=True)

    def reset(self, state: LiveState) -> None:
        """Empty at once, for a new run (with the columns its rows need): its process takes a while to send
        anything, and until then nothing of the previous run may show."""
        self.query_one("#bench-progress", Static).update(Text("starting the benchmark…"), layout=False)
        table = self.query_one("#bench-rows", DataTable)
        columns = live_columns(state.swept, state.slo is not None)
        table.clear(columns=columns != self.columns)
        if columns != self.columns:
            self.columns = columns
            self._model_width = dict(columns)["Model"]
            for label, width in columns:
                table.add_column(label, key=label, width=width)
        self._names, self._state = [], None
        self._cells = {}
        self._failures_shown = []
        self._checks_shown = []
        self._sparks = 0
        for box_id in ("#bench-failures", "#bench-checks"):
            box = self.query_one(box_id, Static)
            box.update("")
            box.display = False
        legend = self.query_one("#bench-legend", Static)
        legend.update(Text(f"endpoints, one at a time: {state.legend()}"))
        legend.display = bool(state.endpoints)
        self.query_one("#bench-spark-now", Sparkline).data = []
        self.query_one("#bench-rolling", Vertical).remove_children()
        self.query_one("#bench-prompt", Static).update("")
        self.query_one(AnswerLog).reset()

    def draw(self, state: LiveState, host: psutil.Process | None) -> None:
        done, total = state.progress()
        flight = state.inflight
        current = state.rows.get(flight.live.model) if flight else None
        f = current.figures() if current else {}
        progress = self.query_one("#bench-progress", Static)
        line = progress_line(self.size.width or 80, state.run_id, done, total, f, _rss(host))
        progress.update(Text(line), layout=False)  # one line, fixed height
        self._draw_rows(state)
        self._draw_checks(state)
        failures = [f"{plain(r.name, keep_newlines=False)}: {r.status}: {plain(r.detail or '', keep_newlines=False)}"
                    for r in state.rows.values() if r.status in (Phase.FAILED, Phase.PARTIAL, Phase.STOPPED)]
        if failures != self._failures_shown:  # an auto-height box: update (and re-layout) only on change
            self._failures_shown = failures
            box = self.query_one("#bench-failures", Static)
            box.display = bool(failures)
            box.update(Text("\n".join(failures), style="bold"))
        if flight is not None:
            self.query_one("#bench-spark-now", Sparkline).data = flight.gaps[-SPARK_POINTS:]
            if self.query_one(AnswerLog).follow(flight):
                live = flight.live
                what = "warm-up" if live.warmup else f"round {live.round}"
                prompt = f"{plain(live.model, keep_newlines=False)} · {live.prompt_id} · {what}: {plain(live.prompt)}"
                self.query_one("#bench-prompt", Static).update(Text(prompt), layout=False)  # fixed height

    def _draw_checks(self, state: LiveState) -> None:
        """A line per model whose answers are checked, hidden until the first is: ✓ / ✗ as each answer ends."""
        lines = [f"{self._label(state, r.name)[:14]:<15}{line}" for r in state.rows.values()
                 if (line := r.checks_line()) is not None]
        if lines != self._checks_shown:  # an auto-height box, like the failures: only on change
            self._checks_shown = lines
            box = self.query_one("#bench-checks", Static)
            box.display = bool(lines)
            box.update(Text("\n".join(lines)))

    def on_resize(self) -> None:
        self.fit_model_column()

    def fit_model_column(self) -> None:
        """The Model column as wide as its longest name, within what the other columns leave of the table's
        width (never narrower than at 80 columns); a name cut to it ends with `…`."""
        table = self.query_one("#bench-rows", DataTable)
        others = sum(width + CELL_PADDING for label, width in self.columns if label != "Model")
        least = dict(self.columns)["Model"]
        room = self.size.width - others - CELL_PADDING - 1  # a cell for the scrollbar
        width = max(least, min(room, max(map(cell_len, self._names), default=least)))  # cells: a CJK name
        if width == self._model_width:
            return
        self._model_width = width
        table.clear(columns=True)
        for label, column_width in self.columns:
            table.add_column(label, key=label, width=width if label == "Model" else column_width)
        self._cells = {}
        if self._state is not None:  # now: a resize brings no new event, so no draw would come to add them back
            self._draw_rows(self._state)

    def _draw_rows(self, state: LiveState) -> None:
        self._state = state
        table = self.query_one("#bench-rows", DataTable)
        rows = state.shown_rows()
        names = [plain(state.short_name(row.name)[0], keep_newlines=False) for row in rows]
        if names != self._names:
            self._names = names
            self.fit_model_column()
        for index, row in enumerate(rows):
            f = row.figures()
            fraction, rate = row.goodput()
            model, where = names[index], state.short_name(row.name)[1]
            values = {"Model": cut(model, self._model_width), "Level": " ".join(filter(None, (where,
                      level_name(row.level)))),
                      "Status": str(state.level_status(row)), "Done": f"{row.done}/{row.total}",
                      "TTFT50": _short(f["ttft_p50"]), "TTFT95": _short(f["ttft_p95"]), "ITL95": _short(f["itl_p95"]),
                      "tok/s": _short(f["decode_tps"]), "RSS MB": _short(row.rss_peak_mb),
                      "Det": _det(row.deterministic), "SLO%": "—" if fraction is None else f"{fraction:.0%}",
                      "good/s": _short(rate)}
            cells = [values[label] for label, _width in self.columns]
            key = f"r{index}"
            if key not in table.rows:
                table.add_row(*(Text(c) for c in cells), key=key)
            else:
                before = self._cells.get(key, [])
                for i, ((column, _width), value) in enumerate(zip(self.columns, cells, strict=True)):
                    if i >= len(before) or before[i] != value:  # each update repaints: only what changed
                        table.update_cell(key, column, Text(value))
            self._cells[key] = cells
        self._draw_rolling(state)

    @staticmethod
    def _label(state: LiveState, name: str) -> str:
        """A row's name where 14 columns hold it: `slow-20 #2` in a run against several endpoints."""
        model, where = state.short_name(name)
        return plain(f"{model} {where}".strip(), keep_newlines=False)

    def _draw_rolling(self, state: LiveState) -> None:
        """One rolling sparkline per model, whatever its levels."""
        rolling = self.query_one("#bench-rolling", Vertical)
        for index, row in enumerate(state.rows.values()):
            if index >= self._sparks:  # mounted later, so count them rather than query for them
                self._sparks += 1
                rolling.mount(Horizontal(Label(Text(self._label(state, row.name)[:14].ljust(15)),
                                               classes="spark-label"),
                                         Sparkline([], id=f"bench-spark-{index}"), classes="spark-row"))
            for spark in rolling.query(f"#bench-spark-{index}"):
                spark.data = list(row.rolling)
