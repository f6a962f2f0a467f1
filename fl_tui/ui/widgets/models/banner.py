"""The Models tab's banner: shown while the list is the last one seen (the backend not up yet), or while the model
catalog is unreachable, saying why."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from fl_tui.connection.base import CATALOG_UNREACHABLE_MESSAGE, CatalogState, Status
from fl_tui.core.textsafe import plain


def last_seen_message(saved: float, now: float | None = None) -> str:
    """When the shown list was seen: the time alone on the same day, the date too before it."""
    when, today = time.localtime(saved), time.localtime(now)
    shown = time.strftime("%H:%M" if when[:3] == today[:3] else "%Y-%m-%d %H:%M", when)
    return f"last seen {shown}, connecting: keys act when the backend answers"  # fits 80 columns, dated too


class CatalogBanner(Static):
    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self._text = ""

    def on_mount(self) -> None:
        self.display = False

    def show_last(self, saved: float) -> None:
        self.display = True
        self._say(last_seen_message(saved))

    def show(self, status: Status | None) -> None:
        offline = status is not None and status.catalog is CatalogState.UNREACHABLE
        self.display = offline
        if offline:
            self._say(f"{CATALOG_UNREACHABLE_MESSAGE} ({plain(status.detail, keep_newlines=False)})")

    def _say(self, text: str) -> None:
        if text != self._text:  # the poll calls this every second: repaint only on change
            self._text = text
            self.update(Text(text))
