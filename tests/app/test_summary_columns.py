"""The Benchmark summary keeps its columns by priority at the width there is (speed and quality first)."""

from levelruns import concurrency_run
from runfactory import sample_run

from fl_tui.bench import summarytable
from fl_tui.bench.runschema import as_run
from fl_tui.core.fit import CELL_PADDING
from fl_tui.ui.widgets.bench.summary_view import ESSENTIAL, PRIORITY, fitted_columns

QUALITY = {"alpha-cpu": {"mean": 3.8, "ci95": [3.25, 4.1], "n": 12}}


def table(quality=None, run=None):
    run = as_run(run or sample_run())
    header = summarytable.header(run, quality is not None)
    return header, [summarytable.row(run, m, header, quality) for m in run.models]


def test_a_wide_terminal_shows_every_column_in_the_reports_order():
    header, rows = table(QUALITY)
    assert list(fitted_columns(300, header, rows)) == list(range(len(header)))


def test_at_80_columns_the_essential_ones_stay_and_everything_fits():
    header, rows = table(QUALITY)
    widths = fitted_columns(79, header, rows)
    shown = [header[i] for i in widths]
    # Quality beside the speed figures, not pushed off the screen (Endpoint, Level and Goodput: other runs')
    assert set(shown) >= ESSENTIAL - {"Endpoint", "Level", "Goodput (req/s)"}
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


def test_at_80_columns_a_load_run_keeps_its_level_and_goodput():
    header, rows = table(QUALITY, concurrency_run())
    widths = fitted_columns(79, header, rows)
    shown = [header[i] for i in widths]
    assert set(shown) >= ESSENTIAL - {"Endpoint"}  # a run against one endpoint has no such column
    assert shown[:2] == ["Model", "Level"] and sum(w + CELL_PADDING for w in widths.values()) <= 79
    assert set(PRIORITY) >= set(header)
