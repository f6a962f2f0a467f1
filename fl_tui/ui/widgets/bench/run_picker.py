"""Open an earlier run, or compare two: the pickers are screens; reading run.json and the comparison (2,000
bootstrap resamples per figure) run in thread workers, so the tab keeps answering keys meanwhile."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on, work
from textual.widget import Widget

from fl_tui.bench.compare import compare_runs, models_only_in, render_comparison
from fl_tui.bench.endpoints import endpoint_pairs
from fl_tui.bench.environment import environment_note
from fl_tui.bench.runfiles import RunListing, describe_runs, load_run
from fl_tui.core import locations
from fl_tui.core.errors import FileProblem
from fl_tui.core.textsafe import plain
from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen
from fl_tui.ui.widgets.bench.messages import BenchProblem, ComparisonReady, RunOpened


def known_runs() -> list[RunListing]:
    return describe_runs(locations.runs_dir())


class RunPicker(Widget):
    """No area of its own: it owns the open and compare flows, and posts RunOpened for the pane to show."""

    DEFAULT_CSS = "RunPicker { display: none; }"

    @work(exclusive=True, group="bench-open")
    async def open_run(self) -> None:
        runs = await asyncio.to_thread(known_runs)
        folder = await self.app.push_screen_wait(RunPickerScreen("Open a run", runs))
        if folder is not None:
            self.load(folder)

    @work(thread=True, exclusive=True, group="bench-load", exit_on_error=False)
    def load(self, folder: Path) -> None:
        try:
            run = load_run(folder)
        except FileProblem as exc:
            self.post_message(BenchProblem("cannot open the run", str(exc)))
            return
        self.post_message(RunOpened(run, folder))

    @work(exclusive=True, group="bench-compare")
    async def compare(self) -> None:
        runs = await asyncio.to_thread(known_runs)
        base = await self.app.push_screen_wait(RunPickerScreen("Compare: the base run", runs))
        if base is None:
            return
        new = await self.app.push_screen_wait(RunPickerScreen("Compare: the new run (the same one: its endpoints)",
                                                              runs))
        if new is not None:
            self.compare_files(base, new)

    @work(thread=True, exclusive=True, group="bench-comparing", exit_on_error=False)
    def compare_files(self, base: Path, new: Path) -> None:
        try:
            base_run, new_run = load_run(base), load_run(new)
        except FileProblem as exc:
            self.post_message(BenchProblem("cannot compare", str(exc)))
            return
        if base == new:  # one run picked twice: its endpoints, the first against each other, if it has several
            pairs = endpoint_pairs(base_run)
            if not pairs:
                self.post_message(BenchProblem("cannot compare", f"run {base_run['run_id']} was run against one "
                                               "endpoint: pick another run as the new one"))
                return
        else:
            pairs = [(base_run["run_id"], new_run["run_id"], base_run, new_run)]
        blocks = []
        for base_name, new_name, old, fresh in pairs:
            only_base, only_new = models_only_in(old, fresh)
            text = render_comparison(compare_runs(old, fresh), only_base=only_base, only_new=only_new)
            note = environment_note(old, fresh)
            blocks.append(f"base {base_name} -> new {new_name}" + (f"\n{note}" if note else "") + f"\n\n{text}")
        self.post_message(ComparisonReady("\n\n".join(blocks)))

    @on(BenchProblem)
    def handle_problem(self, message: BenchProblem) -> None:
        self.notify(plain(message.error), title=message.title, severity="error", markup=False)

    @on(ComparisonReady)
    def show_comparison(self, message: ComparisonReady) -> None:
        self.app.push_screen(TextScreen(message.text))
