"""The top line: endpoint, backend and generation, and a status mark that the app's poll keeps current."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from fl_tui.connection.base import CatalogState, Status
from fl_tui.core.textsafe import plain

# Theme variables, not colour names: each theme (fl-ansi's 16 colours too) paints the marks with its own colours.
MARKS = {
    "connected": ("●", "$success"),
    "offline catalog": ("◐", "$warning"),
    "unreachable": ("✕", "$error"),
    "connecting": ("…", "$text-muted"),
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
        parts: list[str | tuple[str, str]] = [(" fl-tui ", "bold reverse"), " ", (f"{symbol} {self.state}", colour)]
        if status is not None:
            endpoint = (status.endpoint or "").removeprefix("http://")
            parts.append(f" │ loaded {len(status.loaded)}")
            parts.append(f" │ {plain(status.backend)} {plain(status.generation or '')}".rstrip())
            parts.append((f" │ {plain(endpoint, keep_newlines=False)}", "dim"))
        if error is not None:
            parts.append((f"  {plain(error, keep_newlines=False)}", "$text-error"))
        text = Content.assemble(*parts)  # literal text: no markup is parsed
        if text != getattr(self, "_shown", None):  # the poll calls this every second: repaint only on change
            self._shown = text
            self.update(text, layout=False)  # one line, fixed height
