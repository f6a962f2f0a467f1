"""One home for a finished run (`fl_tui/runs`): the Benchmark tab's `e` and `fl-tui report` write the same bytes for
a real run scored by two people, by a judge model and in pairs."""

from __future__ import annotations

import json
import shutil

from conftest import run_cli
from test_annotate_cli import score
from test_app_bench import SIZE, make_app, on_the_benchmark_tab
from waiting import settled, until

from fl_tui.annotate.pairwise import PairwiseSession
from fl_tui.demo.build import SLOW
from fl_tui.runs.finished import REPORT_FILES


async def test_the_tabs_export_and_fl_tui_report_write_the_same_files(bench_run, embedded, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("run.json", "requests.jsonl"):
        shutil.copy(bench_run / name, run)
    score(run, "ann", [5, 4, 3, 2, 1, 2, 3, 4])
    score(run, "bob", [4, 4, 3, 2, 2, 2, 3, 5])
    bob = json.loads((run / "annotations.bob.json").read_text(encoding="utf-8"))
    (run / "annotations.model-x.json").write_text(json.dumps({**bob, "rater": "model:x"}), encoding="utf-8")
    pairs = PairwiseSession.open(run, "ann", seed=4)
    for _ in range(3):
        pair = pairs.file().pairs[pairs.index]
        pairs.judge("a" if pair.a.model == SLOW.model_id else "b")

    result = run_cli("report", str(run))
    assert result.returncode == 0, result.stderr
    by_cli = {name: (run / name).read_bytes() for name in REPORT_FILES}
    markdown = by_cli["report.md"].decode()
    for part in ("quality scored by ann, bob", "## Judge vs people", "## Pairwise ranking", "## Raters"):
        assert part in markdown
    assert json.loads(by_cli["report.json"])["quality"]
    for name in REPORT_FILES:
        (run / name).unlink()

    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.picker.load(run)
        table = pane.query_one("#bench-summary-table")
        await until(pilot, lambda: table.row_count == 2, "the run's summary", seen=lambda: table.row_count)
        await pilot.press("e")
        await until(pilot, lambda: all((run / name).exists() for name in REPORT_FILES), "the export",
                    seen=lambda: sorted(p.name for p in run.iterdir()))
        await settled(pilot)
    assert {name: (run / name).read_bytes() for name in REPORT_FILES} == by_cli
