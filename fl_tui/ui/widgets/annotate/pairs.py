"""The Annotate tab's pairwise panel: the pair's place and verdict, the keys, then the prompt and the two answers,
side by side from WIDE columns on and stacked below, scrolling together. Text from the run (prompt, answers,
model names) is untrusted and drawn plain."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.events import Resize
from textual.widgets import Static

from fl_tui.annotate.pairwise import PairView
from fl_tui.core.textsafe import plain

WIDE = 100  # columns from which the answers stand side by side
VERDICT_WORDS = {"a": "A is better", "b": "B is better", "tie": "a tie", "both_bad": "both bad", "skipped": "skipped"}
KEYS = "a/b better · t tie · x both bad · k skip · z undo · ← → · r names · m rubric"


def head_text(view: PairView, rater: str, run_id: str) -> Text:
    """Two lines: the run and rater; the pair's place, the counts and this pair's verdict."""
    verdict = VERDICT_WORDS.get(view.verdict or "", "no verdict yet")
    skipped = f", {view.skipped} skipped" if view.skipped else ""
    return Text.assemble(
        f"Pairwise · run {plain(run_id, keep_newlines=False)} · rater {plain(rater, keep_newlines=False)}\n",
        (f" {view.index + 1}/{view.total} ", "bold reverse"), f"  judged {view.judged}/{view.total}{skipped} · ",
        (verdict, "bold" if view.verdict else "dim"),
    )


def side_text(label: str, model: str | None, answer: str) -> Text:
    who = plain(model, keep_newlines=False) if model is not None else "hidden (r shows)"
    return Text.assemble((f"{label} ", "bold reverse"), (f" {who}\n", "dim"), plain(answer) or "(empty answer)")


class PairPanel(Vertical):
    DEFAULT_CSS = """
    PairPanel #pair-head { height: auto; background: $panel; }
    PairPanel #pair-keys { height: auto; color: $text-muted; }
    PairPanel #pair-box { height: 1fr; border-top: solid $primary 40%; }
    PairPanel #pair-prompt { margin: 0 0 1 0; }
    PairPanel #pair-sides { height: auto; layout: vertical; }
    PairPanel #pair-sides > Static { margin: 0 0 1 0; }
    PairPanel #pair-sides.wide { layout: horizontal; }
    PairPanel #pair-sides.wide > Static { width: 1fr; margin: 0 1 0 0; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shown: tuple[str, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="pair-head")
        yield Static(Text(KEYS), id="pair-keys")
        with VerticalScroll(id="pair-box"):
            yield Static("", id="pair-prompt")
            with Container(id="pair-sides"):
                yield Static("", id="pair-a")
                yield Static("", id="pair-b")

    def on_resize(self, event: Resize) -> None:
        self.query_one("#pair-sides").set_class(event.size.width >= WIDE, "wide")

    def scroll_answers(self, pages: int) -> None:
        box = self.query_one("#pair-box", VerticalScroll)
        box.scroll_page_down() if pages > 0 else box.scroll_page_up()

    def show(self, view: PairView | None, rater: str = "", run_id: str = "", empty: str = "") -> None:
        """Draw `view`; with none, the one-line `empty` message."""
        head = self.query_one("#pair-head", Static)
        parts = [self.query_one(f"#pair-{n}", Static) for n in ("prompt", "a", "b")]
        if view is None:
            head.update(Text(empty))
            for part in parts:
                part.update("")
            self._shown = None
            return
        head.update(head_text(view, rater, run_id))
        prompt, a, b = parts
        prompt.update(Text.assemble((f"Prompt {plain(view.prompt_id, keep_newlines=False)} · round {view.round}: ",
                                     "bold"), plain(view.prompt)))
        a.update(side_text("A", view.model_a, view.answer_a))
        b.update(side_text("B", view.model_b, view.answer_b))
        shown = (run_id, view.index)
        if self._shown != shown:  # a new pair starts at its top
            self.query_one("#pair-box", VerticalScroll).scroll_home(animate=False)
            self._shown = shown
