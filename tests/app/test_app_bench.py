"""The Benchmark tab by keys, against the real in-process runtime with the demo models."""

import asyncio
import json
import os
from pathlib import Path

import pytest
from runfactory import model_from, sample_run, stopped_run
from test_app_snapshots import Pinned
from textual.widgets import OptionList
from waiting import ThreadLog, mounted, settled, unload_when_idle, until

from fl_tui.bench import summarytable
from fl_tui.bench.events import (
    Chunk,
    LiveRequest,
    ModelFinished,
    ModelPhase,
    Phase,
    RequestFinished,
    RequestStarted,
    RunStarted,
)
from fl_tui.bench.records import ModelResult, RequestResult
from fl_tui.bench.report import TABLE_COLUMNS, table_row
from fl_tui.bench.runschema import as_run
from fl_tui.bench.setup_state import BenchSetup, save_setup, setup_file
from fl_tui.connection.sse import SSEEvent
from fl_tui.core import locations
from fl_tui.core.config import Settings
from fl_tui.core.resources import prompt_sets
from fl_tui.demo.build import FAST, SLOW
from fl_tui.models.specs import load_specs
from fl_tui.runs import finished
from fl_tui.ui.app import FlTuiApp
from fl_tui.ui.screens.confirm import ConfirmScreen
from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen
from fl_tui.ui.widgets.bench import run_picker

SIZE = (100, 32)


def make_app(backend):
    return FlTuiApp(lambda: backend, settings=Settings(), specs=load_specs())


async def on_the_benchmark_tab(pilot):
    """`2`, then wait until the tab is shown and holds the focus (a focus landing late would pull Models back)."""
    app = pilot.app
    pane = await mounted(pilot, "#bench-pane")
    await pilot.press("2")

    def shown():
        return app.query_one("#tabs").active == "benchmark" and app.focused is not None and \
            pane in app.focused.ancestors_with_self

    await until(pilot, shown, "the Benchmark tab with the focus in it",
                seen=lambda: (app.query_one("#tabs").active, app.focused))
    return pane


async def set_up(pilot, models: list[str], rounds: str = "1", max_tokens: str = "8"):
    """Go to the tab, pick exactly `models`, the quick prompt set, and type the numbers."""
    pane = await on_the_benchmark_tab(pilot)
    await until(pilot, lambda: pane.form.choices and pane.form.sets, "the models and the prompt sets offered")
    pane.form.choose(models, "quick")
    for field, value in (("rounds", rounds), ("max_tokens", max_tokens)):
        box = pane.query_one(f"#bench-{field}")
        box.value = ""
        box.focus()
        await pilot.press(*value)
    return pane


async def slow_run_streaming(pilot, measured: int):
    """A run of the slow demo model (6 rounds x 2 prompts, 16 tokens) started by Ctrl+R, once `measured` of its
    measured requests are done."""
    pane = await set_up(pilot, ["fl-demo-slow"], rounds="6", max_tokens="16")
    await pilot.press("ctrl+r")
    await until(pilot, lambda: pane.runner.state.progress()[0] >= measured, f"{measured} measured request(s) done",
                seen=lambda: (pane.runner.state.progress(), pane.runner.state.failure))
    return pane


def view(pane) -> str:
    return pane.query_one("#bench-views").current


async def summary_of(pilot, pane) -> list[list[str]]:
    """Once the run has ended: the summary table's rows, when its worker has filled them."""
    await until(pilot, lambda: not pane.runner.running and pane.summary.run is not None, "the run to end",
                seen=lambda: (view(pane), pane.runner.state.progress(), pane.runner.state.failure))
    table = pane.query_one("#bench-summary-table")
    models = pane.summary.run.models
    await until(pilot, lambda: table.row_count == len(models), "the summary table's rows",
                seen=lambda: table.row_count)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def shown_columns(pane) -> list[str]:
    return [c.key.value for c in pane.query_one("#bench-summary-table").ordered_columns]


