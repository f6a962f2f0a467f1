"""A yes/no question for destructive actions: it lists what will go, and the focus starts on "No"."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from fl_tui.core.textsafe import plain


class ConfirmScreen(ModalScreen[bool]):
    AUTO_FOCUS = "#no"
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", id="confirm.no"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
    ]

    def __init__(self, title: str, lines: list[str], yes_label: str = "Yes"):
        super().__init__()
        self.title_text, self.lines, self.yes_label = title, lines, yes_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(plain(self.title_text), style="bold"), id="dialog-title")
            yield Static(Text("\n".join(f"• {plain(line)}" for line in self.lines)), id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button("No", id="no", variant="primary")
                yield Button(self.yes_label, id="yes", variant="error")


    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
