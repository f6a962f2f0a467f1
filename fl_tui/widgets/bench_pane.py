"""The Benchmark tab: set-up, a live view while a run goes, then the summary and charts.

A run is `fl-tui bench --events` in a process of its own (fl_tui.bench.child), against this app's endpoint (for
the embedded runtime, its loopback web service): the same engine as headless, and no render or garbage collection
here can delay its timestamps. Its events land in `LiveState.queue`; a 10 Hz clock drains the queue and draws,
changing only what changed; charts are drawn once, when a run ends or is opened. Stop is SIGINT to the child,
which still writes everything that finished.
"""

from __future__ import annotations

import gc
from pathlib import Path

import psutil
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Log, Select, SelectionList, Sparkline, Static

from fl_tui import locations
from fl_tui.annotate.quality import people_files, quality_for
from fl_tui.bench import chartdata
from fl_tui.bench.child import ChildRun, bench_args, bench_command
from fl_tui.bench.compare import compare_runs, models_only_in, render_comparison
from fl_tui.bench.engine import BenchSettings
from fl_tui.bench.live import LiveState
from fl_tui.bench.report import TABLE_COLUMNS, render_json, table_row, write_reports
from fl_tui.bench.runfiles import list_runs, load_run
from fl_tui.config import Settings
from fl_tui.connection.base import Backend, Capability, ModelEntry
from fl_tui.errors import FileProblem, UserError
from fl_tui.fileio import atomic_write_text
from fl_tui.prompts import load_prompt_set
from fl_tui.resources import prompt_dirs
from fl_tui.screens.chart import ChartScreen
from fl_tui.screens.runs import RunPickerScreen, TextScreen
from fl_tui.textsafe import plain
from fl_tui.widgets.run_chart import RunChart

# (label, width): the whole row fits 80 columns with the table's cell padding
LIVE_COLUMNS = (("Model", 14), ("Status", 8), ("Done", 5), ("TTFT50", 6), ("TTFT95", 6), ("ITL95", 5),
                ("tok/s", 7), ("RSS MB", 6), ("Det", 3))
TICK_S = 0.1
SPARK_POINTS = 120


def _ms(value: float | None) -> str:
    """Milliseconds and rates, short enough for narrow columns."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"


def _det(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "—"}[value]


def prompt_sets() -> list[tuple[str, str]]:
    """(name, path) of every prompt set; a folder found earlier (the current one) wins for a name."""
    found: dict[str, Path] = {}
    for folder in prompt_dirs():
        for path in sorted(folder.glob("*.json")):
            if not path.name.startswith("_"):
                found.setdefault(path.stem, path)
    return sorted((name, str(path)) for name, path in found.items())


def model_choices(models: list[ModelEntry], specs: dict, usable_only: bool) -> list[str]:
    """models.json's names that the backend knows, then every usable variant id; in a stable order."""
    usable = [m for m in models if m.cached or m.loaded or not usable_only]
    names = [a for a in specs if any(a in (m.alias, m.id) for m in usable)]
    return list(dict.fromkeys(names + sorted(m.id for m in usable)))