async def test_a_full_run_by_keys_moves_live_and_ends_on_the_summary(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["fl-demo-fast", "fl-demo-slow"], rounds="2", max_tokens="12")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: view(pane) == "bench-live", "the live view", seen=lambda: view(pane))
        seen_done = set()

        def ended():
            seen_done.add(pane.runner.state.progress()[0])
            return not pane.runner.running

        await until(pilot, ended, "the run to end", seen=lambda: pane.runner.state.progress())
        shown = await summary_of(pilot, pane)
        assert len(seen_done) >= 3  # the live rows moved through intermediate states
        assert view(pane) == "bench-summary"
        run = json.loads((pane.summary.folder / "run.json").read_text())
        assert pane.summary.folder.name == run["run_id"]  # the run's folder is named after the run
        columns = shown_columns(pane)  # at 100 columns, the ones of highest priority (the others are in report.md)
        assert {"Model", "Status", "n", "TTFT p50 (ms)", "TTFT p95 (ms)", "Decode tok/s"} <= set(columns)
        assert "TTFT sd (ms)" in columns  # the spread beside the median
        record = as_run(run)
        assert shown == [summarytable.row(record, m, columns) for m in record.models]
        assert [table_row(m)[TABLE_COLUMNS.index("TTFT p50 (ms)")] for m in record.models] == \
            [row[columns.index("TTFT p50 (ms)")] for row in shown]  # the report's own figures
        assert [m["model"] for m in run["models"]] == [FAST.model_id, SLOW.model_id]
        assert all(m["status"] == "ok" for m in run["models"])
        rows = list(pane.runner.state.rows.values())
        assert [r.done for r in rows] == [r.total for r in rows] == [4, 4]  # 2 rounds x 2 prompts, no warm-up
        assert [(m["measured_ok"], m["planned"]) for m in run["models"]] == [(4, 4), (4, 4)]
        assert [row[1:3] for row in shown] == [["ok", "4/4"], ["ok", "4/4"]]
        assert all(len(r.rolling) > 0 for r in rows)  # per-token arrival gaps were drawn


async def test_a_failing_model_shows_failed_while_the_others_finish(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["no-such-model:1", "fl-demo-fast"])
        await pilot.press("ctrl+r")
        await summary_of(pilot, pane)
        statuses = {r.name: (r.status, r.detail) for r in pane.runner.state.rows.values()}
        assert statuses["no-such-model:1"][0] == "failed"
        assert "unknown model 'no-such-model:1'" in statuses["no-such-model:1"][1]
        assert statuses["fl-demo-fast"][0] == "done"
        assert "no-such-model:1: failed: unknown model" in str(pane.query_one("#bench-highlights").render())


async def test_stop_keeps_the_partial_results_and_unloads(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await slow_run_streaming(pilot, measured=3)
        pane.query_one("#bench-rows").focus()
        await pilot.press("ctrl+x")
        shown = await summary_of(pilot, pane)
        folder = pane.summary.folder
        run = json.loads((folder / "run.json").read_text())
        lines = (folder / "requests.jsonl").read_text().splitlines()
        assert run["interrupted"] is True and 4 <= len(run["requests"]) < 13
        assert [json.loads(line) for line in lines] == [{"run_id": run["run_id"], **r} for r in run["requests"]]
        (model,) = run["models"]
        measured = [r for r in run["requests"] if not r["warmup"]]
        assert model["status"] == "stopped" and model["planned"] == 12  # 6 rounds x 2 prompts, no warm-up
        assert model["measured_ok"] == len(measured) < 12  # the demo model answers every request it gets
        assert model["error"] == f"ran {len(measured)} of 12 measured requests"
        assert shown[0][1:3] == ["stopped", f"{len(measured)}/12"]
        (row,) = pane.runner.state.rows.values()
        assert (row.status, row.done, row.total) == ("stopped", len(measured), 12)
        highlights = str(pane.query_one("#bench-highlights").render())
        assert "(stopped early)" in highlights and f"stopped: ran {len(measured)} of 12" in highlights
        report = (folder / "report.md").read_text()
        assert f"| stopped | {len(measured)}/12 |" in report and '"stopped": the run was stopped' in report
    assert embedded.list_loaded() == []  # unloaded after the stop, once the server let go of the request


async def test_run_pickers_show_date_status_and_models_and_the_summary_keeps_whole_names(embedded, tmp_path,
                                                                                           monkeypatch):
    """Opening runs with `o`, one after another: each picker line says when, how it ended and which models; the
    summary's Model column stays as wide as the longest name."""
    monkeypatch.setattr(locations, "runs_dir", lambda: tmp_path)
    long_names = {"sample": "fl-demo-a-rather-long-model-name-cpu:1", "stopped": "fl-demo-beta-generic-gpu:2"}
    for stamp, (name, make, index) in enumerate((("sample", sample_run, 0), ("stopped", stopped_run, 1)), 1):
        run = make()
        run["models"][index]["model"] = long_names[name]  # sample's ok model, the stopped run's stopped one
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps({**run, "run_id": name}))
        os.utime(tmp_path / name / "run.json", (stamp * 1_000_000, stamp * 1_000_000))
    app = make_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        table = pane.query_one("#bench-summary-table")
        for down, name in ((0, "stopped"), (1, "sample")):
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, RunPickerScreen), "the run picker")
            options = app.screen.query_one(OptionList)
            lines = [str(options.get_option_at_index(i).prompt).split("\n") for i in range(options.option_count)]
            assert [(head.split()[2:], models.split(", ")[index].strip()) for (head, models), index in zip(
                lines, (1, 0), strict=True)] == [(["stopped", "stopped"], long_names["stopped"]),
                                                 (["partial", "sample"], long_names["sample"])]
            await pilot.press(*["down"] * down, "enter")
            await until(pilot, lambda want=name: pane.summary.run is not None and pane.summary.run.run_id == want
                        and table.row_count == 3, f"the {name} run's summary", seen=lambda: table.row_count)
            await settled(pilot)
            model_column = table.ordered_columns[0]
            assert model_column.get_render_width(table) - 2 * table.cell_padding >= len(long_names[name])
            row = 1 if name == "stopped" else 0
            assert [str(c) for c in table.get_row_at(row)[:2]] == [long_names[name], "stopped" if row else "ok"]
            assert long_names[name] in app.export_screenshot().replace("&#160;", " ")


