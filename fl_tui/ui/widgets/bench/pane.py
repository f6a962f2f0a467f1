"""The Benchmark tab's pane: switches between set-up, live view and summary; each is a widget of its own, the
run in progress is the BenchRunner's, and opening or comparing earlier runs is the RunPicker's."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, SelectionList

from fl_tui.bench.runschema import RunJson
from fl_tui.connection.base import Backend, Capability, ModelEntry
from fl_tui.core import locations
from fl_tui.core.config import Settings
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain
from fl_tui.ui.refusals import ExplainsRefusals
from fl_tui.ui.widgets.bench.live_view import LiveView
from fl_tui.ui.widgets.bench.messages import RunBroke, RunEnded, RunLaunched, RunOpened
from fl_tui.ui.widgets.bench.run_picker import RunPicker
from fl_tui.ui.widgets.bench.runner import BenchRunner, tab_shown
from fl_tui.ui.widgets.bench.setup_form import SetupForm
from fl_tui.ui.widgets.bench.summary_view import SummaryView

FOCUS = {"bench-setup": "#bench-models", "bench-live": "#bench-rows", "bench-summary": "#bench-summary-table"}


class BenchPane(ExplainsRefusals, Vertical):
    BINDINGS = [
        Binding("ctrl+r", "start", "Start", id="bench.start", tooltip="Start a run"),
        Binding("ctrl+x", "stop", "Stop", id="bench.stop", tooltip="Stop the run (what finished is kept)"),
        Binding("v", "view", "Live/summary", id="bench.view"),
        Binding("b", "setup", "Set-up", id="bench.setup"),
        Binding("e", "export", "Export", id="bench.export", tooltip="Export report.md, .csv and .json"),
        Binding("o", "open_run", "Open", id="bench.open", tooltip="Open an earlier run"),
        Binding("c", "compare", "Compare runs", id="bench.compare", show=False),
        Binding("n", "next_chart", "Next chart", id="bench.next_chart", show=False),
        Binding("m", "maximise", "Maximise chart", id="bench.maximise", show=False),
    ]

    def __init__(self, settings: Settings, specs: dict, **kwargs):
        super().__init__(**kwargs)
        self.backend: Backend | None = None
        self.form = SetupForm(settings, specs, id="bench-setup")
        self.live = LiveView(id="bench-live")
        self.summary = SummaryView(id="bench-summary")
        self.runner = BenchRunner(self.live)
        self.picker = RunPicker()

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="bench-setup", id="bench-views"):
            yield self.form
            yield self.live
            yield self.summary
        yield self.runner
        yield self.picker

    def show_view(self, view: str) -> None:
        self.query_one("#bench-views", ContentSwitcher).current = view
        if tab_shown(self):  # focusing a widget in a hidden tab would bring that tab to the front
            self.focus_main()

    def focus_main(self) -> None:
        views = self.query("#bench-views")
        view = views.first(ContentSwitcher).current or "bench-setup" if views else None
        target = self.query(FOCUS[view]) if view else None
        if not target:  # mounted after the first screen (ui/later_panes.py): it or its view not composed yet
            self.call_after_refresh(self.focus_main)
            return
        self.screen.set_focus(target.first())  # at once: see FlTuiApp.action_show_tab

    def attach(self, backend: Backend) -> None:
        self.backend = backend
        self.runner.find_host(backend)
        self.refresh_bindings()

    def offer_models(self, models: list[ModelEntry]) -> None:
        self.form.offer_models(models, self.backend is not None and self.backend.supports(Capability.CACHED))

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action == "start":
            if self.runner.running:
                return "a run is going: Ctrl+X stops it"
            if self.backend is None:
                return "not connected yet: see the header"
            if not self.backend.supports(Capability.CHAT):
                return f"cannot benchmark: {self.backend.capabilities.get(Capability.CHAT) or 'no chat API'}"
        if action == "stop" and not self.runner.running:
            return "no run is going"
        if action in ("export", "maximise", "next_chart") and self.summary.run is None:
            return "no finished run on screen: o opens an earlier one, Ctrl+R starts one"
        if action == "view" and not self.runner.running and self.runner.state.run_id is None:
            return "the live view shows a run as it runs: Ctrl+R starts one (o opens an earlier run)"
        return None

    # -- a run --------------------------------------------------------------------------------------------

    def action_start(self) -> None:
        try:
            models, prompts, settings, more = self.form.read()
        except UserError as exc:
            self.notify(plain(str(exc)), title="cannot start", severity="error", markup=False)
            return
        self.form.remember(self.form.current())
        self.runner.start(self.backend.endpoint, models, prompts, settings, more)
        self.refresh_bindings()

    def action_stop(self) -> None:
        if self.runner.stop():
            self.notify("stopping: requests in flight are dropped, finished ones are kept", timeout=4)

    def stop_for_quit(self, *, runtime_goes: bool) -> None:
        """The app is quitting; `runtime_goes`: its endpoint's runtime is in the app's process and ends with it,
        so the benchmark process leaves the model it loaded there as it is."""
        self.runner.stop(leave_loaded=runtime_goes)

    @on(RunLaunched)
    def handle_launched(self) -> None:
        self.show_view("bench-live")

    @on(RunBroke)
    def handle_broke(self, message: RunBroke) -> None:
        self.notify(plain(message.error), title=message.title, severity="error", markup=False, timeout=15)
        self.show_view("bench-setup")
        self.refresh_bindings()

    @on(RunEnded)
    def handle_ended(self, message: RunEnded) -> None:
        self.show_run(message.run, message.folder)
        self.notify(f"run saved in {plain(str(message.folder))}", markup=False, timeout=8)

    # -- a finished run -----------------------------------------------------------------------------------

    def show_run(self, run: RunJson, folder: Path | None = None) -> None:
        self.summary.show(run, folder or locations.runs_dir() / run.run_id)
        self.show_view("bench-summary")
        self.refresh_bindings()

    @on(RunOpened)
    def handle_opened(self, message: RunOpened) -> None:
        self.show_run(message.run, message.folder)

    def action_view(self) -> None:
        current = self.query_one("#bench-views", ContentSwitcher).current
        self.show_view("bench-summary" if current == "bench-live" and self.summary.run else "bench-live")
        self.runner.draw()

    def action_setup(self) -> None:
        self.show_view("bench-setup")

    def action_next_chart(self) -> None:
        self.summary.next_chart()

    def action_maximise(self) -> None:
        self.summary.maximise()

    def action_export(self) -> None:
        self.summary.export()

    def action_open_run(self) -> None:
        self.picker.open_run()

    def action_compare(self) -> None:
        self.picker.compare()

    @on(SelectionList.SelectedChanged)
    def handle_selection(self) -> None:
        self.refresh_bindings()
