"""The Annotate tab: score a run's answers 1–5 against each prompt's rubric, blind by default, from the keyboard.

All state and every save live in `fl_tui.annotate.session.ScoringSession`; this pane only draws it and turns
keys into its calls. The calls run, in order, on one worker thread (each save is an fsync), and the pane is
redrawn when each has finished, so a key press is never lost behind a slow disk and never reordered.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from fl_tui import locations
from fl_tui.annotate.quality import people_files
from fl_tui.annotate.rubric import scale_text
from fl_tui.annotate.session import OVERALL, ScoringSession
from fl_tui.annotate.stats import agreement, agreement_text, quality_by_model
from fl_tui.bench.runfiles import list_runs
from fl_tui.errors import FileProblem, UserError
from fl_tui.screens.ask import AskScreen
from fl_tui.screens.runs import RunPickerScreen, TextScreen
from fl_tui.textsafe import plain


class AnnotatePane(Vertical, can_focus=True):
    BINDINGS = [
        *(Binding(str(n), f"score({n})", f"Score {n}", id=f"annotate.score_{n}", show=n == 1) for n in range(1, 6)),
        Binding("up", "row(-1)", "Previous aspect", id="annotate.up", show=False),
        Binding("down", "row(1)", "Next aspect", id="annotate.down", show=False),
        Binding("left,p", "move(-1)", "Previous answer", id="annotate.prev"),
        Binding("right,n", "move(1)", "Next answer", id="annotate.next"),
        Binding("u", "unscored", "Next unscored", id="annotate.unscored"),
        Binding("e", "note", "Note", id="annotate.note"),
        Binding("question_mark", "scale", "Scale", id="annotate.scale"),
        Binding("r", "reveal", "Reveal models", id="annotate.reveal", show=False),
        Binding("s", "results", "Results", id="annotate.results"),
        Binding("o", "open_run", "Open run", id="annotate.open", show=False),
        Binding("pagedown", "scroll(1)", "Scroll answer down", id="annotate.page_down", show=False),
        Binding("pageup", "scroll(-1)", "Scroll answer up", id="annotate.page_up", show=False),
    ]

    def __init__(self, rater: str | None, **kwargs):
        super().__init__(**kwargs)
        self.rater = rater
        self.session: ScoringSession | None = None
        self.row = 0  # the focused aspect (the last row is the overall score)
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="annotate")
        self._shown_item: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="ann-head")
        yield Static("", id="ann-prompt")
        yield Static("", id="ann-scores")
        with VerticalScroll(id="ann-answer-box"):
            yield Static("", id="ann-answer")

    def on_mount(self) -> None:
        self.draw()

    def on_unmount(self) -> None:
        if self.session is not None:
            self._worker.submit(self.session.close)
        self._worker.shutdown(wait=True)  # every queued save lands before the app goes

    def focus_main(self) -> None:
        self.focus()
        if self.session is None:
            self.open_latest()

    # -- opening a run ------------------------------------------------------------------------------------

    @work(exclusive=True, group="annotate-open")
    async def open_latest(self) -> None:
        runs = list_runs(locations.runs_dir())
        if runs:
            await self.open_run(runs[0])

    async def open_run(self, run_dir: Path) -> None:
        if not self.rater:
            name = await self.app.push_screen_wait(AskScreen("Your rater name (kept in the config)", "", "e.g. ann"))
            if not name or not name.strip():
                return
            self.rater = name.strip()
            self.app.remember_rater(self.rater)
        try:
            session = ScoringSession.open(run_dir, self.rater)
        except (FileProblem, UserError) as exc:
            self.notify(plain(str(exc)), title="cannot annotate this run", severity="error", markup=False, timeout=10)
            return
        if self.session is not None:
            self._worker.submit(self.session.close)
        self.session, self.row, self._shown_item = session, 0, None
        if session.resumed:
            self.notify(f"resumed at answer {session.index + 1} of {session.total}", timeout=4)
        self.draw()

    @work(exclusive=True, group="annotate-open")
    async def action_open_run(self) -> None:
        runs = [(folder, folder.name) for folder in list_runs(locations.runs_dir())]
        folder = await self.app.push_screen_wait(RunPickerScreen("Annotate which run?", runs))
        if folder is not None:
            await self.open_run(folder)

    # -- keys -------------------------------------------------------------------------------------------------

    def _rows(self) -> list[str]:
        item = self.session.current
        return [*item.scored_aspects, OVERALL]

    def _do(self, fn, *args) -> None:
        """Run a session call on the worker thread, in order; redraw when it is done."""
        if self.session is None:
            self.notify("no run open: press o to open one")
            return
        future = self._worker.submit(fn, *args)
        future.add_done_callback(lambda f: self.app.call_from_thread(self._done, f))

    def _done(self, future: concurrent.futures.Future) -> None:
        exc = future.exception()
        if isinstance(exc, UserError | FileProblem):
            self.notify(plain(str(exc)), severity="error", markup=False)
        elif exc is not None:  # a bug: shown, not swallowed; the file on disk is still whole
            self.notify(plain(f"{type(exc).__name__}: {exc}"), title="unexpected error", severity="error",
                        markup=False, timeout=15)
        self.draw()

    def action_score(self, value: int) -> None:
        if self.session is not None:
            self._do(self.session.set_score, self._rows()[self.row], value)

    def action_row(self, step: int) -> None:
        if self.session is not None:
            self.row = max(0, min(len(self._rows()) - 1, self.row + step))
            self.draw()

    def action_move(self, step: int) -> None:
        if self.session is not None:
            self._do(self.session.next if step > 0 else self.session.prev)

    def action_unscored(self) -> None:
        if self.session is not None:
            self._do(self.session.next_unscored)

    def action_reveal(self) -> None:
        if self.session is not None:
            self._do(self.session.reveal)

    def action_scroll(self, pages: int) -> None:
        box = self.query_one("#ann-answer-box", VerticalScroll)
        box.scroll_page_down() if pages > 0 else box.scroll_page_up()

    @work(exclusive=True, group="annotate-note")
    async def action_note(self) -> None:
        if self.session is None:
            return
        text = await self.app.push_screen_wait(AskScreen("Note on this answer", self.session.current.note))
        if text is not None:
            self._do(self.session.set_note, text)

    def action_scale(self) -> None:
        if self.session is None:
            return
        help_text = "The scale (1–5 score the focused aspect; the same key again clears it)\n\n"
        self.app.push_screen(TextScreen(help_text + scale_text(self.session.rubric) + "\n\nF1: all keys"))

    def action_results(self) -> None:
        if self.session is None:
            return
        folder = self.session.path.parent
        files, problems = people_files(folder, self.session.run)
        lines = [f"Quality of run {self.session.run_id} (people's scores; mean, 95% CI, n)", ""]
        for model, q in quality_by_model(files).items():
            low, high = q["ci95"] or (None, None)
            ci = f"[{low:.2f}, {high:.2f}]" if low is not None else "[—]"
            lines.append(f"{plain(model)}: {q['mean']:.2f} {ci} n={q['n']}")
            lines += [f"    {plain(a)}: {m:.2f}" for a, m in (q.get("aspects") or {}).items()]
        if len(files) > 1:
            lines += ["", agreement_text(agreement(files))]
        lines += [f"left out: {p}" for p in problems]
        self.app.push_screen(TextScreen("\n".join(lines)))

    # -- drawing ------------------------------------------------------------------------------------------

    def draw(self) -> None:
        head, prompt, scores, answer = (self.query_one(f"#ann-{n}", Static) for n in ("head", "prompt", "scores",
                                                                                        "answer"))
        if self.session is None:
            head.update(Text("No run open. Run a benchmark (tab 2), then come back, or press o to open a run."))
            for box in (prompt, scores, answer):
                box.update("")
            return
        s, item = self.session, self.session.current
        done, total = s.progress
        who = plain(item.model, keep_newlines=False) if item.model is not None else "hidden (r reveals)"
        head.update(Text.assemble(
            (f" {item.index + 1}/{total} ", "bold reverse"), ("  ✓" if item.scored else "", "green"),
            f"  {done} scored · rater {plain(s.rater)} · model {who}",
            no_wrap=True, overflow="ellipsis",
        ))
        prompt.update(Text.assemble((f"{plain(item.prompt_id)} · round {item.round}: ", "bold"), plain(item.prompt)))
        rows = self._rows()
        self.row = min(self.row, len(rows) - 1)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, name in enumerate(rows):
            value = item.overall if name == OVERALL else item.scores.get(name)
            marker = "▶" if i == self.row else " "
            stars = "★" * (value or 0) + "☆" * (5 - (value or 0))
            text.append(f"{marker} {plain(name, keep_newlines=False)[:34]:<34} ", "bold" if i == self.row else "")
            text.append(f"{value if value is not None else '–'} {stars}", "green" if value else "dim")
            if value:
                text.append(f"  {plain(s.rubric.describe(value))}", "dim")
            text.append("\n")
        if item.note:
            text.append(f"note: {plain(item.note, keep_newlines=False)}\n", "italic")
        scores.update(text)
        if self._shown_item != item.index:  # the answer is redrawn (and scrolled to the top) only when it changes
            answer.update(Text(plain(item.answer) or "(empty answer)"))
            self.query_one("#ann-answer-box", VerticalScroll).scroll_home(animate=False)
            self._shown_item = item.index