class BenchPane(Vertical):
    BINDINGS = [
        Binding("ctrl+r", "start", "Start run", id="bench.start"),
        Binding("ctrl+x", "stop", "Stop run", id="bench.stop"),
        Binding("v", "view", "Live/summary", id="bench.view"),
        Binding("b", "setup", "Set-up", id="bench.setup"),
        Binding("e", "export", "Export", id="bench.export"),
        Binding("o", "open_run", "Open run", id="bench.open"),
        Binding("c", "compare", "Compare runs", id="bench.compare", show=False),
        Binding("n", "next_chart", "Next chart", id="bench.next_chart", show=False),
        Binding("m", "maximise", "Maximise chart", id="bench.maximise", show=False),
    ]

    def __init__(self, settings: Settings, specs: dict, **kwargs):
        super().__init__(**kwargs)
        self.settings, self.specs = settings, specs
        self.backend: Backend | None = None
        self.state = LiveState()
        self.running = False
        self.shown_run: dict | None = None
        self.shown_dir: Path | None = None
        self.chart_kind = chartdata.CHARTS[0][0]
        self._choices: list[str] = []
        self.child: ChildRun | None = None
        self._failures_shown: list[str] = []
        self._cells: dict[str, list[str]] = {}  # the live table's shown cells, by row key
        self._column = 0  # where the streamed answer's current line has reached
        self._text_key: tuple | None = None
        self._text_len = 0
        self._host: psutil.Process | None = None

    # -- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        s = self.settings
        with ContentSwitcher(initial="bench-setup", id="bench-views"):
            with Horizontal(id="bench-setup"):
                with Vertical(id="bench-models-box"):
                    yield Label("Models to compare (space picks)")
                    yield SelectionList[str](id="bench-models")
                with Vertical(id="bench-form"):
                    yield Label("Prompt set")
                    sets = prompt_sets()
                    default = dict(sets).get("default", sets[0][1] if sets else None)
                    yield Select[str](sets, id="bench-prompts", allow_blank=not sets, compact=True,
                                      **({"value": default} if default else {}))
                    for label, field, value in (
                        ("Rounds", "rounds", s.rounds), ("Warm-up", "warmup", s.warmup),
                        ("Temperature", "temperature", 0.0), ("Seed", "seed", ""),
                        ("Max tokens", "max_tokens", s.max_tokens), ("Concurrency", "concurrency", 1),
                        ("Timeout (s)", "timeout_s", s.timeout_s),
                    ):
                        with Horizontal(classes="form-row"):
                            yield Label(label, classes="form-label")
                            yield Input(str(value), id=f"bench-{field}", compact=True, classes="form-input")
                    yield Static(Text("Ctrl+R starts, Ctrl+X stops; o opens an earlier run"), classes="hint")
            with Vertical(id="bench-live"):
                yield Static("", id="bench-progress")
                table = DataTable(id="bench-rows", cursor_type="none")
                for label, width in LIVE_COLUMNS:
                    table.add_column(label, key=label, width=width)
                yield table
                yield Static("", id="bench-failures")
                with Horizontal(classes="spark-row"):
                    yield Label("in flight ", classes="spark-label")
                    yield Sparkline([], id="bench-spark-now")
                yield Vertical(id="bench-rolling")
                yield Static("", id="bench-prompt")
                yield Log(id="bench-text", max_lines=200, auto_scroll=True)
            with Vertical(id="bench-summary"):
                yield DataTable(id="bench-summary-table", cursor_type="row")
                yield Static("", id="bench-highlights")
                yield RunChart(self.chart_kind, id="bench-chart")

    def on_mount(self) -> None:
        self.set_interval(TICK_S, self.tick)

    def show_view(self, view: str) -> None:
        self.query_one("#bench-views", ContentSwitcher).current = view
        if self.is_on_screen:  # focusing a widget in a hidden tab would bring that tab to the front
            self.focus_main()

    def focus_main(self) -> None:
        target = {"bench-setup": "#bench-models", "bench-live": "#bench-rows", "bench-summary": "#bench-summary-table"}
        view = self.query_one("#bench-views", ContentSwitcher).current or "bench-setup"
        self.screen.set_focus(self.query_one(target[view]))  # at once: see FlTuiApp.action_show_tab

    # -- data in -----------------------------------------------------------------------------------------

    def attach(self, backend: Backend) -> None:
        self.backend = backend
        pid = backend.host_pid()
        self._host = psutil.Process(pid) if pid else None
        self.refresh_bindings()

    def offer_models(self, models: list[ModelEntry]) -> None:
        usable_only = self.backend is not None and self.backend.supports(Capability.CACHED)
        choices = model_choices(models, self.specs, usable_only)
        if choices == self._choices:
            return
        box = self.query_one("#bench-models", SelectionList)
        picked = set(box.selected) if self._choices else {c for c in choices if c in self.specs}
        box.clear_options()
        box.add_options([(plain(c, keep_newlines=False), c, c in picked) for c in choices])
        self._choices = choices

    # -- start and stop -----------------------------------------------------------------------------------

    def _form(self) -> tuple[list[str], Path, BenchSettings]:
        models = list(self.query_one("#bench-models", SelectionList).selected)
        if not models:
            raise UserError("pick at least one model (space in the list)")
        prompts = self.query_one("#bench-prompts", Select).value
        if not isinstance(prompts, str):
            raise UserError("pick a prompt set")

        def number(field: str, kind, minimum, optional=False):
            raw = self.query_one(f"#bench-{field}", Input).value.strip()
            if optional and not raw:
                return None
            try:
                value = kind(raw)
            except ValueError:
                raise UserError(f"{field.replace('_', ' ')}: expected a {kind.__name__}, got {raw!r}") from None
            if value < minimum:
                raise UserError(f"{field.replace('_', ' ')}: must be at least {minimum}")
            return value

        settings = BenchSettings(
            rounds=number("rounds", int, 1), warmup=number("warmup", int, 0),
            temperature=number("temperature", float, 0.0), seed=number("seed", int, 0, optional=True),
            max_tokens=number("max_tokens", int, 1), concurrency=number("concurrency", int, 1),
            timeout_s=number("timeout_s", float, 0.1),
        )
        return models, Path(prompts), settings

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return None if self.running or self.backend is None or not self.backend.supports(Capability.CHAT) else True
        if action == "stop":
            return True if self.running else None
        if action in ("export", "maximise", "next_chart"):
            return True if self.shown_run is not None else None
        return True

    def action_start(self) -> None:
        try:
            models, prompts, settings = self._form()
            load_prompt_set(prompts)  # a bad file is reported here, not by the child
        except (UserError, FileProblem) as exc:
            self.notify(plain(str(exc)), title="cannot start", severity="error", markup=False)
            return
        self.state = LiveState()
        self.query_one("#bench-rows", DataTable).clear()
        self._cells = {}
        self.query_one("#bench-rolling", Vertical).remove_children()
        self.query_one("#bench-text", Log).clear()
        self._text_key, self._text_len = None, 0
        gc.freeze()  # what exists now lives on; full collections during the run then scan only what the run adds
        command = bench_command(self.backend.endpoint, bench_args(models, prompts, settings))
        self.child = ChildRun(command, self.state.observe)
        self.running = True
        self.show_view("bench-live")
        self.refresh_bindings()

    def action_stop(self) -> None:
        if self.child is not None and self.child.running:
            self.child.stop()
            self.notify("stopping: requests in flight are dropped, finished ones are kept", timeout=4)

    # -- drawing ------------------------------------------------------------------------------------------

    def tick(self) -> None:
        finished_before = self.state.progress()[0]
        changed = self.state.drain()
        if self.state.progress()[0] != finished_before:
            # What a finished request leaves (its figures, rows, sparkline points) lives on: frozen, it is no
            # longer scanned by full collections, which otherwise grow with the run and pause keys and drawing.
            gc.freeze()
        if self.running and self.state.failure is not None:
            self.running = False
            self.notify(plain(self.state.failure), title="benchmark failed", severity="error", markup=False,
                        timeout=15)
            self.show_view("bench-setup")
            self.refresh_bindings()
        elif self.running and self.state.run is not None:
            self.running = False
            self.show_run(self.state.run, self.state.run_dir)
            self.notify(f"run saved in {plain(str(self.state.run_dir))}", markup=False, timeout=8)
            self.refresh_bindings()
        elif changed and self.is_on_screen:
            self.draw_live()

    @property
    def is_on_screen(self) -> bool:
        """Whether this tab is the one shown (its TabPane is displayed); no query, so safe during teardown."""
        return self.parent is not None and self.parent.display and self.is_mounted

    def draw_live(self) -> None:
        state = self.state
        done, total = state.progress()
        flight = state.inflight
        current = state.rows.get(flight.live.model) if flight else None
        figures = current.figures() if current else {}
        rss = ""
        if self._host is not None:
            try:
                rss = f"  RSS now {self._host.memory_info().rss / 2**20:.0f} MB"
            except psutil.Error as exc:
                rss = f"  RSS: {type(exc).__name__}"
        line = (f"run {state.run_id}  {done}/{total}  live TTFT p50 {_ms(figures.get('ttft_p50'))}  "
                f"p95 {_ms(figures.get('ttft_p95'))}  p99 {_ms(figures.get('ttft_p99'))} ms{rss}")
        self.query_one("#bench-progress", Static).update(Text(line), layout=False)  # one line, fixed height
        table = self.query_one("#bench-rows", DataTable)
        rolling = self.query_one("#bench-rolling", Vertical)
        for index, row in enumerate(state.rows.values()):
            f = row.figures()
            cells = [plain(row.name, keep_newlines=False), row.status,
                     f"{row.done}/{row.total}", _ms(f["ttft_p50"]), _ms(f["ttft_p95"]), _ms(f["itl_p95"]),
                     _ms(f["decode_tps"]), _ms(row.rss_peak_mb), _det(row.deterministic)]
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
        failures = [f"{plain(r.name, keep_newlines=False)}: {r.status}: {plain(r.detail or '', keep_newlines=False)}"
                    for r in state.rows.values() if r.status in ("failed", "partial")]
        if failures != self._failures_shown:  # an auto-height box: update (and re-layout) only on change
            self._failures_shown = failures
            box = self.query_one("#bench-failures", Static)
            box.display = bool(failures)
            box.update(Text("\n".join(failures), style="bold"))
        if flight is not None:
            self.query_one("#bench-spark-now", Sparkline).data = flight.gaps[-SPARK_POINTS:]
            live = flight.live
            key = (id(live),)
            log = self.query_one("#bench-text", Log)
            if key != self._text_key or len(flight.text) < self._text_len:
                self._text_key, self._text_len, self._column = key, 0, 0
                log.clear()
                what = "warm-up" if live.warmup else f"round {live.round}"
                prompt = f"{plain(live.model, keep_newlines=False)} · {live.prompt_id} · {what}: {plain(live.prompt)}"
                self.query_one("#bench-prompt", Static).update(Text(prompt))
            if len(flight.text) > self._text_len:
                width = max(20, log.scrollable_content_region.width - 14)
                log.write(self._wrapped(flight.text[self._text_len:], width))
                self._text_len = len(flight.text)

    def _wrapped(self, text: str, width: int) -> str:
        """Soft-wrap streamed text at the first space past `width` (a Log does not wrap; the caller leaves a
        word of slack), continuing the line the last write left."""
        out = []
        for char in text:
            if char == "\n":
                self._column = 0
            elif char == " " and self._column >= width:
                char, self._column = "\n", 0
            else:
                self._column += 1
            out.append(char)
        return "".join(out)

    def show_run(self, run: dict, folder: Path | None = None) -> None:
        """The summary: the report's table (with a Quality column once people have scored the run) and charts."""
        self.shown_run = run
        self.shown_dir = folder or locations.runs_dir() / run["run_id"]
        files, _problems = people_files(self.shown_dir, run) if self.shown_dir.is_dir() else ([], [])
        quality, _label = quality_for(files)
        table = self.query_one("#bench-summary-table", DataTable)
        table.clear(columns=True)
        for column in (*TABLE_COLUMNS, *(["Quality"] if quality is not None else [])):
            table.add_column(column, key=column)
        for index, model in enumerate(run.get("models") or []):
            table.add_row(*(Text(c) for c in table_row(model, quality)), key=f"s{index}")
        lines = [f"run {run['run_id']}" + ("  (stopped early)" if run.get("interrupted") else "")]
        lines += [f"{plain(m['model'])}: {m['status']}: {plain(m.get('error') or '')}"
                  for m in run.get("models") or [] if m.get("status") != "ok"]
        lines += ["n: next chart · m: maximise · e: export · v: live view · b: set-up"]
        self.query_one("#bench-highlights", Static).update(Text("\n".join(lines)))
        self.query_one("#bench-chart", RunChart).show(run, self.chart_kind)
        self.show_view("bench-summary")
        self.refresh_bindings()

    # -- after the run ------------------------------------------------------------------------------------

    def action_view(self) -> None:
        current = self.query_one("#bench-views", ContentSwitcher).current
        self.show_view("bench-summary" if current == "bench-live" and self.shown_run else "bench-live")
        self.draw_live()

    def action_setup(self) -> None:
        self.show_view("bench-setup")

    def action_next_chart(self) -> None:
        kinds = [k for k, _title in chartdata.CHARTS]
        self.chart_kind = kinds[(kinds.index(self.chart_kind) + 1) % len(kinds)]
        self.query_one("#bench-chart", RunChart).show(self.shown_run, self.chart_kind)

    def action_maximise(self) -> None:
        self.app.push_screen(ChartScreen(self.shown_run, self.chart_kind))

    def action_export(self) -> None:
        run, folder = self.shown_run, self.shown_dir
        written = write_reports(folder, run)
        atomic_write_text(folder / "report.json", render_json(run))
        names = ", ".join(p.name for p in written) + ", report.json"
        self.notify(f"{names} in {plain(str(folder))}", title="exported", markup=False, timeout=10)

    @staticmethod
    def _runs() -> list[tuple[Path, str]]:
        return [(folder, folder.name) for folder in list_runs(locations.runs_dir())]

    @work(exclusive=True, group="bench-open")
    async def action_open_run(self) -> None:
        folder = await self.app.push_screen_wait(RunPickerScreen("Open a run", self._runs()))
        if folder is not None:
            try:
                run = load_run(folder)
            except FileProblem as exc:
                self.notify(plain(str(exc)), severity="error", markup=False)
                return
            self.show_run(run, folder)

    @work(exclusive=True, group="bench-compare")
    async def action_compare(self) -> None:
        runs = self._runs()
        base = await self.app.push_screen_wait(RunPickerScreen("Compare: the base run", runs))
        if base is None:
            return
        new = await self.app.push_screen_wait(RunPickerScreen("Compare: the new run", runs))
        if new is None:
            return
        try:
            base_run, new_run = load_run(base), load_run(new)
        except FileProblem as exc:
            self.notify(plain(str(exc)), severity="error", markup=False)
            return
        only_base, only_new = models_only_in(base_run, new_run)
        text = render_comparison(compare_runs(base_run, new_run), only_base=only_base, only_new=only_new)
        self.app.push_screen(TextScreen(f"base {base_run['run_id']} -> new {new_run['run_id']}\n\n{text}"))

    @on(SelectionList.SelectedChanged)
    def handle_selection(self) -> None:
        self.refresh_bindings()
