"""The Models tab's table: the rows `fl_tui.models.modelview` makes, in the columns that fit its width (re-chosen on
resize), redrawn only when rows or columns differ from what is shown, keeping the cursor on the same model."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message

from fl_tui.connection.base import ModelEntry
from fl_tui.core.fit import cut
from fl_tui.models import modelview
from fl_tui.ui.widgets.kept_table import KeptTable


class ModelsTable(KeptTable):
    class Redrawn(Message):
        """Rows or columns changed: what is selected, and so which actions apply, may have too."""

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._rows: list[tuple[str, list[str]]] = []
        self._sort = ("alias", False)
        self._shown: tuple[list[modelview.Fitted], list[tuple[str, list[str]]]] | None = None
        self._expected_width = 0  # before the first layout: the width the pane expects this table to get

    def show(self, models: dict[str, ModelEntry], specs: dict, *, sort_key: str, reverse: bool, query: str) -> None:
        """Redraw if the rows or the sort changed (Redrawn says when they did)."""
        self._rows = modelview.rows(list(models.values()), specs, sort_key=sort_key, reverse=reverse, query=query)
        self._sort = (sort_key, reverse)
        self._draw()

    def expect_width(self, width: int) -> None:
        """Rows shown before the first layout are drawn for this width, so they are in the first frame: the first
        Resize comes after it. A wrong guess costs what no guess does: that Resize draws them again."""
        self._expected_width = width

    def on_resize(self, event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        # The vertical scrollbar's room is always kept, so that a few more rows never change the columns.
        width = (self.size.width or self._expected_width) - self.styles.scrollbar_size_vertical
        if width <= 0:  # not laid out yet: the first resize draws
            return
        sort_key, reverse = self._sort
        columns = modelview.fit_columns(width, [cells for _, cells in self._rows], sort_key=sort_key,
                                        reverse=reverse)
        index = {c.key: i for i, c in enumerate(modelview.COLUMNS)}
        shown = [(model_id, [cut(cells[index[c.key]], c.width) for c in columns])
                 for model_id, cells in self._rows]
        if (columns, shown) == self._shown:
            return
        keep = self.selected_id()
        if self._shown is None or columns != self._shown[0]:
            self.clear(columns=True)
            for column in columns:
                self.add_column(Text(column.header), key=column.key, width=column.width)
        else:
            self.clear()
        for model_id, cells in shown:
            self.add_row(*(Text(c) for c in cells), key=model_id)
        self._shown = (columns, shown)
        ids = [model_id for model_id, _ in shown]
        if keep is not None and keep in ids:
            self.move_cursor(row=ids.index(keep))
        self.post_message(self.Redrawn())

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