async def test_the_last_set_up_is_remembered_across_restarts(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["fl-demo-fast"], rounds="2", max_tokens="5")
        pane.query_one("#bench-seed").value = "7"
        pane.query_one("#bench-slo").value = "ttft_ms=5000,tpot_ms=5000,e2e_ms=60000"
        await pilot.press("ctrl+r")
        await summary_of(pilot, pane)
    assert setup_file().is_file()
    again = make_app(embedded)
    async with again.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        await until(pilot, lambda: pane.form.choices and pane.query_one("#bench-rounds").value == "2",
                    "the remembered set-up restored", seen=lambda: pane.query_one("#bench-rounds").value)
        await settled(pilot)
        form = pane.form
        values = {f: form.query_one(f"#bench-{f}").value for f in ("rounds", "max_tokens", "seed", "warmup")}
        assert values == {"rounds": "2", "max_tokens": "5", "seed": "7", "warmup": "1"}
        assert form.query_one("#bench-prompts").value == str(prompt_sets()["quick"])
        assert list(form.query_one("#bench-models").selected) == ["fl-demo-fast"]
        slo = form.query_one("#bench-slo")  # longer than its field at 100 columns: shown from its start
        assert slo.value == "ttft_ms=5000,tpot_ms=5000,e2e_ms=60000" and slo.cursor_position == 0
        assert slo.scroll_x == 0


async def test_a_variant_remembered_by_its_id_stays_picked_when_its_alias_alone_is_offered(embedded):
    save_setup(BenchSetup((SLOW.model_id,), "quick", {"rounds": "2"}))
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        box = pane.form.query_one("#bench-models")
        await until(pilot, lambda: pane.form.choices and pane.query_one("#bench-rounds").value == "2",
                    "the remembered set-up restored", seen=lambda: pane.query_one("#bench-rounds").value)
        await settled(pilot)
        assert SLOW.model_id not in pane.form.choices  # one variant: its alias stands for it
        assert list(box.selected) == [SLOW.alias]  # not the default picks: what the person ran last


async def test_a_corrupt_remembered_set_up_is_reported_in_one_line_and_ignored(embedded):
    setup_file().parent.mkdir(parents=True, exist_ok=True)
    setup_file().write_text("{ not json", encoding="utf-8")
    app = make_app(embedded)
    said = []
    notify = app.notify
    app.notify = lambda message, *args, **kwargs: (said.append(str(message)), notify(message, *args, **kwargs))[1]
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        await until(pilot, lambda: any("set-up was not restored" in m for m in said), "the one-line warning",
                    seen=lambda: said)
        (line,) = [m for m in said if "set-up was not restored" in m]
        assert "\n" not in line and str(setup_file()) in line
        assert pane.query_one("#bench-rounds").value == str(Settings().rounds)  # the defaults stay


