"""The engine leaves the runtime's memory as it found it: what it loaded goes, what was loaded before stays."""

import asyncio

import pytest
from waiting import unload_when_idle

from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.core.prompts import Prompt, PromptSet
from fl_tui.demo.build import FAST, SLOW


def run(backend, models, folder):
    prompts = PromptSet(name="one", prompts=[Prompt(id="p", prompt="Say hello.")])
    engine = BenchEngine(backend, models, prompts, BenchSettings(rounds=1, warmup=0, max_tokens=4), folder)
    asyncio.run(engine.run())
    return engine


def test_a_model_loaded_before_the_run_is_still_loaded_after_it(embedded, tmp_path):
    embedded.load(FAST.alias)
    engine = run(embedded, [FAST.alias, SLOW.alias], tmp_path / "run")
    assert [m.status for m in engine.model_results] == ["ok", "ok"]
    assert [m.id for m in embedded.list_loaded()] == [FAST.model_id]  # the slow one, loaded by the run, is gone
    assert engine.model_results[0].load_s is not None  # still measured from a cold load


async def stopped_in_first_request(backend, folder, leave_loaded) -> BenchEngine:
    """A run of the slow model, stopped (cancelled, as Ctrl-C and the app's stop do) while it streams."""
    prompts = PromptSet(name="one", prompts=[Prompt(id="p", prompt="Say hello.")])
    streaming = asyncio.Event()
    engine = BenchEngine(backend, [SLOW.alias], prompts, BenchSettings(rounds=3, warmup=0, max_tokens=64), folder,
                         on_chunk=lambda chunk: streaming.set())
    engine.leave_loaded = lambda: leave_loaded
    task = asyncio.create_task(engine.run())
    await asyncio.wait_for(streaming.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return engine


@pytest.mark.parametrize("leave_loaded", [False, True])
async def test_a_stopped_run_unloads_what_it_loaded_unless_the_app_quits_with_its_runtime(
        embedded, tmp_path, leave_loaded):
    await stopped_in_first_request(embedded, tmp_path / "run", leave_loaded)
    loaded = [m.id for m in await asyncio.to_thread(embedded.list_loaded)]
    assert loaded == ([SLOW.model_id] if leave_loaded else [])
    if leave_loaded:  # as the runtime's end would: once the abandoned request lets go of it
        await asyncio.to_thread(unload_when_idle, embedded, SLOW.model_id)
