"""The live view's rows per model and level (headless LiveState): which row a finished request counts in, what each
row's status says before the engine's verdict, and the live goodput against load.goodput on the same requests."""

from pathlib import Path

import pytest

from fl_tui.bench import load
from fl_tui.bench.engine import BenchSettings
from fl_tui.bench.events import ModelFinished, ModelPhase, Phase, RequestFinished, RunStarted
from fl_tui.bench.live import LiveState, level_name, sweep_plan
from fl_tui.bench.records import ModelResult, RequestResult

SLO = {"ttft_ms": 100.0, "e2e_ms": 400.0}


def test_the_plan_is_the_engines_order_keyed_as_requests_are_tagged():
    assert sweep_plan(BenchSettings()) == ((None, None),)
    assert sweep_plan(BenchSettings(concurrency=4)) == ((None, None),)  # one level: requests carry no level
    assert sweep_plan(BenchSettings(concurrency=1, levels=(1, 2), prompt_tokens=(128, 1024))) == (
        (1, 128), (1, 1024), (2, 128), (2, 1024))
    assert sweep_plan(BenchSettings(prompt_tokens=(128, 1024))) == ((None, 128), (None, 1024))
    assert [level_name(lv) for lv in ((2, 1024), (4, None), (None, 128))] == ["c2 t1024", "c4", "t128"]


def request(i: int, concurrency: int | None, ttft: float, e2e: float, status: str = "ok",
            target: int | None = None) -> RequestResult:
    return RequestResult(id=f"r{i}", model="m", prompt_id="p", round=i, warmup=False, status=status, ttft_ms=ttft,
                         e2e_ms=e2e, start_ms=100.0 * i, queue_ms=5.0, concurrency=concurrency,
                         prompt_target=target)


def started(plan, slo=None, models=("m",), per_model=8) -> LiveState:
    state = LiveState(plan, slo)
    state.apply(RunStarted("id", Path("/runs/id"), models, per_model))
    return state


def test_each_request_counts_in_its_levels_row_and_in_its_models():
    state = started(((1, None), (2, None)))
    assert [(r.name, r.level, r.total) for r in state.shown_rows()] == [("m", (1, None), 4), ("m", (2, None), 4)]
    state.apply(ModelPhase("m", Phase.RUNNING))
    for i, level in enumerate((1, 1, 1, 1, 2), 1):
        state.apply(RequestFinished("m", request(i, level, 50.0, 300.0)))
    one, two = state.shown_rows()
    assert (one.done, two.done, state.rows["m"].done, state.progress()) == (4, 1, 5, (5, 8))
    assert [state.level_status(r) for r in (one, two)] == [Phase.DONE, Phase.RUNNING]


def test_rows_per_prompt_length_take_the_requests_built_to_that_length():
    state = started(((None, 128), (None, 1024)), per_model=4)
    state.apply(RequestFinished("m", request(1, None, 40.0, 200.0, target=1024)))
    short, long = state.shown_rows()
    assert (short.done, long.done, long.ttft) == (0, 1, [40.0])


def test_before_the_verdict_a_row_says_where_its_model_is():
    state = started(((1, None), (2, None)))
    state.apply(ModelPhase("m", Phase.LOADING))
    assert [state.level_status(r) for r in state.shown_rows()] == [Phase.LOADING, Phase.WAITING]
    state.apply(ModelPhase("m", Phase.FAILED, "unknown model 'm'"))
    state.apply(ModelFinished("m", ModelResult("m", "m", "failed", error="unknown model 'm'")))
    # the engine finishes only the first level of a model that never loaded; the rest show the model's failure
    assert [state.level_status(r) for r in state.shown_rows()] == [Phase.FAILED, Phase.FAILED]
    assert state.shown_rows()[0].detail == "unknown model 'm'"


def test_the_live_goodput_is_load_goodput_and_then_the_engines_own():
    state = started(((1, None), (2, None)), SLO)
    requests = [request(1, 1, 50.0, 300.0), request(2, 1, 99.0, 390.0), request(3, 1, 120.0, 300.0),
                request(4, 1, 50.0, None, status="error")]
    for r in requests:
        state.apply(RequestFinished("m", r))
    row = state.shown_rows()[0]
    measured = [r.to_json() for r in requests]
    ok = [r for r in requests if r.status == "ok"]
    span_s = (max(r.start_ms + r.e2e_ms for r in ok) - min(r.start_ms for r in ok)) / 1000
    assert row.goodput() == pytest.approx(load.goodput(measured, SLO, span_s))
    assert row.goodput()[0] == 0.25  # only r1: TTFT and E2E count the 5 ms queue, so r2's TTFT is 104 ms
    state.apply(ModelFinished("m", ModelResult("m", "m", "ok", concurrency=1, slo_fraction=0.5, goodput_rps=1.5)))
    assert row.goodput() == (0.5, 1.5) and state.level_status(row) == Phase.DONE
    assert state.shown_rows()[1].goodput() == (None, None)  # nothing measured at c2 yet
