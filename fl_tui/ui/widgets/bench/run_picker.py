"""Open an earlier run (or a fleet's report), or compare two: the pickers are screens; listing the runs, reading
run.json and the comparison (2,000 bootstrap resamples per figure) run in thread workers that post what they found,
so the tab keeps answering keys meanwhile."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.widget import Widget

from fl_tui.bench.runfiles import RunListing, describe_runs, read_run
from fl_tui.core import locations
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.textsafe import plain
from fl_tui.runs.compared import compare, comparison_text
from fl_tui.runs.fleet import describe_fleets, is_fleet_folder, load_fleet
from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen
from fl_tui.ui.widgets.bench.messages import BenchProblem, ComparisonReady, FleetOpened, Picking, RunOpened, RunsListed


def known_runs() -> list[RunListing]:
    return describe_runs(locations.runs_dir())


def openable() -> list[RunListing]:
    """The runs, then the fleet folders (`fl-tui fleet run` puts them beside the runs): a fleet opens as its
    report, not as one run, so it is no side of a comparison."""
    return [*known_runs(), *describe_fleets(locations.runs_dir())]


class RunPicker(Widget):
    """No area of its own: it owns the open and compare flows, and posts RunOpened for the pane to show."""

    DEFAULT_CSS = "RunPicker { display: none; }"

    def open_run(self) -> None:
        self.list_runs(Picking.OPEN)

    def compare(self) -> None:
        self.list_runs(Picking.COMPARE)

    @work(thread=True, exclusive=True, group="bench-list", exit_on_error=False)
    def list_runs(self, picking: Picking) -> None:
        self.post_message(RunsListed(picking, openable() if picking is Picking.OPEN else known_runs()))

    @on(RunsListed)
    def pick(self, message: RunsListed) -> None:
        if message.picking is Picking.OPEN:
            self.app.push_screen(RunPickerScreen("Open a run", message.runs), self._picked)
        else:
            self.pick_two(message.runs)

    def _picked(self, folder: Path | None) -> None:
        if folder is not None:
            self.load(folder)

    @work(thread=True, exclusive=True, group="bench-load", exit_on_error=False)
    def load(self, folder: Path) -> None:
        try:
            if is_fleet_folder(folder):
                fleet = load_fleet([folder])
                self.post_message(FleetOpened("\n".join([*fleet.notes, *fleet.warnings, fleet.markdown()])))
                return
            run = read_run(folder)
        except (FileProblem, UserError) as exc:
            self.post_message(BenchProblem("cannot open the run", str(exc)))
            return
        self.post_message(RunOpened(run, folder))

    @work(exclusive=True, group="bench-compare")
    async def pick_two(self, runs: list[RunListing]) -> None:
        base = await self.app.push_screen_wait(RunPickerScreen("Compare: the base run", runs))
        if base is None:
            return
        new = await self.app.push_screen_wait(RunPickerScreen("Compare: the new run (the same one: its endpoints)",
                                                              runs))
        if new is not None:
            self.compare_files(base, new)

    @work(thread=True, exclusive=True, group="bench-comparing", exit_on_error=False)
    def compare_files(self, base: Path, new: Path) -> None:
        """Two runs, or one picked twice: its endpoints, the first against each of the others."""
        notes: list[str] = []
        try:
            comparisons = compare(base, None if new == base else new, notes=notes)
        except (FileProblem, UserError) as exc:
            self.post_message(BenchProblem("cannot compare", str(exc)))
            return
        self.post_message(ComparisonReady("\n".join([*notes, comparison_text(comparisons)])))

    @on(BenchProblem)
    def handle_problem(self, message: BenchProblem) -> None:
        self.notify(plain(message.error), title=message.title, severity="error", markup=False)

    @on(ComparisonReady)
    def show_comparison(self, message: ComparisonReady) -> None:
        self.app.push_screen(TextScreen(message.text))

    @on(FleetOpened)
    def show_fleet(self, message: FleetOpened) -> None:
        self.app.push_screen(TextScreen(message.text))
