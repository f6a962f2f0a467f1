"""The Annotate tab: score a run's answers 1–5 against each prompt's rubric, blind by default, from the keyboard;
or (m switches) judge two models' answers to the same prompt side by side, A / B / tie / both bad.

All state and every save live in `fl_tui.annotate.session.ScoringSession`, which is not thread-safe: it is opened,
changed and read only on this pane's one worker thread, in key order, and so is the focused row (the aspect a
score key applies to; both are `fl_tui.annotate.cursor.ScoringCursor`). Each call answers with an immutable
`ScoringView` that the pane's `ScoringPanel` draws, so fast typing
(a move, then a score) always scores the aspect the person saw next, and a slow disk (each save is an fsync)
never blocks a key. Pairwise mode works alike: its `PairwiseSession` lives on the same thread and answers with a
`PairView` that the `PairPanel` draws.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message

from fl_tui.annotate.cursor import ScoringCursor, ScoringView
from fl_tui.annotate.pairstats import results_text as pairwise_results_text
from fl_tui.annotate.pairwise import PairView, PairwiseSession, pairwise_files
from fl_tui.annotate.quality import results_text
from fl_tui.annotate.session import NothingToScore, ScoringSession, newest_to_score
from fl_tui.bench.runfiles import RunListing, describe_runs, list_runs
from fl_tui.core import locations
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.textsafe import plain
from fl_tui.ui.screens.ask import AskScreen
from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen
from fl_tui.ui.widgets.annotate.pairs import PairPanel
from fl_tui.ui.widgets.annotate.panel import ScoringPanel

NO_RUN_TO_SCORE = "No run has answers to score: run a benchmark (tab 2), or o opens a run."


def opening_problem(exc: UserError, run_dir: Path) -> str:
    """Why a run did not open, short enough for a one-line notification: files by name, not by path."""
    if isinstance(exc, NothingToScore):
        return f"run {run_dir.name} has no answers to score"
    if isinstance(exc, FileProblem):
        where = Path(exc.path).name + (f":{exc.line}" if exc.line else "")
        return f"cannot annotate: {where}: {' '.join(exc.message.split())}"
    return f"cannot annotate: {' '.join(str(exc).split())}"


class ViewChanged(Message):
    """Posted from the worker thread: the new view (None when nothing could be opened), any problem, and a
    one-line notice of what a key did when the view alone would not say it."""

    def __init__(self, view: ScoringView | None, problem: str | None = None, unexpected: bool = False,
                 opened: bool = False, notice: str | None = None):
        super().__init__()
        self.view, self.problem, self.unexpected, self.opened = view, problem, unexpected, opened
        self.notice = notice


class PairChanged(Message):
    """Posted from the worker thread in pairwise mode: the pair to draw (None: pairwise mode could not open), any
    problem, and a one-line notice."""

    def __init__(self, view: PairView | None, problem: str | None = None, notice: str | None = None):
        super().__init__()
        self.view, self.problem, self.notice = view, problem, notice


@dataclass
class LatestFound(Message):
    """Posted from a thread worker: the newest run with answers to score, or None when there is none."""

    folder: Path | None


@dataclass
class RunsToAnnotate(Message):
    """Posted from a thread worker: the runs to pick one from."""

    runs: list[RunListing]


RUBRIC_ONLY = {"score", "row", "move", "unscored", "note", "scale", "skip"}
PAIRWISE_ONLY = {"verdict", "pair_move"}  # pair_move: the same keys as move, not shown in the footer


class AnnotatePane(Vertical, can_focus=True):
    BINDINGS = [
        *(Binding(str(n), f"score({n})", "Score", id=f"annotate.score_{n}", show=n == 1, key_display="1-5",
                  tooltip=f"Score {n} (the same key again clears it)") for n in range(1, 6)),
        Binding("a", "verdict('a')", "A better", id="annotate.pair_a", tooltip="Pairwise: answer A is better"),
        Binding("b", "verdict('b')", "B better", id="annotate.pair_b", tooltip="Pairwise: answer B is better"),
        Binding("t", "verdict('tie')", "Tie", id="annotate.pair_tie", tooltip="Pairwise: a tie, both as good"),
        Binding("x", "verdict('both_bad')", "Both bad", id="annotate.pair_both_bad",
                tooltip="Pairwise: both answers are bad"),
        Binding("k", "verdict('skipped')", "Skip", id="annotate.pair_skip", show=False,
                tooltip="Pairwise: skip this pair (marked skipped, left out of the results)"),
        Binding("up", "row(-1)", "Previous aspect", id="annotate.up", show=False),
        Binding("down", "row(1)", "Next aspect", id="annotate.down", show=False),
        # one footer entry for both, as 1-5 is one for the scores: at 80 columns the tab's keys and Quit just fit
        Binding("left,p", "move(-1)", "Answer", id="annotate.prev", key_display="←→", tooltip="Previous answer"),
        Binding("right,n", "move(1)", "Next", id="annotate.next", show=False, tooltip="Next answer"),
        Binding("left,p", "pair_move(-1)", "Previous pair", id="annotate.pair_prev", show=False),
        Binding("right,n", "pair_move(1)", "Next pair", id="annotate.pair_next", show=False),
        Binding("u", "unscored", "Unscored", id="annotate.unscored", tooltip="Next unscored answer"),
        Binding("z", "undo", "Undo", id="annotate.undo",
                tooltip="Take back the last change (a score, note, skip or verdict), any number of steps"),
        Binding("x", "skip", "Skip", id="annotate.skip", show=False,
                tooltip="Mark this answer skipped and go on (x again takes the mark off)"),
        Binding("e", "note", "Note", id="annotate.note"),
        Binding("question_mark", "scale", "Scale", id="annotate.scale", tooltip="The scale's descriptions"),
        Binding("r", "reveal", "Show/hide models", id="annotate.reveal", show=False),
        Binding("s", "results", "Results", id="annotate.results"),
        Binding("o", "open_run", "Open run", id="annotate.open", show=False),
        Binding("m", "mode", "Mode", id="annotate.mode", show=False,
                tooltip="Switch between rubric scores and pairwise A/B judging"),
        Binding("pagedown", "scroll(1)", "Scroll answer down", id="annotate.page_down", show=False),
        Binding("pageup", "scroll(-1)", "Scroll answer up", id="annotate.page_up", show=False),
    ]

    def __init__(self, rater: str | None, *, auto_advance: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.rater = rater
        self.auto_advance = auto_advance  # settings: once an answer is scored, on to the next unscored
        self.view: ScoringView | None = None  # the last snapshot drawn; None until a run is open
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="annotate")
        self._scoring: ScoringCursor | None = None  # the worker thread's own
        self._empty: str | None = None  # what the panel says while no run is open
        self.mode = "rubric"  # or "pairwise"; changed on the UI thread only, once pairwise mode opened
        self.pair_view: PairView | None = None  # the last pair drawn
        self._pairs: PairwiseSession | None = None  # the worker thread's own

    def compose(self) -> ComposeResult:
        yield ScoringPanel(id="ann-panel")
        yield PairPanel(id="ann-pairs")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Each mode's own keys only (hidden from the footer in the other); a digit in pairwise mode is a tab key."""
        return action not in (PAIRWISE_ONLY if self.mode == "rubric" else RUBRIC_ONLY)

    def on_mount(self) -> None:
        self.draw()

    def draw(self) -> None:
        pairwise = self.mode == "pairwise"
        self.query_one(ScoringPanel).display = not pairwise
        self.query_one(PairPanel).display = pairwise
        if pairwise:
            self.query_one(PairPanel).show(self.pair_view, self.rater or "", self.view.run_id if self.view else "")
        else:
            self.query_one(ScoringPanel).show(self.view, self._empty)

    def on_unmount(self) -> None:
        self._executor.submit(self._close)
        self._executor.shutdown(wait=True)  # every queued save lands before the app goes

    def focus_main(self) -> None:
        self.screen.set_focus(self)  # at once: see FlTuiApp.action_show_tab
        if self.view is None:
            self.open_latest()

    async def idle(self) -> None:
        """Return once every call queued so far has run (its view is posted, to be drawn next)."""
        await asyncio.wrap_future(self._executor.submit(lambda: None))

    # -- the worker thread --------------------------------------------------------------------------------

    def _close(self) -> None:
        if self._scoring is not None:
            self._scoring.session.close()
            self._scoring = None
        self._pairs = None  # every change is saved as it is made

    def _open_pairs(self) -> None:
        """Open (or resume) the rater's pairwise file of the open run and post its first pair."""
        if self._scoring is None:
            return
        session = self._scoring.session
        try:
            self._pairs = PairwiseSession.open(session.path.parent, session.rater)
        except (FileProblem, UserError) as exc:
            self.post_message(PairChanged(None, problem=opening_problem(exc, session.path.parent)))
            return
        notice = f"pairwise: resumed at pair {self._pairs.index + 1} of {self._pairs.total}" \
            if self._pairs.resumed else f"pairwise: {self._pairs.total} pairs to judge"
        self.post_message(PairChanged(self._pairs.view(), notice=notice))

    def _run_pairs(self, change) -> None:
        """Apply `change` to the pairwise session, then post the pair to draw, with any notice or problem."""
        if self._pairs is None:
            return
        problem, notice = None, None
        try:
            notice = change(self._pairs)
        except (UserError, FileProblem) as exc:
            problem = str(exc)
        except Exception as exc:  # a bug: shown, not swallowed; the file on disk is still whole
            problem = f"unexpected error: {type(exc).__name__}: {exc}"
        self.post_message(PairChanged(self._pairs.view(), problem, notice))

    def _open(self, run_dir: Path, rater: str) -> None:
        try:
            session = ScoringSession.open(run_dir, rater)
        except (FileProblem, UserError) as exc:
            self.post_message(ViewChanged(None, opening_problem(exc, run_dir)))
            return
        self._close()
        self._scoring = ScoringCursor(session, auto_advance=self.auto_advance)
        self.post_message(ViewChanged(self._scoring.view(), opened=True))
        if self.mode == "pairwise":  # another run opened in pairwise mode: its pairs
            self._open_pairs()

    def _run(self, change) -> None:
        """Apply `change` to the scoring state, then post what to draw (also after a failure), with the one-line
        notice `change` may return."""
        if self._scoring is None:
            return
        problem, unexpected, notice = None, False, None
        try:
            notice = change(self._scoring)
        except (UserError, FileProblem) as exc:
            problem = str(exc)
        except Exception as exc:  # a bug: shown, not swallowed; the file on disk is still whole
            problem, unexpected = f"{type(exc).__name__}: {exc}", True
        self.post_message(ViewChanged(self._scoring.view(), problem, unexpected, notice=notice))

    # -- opening a run ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="annotate-list", exit_on_error=False)
    def open_latest(self) -> None:
        """Find the newest run that has answers to score, for `open_found` to open."""
        self.post_message(LatestFound(newest_to_score(list_runs(locations.runs_dir()))))

    @on(LatestFound)
    def open_found(self, message: LatestFound) -> None:
        """Without a run to score, the panel says so."""
        if message.folder is None:
            self._empty = NO_RUN_TO_SCORE
            self.draw()
            return
        self.open_run(message.folder)

    @work(exclusive=True, group="annotate-open")
    async def open_run(self, run_dir: Path) -> None:
        if not self.rater:
            name = await self.app.push_screen_wait(AskScreen("Your rater name (kept in the config)", "", "e.g. ann"))
            if not name or not name.strip():
                return
            self.rater = name.strip()
            self.app.remember_rater(self.rater)
        await asyncio.wrap_future(self._executor.submit(self._open, run_dir, self.rater))

    @work(thread=True, exclusive=True, group="annotate-list", exit_on_error=False)
    def action_open_run(self) -> None:
        self.post_message(RunsToAnnotate(describe_runs(locations.runs_dir())))

    @on(RunsToAnnotate)
    def pick_run(self, message: RunsToAnnotate) -> None:
        self.app.push_screen(RunPickerScreen("Annotate which run?", message.runs), self._picked)

    def _picked(self, folder: Path | None) -> None:
        if folder is not None:
            self.open_run(folder)

    @on(ViewChanged)
    def handle_view(self, message: ViewChanged) -> None:
        if not self.app.is_running:  # shutting down: the saves still land, nothing is left to draw on
            return
        if message.problem is not None:
            self.notify(plain(message.problem), title="unexpected error" if message.unexpected else None,
                        severity="error", markup=False, timeout=15 if message.unexpected else 10)
        if message.notice is not None:
            self.notify(plain(message.notice, keep_newlines=False), markup=False, timeout=4)  # names from files
        if message.view is None:
            return
        self.view = message.view
        if message.opened and message.view.resumed:
            self.notify(f"resumed at answer {message.view.item.index + 1} of {message.view.total}", timeout=4)
        self.draw()

    @on(PairChanged)
    def handle_pairs(self, message: PairChanged) -> None:
        if not self.app.is_running:
            return
        if message.problem is not None:
            self.notify(plain(message.problem), severity="error", markup=False, timeout=10)
        if message.notice is not None:
            self.notify(plain(message.notice), markup=False, timeout=4)
        if message.view is None:  # pairwise mode did not open: back to the rubric
            self.mode, self.pair_view = "rubric", None
        else:
            self.mode, self.pair_view = "pairwise", message.view
        self.refresh_bindings()
        self.draw()

    # -- keys ---------------------------------------------------------------------------------------------

    def _no_run(self) -> bool:
        """True, having said so, when no run is open (a key that needs one answers rather than doing nothing)."""
        if self.view is None:
            self.notify("no run open: press o to open one")
            return True
        return False

    def _do(self, change) -> None:
        """Queue a change to the scoring state; it runs on the worker thread after every earlier one."""
        if not self._no_run():
            self._executor.submit(self._run, change)

    def action_score(self, value: int) -> None:
        self._do(lambda scoring: scoring.score(value))

    def action_row(self, step: int) -> None:
        self._do(lambda scoring: scoring.step_row(step))

    def action_move(self, step: int) -> None:
        self._do(lambda scoring: scoring.move(step))

    def action_pair_move(self, step: int) -> None:
        end = "this is the last pair" if step > 0 else "this is the first pair"
        self._pair(lambda pairs: None if pairs.move(step) else end)

    def _pair(self, change) -> None:
        """Queue a change to the pairwise session, after every earlier change."""
        if not self._no_run():
            self._executor.submit(self._run_pairs, change)

    def action_mode(self) -> None:
        """Rubric to pairwise (opening the rater's pairwise file of the run on the worker thread) and back."""
        if self._no_run():
            return
        if self.mode == "pairwise":
            self.mode = "rubric"
            self.refresh_bindings()
            self.draw()
        else:
            self._executor.submit(self._open_pairs)

    def action_verdict(self, verdict: str) -> None:
        self._pair(lambda pairs: pairs.judge(verdict))

    def action_unscored(self) -> None:
        self._do(lambda scoring: scoring.next_unscored())

    def action_undo(self) -> None:
        """The mode's own last change: each mode's file keeps its steps."""
        if self.mode == "pairwise":
            self._pair(lambda pairs: None if pairs.undo() else "nothing to undo")
        else:
            self._do(lambda scoring: scoring.undo())

    def action_skip(self) -> None:
        self._do(lambda scoring: scoring.skip())

    def action_reveal(self) -> None:
        if self.mode == "pairwise":
            def toggle(pairs: PairwiseSession) -> str:
                pairs.show_models(not pairs.revealed)
                return "model names shown (r hides them)" if pairs.revealed else "model names hidden (r shows them)"

            self._pair(toggle)
        else:
            self._do(lambda scoring: scoring.toggle_models())

    def action_scroll(self, pages: int) -> None:
        if self.mode == "pairwise":
            self.query_one(PairPanel).scroll_answers(pages)
        else:
            self.query_one(ScoringPanel).scroll_answer(pages)

    @work(exclusive=True, group="annotate-note")
    async def action_note(self) -> None:
        if self._no_run():
            return
        text = await self.app.push_screen_wait(AskScreen("Note on this answer", self.view.item.note))
        if text is not None:
            self._do(lambda scoring: scoring.session.set_note(text))

    def action_scale(self) -> None:
        if self._no_run():
            return
        help_text = "The scale (1–5 score the focused aspect; the same key again clears it)\n\n"
        self.app.push_screen(TextScreen(help_text + self.view.scale + "\n\nF1: all keys", wrap=True))

    @work(exclusive=True, group="annotate-results")
    async def action_results(self) -> None:
        if self._no_run():
            return
        text = await asyncio.wrap_future(self._executor.submit(self._results_text, self.mode))
        self.app.push_screen(TextScreen(text, wrap=True))

    def _results_text(self, mode: str) -> str:
        """The mode's results, on the worker thread: people's rubric scores, or every pairwise file's verdicts."""
        session = self._scoring.session
        if mode != "pairwise":
            return results_text(session)
        files, problems = pairwise_files(session.path.parent, session.run)
        return pairwise_results_text(session.run_id, files, problems)
