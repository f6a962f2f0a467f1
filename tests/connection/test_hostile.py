"""fl-tui against a hostile server (benchmarks/hostile_server.py): bounded memory and time, a bad answer fails its
request with a reason that names it and the run goes on, nothing a server sends reaches the terminal as an escape,
and credentials in the endpoint URL appear nowhere.

Every wait is on a condition (a request returning, a process exiting); the hostile answers are bounded, so a
client that stopped bounding them would finish and fail these assertions, not hang.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import run_cli

from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.connection.base import BackendError
from fl_tui.connection.chat import chat_body, stream_chat, stream_client
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.connection.probe import detect
from fl_tui.core.limits import ERROR_BODY_MAX, STREAM_MAX_BYTES
from fl_tui.core.prompts import Prompt, PromptSet

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("hostile_server", REPO / "benchmarks" / "hostile_server.py")
hostile = sys.modules.setdefault("hostile_server", importlib.util.module_from_spec(_spec))
if not hasattr(hostile, "start_thread"):
    _spec.loader.exec_module(hostile)

ONE_PROMPT = PromptSet(name="one", prompts=[Prompt(id="p1", prompt="Say hello.")])
ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture(scope="module")
def server():
    handle = hostile.start_thread(lifetime_s=3600)
    yield handle
    handle.stop()


# model -> (status, words the reason must contain); the second "good" shows the run went on to the end.
EXPECTED = {
    "good": ("ok", None),
    "endless-500": ("failed", "HTTP 500: oops"),
    "endless-200": ("failed", "stream cut after 48 events"),
    "long-line": ("failed", "stream cut at 16 MiB (the byte cap)"),
    "done-then-more": ("failed", "stream cut after 48 events"),
    "html": ("failed", "not an event stream (HTTP 200, content-type text/html, 39 bytes), starting '<html>"),
    "json-completion": ("failed", "a JSON answer, not an event stream"),
    "gzip": ("failed", "Content-Encoding gzip"),
    "empty": ("failed", "empty answer, not an event stream (HTTP 200, content-type text/event-stream, 0 bytes)"),
    "redirect": ("failed", "redirect (HTTP 302, content-type text/plain) to /ok/v1/chat/completions"),
    "surrogate-split": ("ok", None),
    "lone-surrogate": ("ok", None),
    "deep-nesting": ("failed", "malformed event"),
    "usage-negative": ("ok", None),
    "usage-bool": ("ok", None),
    "usage-string": ("ok", None),
    "finish-error": ("failed", 'finish_reason "error"'),
    "finish-odd": ("ok", None),
    "escape-error": ("failed", "HTTP 404: no such model"),
}


async def test_each_hostile_answer_fails_its_request_and_the_run_goes_on(server, tmp_path):
    backend = OpenAICompatBackend(server.endpoint("ok"))
    models = [*EXPECTED, "good"]
    out = tmp_path / "run"
    try:
        engine = BenchEngine(backend, models, ONE_PROMPT, BenchSettings(rounds=1, warmup=0, max_tokens=8), out)
        run = await engine.run()
    finally:
        backend.close()

    requests = run["requests"]
    assert [r["model"] for r in requests] == models  # every model ran, the last one too
    for r in requests:
        status, reason = EXPECTED[r["model"]]
        assert r["status"] == status, (r["model"], r["error"])
        assert (r["error"] is None) if reason is None else (reason in r["error"]), (r["model"], r["error"])
        assert not any(e in (r["error"] or "") + r["text"] for e in ESCAPES), r
    by = {r["model"]: r for r in requests}
    assert by["surrogate-split"]["text"] == "smile \U0001f600 done"  # the pair split across two events rejoined
    assert by["lone-surrogate"]["text"] == "bad \ufffd end"
    for model, shown in (("usage-negative", "-5"), ("usage-bool", "true"), ("usage-string", '"7"')):
        got = by[model]
        assert (got["output_tokens"], got["token_count_source"]) == (3, "chunks"), got
        assert f"usage.completion_tokens ignored: {shown} is not a non-negative integer" in got["warning"]
    assert by["good"]["token_count_source"] == "usage" and by["good"]["warning"] is None
    odd = by["finish-odd"]
    assert odd["finish_reason"] == "weird" and "unusual finish_reason 'weird'" in odd["warning"]

    on_disk = (out / "run.json").read_bytes()  # written whole, valid UTF-8, no escape byte
    assert json.loads(on_disk.decode("utf-8"))["requests"] == json.loads(json.dumps(requests))
    assert b"\x1b" not in on_disk and b"\x1b" not in (out / "requests.jsonl").read_bytes()
    assert (out / "report.md").is_file()


async def test_endless_interim_responses_are_cut_at_the_timeout(server):
    """A server that answers `100 Continue` without end, as fast as the socket takes it: the read never has to
    wait, and the request's --timeout still ends it (it is cut, not served until the server gives up)."""
    async with stream_client() as client:
        rec = await stream_chat(client, server.endpoint("ok") + "/v1", chat_body("continue-flood", "x", max_tokens=8),
                                timeout_s=1)
    assert rec.timed_out and rec.transport_error == "timed out after 1 s", rec.transport_error
    assert rec.status_code is None and not rec.events