async def test_a_very_long_model_name_is_cut_with_an_ellipsis_in_the_summary(embedded):
    app = make_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        run = sample_run()
        run["models"][0]["model"] = "x" * 70
        pane.show_run(as_run(run), Path("/data/runs/sample"))
        table = pane.query_one("#bench-summary-table")
        await until(pilot, lambda: table.row_count == 3, "the summary table's rows", seen=lambda: table.row_count)
        name = str(table.get_row_at(0)[0])
        assert name.endswith("…") and set(name[:-1]) == {"x"} and len(name) < 70  # cut, so the figures fit
        assert str(table.get_row_at(0)[1]) == "ok"
        assert {"Status", "n", "TTFT p50 (ms)", "Decode tok/s"} <= set(shown_columns(pane))
        assert sum(c.width + 2 * table.cell_padding for c in table.ordered_columns) <= 80


def replay_live(pane):
    """A fixed sequence of engine events with fixed stamps: a live view that looks the same every run."""
    state = pane.runner.state
    state.observe(RunStarted("20250102-030405-abcd", Path("/data/runs/x"), ("alpha", "beta"), 6, 1))
    state.observe(ModelPhase("alpha", Phase.RUNNING))
    for i, ttft in enumerate((40.0, 42.0, 55.0), 1):
        offsets = [ttft + 33.0 * k for k in range(12)]
        state.observe(RequestFinished("alpha", RequestResult(
            id=f"a{i}", model="alpha", prompt_id="rag", round=i, warmup=False, status="ok", ttft_ms=ttft,
            chunk_offsets_ms=offsets, decode_tps=30.3, e2e_ms=offsets[-1])))
    live = LiveRequest("alpha", "privacy", "List 3 privacy benefits of local inference.", 4, False, key="a4")
    state.observe(RequestStarted(live))
    for k in range(20):
        token = json.dumps({"choices": [{"delta": {"content": f" word{k}"}}]}).encode()
        state.observe(Chunk(live.key, SSEEvent(1_000_000_000 + k * (30 + k % 4) * 1_000_000, token)))
    state.observe(ModelFinished("beta", ModelResult("beta:1", "beta", "failed", error="unknown model 'beta'")))
    state.observe(ModelPhase("beta", Phase.FAILED, "unknown model 'beta'"))
    pane.runner.running = True
    pane.refresh_bindings()  # as starting a run does: the footer's Stop on, Start off, whenever the screen settles


async def test_a_new_run_clears_the_previous_runs_live_view_at_once(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["fl-demo-fast"], rounds="1", max_tokens="4")
        pane.show_view("bench-live")
        replay_live(pane)
        progress, table, failures = (pane.query_one(f"#bench-{n}") for n in ("progress", "rows", "failures"))
        await until(pilot, lambda: table.row_count == 2 and failures.display, "the replayed run drawn",
                    seen=lambda: (table.row_count, failures.display))
        pane.runner.running = False
        await pilot.press("ctrl+r")
        # at once, before the new run's process has sent anything: nothing of the old run is left
        drawn = [str(progress.render()), table.row_count, failures.display,
                 str(pane.query_one("#bench-prompt").render()), pane.query_one("#bench-spark-now").data,
                 pane.query_one("#bench-text").line_count,
                 len(pane.query_one("#bench-rolling").children)]
        assert drawn == ["starting the benchmark…", 0, False, "", [], 0, 0]
        await summary_of(pilot, pane)


async def show_setup(pilot, _tmp_path) -> None:
    pane = await on_the_benchmark_tab(pilot)
    await until(pilot, lambda: pane.form.choices, "the models offered by the first poll")
    await settled(pilot)


async def show_live(pilot, _tmp_path) -> None:
    pane = await on_the_benchmark_tab(pilot)
    pane.show_view("bench-live")
    log = pane.query_one("#bench-text")
    await until(pilot, lambda: log.size.width > 0, "the live view laid out (the answer wraps at its width)")
    replay_live(pane)
    table = pane.query_one("#bench-rows")
    progress = pane.query_one("#bench-progress")

    def drawn():  # p99 shown whatever the width; the run id where it fits
        shown = str(progress.render())
        return "measured 3/12" in shown and "p99 54.7 ms" in shown and table.row_count == 2 and log.line_count > 0

    await until(pilot, drawn, "the replayed run drawn",
                seen=lambda: (str(progress.render()), table.row_count, log.line_count))
    await settled(pilot)


