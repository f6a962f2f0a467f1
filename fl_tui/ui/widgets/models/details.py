"""The Models tab's details: every field of the selected model, then what this backend cannot do and why."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from fl_tui.connection.base import ModelEntry
from fl_tui.ui import modelview


class ModelDetails(VerticalScroll):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._text: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("connecting…"), id="models-details")

    def show(self, entry: ModelEntry | None, specs: dict, unavailable: dict[str, str], *, connected: bool) -> None:
        text = Text()
        if entry is None:
            text.append("no model selected" if connected else "connecting…")
        else:
            fields = modelview.details(entry, specs)
            width = max(len(k) for k, _ in fields)
            for key, value in fields:
                text.append(f"{key:<{width}}  ", "bold")
                text.append(f"{value}\n")
        if unavailable:
            text.append("\nnot available here\n", "bold")
            for action, reason in unavailable.items():
                text.append(f"{action}: {reason}\n", "dim")
        if text != self._text:  # redrawn after every poll: repaint (and re-layout) only on change
            self._text = text
            self.query_one("#models-details", Static).update(text)