async def test_what_is_kept_of_an_endless_answer_is_bounded(server):
    async with stream_client() as client:
        for model in ("endless-500", "endless-200", "long-line"):
            body = chat_body(model, "hi", max_tokens=100_000)  # a big max_tokens: the byte cap is what cuts
            rec = await stream_chat(client, server.endpoint("ok") + "/v1", body, timeout_s=120)
            kept = len(rec.error_body or "") + sum(len(e.data) for e in rec.events)
            assert kept <= STREAM_MAX_BYTES, (model, kept)
            assert rec.body_bytes <= STREAM_MAX_BYTES + 2**20, (model, rec.body_bytes)  # one read past the cap
            assert server.server.sent[model] < hostile.WRITE_LIMIT  # the client hung up; the server did not finish
            if model == "endless-500":
                assert rec.status_code == 500 and 0 < len(rec.error_body.encode()) <= ERROR_BODY_MAX
            else:
                assert (rec.cut or "").startswith("stream cut at 16 MiB"), (model, rec.cut)


@pytest.mark.parametrize("mode", ["drip", "driphead"])
def test_detection_has_one_deadline_for_a_dripping_server(server, mode):
    with pytest.raises(BackendError, match=r"no complete answer within 1 s"):
        detect(server.endpoint(mode), timeout=5, deadline_s=1)


@pytest.mark.parametrize("mode", ["drip", "driphead"])
def test_a_control_plane_request_has_one_deadline_too(server, mode):
    backend = OpenAICompatBackend(server.endpoint(mode))
    backend.control_deadline_s = 1
    try:
        with pytest.raises(BackendError, match=r"cannot reach .*: no complete answer within 1 s"):
            backend.list_models()
    finally:
        backend.close()


@pytest.mark.parametrize("mode", ["drip", "driphead"])
def test_bench_timeout_bounds_its_control_requests_too(server, mode):
    """`bench --timeout 2` against a model list dripping a byte at a time: the listing is cut at 2 s, not at the
    control plane's own 60 s."""
    result = run_cli("--endpoint", server.endpoint(mode), "bench", "--models", "good", "--timeout", "2")
    assert result.returncode == 2 and "no complete answer within 2 s" in result.stderr, result.stderr


def test_a_huge_model_list_is_refused_not_kept(server):
    backend = OpenAICompatBackend(server.endpoint("huge"))
    try:
        with pytest.raises(BackendError, match=r"GET /v1/models: the answer is larger than 16 MiB"):
            backend.list_models()
    finally:
        backend.close()