async def show_summary(pilot, _tmp_path) -> None:
    pane = await on_the_benchmark_tab(pilot)
    run = sample_run()
    pane.show_run(as_run(run), Path("/data/runs/sample"))
    table = pane.query_one("#bench-summary-table")
    await until(pilot, lambda: table.row_count == len(run["models"]), "the summary table's rows",
                seen=lambda: table.row_count)
    await settled(pilot)


async def show_compare(pilot, tmp_path) -> None:
    pane = await on_the_benchmark_tab(pilot)
    base, new = sample_run(), sample_run()
    new["run_id"] = "20250103-030405-beef"
    for request in new["requests"]:
        request["ttft_ms"] *= 1.5  # a clear regression of the first token
    new["models"][:2] = [model_from(m["model"], [RequestResult(**r) for r in new["requests"]
                                                 if r["model"] == m["model"]]).to_json() for m in new["models"][:2]]
    folders = []
    for run in (base, new):
        (tmp_path / run["run_id"]).mkdir()
        (tmp_path / run["run_id"] / "run.json").write_text(json.dumps(run))
        folders.append(tmp_path / run["run_id"])
    pane.picker.compare_files(*folders)
    await until(pilot, lambda: isinstance(pilot.app.screen, TextScreen), "the comparison",
                seen=lambda: pilot.app.screen)
    await settled(pilot)


VIEWS = {"setup": show_setup, "live": show_live, "summary": show_summary, "compare": show_compare}


