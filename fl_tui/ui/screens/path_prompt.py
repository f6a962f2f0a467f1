"""Ask for a model folder to register, validating it as the person types."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from fl_tui.connection.model_folder import MARKER
from fl_tui.connection.model_folder import folder_problem as model_folder_problem
from fl_tui.core.textsafe import plain


def folder_problem(text: str) -> str | None:
    """Why what is typed is not a registrable model folder, or None when it is."""
    if not text.strip():
        return f"type the path of a folder holding {MARKER}"
    return model_folder_problem(Path(text.strip()).expanduser())


class PathPromptScreen(ModalScreen[Path | None]):
    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Register a local model folder", style="bold"), id="dialog-title")
            yield Input(placeholder="/path/to/model-folder", id="path")
            yield Static(Text(folder_problem("") or ""), id="path-problem")

    def on_input_changed(self, event: Input.Changed) -> None:
        problem = folder_problem(event.value)
        self.query_one("#path-problem", Static).update(Text(plain(problem or "✓ looks like a model folder")))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if folder_problem(event.value) is None:
            self.dismiss(Path(event.value.strip()).expanduser())

    def action_cancel(self) -> None:
        self.dismiss(None)
