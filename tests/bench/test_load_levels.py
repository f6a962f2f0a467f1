"""Load levels, paced starts and goodput (`--concurrency 1,4`, `--rate`, `--duration`, `--slo`), against the
loopback server serving in parallel and serializing. The server's models sleep (slow-<ms>), so what the tests
compare is the server's schedule, not this machine's speed; bounds are wide."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from conftest import run_cli
from loopback_module import loopback

from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.report import write_reports
from fl_tui.bench.runfiles import read_run
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.prompts import Prompt, PromptSet

EIGHT = PromptSet(name="eight", prompts=[Prompt(id=f"p{i}", prompt=f"Say {i}.") for i in range(8)])
FOUR = PromptSet(name="four", prompts=EIGHT.prompts[:4])


@pytest.fixture(scope="module")
def parallel():
    handle = loopback.start_subprocess(lifetime_s=600)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def serial():
    handle = loopback.start_subprocess(lifetime_s=600, serialize=True)
    yield handle
    handle.stop()


async def run_engine(url: str, prompts: PromptSet, out: Path, model: str = "slow-50", **settings) -> dict:
    """No warm-up unless asked: the paced tests take one, so the client's cold first request is not measured."""
    backend = OpenAICompatBackend(url)
    try:
        engine = BenchEngine(backend, [model], prompts, BenchSettings(**{"warmup": 0, **settings}), out)
        return await engine.run()
    finally:
        backend.close()


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("server", "scales"), [("parallel", True), ("serial", False)])
async def test_a_sweep_scales_on_a_parallel_server_and_not_on_a_serializing_one(server, scales, request, tmp_path):
    handle = request.getfixturevalue(server)
    run = await run_engine(handle.url, EIGHT, tmp_path / "run", rounds=1, max_tokens=4, concurrency=1, levels=(1, 4))
    one, four = run["models"]
    assert (one["concurrency"], four["concurrency"]) == (1, 4) and one["model"] == four["model"] == "slow-50"
    assert one["status"] == four["status"] == "ok" and one["speedup"] is None
    assert four["speedup"] == pytest.approx(four["aggregate_output_tps"] / one["aggregate_output_tps"])
    if scales:  # 4 requests of ~200 ms at once: ideally 4x
        assert four["speedup"] > 2 and four["requests_per_s"] > 2 * one["requests_per_s"]
    else:  # one at a time whatever the client does: the wait moves into TTFT
        assert four["speedup"] < 1.5
        assert four["summary"]["ttft_ms"]["p50"] > 2 * one["summary"]["ttft_ms"]["p50"]
    levels = {r["id"].rsplit("|", 1)[1] for r in run["requests"]}
    assert levels == {"c1", "c4"} and len(run["requests"]) == 16


def _by_index(run: dict, n_prompts: int) -> list[dict]:
    order = {p.id: i for i, p in enumerate(EIGHT.prompts)}
    measured = [r for r in run["requests"] if not r["warmup"]]
    return sorted(measured, key=lambda r: (r["round"] - 1) * n_prompts + order[r["prompt_id"]])


async def test_constant_rate_starts_follow_the_schedule(parallel, tmp_path):
    run = await run_engine(parallel.url, EIGHT, tmp_path / "run", model="slow-20", rounds=1, max_tokens=2,
                           concurrency=256, rate="20", warmup=1)
    requests = _by_index(run, 8)
    first = requests[0]["scheduled_ms"]
    for i, r in enumerate(requests):
        assert r["scheduled_ms"] - first == pytest.approx(i * 50.0, abs=0.01)  # due every 1/20 s
        assert r["queue_ms"] >= 0 and r["start_ms"] - r["scheduled_ms"] == pytest.approx(r["queue_ms"], abs=0.01)
        assert r["queue_ms"] < 250  # never a queue growing 50 ms a request, as one request waiting on another would
    assert sorted(r["queue_ms"] for r in requests)[4] < 30
    assert run["models"][0]["rate"] == "20"


