"""The Models tab's details: every field of the selected model, whole (long values wrap, so what the table cuts with
"…" is read here), then what this backend cannot do and why. Wide, a value sits beside its label; narrow (beside
the table), under it."""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from fl_tui.connection.base import ModelEntry
from fl_tui.models import modelview

SIDE_BY_SIDE = 56  # at least this wide, a value sits beside its label


class ModelDetails(VerticalScroll):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shown: tuple | None = None
        self._wide = True

    def compose(self) -> ComposeResult:
        yield Static(Text("connecting…"), id="models-details")

    def show(self, entry: ModelEntry | None, specs: dict, unavailable: dict[str, str], *, connected: bool) -> None:
        fields = modelview.details(entry, specs) if entry is not None else []
        empty = "" if entry is not None else "no model selected" if connected else "connecting…"
        self._draw((empty, fields, unavailable))

    def on_resize(self, event: events.Resize) -> None:
        wide = event.size.width >= SIDE_BY_SIDE
        if wide != self._wide:
            self._wide = wide
            if self._shown is not None:
                self._draw(self._shown, force=True)

    def _draw(self, shown: tuple, *, force: bool = False) -> None:
        if shown == self._shown and not force:  # redrawn after every poll: repaint (and re-layout) only on change
            return
        self._shown = shown
        empty, fields, unavailable = shown
        parts: list = [Text(empty)] if empty else []
        if fields and self._wide:
            grid = Table.grid(padding=(0, 2, 0, 0))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="fold")  # an id without spaces is folded, never cut
            for key, value in fields:
                grid.add_row(Text(key), Text(value))
            parts.append(grid)
        else:
            for key, value in fields:
                parts += [Text(key, "bold"), Padding(Text(value, overflow="fold"), (0, 0, 0, 2))]
        if unavailable:
            lines = Text("\nnot available here\n", "bold")
            for action, reason in unavailable.items():
                lines.append(f"{action}: {reason}\n", "dim")
            parts.append(lines)
        self.query_one("#models-details", Static).update(Group(*parts))
