"""The engine leaves the runtime's memory as it found it: what it loaded goes, what was loaded before stays."""

import asyncio

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
