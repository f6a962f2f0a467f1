"""The top line: endpoint, backend and generation, and a status mark that the app's poll keeps current."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from fl_tui.connection.base import CatalogState, Status
from fl_tui.core.textsafe import plain

MARKS = {
    "connected": ("●", "green"),
    "offline catalog": ("◐", "yellow"),
    "unreachable": ("✕", "red"),
    "connecting": ("…", "grey50"),
}


def mark_for(status: Status | None, error: str | None) -> str:
    if error is not None:
        return "unreachable"
    if status is None:
        return "connecting"
    return "offline catalog" if status.catalog is CatalogState.UNREACHABLE else "connected"


class StatusHeader(Static):
    def show(self, status: Status | None, error: str | None = None) -> None:
        self.state = mark_for(status, error)
        symbol, colour = MARKS[self.state]
        text = Text.assemble((" fl-tui ", "bold reverse"), " ", (f"{symbol} {self.state}", colour))
        if status is not None:
            endpoint = (status.endpoint or "").removeprefix("http://")
            text.append(f" │ loaded {len(status.loaded)}")
            text.append(f" │ {plain(status.backend)} {plain(status.generation or '')}".rstrip())
            text.append(f" │ {plain(endpoint, keep_newlines=False)}", "dim")
        if error is not None:
            text.append(f"  {plain(error, keep_newlines=False)}", "red")
        if text != getattr(self, "_shown", None):  # the poll calls this every second: repaint only on change
            self._shown = text
            self.update(text, layout=False)  # one line, fixed height
