"""The Annotate tab's cursor, headless: the focused row follows the answer it is on, and a score lands on the
row the keys before it led to."""

from test_annotate_session import run_dir  # noqa: F401 - the fixture

from fl_tui.annotate.cursor import ScoringCursor
from fl_tui.annotate.session import OVERALL, ScoringSession


def test_rows_end_with_overall_and_the_row_stays_in_range(run_dir):  # noqa: F811
    cursor = ScoringCursor(ScoringSession.open(run_dir, "ann", blind=False))
    view = cursor.view()
    assert view.rows[-1] == OVERALL and view.row == 0 and view.total == len(cursor.session.items())
    cursor.step_row(-5)
    assert cursor.view().row == 0
    cursor.step_row(99)
    assert cursor.view().row == len(view.rows) - 1
    assert set(view.levels) == {1, 2, 3, 4, 5} and "5" in view.scale


def test_a_score_after_a_move_lands_on_the_new_answer(run_dir):  # noqa: F811
    cursor = ScoringCursor(ScoringSession.open(run_dir, "ann", blind=False))
    cursor.step_row(99)  # the overall row
    cursor.move(1)
    cursor.score(4)
    view = cursor.view()
    assert view.item.index == 1 and view.rows[view.row] == OVERALL and view.item.overall == 4
    assert cursor.session.item(0).overall is None