async def test_poisson_starts_follow_the_seeded_schedule_and_duration_bounds_the_count(parallel, tmp_path):
    run = await run_engine(parallel.url, EIGHT, tmp_path / "run", model="slow-20", rounds=1, max_tokens=2,
                           concurrency=256, rate="poisson:20", duration_s=0.6, seed=7, warmup=1)
    rng, due, expected = random.Random(7), 0.0, []
    while due < 0.6:  # computed here, independently of the engine's code
        expected.append(due * 1000)
        due += -math.log(1.0 - rng.random()) / 20
    requests = _by_index(run, 8)
    assert len(requests) == len(expected) == run["models"][0]["planned"]
    first = requests[0]["scheduled_ms"]
    assert [r["scheduled_ms"] - first for r in requests] == pytest.approx(expected, abs=0.01)
    assert all(0 <= r["queue_ms"] < 250 for r in requests)  # none queued behind another (a busy machine's wake-ups
    assert sorted(r["queue_ms"] for r in requests)[len(requests) // 2] < 30  # reach 100 ms); most on time
    assert run["settings"]["schedule_seed"] == 7 and run["models"][0]["rate"] == "poisson:20"


async def test_goodput_is_the_fraction_meeting_every_bound(serial, tmp_path):
    slo = {"ttft_ms": 400.0, "e2e_ms": 5000.0}
    out = tmp_path / "run"
    run = await run_engine(serial.url, FOUR, out, model="slow-100", rounds=1, max_tokens=2, concurrency=4, slo=slo)
    lines = [r for r in jsonl(out / "requests.jsonl") if not r["warmup"]]
    good = [r for r in lines if r["status"] == "ok" and r["queue_ms"] + r["ttft_ms"] <= 400
            and r["queue_ms"] + r["e2e_ms"] <= 5000]
    span_s = (max(r["start_ms"] + r["e2e_ms"] for r in lines) - min(r["start_ms"] for r in lines)) / 1000
    model = run["models"][0]
    assert 0 < len(good) < len(lines)  # served one at a time: the later ones wait past 400 ms
    assert model["slo_fraction"] == pytest.approx(len(good) / len(lines))
    assert model["goodput_rps"] == pytest.approx(len(good) / span_s)
    assert "## Load levels and goodput" in (out / "report.md").read_text(encoding="utf-8")


def test_a_v1_run_still_reads_and_reports(tmp_path):
    from runfactory import sample_run

    run = {**sample_run(), "schema": "fl-tui/run/1"}
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    read = read_run(tmp_path)
    assert [m.model for m in read.models] == [m["model"] for m in run["models"]]
    write_reports(tmp_path, read)
    assert "## Load levels and goodput" not in (tmp_path / "report.md").read_text(encoding="utf-8")
    result = run_cli("report", str(tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("args", "said"), [
    (("--slo", "ttft=500"), "--slo: unknown bound 'ttft'"),
    (("--slo", "ttft_ms=fast"), "--slo: ttft_ms needs a positive number"),
    (("--rate", "quick"), "--rate: expected R or poisson:R"),
    (("--rate", "poisson:0"), "--rate: the rate must be a positive number"),
    (("--concurrency", "1,x"), "--concurrency: expected positive integers"),
    (("--concurrency", "0"), "--concurrency: expected distinct positive integers"),
    (("--duration", "5"), "--duration needs --rate"),
])
def test_bad_load_options_are_one_line_and_exit_2(args, said):
    result = run_cli("bench", *args)
    assert result.returncode == 2
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def _levelled(ttfts_by_level: dict[int, list[float]], slo: dict | None) -> dict:
    from runfactory import make_run

    from fl_tui.bench.records import RequestResult

    requests = [RequestResult(id=f"m|p{i}|r1|c{level}", model="m", prompt_id=f"p{i}", round=1, warmup=False,
                              status="ok", queue_ms=0.0, start_ms=i * 100.0, ttft_ms=t, e2e_ms=t + 50, tpot_ms=5.0,
                              decode_tps=200.0, output_tokens=10, chunk_offsets_ms=[t, t + 25, t + 50],
                              concurrency=level)
                for level, ttfts in ttfts_by_level.items() for i, t in enumerate(ttfts)]
    return make_run([], requests, levels=list(ttfts_by_level), slo=slo)


def test_compare_keys_levels_apart_and_a_goodput_drop_is_a_regression():
    from fl_tui.bench.compare import compare_runs

    slo = {"ttft_ms": 200.0}
    base = _levelled({1: [100.0] * 30, 4: [150.0] * 30}, slo)
    new = _levelled({1: [100.0] * 30, 4: [150.0] * 10 + [300.0] * 20}, slo)  # c=4: 1/3 within 200 ms instead of all
    deltas = {(d.model, d.metric, d.stat): d for d in compare_runs(base, new, resamples=200)}
    assert not deltas[("m @ c=1", "goodput", "fraction")].regression
    drop = deltas[("m @ c=4", "goodput", "fraction")]
    assert drop.base == 1.0 and drop.new == pytest.approx(1 / 3) and drop.regression
    assert deltas[("m @ c=4", "ttft_ms", "p95")].regression and not deltas[("m @ c=1", "ttft_ms", "p95")].regression


def test_a_swept_report_has_a_row_per_level_and_the_progress_line_says_goodput(tmp_path):
    from fl_tui.bench.records import ModelResult
    from fl_tui.bench.report import render_csv, render_markdown
    from fl_tui.cli.bench_progress import level_line

    run = _levelled({1: [100.0] * 3, 4: [300.0] * 3}, {"ttft_ms": 200.0})
    run["models"] = [ModelResult(model="m", requested_as="m", status="ok", concurrency=c, requests_per_s=r,
                                 slo_fraction=f, goodput_rps=g, speedup=s).to_json()
                     for c, r, f, g, s in ((1, 2.0, 1.0, 2.0, None), (4, 6.0, 0.0, 0.0, 3.0))]
    md = render_markdown(run)
    assert "| m @ c=1 | ok |" in md and "| m @ c=4 | ok |" in md and "## Load levels and goodput" in md
    assert "| 3.00 |" in md and "ttft_ms ≤ 200.0" in md
    header = render_csv(run).splitlines()[0].split(",")
    assert header[-6:] == ["concurrency", "rate", "requests_per_s", "speedup", "slo_fraction", "goodput_rps"]
    line = level_line(ModelResult(**{k: v for k, v in run["models"][1].items()}))
    assert line == "6.00 req/s, 0.0 output tok/s, speedup 3.00x, SLO met 0%, goodput 0.00 req/s"


def test_resume_keeps_a_model_only_when_every_level_finished(tmp_path):
    from fl_tui.bench.records import ModelResult
    from fl_tui.bench.resume import carried_over

    run = _levelled({1: [100.0] * 2, 4: [100.0] * 2}, None)
    run["requests"] += [{**r, "model": "n", "id": r["id"].replace("m|", "n|")} for r in run["requests"]]
    run["models"] = [ModelResult(model=name, requested_as=name, status=status, concurrency=level).to_json()
                     for name, level, status in (("m", 1, "ok"), ("m", 4, "failed"), ("n", 1, "ok"), ("n", 4, "ok"))]
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    carried = carried_over(tmp_path, {**run["settings"], "levels": (1, 4), "rate": None}, run.get("prompts"))
    assert [(m["model"], m["concurrency"]) for m in carried.models] == [("n", 1), ("n", 4)]
    assert carried.schedule_seed is None
    run["settings"]["schedule_seed"] = 99  # a Poisson run without --seed: the resumed part paces as it did
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    carried = carried_over(tmp_path, {**run["settings"], "levels": (1, 4), "rate": None}, run.get("prompts"))
    backend = OpenAICompatBackend("http://127.0.0.1:9")  # never contacted
    engine = BenchEngine(backend, ["n"], FOUR, BenchSettings(rate="poisson:5"), tmp_path, carried=carried)
    backend.close()
    assert carried.schedule_seed == 99 and engine.schedule_seed == 99
    assert {r["model"] for r in carried.requests} == {"n"} and len(carried.requests) == 4


async def test_finished_streams_are_parsed_and_written_off_the_stamping_loop(parallel, tmp_path, monkeypatch):
    """Which thread, not how long: request_result and the requests.jsonl write never run on the engine's loop."""
    from waiting import ThreadLog

    from fl_tui.bench import engine, runwriter

    log = ThreadLog(monkeypatch)
    log.wrap(engine, "request_result")
    log.wrap(runwriter.RunWriter, "request")
    run = await run_engine(parallel.url, FOUR, tmp_path / "run", model="slow-20", rounds=1, max_tokens=2,
                           concurrency=1, levels=(1, 2))
    assert len(run["requests"]) == 8 and log.names() == {"request_result", "request"}
    assert log.on_the_loop() == []


def test_requests_reused_on_resume_count_in_the_slo_share_but_not_in_the_rates(tmp_path):
    """A model's sequential level taken whole from an earlier attempt (--resume): the share meeting the SLOs is
    over every request; per second needs this attempt's clock, and this attempt measured none."""
    from fl_tui.bench.records import ModelResult, RequestResult

    prompts = PromptSet(name="one", prompts=[Prompt(id="p1", prompt="Say hello.")])
    engine = BenchEngine(OpenAICompatBackend("http://127.0.0.1:9"), ["m"], prompts,
                         BenchSettings(rounds=2, slo={"ttft_ms": 100.0}), tmp_path)
    mine = [RequestResult(id=f"m|p1|r{i}", model="m", prompt_id="p1", round=i, warmup=False, status="ok",
                          ttft_ms=ttft, e2e_ms=200.0, start_ms=300.0 * i, output_tokens=4)
            for i, ttft in ((1, 50.0), (2, 150.0))]
    engine._reused = {r.id for r in mine}
    result = ModelResult(model="m", requested_as="m", status="failed")
    engine._finish_model("m", result, mine, stopped=False)
    assert result.resumed == 2 and result.slo_fraction == 0.5  # one of the two met ttft_ms <= 100
    assert result.goodput_rps is None and result.requests_per_s is None and result.aggregate_output_tps is None
    assert result.summary["ttft_ms"]["n"] == 2  # per-request figures pool every request
