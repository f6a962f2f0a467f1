"""The Annotate tab's scoring panel: the head line, the prompt, the rows of scores and the answer, drawn from one
`ScoringView`. Text from the run (prompt, answer, note, model names) is untrusted and drawn plain."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from fl_tui.annotate.cursor import ScoringView
from fl_tui.annotate.session import OVERALL
from fl_tui.core.textsafe import plain


class ScoringPanel(Vertical):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shown_item: tuple[str, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="ann-head")
        yield Static("", id="ann-prompt")
        yield Static("", id="ann-scores")
        with VerticalScroll(id="ann-answer-box"):
            yield Static("", id="ann-answer")

    def scroll_answer(self, pages: int) -> None:
        box = self.query_one("#ann-answer-box", VerticalScroll)
        box.scroll_page_down() if pages > 0 else box.scroll_page_up()

    def show(self, view: ScoringView | None) -> None:
        head, prompt, scores, answer = (self.query_one(f"#ann-{n}", Static) for n in ("head", "prompt", "scores",
                                                                                        "answer"))
        if view is None:
            head.update(Text("No run open. Run a benchmark (tab 2), then come back, or press o to open a run."))
            for box in (prompt, scores, answer):
                box.update("")
            return
        item = view.item
        done, total = view.progress
        who = plain(item.model, keep_newlines=False) if item.model is not None else "hidden (r reveals)"
        head.update(Text.assemble(
            (f" {item.index + 1}/{total} ", "bold reverse"), ("  ✓" if item.scored else "", "green"),
            f"  {done} scored · rater {plain(view.rater)} · model {who}",
            no_wrap=True, overflow="ellipsis",
        ))
        prompt.update(Text.assemble((f"{plain(item.prompt_id)} · round {item.round}: ", "bold"), plain(item.prompt)))
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, name in enumerate(view.rows):
            value = item.overall if name == OVERALL else item.scores.get(name)
            marker = "▶" if i == view.row else " "
            stars = "★" * (value or 0) + "☆" * (5 - (value or 0))
            text.append(f"{marker} {plain(name, keep_newlines=False)[:34]:<34} ", "bold" if i == view.row else "")
            text.append(f"{value if value is not None else '–'} {stars}", "green" if value else "dim")
            if value:
                text.append(f"  {plain(view.levels[value])}", "dim")
            text.append("\n")
        if item.note:
            text.append(f"note: {plain(item.note, keep_newlines=False)}\n", "italic")
        scores.update(text)
        shown = (view.run_id, item.index)
        if self._shown_item != shown:  # the answer is redrawn (and scrolled to the top) only when it changes
            answer.update(Text(plain(item.answer) or "(empty answer)"))
            self.query_one("#ann-answer-box", VerticalScroll).scroll_home(animate=False)
            self._shown_item = shown