@pytest.mark.parametrize("theme", ["fl-dark", "fl-ansi"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_bench_view_snapshot(snap_compare, embedded, tmp_path, view, theme):
    """Each Benchmark view at 80x24, settled: set-up, live (a replayed run), summary with its chart, compare."""
    app = FlTuiApp(lambda: Pinned(embedded), settings=Settings(theme=theme), settings_path=tmp_path / "c.toml",
                   specs=load_specs())  # Pinned: no live "RSS now" reading, which changes from run to run

    async def before(pilot):
        await VIEWS[view](pilot, tmp_path)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("view", ["live", "summary"])
def test_bench_view_snapshot_large(snap_compare, embedded, tmp_path, view):
    """The live view and the summary at 120x40 (the README's picture of a run)."""
    app = make_app(Pinned(embedded))

    async def before(pilot):
        await VIEWS[view](pilot, tmp_path)

    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


async def test_file_work_and_host_lookups_run_off_the_ui_loop(embedded, tmp_path, monkeypatch):
    """Reading runs and annotation files, the comparison, the export and the server's pid lookup each run in a
    thread worker: a call on the UI loop's thread would hold every key press while it runs."""
    log = ThreadLog(monkeypatch)
    for module, name in ((run_picker, "read_run"), (run_picker, "compare"), (finished, "quality_of"),
                         (finished, "gather"), (finished, "export")):
        log.wrap(module, name)

    class Watched(Pinned):
        def host_pid(self):
            log.note("host_pid")
            return None

    folders = []
    for name in ("base", "new"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps(sample_run()))
        folders.append(tmp_path / name)
    app = make_app(Watched(embedded))
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.picker.load(folders[0])
        table = pane.query_one("#bench-summary-table")
        await until(pilot, lambda: table.row_count == 3, "the opened run's summary", seen=lambda: table.row_count)
        await pilot.press("e")
        await until(pilot, lambda: (folders[0] / "report.json").exists(), "the export")
        pane.picker.compare_files(*folders)
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        await settled(pilot)
    assert log.names() == {"read_run", "compare", "quality_of", "gather", "export", "host_pid"}
    assert log.on_the_loop() == []


async def test_the_compare_view_warns_when_the_environments_differ(embedded, tmp_path):
    machine = {"os": "Linux", "cpu_model": "AMD EPYC 7763", "ram_gib": 62.8, "fl_tui": "0.1.0"}
    folders = []
    for name, env in (("base", machine), ("new", {**machine, "ram_gib": 31.3}), ("same", machine)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps({**sample_run(), "environment": env}))
        folders.append(tmp_path / name)
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.picker.compare_files(folders[0], folders[1])
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        assert "\nenvironments differ: ram_gib\n" in app.screen.text
        app.screen.dismiss()
        await until(pilot, lambda: not isinstance(app.screen, TextScreen), "the comparison closed")
        pane.picker.compare_files(folders[0], folders[2])
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        assert "environment" not in app.screen.text


def _two_boxes(run: dict) -> dict:
    """`run` as if it had run against two endpoints: the second box 50% slower to the first token."""
    boxes = ("http://a:5273", "http://b:5273")
    slower = {"ttft_ms": 1.5}

    def at(items, box, scale):
        return [{**i, "endpoint": box, "id": f"{box}|{i.get('id', '')}",
                 **{k: i[k] * scale for k in slower if isinstance(i.get(k), int | float)}} for i in items]
    return {**run, "endpoints": [{"endpoint": b, "backend": "openai", "environment": {"cpu_model": b}} for b in boxes],
            "models": [m for b in boxes for m in at(run["models"], b, 1.0)],
            "requests": [r for b, s in zip(boxes, (1.0, 1.5), strict=True) for r in at(run["requests"], b, s)]}


async def test_the_compare_view_compares_the_endpoints_of_one_run_picked_twice(embedded, tmp_path):
    (tmp_path / "boxes").mkdir()
    (tmp_path / "boxes" / "run.json").write_text(json.dumps(_two_boxes(sample_run())))
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "run.json").write_text(json.dumps(sample_run()))
    app = make_app(embedded)
    notes = []
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.picker.compare_files(tmp_path / "boxes", tmp_path / "boxes")
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the comparison", seen=lambda: app.screen)
        text = app.screen.text
        assert text.startswith("base http://a:5273  ->  new http://b:5273  (threshold 10%)\n"
                               "environments differ: cpu_model\n")  # as `fl-tui compare RUN` prints it
        ttft = [line for line in text.splitlines() if line.startswith("alpha-cpu") and "ttft_ms p50" in line]
        assert len(ttft) == 1 and "+50.0%" in ttft[0]  # the second box's first tokens, 1.5 times as late
        app.screen.dismiss()
        await until(pilot, lambda: not isinstance(app.screen, TextScreen), "the comparison closed")
        app.notify = lambda message, **kw: notes.append(message)
        pane.picker.compare_files(tmp_path / "one", tmp_path / "one")
        await until(pilot, lambda: notes, "the one-endpoint run refused", seen=lambda: app.screen)
    assert "was run against one endpoint; compare it with a second run" in notes[0]


async def test_live_rows_name_the_variant_in_a_model_column_as_wide_as_the_terminal_allows(embedded):
    """As the summary names it (the variant id, once a request of it finished); cut with `…` at 80 columns, and
    whole once the terminal is widened to 120, with no event coming to redraw the rows."""
    app = make_app(embedded)
    variant = "fl-demo-fast-generic-cpu:1"
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        pane.show_view("bench-live")
        state = pane.runner.state
        state.observe(RunStarted("20250102-030405-abcd", Path("/data/runs/x"), ("fl-demo-fast",), 2))
        state.observe(RequestFinished("fl-demo-fast", RequestResult(
            id="w1", model=variant, prompt_id="warm-up", round=1, warmup=True, status="ok")))
        pane.runner.running = True
        table = pane.query_one("#bench-rows")

        def model_cell() -> str:
            return str(table.get_row_at(0)[0]) if table.row_count else ""

        await until(pilot, lambda: model_cell().startswith("fl-demo-fast-"), "the row named by its variant",
                    seen=model_cell)
        await settled(pilot)
        assert model_cell().endswith("…") and variant.startswith(model_cell()[:-1])
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: model_cell() == variant, "the whole name at 120 columns", seen=model_cell)
        pane.runner.running = False


async def test_quit_while_a_run_streams_stops_it_and_leaves_its_model_to_the_runtime_that_goes_too(embedded):
    """The app's runtime is in its process (here, the test's): unloading the model the run loaded would only make
    the quit wait; the benchmark process still writes what finished."""
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await slow_run_streaming(pilot, measured=1)
        child, folder = pane.runner.child, pane.runner.state.run_dir
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the quit asked about")
        await pilot.press("y")
        await until(pilot, lambda: app.return_code == 0, "the app's exit", seen=lambda: app.return_code)
    await asyncio.to_thread(app.finish_work)  # as `fl-tui` does once the terminal is back
    assert child.proc.poll() is not None and child.stop_sent
    assert embedded.in_process and [m.id for m in embedded.list_loaded()] == [SLOW.model_id]
    run = json.loads((folder / "run.json").read_text())
    assert run["interrupted"] is True and run["requests"]
    await asyncio.to_thread(unload_when_idle, embedded, SLOW.model_id)