def test_a_model_list_nested_past_any_limit_is_one_line_not_an_internal_error(server):
    backend = OpenAICompatBackend(server.endpoint("nested"))
    try:
        with pytest.raises(BackendError, match=r"GET /v1/models: the answer is nested too deeply to read"):
            backend.list_models()
    finally:
        backend.close()
    for args in (("status",), ("models", "list"), ("bench", "--models", "good", "--rounds", "1")):
        result = run_cli("--endpoint", server.endpoint("nested"), *args)
        assert result.returncode in (1, 2) and "internal error" not in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0, (args, result.stderr)


def _cli(*args: str, limit_s: float = 300) -> tuple[int, str, str, int]:
    """Exit code, stdout, stderr and peak RSS (KiB) of one `fl-tui` process, as the kernel counted it (wait4).

    A watchdog kills a process still running after `limit_s`: a hang fails the test instead of stalling the suite."""
    if not hasattr(os, "wait4"):
        pytest.skip("peak RSS as the kernel counted it needs wait4 (POSIX)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fl_tui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
        env=dict(os.environ),
    )
    output: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda k=k, f=f: output.__setitem__(k, f.read()))
               for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    watchdog = threading.Timer(limit_s, proc.kill)
    watchdog.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    proc.stdout.close()
    proc.stderr.close()
    return proc.returncode, output["out"].decode("utf-8"), output["err"].decode("utf-8"), usage.ru_maxrss


def test_status_against_a_server_that_answers_escapes_prints_none(server):
    code, stdout, stderr, _ = _cli("--endpoint", server.endpoint("osc"), "status")
    assert code == 2, stderr
    assert "nothing here" in stderr or "not an OpenAI-compatible server" in stderr
    assert not any(e in stdout + stderr for e in ESCAPES), repr(stderr)


def test_models_list_shows_odd_server_ids_inert(server):
    code, stdout, stderr, _ = _cli("--endpoint", server.endpoint("ok"), "models", "list")
    assert code == 0, stderr
    assert "odd-\ufffd-id" in stdout and "rtl-\ufffdtxt.exe" in stdout and "red--id" in stdout
    assert not any(e in stdout + stderr for e in ESCAPES), repr(stdout)


def test_credentials_in_the_endpoint_appear_nowhere(server, tmp_path):
    url = server.endpoint("ok").replace("http://", "http://alice:hunter2@")
    out = tmp_path / "run"
    code, stdout, stderr, _ = _cli("--endpoint", url, "bench", "--models", "good", "--rounds", "1", "--warmup", "0",
                                   "--max-tokens", "4", "--out", str(out))
    assert code == 0, stderr
    code_s, status_out, status_err, _ = _cli("--endpoint", url, "status")
    assert code_s == 0, status_err
    written = "".join(p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file())
    for text in (stdout, stderr, status_out, status_err, written):
        assert "hunter2" not in text
    assert "alice:***@" in status_out and "alice:***@" in json.loads((out / "run.json").read_text())["endpoint"]


@pytest.mark.parametrize("url", ["http://alice:hunter2@127.0.0.1:9", "http://127.0.0.1:9/?key=hunter2"])
def test_debug_tracebacks_mask_the_endpoints_secrets(url):
    """--debug prints the traceback of a failure that quotes the endpoint: its password or key never shows."""
    result = run_cli("--debug", "--endpoint", url, "status")
    assert result.returncode != 0 and "Traceback" in result.stderr, result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_memory_stays_flat_against_endless_answers(server, tmp_path):
    """Peak RSS of a bench process fed 500 bodies, streams and lines that never end, against one fed a normal
    answer: without the caps it would read up to 512 MiB per request (hostile.WRITE_LIMIT). The long line is cut by
    the 16 MiB byte cap, the endless stream by the event cap (512 x 4 + 16), the 500 body at 64 KiB."""
    def bench(models: str, name: str) -> tuple[int, str, int]:
        code, _out, err, peak = _cli("--endpoint", server.endpoint("ok"), "bench", "--models", models, "--rounds",
                                     "1", "--warmup", "0", "--max-tokens", "512", "--timeout", "120",
                                     "--out", str(tmp_path / name))
        return code, err, peak

    code, err, baseline = bench("good", "base")
    assert code == 0, err
    code, err, peak = bench("endless-500,endless-200,long-line", "endless")
    assert code == 1, err  # every model failed, none crashed the run
    run = json.loads((tmp_path / "endless" / "run.json").read_text(encoding="utf-8"))
    assert [m["status"] for m in run["models"]] == ["failed"] * 3
    growth_mib = (peak - baseline) / 1024
    print(f"peak RSS: baseline {baseline / 1024:.0f} MiB, against endless answers {peak / 1024:.0f} MiB")
    assert growth_mib < 64, (baseline, peak)


