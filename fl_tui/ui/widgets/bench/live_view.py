"""The live view of a run: the progress line, one row per model, failures, arrival sparklines, the answer.

It draws a `LiveState` when the pane's clock says so, changing only what changed: every cell update and every
auto-height box re-layout costs a repaint, and the clock runs at 10 Hz while a run goes.
"""

from __future__ import annotations

import psutil
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static

from fl_tui.bench.events import Phase
from fl_tui.bench.live import LiveState
from fl_tui.core.textsafe import plain
from fl_tui.ui.widgets.bench.answer_log import AnswerLog

# (label, width): the whole row fits 80 columns with the table's cell padding
LIVE_COLUMNS = (("Model", 14), ("Status", 8), ("Done", 5), ("TTFT50", 6), ("TTFT95", 6), ("ITL95", 5),
                ("tok/s", 7), ("RSS MB", 6), ("Det", 3))
SPARK_POINTS = 120


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


class LiveView(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._cells: dict[str, list[str]] = {}  # the table's shown cells, by row key
        self._failures_shown: list[str] = []
        self._checks_shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="bench-progress")
        table = DataTable(id="bench-rows", cursor_type="none")
        for label, width in LIVE_COLUMNS:
            table.add_column(label, key=label, width=width)
        yield table
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

    def reset(self) -> None:
        """Empty at once, for a new run: its process takes a while to send anything, and until then nothing of the
        previous run may show."""
        self.query_one("#bench-progress", Static).update(Text("starting the benchmark…"), layout=False)
        self.query_one("#bench-rows", DataTable).clear()
        self._cells = {}
        self._failures_shown = []
        self._checks_shown = []
        for box_id in ("#bench-failures", "#bench-checks"):
            box = self.query_one(box_id, Static)
            box.update("")
            box.display = False
        self.query_one("#bench-spark-now", Sparkline).data = []
        self.query_one("#bench-rolling", Vertical).remove_children()
        self.query_one("#bench-prompt", Static).update("")
        self.query_one(AnswerLog).reset()

    def draw(self, state: LiveState, host: psutil.Process | None) -> None:
        done, total = state.progress()
        flight = state.inflight
        current = state.rows.get(flight.live.model) if flight else None
        f = current.figures() if current else {}
        line = (f"run {state.run_id}  measured {done}/{total}  live TTFT p50 {_short(f.get('ttft_p50'))}  "
                f"p95 {_short(f.get('ttft_p95'))}  p99 {_short(f.get('ttft_p99'))} ms{_rss(host)}")
        self.query_one("#bench-progress", Static).update(Text(line), layout=False)  # one line, fixed height
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
                self.query_one("#bench-prompt", Static).update(Text(prompt))

    def _draw_checks(self, state: LiveState) -> None:
        """A line per model whose answers are checked, hidden until the first is: ✓ / ✗ as each answer ends."""
        lines = [f"{plain(r.name, keep_newlines=False)[:14]:<15}{line}" for r in state.rows.values()
                 if (line := r.checks_line()) is not None]
        if lines != self._checks_shown:  # an auto-height box, like the failures: only on change
            self._checks_shown = lines
            box = self.query_one("#bench-checks", Static)
            box.display = bool(lines)
            box.update(Text("\n".join(lines)))

    def _draw_rows(self, state: LiveState) -> None:
        table = self.query_one("#bench-rows", DataTable)
        rolling = self.query_one("#bench-rolling", Vertical)
        for index, row in enumerate(state.rows.values()):
            f = row.figures()
            cells = [plain(row.name, keep_newlines=False), str(row.status), f"{row.done}/{row.total}",
                     _short(f["ttft_p50"]), _short(f["ttft_p95"]), _short(f["itl_p95"]), _short(f["decode_tps"]),
                     _short(row.rss_peak_mb), _det(row.deterministic)]
            key = f"m{index}"
            if key not in table.rows:
                table.add_row(*(Text(c) for c in cells), key=key)
                rolling.mount(Horizontal(Label(Text(cells[0][:14].ljust(15)), classes="spark-label"),
                                         Sparkline([], id=f"bench-spark-{index}"), classes="spark-row"))
            else:
                before = self._cells.get(key, [])
                for i, ((column, _width), value) in enumerate(zip(LIVE_COLUMNS, cells, strict=True)):
                    if i >= len(before) or before[i] != value:  # each update repaints: only what changed
                        table.update_cell(key, column, Text(value))
            self._cells[key] = cells
            for spark in rolling.query(f"#bench-spark-{index}"):
                spark.data = list(row.rolling)
