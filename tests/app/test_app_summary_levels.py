"""The Benchmark summary of a load-level run: one row per model and level, the focused row's mean ± sd, and the
sweep's own chart (throughput vs concurrency, TTFT vs prompt length)."""

import json
from pathlib import Path

from levelruns import concurrency_run, prompt_run
from test_app_bench import on_the_benchmark_tab
from test_app_snapshots import Pinned
from test_run_chart import chart_lines
from waiting import settled, until

from fl_tui.bench import chartdata, summarytable
from fl_tui.bench.runschema import as_run
from fl_tui.core.config import Settings
from fl_tui.models.specs import load_specs
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.runs import TextScreen
from fl_tui.ui.widgets.run_chart import RunChart


def braille(text: str) -> bool:
    return any("\u2801" <= ch <= "\u28ff" for ch in text)  # plotext's line marks


def chart_text(chart: RunChart) -> list[str]:
    return ["".join(segment.text for segment in strip) for strip in chart_lines(chart)]


async def shown_rows(pilot, pane, run: dict) -> list[dict[str, str]]:
    table = pane.query_one("#bench-summary-table")
    await until(pilot, lambda: table.row_count == len(run["models"]), "the summary's rows",
                seen=lambda: table.row_count)
    keys = [c.key.value for c in table.ordered_columns]
    return [dict(zip(keys, (str(c) for c in table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


async def test_a_concurrency_sweep_shows_a_row_per_level_and_its_throughput_chart(embedded):
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        run = concurrency_run()
        pane.show_run(as_run(run), Path("/data/runs/levels"))
        rows = await shown_rows(pilot, pane, run)
        levels = [(m["model"], f"c={m['concurrency']}") for m in run["models"]]
        assert [(r["Model"], r["Level"]) for r in rows] == levels
        assert [r["Goodput (req/s)"] for r in rows] == [f"{m['goodput_rps']:.2f}" for m in run["models"]]

        detail = pane.query_one("#bench-row-detail")
        table = pane.query_one("#bench-summary-table")
        table.focus()
        await until(pilot, lambda: str(detail.render()).startswith("alpha-cpu c=1 (mean ± sd): TTFT 60.0 ± 10.0"),
                    "the first row's detail", seen=lambda: str(detail.render()))
        await pilot.press("down")
        await until(pilot, lambda: str(detail.render()).startswith("alpha-cpu c=2 (mean ± sd): TTFT 100.0 ± 10.0"),
                    "the second row's detail", seen=lambda: str(detail.render()))
        assert len(str(detail.render())) <= 80

        chart = pane.query_one("#bench-chart", RunChart)
        await until(pilot, lambda: chart.size.height > 0 and chart.kind == "tps_vs_concurrency",
                    "the throughput chart first", seen=lambda: chart.kind)
        await settled(pilot)
        lines = chart_text(chart)
        assert any(chartdata.TITLES["tps_vs_concurrency"][:30] in line for line in lines), lines
        assert any("alpha-cpu" in line for line in lines) and any("beta-gpu" in line for line in lines), lines
        assert any(braille(line) for line in lines), lines  # the two series drawn
        ticks = next(line for line in reversed(lines) if "concurrency" not in line and line.strip())
        assert ticks.split() == ["1", "2", "4"], lines  # the levels run, on the x axis

        seen = []
        for _ in chartdata.kinds_for(as_run(run)):
            pane.summary.next_chart()
            seen.append(pane.summary.chart_kind)
        assert seen == [*(k for k, _t in chartdata.CHARTS), "tps_vs_concurrency"]  # every kind, then back


async def test_a_prompt_length_sweep_shows_ttft_against_the_length(embedded):
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        run = prompt_run()
        pane.show_run(as_run(run), Path("/data/runs/prompts"))
        rows = await shown_rows(pilot, pane, run)
        assert [r["Level"] for r in rows] == [summarytable.level_cell(m) for m in as_run(run).models]
        assert rows[2]["Level"] == "4096 tok" and "Goodput (req/s)" not in rows[0]  # no SLOs in this run
        chart = pane.query_one("#bench-chart", RunChart)
        await until(pilot, lambda: chart.size.height > 0 and chart.kind == "ttft_vs_prompt",
                    "the TTFT chart first", seen=lambda: chart.kind)
        await settled(pilot)
        lines = chart_text(chart)
        assert any("prompt tokens" in line for line in lines) and any(braille(line) for line in lines), lines
        ticks = next(line for line in reversed(lines) if "prompt tokens" not in line and line.strip())
        assert ticks.split() == ["128", "1024", "4096"], lines


async def test_the_compare_view_compares_each_level_with_its_spread_and_flags_lost_goodput(embedded, tmp_path):
    base, new = concurrency_run(), concurrency_run()
    new["run_id"] = "20250103-030405-beef"
    for request in new["requests"]:
        if request["model"] == "alpha-cpu" and request["concurrency"] == 1:
            request["ttft_ms"] *= 4  # 200-280 ms: none within the 150 ms bound now
    folders = []
    for run in (base, new):
        (tmp_path / run["run_id"]).mkdir()
        (tmp_path / run["run_id"] / "run.json").write_text(json.dumps(run))
        folders.append(tmp_path / run["run_id"])
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(), specs=load_specs())
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.picker.compare_files(*folders)
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        lines = app.screen.text.splitlines()
        for m in base["models"]:  # each (model, level) compared on its own
            assert any(line.startswith(f"{m['model']} @ c={m['concurrency']} ") for line in lines), lines
        goodput = [line for line in lines if "goodput fraction" in line]
        assert len(goodput) == len(base["models"])
        lost = next(line for line in goodput if line.startswith("alpha-cpu @ c=1 "))
        assert "REGRESSION" in lost and "-100.0%" in lost
        assert [line for line in goodput if "REGRESSION" in line] == [lost]
        ttft = next(line for line in lines if line.startswith("alpha-cpu @ c=1 ") and "ttft_ms p50" in line)
        assert "60.00 ± 10.00" in ttft and "240.00 ± 40.00" in ttft  # 50, 60, 70 ms and four times that
