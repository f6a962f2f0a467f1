"""A tab whose issue has not landed yet says what it will hold, instead of being empty."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ComingPane(Static):
    can_focus = True  # a shown tab must hold the focus, or Textual hands it back to a hidden tab's widget

    def __init__(self, what: str, **kwargs):
        super().__init__(Text(what), **kwargs)

    def focus_main(self) -> None:
        self.focus()
