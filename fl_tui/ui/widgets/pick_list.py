"""A SelectionList whose marks read without colour: "[x]" picked, "[ ]" not. Textual's own draws "▐X▌" on every
row and tells them apart only by colour, so in a 16-colour theme every model looked picked.

It also keeps its rendered options when its tab is shown again: the Resize each shown widget gets then has the size
it had, and OptionList's own handler would drop every option it rendered (they are keyed by their style, so a focus
change leaves them valid; see fl_tui/ui/widgets/kept_table.py for the tables)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets.option_list import OptionDoesNotExist

PICKED, NOT_PICKED = "[x]", "[ ]"


class PickList(SelectionList):
    _sized: tuple | None = None  # the size, virtual size and container size of the last Resize

    def _on_resize(self, event: events.Resize) -> None:
        sized = (event.size, event.virtual_size, event.container_size)
        if sized == self._sized:
            event.prevent_default()  # OptionList's own handler would empty its caches
        self._sized = sized

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        index = self.scroll_offset.y + y
        try:
            value = self.get_option_at_index(index).value
        except OptionDoesNotExist:  # below the last option: no mark was drawn
            return line
        # The parent drew its three mark cells first; they are replaced by ours, keeping the click target.
        segments = list(line)
        rest = Strip(segments).crop(len(PICKED))
        base = segments[3].style if len(segments) > 3 and segments[3].style else self.rich_style
        picked = value in self.selected
        mark = base + Style(bold=picked, meta={"option": index})
        if picked:
            mark += Style(color=self.get_component_rich_style("selection-list--button-selected").color)
        return Strip([Segment(PICKED if picked else NOT_PICKED, mark), *rest])
