"""The Annotate tab's scoring panel: the head lines (the run, the answer's place, who rates), the rows of scores and
the prompt with its answer, drawn from one `ScoringView`. Every text wraps (nothing a rater reads is cut): an aspect
wraps under itself, and the prompt and answer scroll together below the scores. Text from the run (prompt, answer,
note, aspects, model names) is untrusted and drawn plain."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from fl_tui.annotate.cursor import ScoringView
from fl_tui.annotate.session import OVERALL
from fl_tui.core.textsafe import plain

NO_RUN_OPEN = "No run open. Run a benchmark (tab 2), then come back, or press o to open a run."


def head_text(view: ScoringView, success: Style) -> Text:
    """Two lines: the run (id, models, date) and rater; then the answer's place, the counts and the model."""
    item = view.item
    done, total = view.progress
    run = [f"run {plain(view.run_id, keep_newlines=False)}",
           f"{view.run_models} model{'s' if view.run_models != 1 else ''}"]
    if view.run_started:
        run.append(view.run_started)
    who = plain(item.model, keep_newlines=False) if item.model is not None else "hidden (r shows)"
    counts = [f"{n} {word}" for n, word in ((view.partly, "partly"), (view.skipped, "skipped")) if n]
    aside = f" ({', '.join(counts)})" if counts else ""
    mark = ("  ✓ scored", success) if item.scored else "  skipped" if item.skipped else ""
    return Text.assemble(
        " · ".join(run), f" · rater {plain(view.rater, keep_newlines=False)}\n",
        (f" {item.index + 1}/{total} ", "bold reverse"), mark,
        f"  scored {done}/{total}{aside} · model {who} · m pairwise",
    )


def scores_table(view: ScoringView, success: Style) -> Group:
    """One row per scored aspect and the overall score: marker, score and stars, then the aspect, wrapped; below
    them what the focused row's score means (or how to score), and the note."""
    item = view.item
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(width=1, no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    focused_value = None
    for i, name in enumerate(view.rows):
        value = item.overall if name == OVERALL else item.scores.get(name)
        focused = i == view.row
        if focused:
            focused_value = value
        stars = Text.assemble(f"{value if value is not None else '–'} ",
                              ("★" * (value or 0) + "☆" * (5 - (value or 0)), success if value else "dim"))
        label = Text("overall", style="bold" if focused else "italic") if name == OVERALL else \
            Text(plain(name, keep_newlines=False), style="bold" if focused else "")
        table.add_row(Text("▶" if focused else " ", style="bold"), stars, label)
    if focused_value:
        meaning = Text.assemble((f"{focused_value} = ", "bold"), plain(view.levels[focused_value]), style="dim")
    else:
        meaning = Text("1–5 scores the ▶ row (the same key again clears it) · ↑↓ rows · ? the scale", style="dim")
    parts = [table, meaning]
    if item.note:
        parts.append(Text(f"note: {plain(item.note, keep_newlines=False)}", style="italic"))
    return Group(*parts)


def answer_text(view: ScoringView) -> Text:
    """The prompt, then the answer, each wrapping."""
    item = view.item
    return Text.assemble(
        (f"Prompt {plain(item.prompt_id, keep_newlines=False)} · round {item.round}: ", "bold"),
        plain(item.prompt), "\n\n", ("Answer: ", "bold"), plain(item.answer) or "(empty answer)",
    )


class ScoringPanel(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shown_item: tuple[str, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="ann-head")
        yield Static("", id="ann-scores")
        with VerticalScroll(id="ann-answer-box"):
            yield Static("", id="ann-answer")

    def scroll_answer(self, pages: int) -> None:
        box = self.query_one("#ann-answer-box", VerticalScroll)
        box.scroll_page_down() if pages > 0 else box.scroll_page_up()

    def show(self, view: ScoringView | None, empty: str | None = None) -> None:
        """Draw `view`; with none, the one-line `empty` message (or how to open a run)."""
        head, scores, answer = (self.query_one(f"#ann-{n}", Static) for n in ("head", "scores", "answer"))
        if view is None:
            head.update(Text(empty or NO_RUN_OPEN))
            scores.update("")
            answer.update("")
            self._shown_item = None
            return
        # The theme's own success colour (fl-ansi's is one of the 16), read at each draw: themes can change.
        success = Style(color=Color.parse(self.app.theme_variables["success"]).rich_color)
        head.update(head_text(view, success))
        scores.update(scores_table(view, success))
        shown = (view.run_id, view.item.index)
        if self._shown_item != shown:  # the answer is redrawn (and scrolled to the top) only when it changes
            answer.update(answer_text(view))
            self.query_one("#ann-answer-box", VerticalScroll).scroll_home(animate=False)
            self._shown_item = shown
