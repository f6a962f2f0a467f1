"""A room's results (fl_tui.annotate.room, `fl-tui room`): agreement over every participant with missing ratings
as Krippendorff's alpha treats them (checked against the `krippendorff` package), who scored how much, and the
live view that prints again when someone scores."""

from __future__ import annotations

import shutil
import subprocess
import threading
from types import SimpleNamespace

import krippendorff
import numpy as np
import pytest
from conftest import FL_TUI, REPO

from fl_tui.annotate.room import raters_rows, room_alpha
from fl_tui.annotate.store import Completion


def person(name: str, overall: dict[str, int | None], skipped: tuple[str, ...] = ()) -> SimpleNamespace:
    """A stand-in annotation file: overall scores by answer id (None: not scored); complete when scored."""
    items = [SimpleNamespace(request_id=r, overall=v, skipped=r in skipped) for r, v in overall.items()]

    def completion(item) -> Completion:
        if item.skipped:
            return Completion.SKIPPED
        return Completion.SCORED if item.overall is not None else Completion.UNSCORED

    return SimpleNamespace(rater=name, items=items, completion=completion)


def test_room_alpha_is_krippendorffs_over_everyone_with_missing_ratings():
    answers = [f"r{i}" for i in range(8)]
    table = {  # each person scored some answers; the room's alpha uses every answer two or more scored
        "ann": [5, 4, None, 2, 1, 3, None, 4],
        "bo": [4, 4, 3, None, 1, 3, 2, None],
        "cy": [None, 5, 3, 2, 2, None, 2, 4],
        "dee": [5, None, None, None, None, 3, 1, 5],
    }
    files = [person(name, dict(zip(answers, scores, strict=True))) for name, scores in table.items()]
    alpha, units = room_alpha(files)
    expected = krippendorff.alpha(
        reliability_data=np.array([[np.nan if v is None else v for v in row] for row in table.values()], float),
        level_of_measurement="ordinal")
    assert alpha == pytest.approx(expected, abs=1e-9)
    assert units == 8


def test_one_person_or_no_shared_answer_has_no_alpha():
    assert room_alpha([person("ann", {"r1": 3})]) == (None, 0)
    assert room_alpha([person("ann", {"r1": 3}), person("bo", {"r2": 4})]) == (None, 0)


def test_raters_rows_count_what_each_person_did():
    rows = raters_rows([person("bo", {"a": 3, "b": None, "c": None}, skipped=("c",)), person("Ann", {"a": 1})])
    assert [(r["rater"], r["scored"], r["skipped"], r["answers"]) for r in rows] == [("Ann", 1, 0, 1),
                                                                                    ("bo", 1, 1, 3)]


def test_room_watch_prints_again_when_someone_scores(bench_run, tmp_path):
    """`fl-tui room RUN --watch`: the view, then the view again with the new score, as a person scores."""
    from fl_tui.annotate.session import ScoringSession

    run = tmp_path / "run"
    shutil.copytree(bench_run, run, ignore=shutil.ignore_patterns("annotations.*", "pairwise.*"))
    proc = subprocess.Popen([*FL_TUI, "room", str(run), "--watch", "--every", "0.05"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    watchdog = threading.Timer(120, proc.kill)  # a view that never comes fails the test instead of stalling it
    watchdog.start()
    try:
        first = [proc.stdout.readline() for _ in range(3)]
        assert first[0].startswith("── ") and "0 people scoring" in first[1], first
        session = ScoringSession.open(run, "Ann", overall_only=True)
        session.set_score("overall", 4)
        line = ""
        while "Ann: 1/" not in line:  # the next view names her, with her one score
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.communicate(timeout=60)