async def test_queue_time_reaches_the_report_at_concurrency_above_one(server, tmp_path):
    backend = OpenAICompatBackend(server.endpoint("ok"))
    out = tmp_path / "run"
    try:
        settings = BenchSettings(rounds=6, warmup=0, max_tokens=4, concurrency=3)
        run = await BenchEngine(backend, ["good"], ONE_PROMPT, settings, out).run()
    finally:
        backend.close()
    assert all(r["status"] == "ok" and r["queue_ms"] >= 0 for r in run["requests"])
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Client queue time" in report and "| good | 6 |" in report


async def test_a_model_error_quoting_a_server_keeps_its_escapes_out_of_run_json(server, tmp_path):
    backend = OpenAICompatBackend(server.endpoint("osc"))
    out = tmp_path / "run"
    try:
        run = await BenchEngine(backend, ["good"], ONE_PROMPT, BenchSettings(rounds=1, warmup=0), out).run()
    finally:
        backend.close()
    (model,) = run["models"]
    assert model["status"] == "failed" and "GET /v1/models: HTTP 404: nothing here" in model["error"]
    for name in ("run.json", "report.md", "report.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert not any(e in text for e in ESCAPES), name


EVIL = "\x1b]52;c;cHduZWQ=\x07\x9b31m\x7f\u202e\u2066"  # OSC 52, 8-bit CSI, DEL, a bidi override and an isolate


def test_no_escape_reaches_the_terminal_from_any_command_that_prints(server, tmp_path):
    out = tmp_path / "run"
    code, stdout, stderr, _ = _cli("--endpoint", server.endpoint("ok"), "bench", "--models",
                                   "escape-error,lone-surrogate,good", "--rounds", "1", "--warmup", "0",
                                   "--max-tokens", "4", "--out", str(out))
    assert code == 1, stderr  # escape-error failed; the models after it ran
    statuses = [m["status"] for m in json.loads((out / "run.json").read_text(encoding="utf-8"))["models"]]
    assert statuses == ["failed", "ok", "ok"]
    printed = [stdout, stderr]

    run = json.loads((out / "run.json").read_text(encoding="utf-8"))  # now a run edited to carry escapes everywhere
    run["run_id"] = f"id{EVIL}"
    run["warnings"] = [f"warn{EVIL}"]
    for m in run["models"]:
        m["model"], m["error"] = f"{m['model']}{EVIL}", f"error{EVIL}"
    for r in run["requests"]:
        r["model"], r["text"], r["error"] = f"{r['model']}{EVIL}", f"text{EVIL}", f"error{EVIL}"
    (out / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    for args in (("report", str(out)), ("report", str(out), "--format", "csv"),
                 ("report", str(out), "--format", "json"), ("compare", str(out), str(out))):
        code, stdout, stderr, _ = _cli(*args)
        assert code == 0, (args, stderr)
        printed += [stdout, stderr]
    for text in printed:
        assert not any(c in text for c in ("\x1b", "\x07", "\x9b", "\x7f", "\u202e", "\u2066")), repr(text)[:300]
