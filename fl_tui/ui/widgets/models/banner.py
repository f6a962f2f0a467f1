"""The Models tab's banner: shown only while the model catalog is unreachable, saying why."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from fl_tui.connection.base import CATALOG_UNREACHABLE_MESSAGE, CatalogState, Status
from fl_tui.core.textsafe import plain


class CatalogBanner(Static):
    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self._text = ""

    def on_mount(self) -> None:
        self.display = False

    def show(self, status: Status | None) -> None:
        offline = status is not None and status.catalog is CatalogState.UNREACHABLE
        self.display = offline
        text = f"{CATALOG_UNREACHABLE_MESSAGE} ({plain(status.detail, keep_newlines=False)})" if offline else ""
        if offline and text != self._text:  # the poll calls this every second: repaint only on change
            self._text = text
            self.update(Text(text))
