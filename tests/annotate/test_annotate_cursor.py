"""The Annotate tab's cursor, headless: the focused row follows the answer it is on, and a score lands on the
row the keys before it led to."""

import json

from levelruns import concurrency_run
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


def test_a_score_after_a_move_lands_on_the_new_answers_first_unscored_row(run_dir):  # noqa: F811
    cursor = ScoringCursor(ScoringSession.open(run_dir, "ann", blind=False))
    cursor.move(1)
    cursor.step_row(99)  # the overall row
    cursor.move(-1)  # back to the first answer, whose prompt has two aspects
    first = cursor.view().rows[0]
    assert first != OVERALL and cursor.view().row == 0  # not the overall row the last answer ended on
    cursor.score(4)
    view = cursor.view()
    assert view.item.index == 0 and view.item.scores == {first: 4} and view.item.overall is None
    assert cursor.session.item(1).overall is None and not cursor.session.item(1).scores
    cursor.move(1)
    cursor.move(-1)
    assert cursor.view().row == 1  # its first row without a score


def test_changing_a_score_says_so_and_how_to_undo(run_dir):  # noqa: F811
    cursor = ScoringCursor(ScoringSession.open(run_dir, "ann", blind=False))
    assert cursor.score(4) is None  # a first score: nothing to say
    row = cursor.view().rows[0]
    assert cursor.score(2) == f"{row}: 4 -> 2 (z undoes; [ and ] switch tabs here)"  # a `2` meant for the tab
    cursor.undo()
    assert cursor.view().item.scores == {row: 4}
    assert cursor.score(4) == f"{row}: 4 cleared (z undoes; [ and ] switch tabs here)"  # the same key clears it
    assert cursor.view().item.scores == {}


def test_a_level_runs_head_counts_models_and_a_revealed_name_shows_its_level(tmp_path):
    run = concurrency_run()  # two models, each at concurrency 1, 2 and 4
    for request in run["requests"]:
        request["id"] += f"|c{request['concurrency']}"
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    cursor = ScoringCursor(ScoringSession.open(tmp_path, "ann", blind=False))
    view = cursor.view()
    assert view.run_models == 2  # not 6 entries
    shown = {cursor.session.item(i).model for i in range(view.total)}
    assert shown == {f"{model} @ c={level}" for model in ("alpha-cpu", "beta-gpu") for level in (1, 2, 4)}
