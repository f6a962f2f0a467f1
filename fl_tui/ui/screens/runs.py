"""Pick an earlier run (to open it, or as one side of a comparison), and show a comparison."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from fl_tui.bench.runfiles import RunListing
from fl_tui.core.textsafe import plain


class RunPickerScreen(ModalScreen[Path | None]):
    AUTO_FOCUS = "OptionList"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="runs.cancel")]

    def __init__(self, title: str, runs: list[RunListing]):
        """`runs`: newest first."""
        super().__init__()
        self.title_text, self.runs = title, runs

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="dialog-title")
            if self.runs:
                # each line cut with an ellipsis at the dialog's width, never wrapped into the next run's
                yield OptionList(*(Option(Text(run.label(), no_wrap=True, overflow="ellipsis"), id=str(i))
                                   for i, run in enumerate(self.runs)))
            else:
                yield Static(Text("no runs yet: start one with Ctrl+R on the set-up view"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.runs[int(event.option.id)].folder)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Monospace text in a scrollable box: a table (the comparison of two runs) whose rows never wrap and scroll
    sideways half a box at a ←/→, or lines (results, a scale) wrapped at the box's width (`wrap`)."""

    AUTO_FOCUS = "#help"  # the arrows and page keys scroll at once
    BINDINGS = [Binding("escape,q", "close", "Close", id="text.close"),
                Binding("right", "sideways(1)", "Scroll right", id="text.right", show=False, priority=True),
                Binding("left", "sideways(-1)", "Scroll left", id="text.left", show=False, priority=True)]

    def __init__(self, text: str, *, wrap: bool = False):
        super().__init__(classes="wrapped" if wrap else "")
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text(plain(self.text)))

    def action_sideways(self, step: int) -> None:
        """Half the box a key, not a column: a wide table's far columns are a key or two away, not fifty."""
        box = self.query_one("#help", VerticalScroll)
        box.scroll_relative(x=step * max(8, box.scrollable_content_region.width // 2), animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
