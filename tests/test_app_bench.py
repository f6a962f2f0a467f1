"""The Benchmark tab by keys, against the real in-process runtime with the demo models."""

import json
from pathlib import Path

import pytest
from runfactory import sample_run
from test_app_snapshots import Pinned

from fl_tui.app import FlTuiApp
from fl_tui.bench.engine import LiveRequest, ModelFinished, ModelPhase, RequestFinished, RequestStarted, RunStarted
from fl_tui.bench.records import ModelResult, RequestResult
from fl_tui.bench.report import table_row
from fl_tui.config import Settings
from fl_tui.connection.sse import SSEEvent
from fl_tui.demo.build import FAST, SLOW
from fl_tui.resources import load_specs

SIZE = (100, 32)


def make_app(backend):
    return FlTuiApp(lambda: backend, settings=Settings(), specs=load_specs())


async def wait(pilot, condition, timeout=60.0):
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("timed out waiting for the screen")


async def set_up(pilot, models: list[str], rounds: str = "1", max_tokens: str = "8"):
    """Go to the tab, pick exactly `models`, the quick prompt set, and type the numbers."""
    app = pilot.app
    await pilot.press("2")
    pane = app.query_one("#bench-pane")
    picker = pane.query_one("#bench-models")
    await wait(pilot, lambda: picker.option_count > 0, 10)
    for value in models:
        if value not in pane._choices:
            picker.add_option((value, value))
    picker.deselect_all()
    for value in models:
        picker.select(value)
    select = pane.query_one("#bench-prompts")
    select.value = next(v for label, v in select._options if label == "quick")
    for field, value in (("rounds", rounds), ("max_tokens", max_tokens)):
        box = pane.query_one(f"#bench-{field}")
        box.value = ""
        box.focus()
        await pilot.press(*value)
    return pane


async def test_a_full_run_by_keys_moves_live_and_ends_on_the_summary(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["fl-demo-fast", "fl-demo-slow"], rounds="2", max_tokens="12")
        await pilot.press("ctrl+r")
        await wait(pilot, lambda: pane.running, 5)
        assert pane.query_one("#bench-views").current == "bench-live"
        seen_done = set()

        def finished():
            seen_done.add(pane.state.progress()[0])
            return not pane.running

        await wait(pilot, finished)
        assert len(seen_done) >= 3  # the live rows moved through intermediate states
        assert pane.query_one("#bench-views").current == "bench-summary"
        run = json.loads((Path(pane.shown_dir) / "run.json").read_text())
        assert Path(pane.shown_dir).name == run["run_id"]  # the run's folder is named after the run
        table = pane.query_one("#bench-summary-table")
        shown = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert shown == [table_row(m) for m in run["models"]]
        assert [m["model"] for m in run["models"]] == [FAST.model_id, SLOW.model_id]
        assert all(m["status"] == "ok" for m in run["models"])
        rows = list(pane.state.rows.values())
        assert [r.done for r in rows] == [r.total for r in rows] == [5, 5]  # warm-up + 2 rounds x 2 prompts
        assert all(len(r.rolling) > 0 for r in rows)  # per-token arrival gaps were drawn


async def test_a_failing_model_shows_failed_while_the_others_finish(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["no-such-model:1", "fl-demo-fast"])
        await pilot.press("ctrl+r")
        await wait(pilot, lambda: pane.shown_run is not None and not pane.running)
        statuses = {r.name: (r.status, r.detail) for r in pane.state.rows.values()}
        assert statuses["no-such-model:1"][0] == "failed"
        assert "unknown model 'no-such-model:1'" in statuses["no-such-model:1"][1]
        assert statuses["fl-demo-fast"][0] == "done"
        assert "no-such-model:1: failed: unknown model" in str(pane.query_one("#bench-highlights").render())


async def test_stop_keeps_the_partial_results_and_unloads(embedded):
    app = make_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["fl-demo-slow"], rounds="6", max_tokens="16")
        await pilot.press("ctrl+r")
        await wait(pilot, lambda: pane.state.progress()[0] >= 3)
        pane.query_one("#bench-rows").focus()
        await pilot.press("ctrl+x")
        await wait(pilot, lambda: not pane.running, 20)
        folder = Path(pane.shown_dir)
        run = json.loads((folder / "run.json").read_text())
        lines = (folder / "requests.jsonl").read_text().splitlines()
        assert run["interrupted"] is True and 3 <= len(run["requests"]) < 13
        assert [json.loads(line) for line in lines] == [{"run_id": run["run_id"], **r} for r in run["requests"]]
        assert "(stopped early)" in str(pane.query_one("#bench-highlights").render())
        assert (folder / "report.md").exists()
    assert embedded.list_loaded() == []  # unloaded after the stop, once the server let go of the request


def replay_live(pane):
    """A fixed sequence of engine events with fixed stamps: a live view that looks the same every run."""
    state = pane.state
    state.observe(RunStarted("20250102-030405-abcd", Path("/data/runs/x"), ["alpha", "beta"], 5))
    state.observe(ModelPhase("alpha", "running"))
    for i, ttft in enumerate((40.0, 42.0, 55.0), 1):
        offsets = [ttft + 33.0 * k for k in range(12)]
        state.observe(RequestFinished("alpha", RequestResult(
            id=f"a{i}", model="alpha", prompt_id="rag", round=i, warmup=False, status="ok", ttft_ms=ttft,
            chunk_offsets_ms=offsets, decode_tps=30.3, e2e_ms=offsets[-1])))
    live = LiveRequest("alpha", "privacy", "List 3 privacy benefits of local inference.", 4, False)
    state.observe(RequestStarted(live))
    for k in range(20):
        token = json.dumps({"choices": [{"delta": {"content": f" word{k}"}}]}).encode()
        live.events.append(SSEEvent(1_000_000_000 + k * (30 + k % 4) * 1_000_000, token))
    state.observe(ModelFinished("beta", ModelResult("beta:1", "beta", "failed", error="unknown model 'beta'")))
    state.observe(ModelPhase("beta", "failed", "unknown model 'beta'"))
    pane.running = True


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_live_view_snapshot(snap_compare, embedded, size):
    app = make_app(Pinned(embedded))

    async def before(pilot):
        await pilot.press("2")
        pane = pilot.app.query_one("#bench-pane")
        pane._host = None  # the live "RSS now" reading changes from run to run
        replay_live(pane)
        pane.show_view("bench-live")
        await pilot.pause(0.4)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_summary_snapshot(snap_compare, embedded, size):
    app = make_app(Pinned(embedded))

    async def before(pilot):
        await pilot.press("2")
        pilot.app.query_one("#bench-pane").show_run(sample_run(), Path("/data/runs/sample"))
        await pilot.pause(0.4)

    assert snap_compare(app, terminal_size=size, run_before=before)

