"""The Benchmark summary keeps its columns by priority at the width there is (speed and quality first)."""

from runfactory import sample_run

from fl_tui.bench.report import TABLE_COLUMNS, table_row
from fl_tui.ui.fit import CELL_PADDING
from fl_tui.ui.widgets.bench.summary_view import ESSENTIAL, PRIORITY, fitted_columns

QUALITY = {"alpha-cpu": {"mean": 3.8, "ci95": [3.25, 4.1], "n": 12}}


def table(quality=None):
    header = [*TABLE_COLUMNS, *(["Quality"] if quality is not None else [])]
    return header, [table_row(m, quality) for m in sample_run()["models"]]


def test_a_wide_terminal_shows_every_column_in_the_reports_order():
    header, rows = table(QUALITY)
    assert list(fitted_columns(300, header, rows)) == list(range(len(header)))


def test_at_80_columns_the_essential_ones_stay_and_everything_fits():
    header, rows = table(QUALITY)
    widths = fitted_columns(79, header, rows)
    shown = [header[i] for i in widths]
    assert set(shown) >= ESSENTIAL  # Quality beside the speed figures, not pushed off the screen
    assert len(shown) < len(header) and sum(w + CELL_PADDING for w in widths.values()) <= 79
    assert list(widths) == sorted(widths)  # shown in the report's order, chosen by priority
    assert set(PRIORITY) >= set(header)


def test_from_the_essential_columns_width_on_they_are_always_all_shown():
    header, rows = table(QUALITY)
    essential = ESSENTIAL & set(header)
    least = sum(fitted_columns(300, [h for h in header if h in essential],
                               [[c for h, c in zip(header, r, strict=True) if h in essential] for r in rows]).values())
    for width in range(20, 200, 3):
        shown = {header[i] for i in fitted_columns(width, header, rows)}
        assert "Model" in shown
        if width >= least + CELL_PADDING * len(essential):
            assert essential <= shown, (width, shown)
