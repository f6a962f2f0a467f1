"""Several endpoints in one run (`fl-tui bench --endpoint A --endpoint B`), each in turn, against two loopback
servers: one serving in parallel, one serializing, so the two boxes measure differently and each request can be
traced to the server that answered it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import socket
import statistics

import pytest
from conftest import run_cli
from loopback_module import loopback

from fl_tui.bench.endpoints import endpoints_of, part, short
from fl_tui.bench.engine import BenchEngine, BenchSettings, Target
from fl_tui.bench.events import RequestStarted
from fl_tui.bench.runfiles import read_run
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.prompts import Prompt, PromptSet

MODEL = "slow-20"


@pytest.fixture(scope="module")
def boxes():
    a = loopback.start_subprocess(lifetime_s=600)
    b = loopback.start_subprocess(lifetime_s=600, serialize=True)
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps({"name": "two", "prompts": [{"id": "p1", "prompt": "Say one."},
                                                           {"id": "p2", "prompt": "Say two."}]}))
    return path


def _bench(*args: str, prompts, out, timeout: float = 120):
    return run_cli("bench", "--models", MODEL, "--prompts", str(prompts), "--rounds", "1", "--max-tokens", "3",
                   "--out", str(out), *args, timeout=timeout)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_endpoints_run_in_turn_into_one_run(boxes, prompts, tmp_path):
    a, b = boxes
    a.clear()
    b.clear()
    out = tmp_path / "run"
    done = _bench("--endpoint", a.url, "--endpoint", b.url, "--concurrency", "1,2", "--slo", "ttft_ms=5000",
                  prompts=prompts, out=out)
    assert done.returncode == 0, done.stderr
    run = read_run(out)
    assert endpoints_of(run) == [a.url, b.url]
    assert [(e["endpoint"], e["backend"]) for e in run.endpoints] == [(a.url, "openai"), (b.url, "openai")]
    assert all(e["environment"]["endpoint_kind"] == "openai" for e in run.endpoints)
    entries = [(m.endpoint, m.concurrency, m.status) for m in run.models]
    assert entries == [(a.url, 1, "ok"), (a.url, 2, "ok"), (b.url, 1, "ok"), (b.url, 2, "ok")]
    assert all(m.slo_fraction is not None for m in run.models)
    # each server answered exactly the requests the run says went to it (a warm-up and 2 prompts x 2 levels)
    for box in (a, b):
        mine = [r for r in run.requests if r.endpoint == box.url]
        assert len(mine) == len(box.records(MODEL)) == 5
    ids = [r.id for r in run.requests]
    assert len(set(ids)) == len(ids)
    # one endpoint at a time: B received its first request after A sent its last byte (one clock, CLOCK_MONOTONIC)
    assert max(r["end_ns"] for r in a.records(MODEL)) < min(r["received_ns"] for r in b.records(MODEL))

    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"  - {a.url} (backend openai)" in report and f"  - {b.url} (backend openai)" in report
    assert "| Model | Endpoint | Status |" in report and f"| {MODEL} @ c=2 | {b.url} | ok |" in report
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert [(r["endpoint"], r["concurrency"]) for r in rows] == [(a.url, "1"), (a.url, "2"), (b.url, "1"),
                                                                 (b.url, "2")]


def test_compare_one_run_compares_its_endpoints(boxes, prompts, tmp_path):
    a, b = boxes
    out = tmp_path / "run"
    assert _bench("--endpoint", f"{a.url},{b.url}", prompts=prompts, out=out).returncode == 0
    run = read_run(out)
    first, second = part(run, a.url), part(run, b.url)
    assert [r.endpoint for r in run.requests].count(a.url) == len(first.requests) == 3
    assert first.models[0].endpoint is None and first.environment == run.endpoints[0]["environment"]

    done = run_cli("compare", str(out), "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    shown = json.loads(done.stdout)
    [comparison] = shown["comparisons"]
    assert (comparison["base"], comparison["new"]) == (a.url, b.url)
    assert {d["model"] for d in comparison["deltas"]} == {MODEL}
    ttft_p50 = comparison["deltas"][0]
    assert (ttft_p50["metric"], ttft_p50["stat"]) == ("ttft_ms", "p50")
    assert ttft_p50["base"] == pytest.approx(statistics.median(r.ttft_ms for r in first.requests if not r.warmup))
    assert ttft_p50["new"] == pytest.approx(statistics.median(r.ttft_ms for r in second.requests if not r.warmup))
    text = run_cli("compare", str(out))
    assert f"base {a.url}  ->  new {b.url}" in text.stdout


def test_compare_of_a_run_against_one_endpoint_asks_for_a_second_run(boxes, prompts, tmp_path):
    out = tmp_path / "run"
    assert _bench("--endpoint", boxes[0].url, prompts=prompts, out=out).returncode == 0
    done = run_cli("compare", str(out))
    assert done.returncode == 2 and "was run against one endpoint; compare it with a second run" in done.stderr
    assert read_run(out).endpoints is None and read_run(out).models[0].endpoint is None


def test_an_unreachable_endpoint_is_reported_and_the_others_keep_their_results(boxes, prompts, tmp_path):
    a, _ = boxes
    gone = f"http://127.0.0.1:{_closed_port()}"
    out = tmp_path / "run"
    done = _bench("--endpoint", a.url, "--endpoint", gone, prompts=prompts, out=out)
    assert done.returncode == 1
    assert f"{gone}: not benchmarked" in done.stderr and "Traceback" not in done.stderr
    run = read_run(out)
    assert [(m.status, m.endpoint) for m in run.models] == [("ok", a.url), ("failed", gone)]
    assert run.models[1].error.startswith("not benchmarked: ")  # listed where every view lists models
    assert run.endpoints[1]["endpoint"] == gone and run.endpoints[1]["error"]
    assert f"  - {gone} (not benchmarked: " in (out / "report.md").read_text(encoding="utf-8")


def test_resume_runs_only_the_endpoint_that_did_not_finish(boxes, prompts, tmp_path):
    a, _ = boxes
    port = _closed_port()
    late = f"http://127.0.0.1:{port}"
    out = tmp_path / "run"
    assert _bench("--endpoint", a.url, "--endpoint", late, prompts=prompts, out=out).returncode == 1
    a.clear()
    with loopback.start_subprocess(port=port, lifetime_s=600) as b:
        done = _bench("--endpoint", a.url, "--endpoint", late, "--resume", prompts=prompts, out=out)
        assert done.returncode == 0, done.stderr
        assert len(b.records(MODEL)) == 3
    assert a.records(MODEL) == []  # A's model had finished: not run again
    run = read_run(out)
    assert [(m.endpoint, m.status) for m in run.models] == [(a.url, "ok"), (late, "ok")]
    assert len(run.requests) == 6


@pytest.mark.parametrize(("args", "said"), [
    (("--endpoint", "http://127.0.0.1:9", "--endpoint", "ftp://x"), "--endpoint: "),
    (("--endpoint", "http://127.0.0.1:9,127.0.0.1:9"), "--endpoint http://127.0.0.1:9 is given twice"),
])
def test_a_bad_second_endpoint_is_refused_before_anything_runs(args, said, prompts, tmp_path):
    done = _bench(*args, prompts=prompts, out=tmp_path / "run")
    assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_short_names_keep_what_tells_two_services_apart():
    assert short("http://user:***@box:5273") == "box:5273"
    assert short("http://box:8080/v1") == "box:8080" and short("http://box:8080/llama") == "box:8080/llama"
    assert short("http://[::1]:9") == "[::1]:9" and short("embedded") == "embedded"


async def test_a_stop_during_a_later_endpoint_records_what_did_not_run(boxes, tmp_path):
    a, b = boxes
    never = "http://127.0.0.1:1"
    started = asyncio.Event()
    opened: list[OpenAICompatBackend] = []

    def observer(event) -> None:
        if isinstance(event, RequestStarted) and event.live.model == f"slow-200 @ {short(b.url)}":
            started.set()

    def open_b():
        opened.append(OpenAICompatBackend(b.url))
        return opened[-1], ["slow-200"]

    def open_never():
        raise AssertionError("a stopped run connects to no further endpoint")

    more = [Target(b.url, open_b, ("slow-200",)), Target(never, open_never, ("slow-20",))]
    first = OpenAICompatBackend(a.url)
    prompts = PromptSet(name="one", prompts=[Prompt(id="p1", prompt="Say one.")])
    engine = BenchEngine(first, ["slow-20"], prompts, BenchSettings(rounds=1, warmup=0, max_tokens=20),
                         tmp_path / "run", observer=observer, more=more)
    try:
        task = asyncio.create_task(engine.run())
        await asyncio.wait_for(started.wait(), 60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        first.close()
    run = read_run(tmp_path / "run")
    assert run.interrupted
    assert [(m.endpoint, m.model, m.status) for m in run.models] == [
        (a.url, "slow-20", "ok"), (b.url, "slow-200", "stopped"), (never, "slow-20", "stopped")]
    assert [e["endpoint"] for e in run.endpoints] == [a.url, b.url]
    assert opened[0]._client.is_closed  # the endpoint whose turn it was is let go


def test_the_environment_can_name_several_endpoints_for_bench_only(boxes, prompts, tmp_path):
    """How the app hands its benchmark process several endpoints (fl_tui.bench.child.bench_env)."""
    from fl_tui.bench.child import bench_env

    a, b = boxes
    env = {"FOUNDRY_LOCAL_ENDPOINT": bench_env(a.url, [b.url])["FOUNDRY_LOCAL_ENDPOINT"]}
    out = tmp_path / "run"
    done = run_cli("bench", "--models", MODEL, "--prompts", str(prompts), "--rounds", "1", "--max-tokens", "2",
                   "--warmup", "0", "--out", str(out), env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert endpoints_of(read_run(out)) == [a.url, b.url]
    status = run_cli("status", env=env)
    assert status.returncode == 2 and "FOUNDRY_LOCAL_ENDPOINT" in status.stderr
