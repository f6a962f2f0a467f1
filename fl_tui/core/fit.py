"""Which columns of a table fit a width, by priority (headless): a narrow terminal keeps the columns that matter
and cuts long text with an ellipsis instead of pushing figures off the screen."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size

CELL_PADDING = 2  # the DataTable's one cell of padding on each side of a column
MIN_SHRUNK = 10  # a cut column keeps at least this many cells (or its label's width), else it is left out


def fit_widths(width: int, headers: Sequence[str], cells: Sequence[Sequence[str]], *, shrink: Sequence[bool],
               essential: int) -> dict[int, int]:
    """{column index: width} for the columns that fit in `width` cells; the columns are given in priority order.

    Each column wants its widest text; a `shrink` column may be cut down to MIN_SHRUNK (never below its header).
    The first `essential` columns come first: taken in order while their least width fits, then widened toward
    what they want; the others then share what is left the same way. A column that does not fit is skipped (a
    later, narrower one may still fit). The first column is always shown, cut to the width if it must be."""
    wanted = [max([cell_len(h), *(cell_len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    least = [min(w, max(MIN_SHRUNK, cell_len(h))) if s else w for h, w, s in zip(headers, wanted, shrink, strict=True)]
    chosen: dict[int, int] = {}
    spare = width
    for tier in (range(essential), range(essential, len(headers))):
        taken = []
        for i in tier:
            if least[i] + CELL_PADDING <= spare:
                taken.append(i)
                spare -= least[i] + CELL_PADDING
        if 0 in tier and 0 not in taken:  # too narrow even for the first: it alone, cut
            return {0: max(1, width - CELL_PADDING)}
        for i in taken:
            chosen[i] = least[i] + min(spare, wanted[i] - least[i])
            spare -= chosen[i] - least[i]
    return dict(sorted(chosen.items()))


def cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, ending with "…" when something was cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
