"""A DataTable that keeps its rendered rows across a tab switch.

Textual's DataTable empties every render cache when its styles are re-applied, which moving the focus in or out
does (`:focus`), and counts every Resize as a change of its rows, and a tab's widgets get a Resize each time the
tab is shown, their size unchanged. So a shown tab's table was rendered from scratch on every switch (16 ms of a
tab switch's ~50 ms here). Its row, cell and line caches are keyed by the focus state, the cursor, the width and
a count of its changes, so they stay valid across both; only a new theme changes what a key's entry looks like.
"""

from __future__ import annotations

from textual import events
from textual.widgets import DataTable


class KeptTable(DataTable):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._styled_for: str | None = None  # the theme the cached rows were drawn in
        self._sized: tuple | None = None  # the size, virtual size and container size of the last Resize

    def notify_style_update(self) -> None:
        theme = self.app.theme if self.is_attached else None
        if theme != self._styled_for:
            self._styled_for = theme
            super().notify_style_update()
            return
        super(DataTable, self).notify_style_update()
        self._get_styles_to_render_cell.cache_clear()  # keyed without the focus state, unlike the others
        self.refresh()

    def _on_resize(self, event: events.Resize) -> None:
        sized = (event.size, event.virtual_size, event.container_size)
        if sized == self._sized:
            event.prevent_default()  # DataTable's own handler would invalidate every cached row
        self._sized = sized
