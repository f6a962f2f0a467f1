"""The charts' y axis: round ticks, evenly spaced, none lost to a shared row, and the histogram plotext draws."""

import itertools
import math

import plotext
from hypothesis import given
from hypothesis import strategies as st

from fl_tui.bench.chartaxis import MOST_TICKS, data_limits, histogram, nice_ticks


def row_of(y: float, low: float, high: float, rows: int) -> int:
    """The canvas row (0 = bottom) plotext puts a tick at `y` on (its get_matrix_data, written out)."""
    return math.floor(round(0.5 + (rows - 1) * (y - low) / (high - low), 8))


def is_round(step: float) -> bool:
    """1, 2 or 5 times a power of ten."""
    exponent = math.floor(math.log10(step))
    return any(math.isclose(step, m * 10.0**exponent, rel_tol=1e-6) for m in (1, 2, 5, 10))


def test_counts_get_every_whole_number_and_no_halves():
    assert nice_ticks(0, 3, 14, whole=True) == ([0, 1, 2, 3], ["0", "1", "2", "3"])
    assert nice_ticks(0, 7, 20, whole=True) == ([0, 2, 4, 6], ["0", "2", "4", "6"])  # at most 7 ticks


def test_data_limits_get_round_ticks_inside_them():
    assert nice_ticks(12.3, 123.4, 14) == ([20, 40, 60, 80, 100, 120], ["20", "40", "60", "80", "100", "120"])
    assert nice_ticks(0.0012, 0.0093, 20) == ([0.002, 0.004, 0.006, 0.008], ["0.002", "0.004", "0.006", "0.008"])
    assert nice_ticks(-5, 5, 11) == ([-4, -2, 0, 2, 4], ["-4", "-2", "0", "2", "4"])


def test_a_short_chart_gets_fewer_ticks_not_a_missing_one():
    """On 6 rows, 0 1 2 3 would put 1 and 2 on neighbouring rows: one step in two is kept instead."""
    assert nice_ticks(0, 3, 6, whole=True) == ([0, 2], ["0", "2"])
    assert nice_ticks(12.3, 123.4, 5) == ([50, 100], ["50", "100"])  # 100 alone two rows apart: one row apart


def test_nothing_to_tick():
    assert nice_ticks(1, 1, 20) == ([], [])
    assert nice_ticks(0, 3, 1) == ([], [])


@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6), st.integers(2, 60), st.booleans())
def test_ticks_are_round_evenly_spaced_and_each_on_a_row_of_its_own(low, span, rows, whole):
    high = low + span
    ticks, labels = nice_ticks(low, high, rows, whole=whole)
    assert len(ticks) <= MOST_TICKS
    if rows >= 6 and (span >= 2 or not whole):
        assert len(ticks) >= 2
    assert all(low - 1e-9 * span <= t <= high + 1e-9 * span for t in ticks)
    rows_of = [row_of(t, low, high, rows) for t in ticks]
    assert len(set(rows_of)) == len(ticks)  # no label overwrites another
    assert [float(label) for label in labels] == ticks and len(set(labels)) == len(labels)
    if whole:
        assert all(t == int(t) for t in ticks)
    if len(ticks) > 1:
        steps = [b - a for a, b in itertools.pairwise(ticks)]
        assert all(math.isclose(s, steps[0], rel_tol=1e-6) for s in steps) and is_round(steps[0])
        assert ticks[0] - steps[0] < low - 1e-9 * span and ticks[-1] + steps[0] > high + 1e-9 * span  # none skipped


def test_a_single_value_is_widened_as_plotext_widens_it():
    assert data_limits([2.0, 5.0, 3.0]) == (2.0, 5.0)
    assert data_limits([4.0]) == (2.0, 6.0)
    assert data_limits([0.0, 0.0]) == (-1.0, 1.0)


def plot(draw) -> str:
    plotext.clear_figure()
    plotext.theme("clear")
    plotext.plotsize(60, 16)
    draw()
    return plotext.build()


@given(st.lists(st.floats(0, 1e4, allow_subnormal=False), min_size=1, max_size=50), st.integers(1, 30))
def test_the_histogram_draws_what_plotext_hist_draws(values, bins):
    xs, counts = histogram(values, bins)
    assert sum(counts) == len(values) and len(xs) == len(counts) == bins
    assert plot(lambda: plotext.bar(xs, counts, reset_ticks=False)) == plot(lambda: plotext.hist(values, bins))
