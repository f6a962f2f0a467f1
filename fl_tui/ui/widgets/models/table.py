"""The Models tab's table: the rows `fl_tui.ui.modelview` makes, redrawn only when they differ from what is shown,
keeping the cursor on the same model."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from fl_tui.connection.base import ModelEntry
from fl_tui.ui import modelview


class ModelsTable(DataTable):
    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._shown: list[tuple[str, list[str]]] | None = None

    def on_mount(self) -> None:
        for column in modelview.COLUMNS:
            self.add_column(column.label, key=column.key)

    def show(self, models: dict[str, ModelEntry], specs: dict, *, sort_key: str, reverse: bool, query: str) -> bool:
        """Redraw if the rows changed; True when they did."""
        shown = modelview.rows(list(models.values()), specs, sort_key=sort_key, reverse=reverse, query=query)
        if shown == self._shown:
            return False
        keep = self.selected_id()
        self.clear()
        for model_id, cells in shown:
            self.add_row(*(Text(c) for c in cells), key=model_id)
        self._shown = shown
        ids = [model_id for model_id, _ in shown]
        if keep is not None and keep in ids:
            self.move_cursor(row=ids.index(keep))
        return True

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
