"""A run whose every request would overflow a model's context fails that model at once, in one line, without
loading it or sending a request; what fits runs as before."""

from __future__ import annotations

import asyncio
import json

import pytest

from fl_tui.bench.engine import BenchEngine, BenchSettings, context_problem
from fl_tui.connection.model_folder import folder_context
from fl_tui.core.prompts import Prompt, PromptSet
from fl_tui.demo.build import CONTEXT, FAST, SLOW


@pytest.mark.parametrize(("answer", "lengths", "said"), [
    (CONTEXT - 1, (), None),  # a one-token prompt and the rest: fits
    (CONTEXT, (), "max tokens 1,024 and a prompt do not fit the model's context of 1,024 tokens: at most 1,023 "
                  "answer tokens fit"),
    (500, (600, 700), "max tokens 500 and prompts of 600 tokens do not fit the model's context of 1,024 tokens: at "
                      "most 424"),
    (500, (128, 600), None),  # the shorter prompts fit: the server refuses only the longer ones
    (8, (2000,), "no answer fits"),
])
def test_what_does_not_fit_the_context_is_said_with_what_would(answer, lengths, said):
    problem = context_problem(CONTEXT, answer, lengths)
    assert problem == said if said is None else said in problem
    assert context_problem(None, answer, lengths) is None  # not known: the server decides


def test_a_model_folder_says_its_context_and_a_bad_one_says_nothing(tmp_path):
    (tmp_path / "genai_config.json").write_text(json.dumps({"model": {"context_length": 2048}}), "utf-8")
    assert folder_context(tmp_path) == 2048
    (tmp_path / "genai_config.json").write_text(json.dumps({"model": {"context_length": 2048},
                                                            "search": {"max_length": 512}}), "utf-8")
    assert folder_context(tmp_path) == 512  # ONNX Runtime GenAI enforces the smaller
    for bad in ('{"model": {"context_length": true}}', '{"model": {"context_length": -1}}', '{"model": 3}', "[",
                '{"model": {"context_length": "2048"}}'):
        (tmp_path / "genai_config.json").write_text(bad, "utf-8")
        assert folder_context(tmp_path) is None, bad
    assert folder_context(tmp_path / "nowhere") is None


def test_the_runtime_gives_the_demo_models_context(embedded):
    assert embedded.context_length(embedded.resolve(FAST.alias)) == CONTEXT


def test_a_run_too_long_for_the_models_fails_each_at_once_without_a_request(embedded, tmp_path):
    prompts = PromptSet(name="one", prompts=[Prompt(id="p", prompt="Say hello.")])
    engine = BenchEngine(embedded, [FAST.alias, SLOW.alias], prompts,
                         BenchSettings(rounds=1, warmup=0, max_tokens=CONTEXT), tmp_path / "run")
    asyncio.run(engine.run())
    assert [m.status for m in engine.model_results] == ["failed", "failed"]
    assert all("do not fit the model's context of 1,024 tokens" in m.error for m in engine.model_results)
    assert engine.requests == [] and embedded.list_loaded() == []  # nothing sent, nothing loaded


def test_a_prompts_own_smaller_answer_budget_is_what_must_fit(embedded, tmp_path):
    prompts = PromptSet(name="one", prompts=[Prompt(id="p", prompt="Say hello.", max_tokens=4)])
    engine = BenchEngine(embedded, [FAST.alias], prompts, BenchSettings(rounds=1, warmup=0, max_tokens=CONTEXT),
                         tmp_path / "run")
    asyncio.run(engine.run())
    assert [m.status for m in engine.model_results] == ["ok"]


def test_a_service_on_this_machine_gives_the_context_from_the_models_folder(served):
    """As `fl-tui bench` from the app sees the app's runtime: over HTTP, its cache folder on this machine."""
    from fl_tui.connection.probe import connect

    backend = connect(served.url)
    try:
        assert backend.context_length(backend.resolve(FAST.alias)) == CONTEXT
    finally:
        backend.close()
