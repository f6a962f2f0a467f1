"""A chart's y axis: its limits and its ticks, at round values (steps of 1, 2 or 5 times a power of ten), evenly
spaced, and never two on one row. Headless; fl_tui/ui/widgets/run_chart.py draws with them.

plotext's own y ticks are seven values spread evenly between the limits whatever the height: on a short chart two
fall on one row and the later label overwrites the earlier (a value goes missing), and between data limits they
land on values like 104.9, or 0.5 on an axis of counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MOST_TICKS = 7  # plotext's own number, on a tall chart
ROWS_APART = 2  # from one tick to the next: a label's row and a free one, when the chart has the rows
STEPS = (1, 2, 5)  # times a power of ten
SLACK = 1e-9  # of the span: a limit that is a multiple of the step up to rounding still gets its tick


def histogram(values: Sequence[float], bins: int) -> tuple[list[float], list[int]]:
    """plotext's histogram (its `hist`), computed here so that the chart knows its tallest bar: `bins` bins of equal
    width from the least value to the greatest, the greatest in the last; where plotext places each bin on the x
    axis (evenly from the least value to the greatest) and its count."""
    if not values:
        return [], []
    low, high = min(values), max(values)
    counts = [0] * bins
    for value in values:
        counts[bins - 1 if value == high else int((value - low) / (high - low) * bins)] += 1
    slope = (high - low) / (bins - 1) if bins > 1 else 0
    return [low + i * slope for i in range(bins)], counts


def data_limits(values: Sequence[float]) -> tuple[float, float]:
    """The least and the greatest value; a single value is widened as plotext widens it (half below, half above;
    0 to -1..1)."""
    low, high = min(values), max(values)
    if low < high:
        return low, high
    return (0.5 * low, 1.5 * low) if low else (-1.0, 1.0)


def nice_ticks(low: float, high: float, rows: int, *, whole: bool = False) -> tuple[list[float], list[str]]:
    """The y ticks between `low` and `high` (both included) on a canvas of `rows` rows, and their labels: the
    smallest round step that gives at most MOST_TICKS ticks, ROWS_APART rows apart (one row apart on a chart too
    short for two ticks so), whole numbers only when `whole` (counts). Nothing to tick (high <= low, under two
    rows): none."""
    if not high > low or rows < 2:
        return [], []
    for apart in (ROWS_APART, 1):
        ticks, decimals = _round_ticks(low, high, rows, apart, whole)
        if len(ticks) >= 2:
            break
    return ticks, [f"{tick:.{decimals}f}" for tick in ticks]


def _round_ticks(low: float, high: float, rows: int, apart: int, whole: bool) -> tuple[list[float], int]:
    """The ticks of the smallest round step that fits, and the decimals its labels need."""
    span = high - low
    slack = span * SLACK
    exponent = math.floor(math.log10(span / MOST_TICKS))
    if whole:
        exponent = max(exponent, 0)
    while True:  # 1, 2, 5, 10, 20, … times 10**exponent: a step large enough always comes
        for multiple in STEPS:
            step = multiple * 10.0**exponent
            first, last = math.ceil((low - slack) / step), math.floor((high + slack) / step)
            if last - first < MOST_TICKS and step / span * (rows - 1) >= apart:
                decimals = max(0, -exponent)
                return [round(k * step, decimals) for k in range(first, last + 1)], decimals
        exponent += 1
