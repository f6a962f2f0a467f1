"""The benchmark engine against a server that fails on cue, and its figures against the server's own clock.

Why a fault server: the real Foundry Local runtime cannot be made to answer HTTP 500, send an SSE error event,
emit a malformed chunk, drop the connection, stall or stop early when a test asks it to. `benchmarks/loopback_server.py`
streams exactly like it (role chunk, one token per chunk, finish chunk, usage chunk, [DONE]) and misbehaves by model
name, so every failure path of the engine is exercised: each must fail its own model with a reason that names it and
leave the rest of the matrix running. The same server records when each chunk left, on the monotonic clock the
client uses too, so the engine's inter-chunk gaps can be checked against the truth.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from loopback_module import loopback
from waiting import stopped_midway

from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.records import RUN_SCHEMA
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.prompts import Prompt, PromptSet

REPO = Path(__file__).resolve().parents[2]

ONE_PROMPT = PromptSet(name="one", prompts=[Prompt(id="p1", prompt="Say hello.")])


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=3600)
    yield handle
    handle.stop()


async def run_engine(url: str, models: list[str], out: Path, **settings) -> dict:
    backend = OpenAICompatBackend(url)
    try:
        engine = BenchEngine(backend, models, ONE_PROMPT, BenchSettings(**settings), out)
        return await engine.run()
    finally:
        backend.close()


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Each bad model fails with a reason naming what went wrong; the matrix goes on to the next model.
EXPECTED = {
    "sched-1000": ("ok", None),
    "fault-http500": ("failed", "HTTP 500: injected fault: the runtime crashed"),
    "fault-sse-error": ("failed", "boom"),
    "fault-malformed": ("failed", "malformed event"),
    # RST mid-stream; Windows reports it as the peer closing mid-body
    "fault-drop": ("failed", "connection dropped ("
                   + ("RemoteProtocolError" if sys.platform == "win32" else "ReadError")),
    "fault-stall": ("failed", "timed out after 5 s"),
    "fault-noend": ("failed", "ended early"),
    "not-a-model": ("failed", "unknown model 'not-a-model'"),
    "fault-every2": ("partial", "1 of 2 requests failed: HTTP 500"),
    "sched-2000": ("ok", None),  # a good model after the bad ones
}


async def test_each_failure_fails_its_model_and_the_run_goes_on(server, tmp_path):
    server.clear()  # fault-every2 counts its requests from here
    out = tmp_path / "run"
    run = await run_engine(server.url, list(EXPECTED), out, rounds=2, warmup=0, max_tokens=6, timeout_s=5)

    models = {m["requested_as"]: m for m in run["models"]}
    assert list(models) == list(EXPECTED)
    for name, (status, reason) in EXPECTED.items():
        got = models[name]
        assert got["status"] == status, (name, got["status"], got["error"])
        if reason is None:
            assert got["error"] is None, (name, got["error"])
        else:
            assert reason in (got["error"] or ""), (name, got["error"])

    requests = run["requests"]
    by_model: dict[str, list[dict]] = {}
    for r in requests:
        by_model.setdefault(r["model"], []).append(r)
    assert "not-a-model" not in by_model  # it never got as far as a request
    assert all(len(by_model[m]) == 2 for m in EXPECTED if m != "not-a-model")
    good = by_model["sched-2000"]
    assert all(r["status"] == "ok" and r["output_tokens"] == 6 and r["token_count_source"] == "usage" for r in good)
    assert len(good[0]["chunk_offsets_ms"]) == 6
    # A failed request keeps the timings it got: three tokens came before the error event.
    assert all(len(r["chunk_offsets_ms"]) == 3 and r["ttft_ms"] > 0 for r in by_model["fault-sse-error"])
    assert [r["status"] for r in by_model["fault-every2"]] == ["ok", "failed"]

    lines = jsonl(out / "requests.jsonl")
    assert [line["id"] for line in lines] == [r["id"] for r in requests]
    on_disk = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert on_disk["schema"] == RUN_SCHEMA == "fl-tui/run/2"
    assert on_disk["interrupted"] is False
    assert len(on_disk["requests"]) == len(lines) == 18
    assert (out / "report.md").is_file()


async def test_each_chunk_is_stamped_on_arrival_never_before_the_server_sent_it(server, tmp_path):
    """Causal bounds, true on any machine at any load. t0 comes before the server got the request, and the server
    writes chunk i only after it has finished writing chunk i - 1 (its stamp), 20 ms later on its schedule: so
    no chunk's offset can be smaller than the server's time from receiving the request to that earlier stamp.
    Stamps taken early (before the read, or one for a whole batch) break it. How close the stamps come to the
    server's clock is measured by benchmarks/stream_accuracy.py, not asserted here."""
    run = await run_engine(server.url, ["sched-50"], tmp_path / "run", rounds=1, warmup=0, max_tokens=20,
                           timeout_s=60)
    (request,) = run["requests"]
    (record,) = server.records("sched-50")
    assert request["status"] == "ok"
    offsets = request["chunk_offsets_ms"]
    assert len(offsets) == len(record["chunks_ns"]) == 20  # one stamp per token-bearing chunk
    previous_sent = [(sent - record["received_ns"]) / 1e6 for sent in record["chunks_ns"][:-1]]
    pairs = list(zip(offsets[1:], previous_sent, strict=True))
    assert all(offset >= sent for offset, sent in pairs), pairs
    assert offsets == sorted(offsets) and request["e2e_ms"] == pytest.approx(offsets[-1])
    assert request["ttft_ms"] == pytest.approx(offsets[0])


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGINT to one process on Windows: Ctrl-Break is tested in "
                    "test_run_folder.py")
def test_ctrl_c_keeps_what_finished(server, tmp_path):
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps(["Count to three."]), encoding="utf-8")
    out = tmp_path / "run"
    args = [
        sys.executable, "-m", "fl_tui", "--endpoint", server.url, "bench", "--models", "slow-50",
        "--prompts", str(prompts), "--rounds", "50", "--warmup", "0", "--max-tokens", "4", "--out", str(out),
    ]
    code, stdout, stderr = stopped_midway(args, out, lambda proc: proc.send_signal(signal.SIGINT),
                                          env=dict(os.environ), cwd=REPO)
    assert code == 130, (stdout, stderr)
    assert "interrupted" in stderr

    lines = jsonl(out / "requests.jsonl")  # every line parses: nothing half-written
    assert 2 <= len(lines) < 50
    assert all(line["status"] == "ok" for line in lines)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["schema"] == RUN_SCHEMA
    assert run["interrupted"] is True
    assert [r["id"] for r in run["requests"]] == [line["id"] for line in lines]
    (model,) = run["models"]
    n = len(lines)
    assert (model["status"], model["measured_ok"], model["planned"]) == ("stopped", n, 50)
    assert f": stopped ({n}/50 measured): ran {n} of 50 measured requests" in stderr
    assert f"| stopped | {n}/50 |" in (out / "report.md").read_text(encoding="utf-8")
    report = subprocess.run([sys.executable, "-m", "fl_tui", "report", str(out)], capture_output=True, text=True,
                            env=dict(os.environ), cwd=REPO, timeout=60)
    assert report.returncode == 0 and f"| stopped | {n}/50 |" in report.stdout, report.stderr
