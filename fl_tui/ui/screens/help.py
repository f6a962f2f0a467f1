"""`?`: every key and what it does, and how each metric is defined, so a newcomer never has to guess."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from fl_tui.bench.definitions import DEFINITIONS


def binding_rows(groups: dict[str, list[Binding]], key_of) -> Text:
    """Key, what it does, and the id a `[keys]` table in the config rebinds it by."""
    text = Text()
    for group, bindings in groups.items():
        text.append(f"{group}\n", "bold underline")
        for b in bindings:
            text.append(f"  {key_of(b):<14}", "bold")
            text.append(f"{b.tooltip or b.description or b.action:<30}")  # the footer's label is the short one
            text.append(f" {b.id or ''}\n", "dim")
        text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    AUTO_FOCUS = "#help"  # the arrows and page keys scroll at once
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, groups: dict[str, list[Binding]], key_of):
        """`key_of(binding)` is the key as shown, user keymap applied."""
        super().__init__()
        self.groups, self.key_of = groups, key_of

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            title = "fl-tui help  (Esc closes; Ctrl+P finds any action by name; the dim ids are for [keys])"
            yield Static(Text(title, style="bold"))
            yield Static(binding_rows(self.groups, self.key_of))
            metrics = Text("How the figures are defined\n", "bold underline")
            for name, definition in DEFINITIONS:
                metrics.append(f"  {name}: ", "bold")
                metrics.append(f"{definition}\n")
            yield Static(metrics)

    def on_screen_resume(self) -> None:
        """Kept between opens (FlTuiApp.action_help): each opens at the top."""
        self.query_one("#help", VerticalScroll).scroll_home(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
