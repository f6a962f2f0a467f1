"""Nothing a user made is lost or mixed: `bench --out` refuses a folder holding a run unless told to resume or
overwrite it, every requests.jsonl line names its run, stop signals end a run as Ctrl-C does, and the files are
written with the umask's mode. `fl-tui bench` runs in a subprocess against the loopback server."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys

import pytest
from conftest import REPO, WINE_LANE, run_cli
from test_engine_faults import jsonl, server  # noqa: F401 - the loopback server fixture
from waiting import stopped_midway, until_sync, written_lines

from fl_tui.core import platform

ALL_RUN_FILES = ("run.json", "requests.jsonl", "report.md", "report.csv")


def bench(url: str, out, *extra: str, models: str = "sched-5000", prompts=None):
    args = ["bench", "--endpoint", url, "--models", models, "--rounds", "2", "--warmup", "0", "--max-tokens", "4",
            "--out", str(out), *extra]
    if prompts is not None:
        args += ["--prompts", str(prompts)]
    return run_cli(*args, env={"BENCH_PROMPT": "Say hello."} if prompts is None else None)


def test_out_holding_a_run_is_refused_then_overwritten(server, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert bench(server.url, out).returncode == 0
    first = json.loads((out / "run.json").read_text())
    (out / "notes.txt").write_text("mine")
    refused = bench(server.url, out)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "already holds a run" in refused.stderr and refused.stderr.count("\n") == 1
    assert json.loads((out / "run.json").read_text()) == first and len(jsonl(out / "requests.jsonl")) == 2

    assert bench(server.url, out, "--overwrite").returncode == 0
    second = json.loads((out / "run.json").read_text())
    lines = jsonl(out / "requests.jsonl")
    assert second["run_id"] != first["run_id"] and len(lines) == 2  # replaced, not appended to
    assert {line["run_id"] for line in lines} == {second["run_id"]}
    assert (out / "notes.txt").read_text() == "mine"


def test_out_that_is_a_file_is_bad_input(server, tmp_path):  # noqa: F811
    out = tmp_path / "a-file"
    out.write_text("x")
    result = bench(server.url, out)
    assert result.returncode == 2 and "is a file" in result.stderr and "Traceback" not in result.stderr


def test_resume_skips_the_models_that_finished(server, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    first = bench(server.url, out, models="sched-5000,fault-http500")
    assert first.returncode == 1  # one model failed
    before = json.loads((out / "run.json").read_text())
    served_before = len(server.records("sched-5000"))

    resumed = bench(server.url, out, "--resume", models="sched-5000,fault-http500")
    assert resumed.returncode == 1, resumed.stderr  # the failed one ran again, and failed again
    assert "1 model(s) finished, 1 to run" in resumed.stderr
    assert len(server.records("sched-5000")) == served_before  # not run again
    run = json.loads((out / "run.json").read_text())
    assert run["run_id"] == before["run_id"] and run["started_at"] == before["started_at"]
    assert [(m["model"], m["status"]) for m in run["models"]] == [("sched-5000", "ok"), ("fault-http500", "failed")]
    lines = jsonl(out / "requests.jsonl")
    assert [line["model"] for line in lines] == ["sched-5000"] * 2 + ["fault-http500"] * 2
    assert [line["id"] for line in lines] == [r["id"] for r in run["requests"]]
    assert {line["run_id"] for line in lines} == {run["run_id"]}


def test_resume_refuses_other_settings(server, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert bench(server.url, out).returncode == 0
    result = run_cli("bench", "--endpoint", server.url, "--models", "sched-5000", "--rounds", "3", "--warmup", "0",
                     "--max-tokens", "4", "--out", str(out), "--resume", env={"BENCH_PROMPT": "Say hello."})
    assert result.returncode == 2 and "other settings (rounds 2 -> 3)" in result.stderr


def test_resume_without_a_run_is_bad_input(server, tmp_path):  # noqa: F811
    result = bench(server.url, tmp_path / "empty", "--resume")
    assert result.returncode == 2 and "holds no run" in result.stderr


# Windows' SIGTERM is TerminateProcess: nothing can be caught, so only Ctrl-Break is sent there. Under Wine
# (`make test-windows`) a Ctrl-Break reaches every process on the console, the test runner's too: Windows only.
@pytest.mark.parametrize("sig", [s for s in platform.stop_signals()
                                 if not (platform.is_windows() and s == signal.SIGTERM)])
@pytest.mark.skipif(WINE_LANE, reason="Wine sends Ctrl-Break to every process on the console, pytest's included")
def test_stop_signals_keep_what_finished(server, tmp_path, sig):  # noqa: F811
    """SIGTERM (kill, systemd), SIGHUP (the SSH session dropped) and on Windows Ctrl-Break (how the app stops its
    benchmark process there) end a run as Ctrl-C does."""
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps(["Count to three."]), encoding="utf-8")
    out = tmp_path / "run"
    args = [sys.executable, "-m", "fl_tui", "--endpoint", server.url, "bench", "--models", "slow-50", "--prompts",
            str(prompts), "--rounds", "50", "--warmup", "0", "--max-tokens", "4", "--out", str(out)]
    sent = platform.CTRL_BREAK_EVENT if sig == getattr(signal, "SIGBREAK", None) else sig
    code, _stdout, stderr = stopped_midway(args, out, lambda proc: proc.send_signal(sent), cwd=REPO,
                                           **platform.child_group_options())
    assert code == 128 + sig and "interrupted" in stderr, stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    lines = jsonl(out / "requests.jsonl")
    assert run["interrupted"] is True and 2 <= len(lines) < 50
    assert [r["id"] for r in run["requests"]] == [line["id"] for line in lines]
    assert (out / "report.md").is_file()


@pytest.mark.skipif(platform.is_windows(), reason="Windows has no file modes to honour")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_run_files_honour_the_umask(server, tmp_path, umask, mode):  # noqa: F811
    out = tmp_path / "run"
    old = os.umask(umask)
    try:
        result = bench(server.url, out)  # the child inherits the umask
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    modes = {name: stat.S_IMODE((out / name).stat().st_mode) for name in ALL_RUN_FILES}
    assert modes == dict.fromkeys(ALL_RUN_FILES, mode)


def test_resume_of_a_finished_run_runs_nothing(server, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert bench(server.url, out).returncode == 0
    before = (out / "run.json").read_text()
    served_before = len(server.records("sched-5000"))
    result = bench(server.url, out, "--resume")
    assert result.returncode == 0 and "1 model(s) finished, 0 to run" in result.stderr
    assert (out / "run.json").read_text() == before and len(server.records("sched-5000")) == served_before


def test_resume_and_overwrite_need_out(server):  # noqa: F811
    for flag in ("--resume", "--overwrite"):
        result = run_cli("bench", "--endpoint", server.url, "--models", "sched-5000", flag)
        assert result.returncode == 2 and "need --out" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need rights on Windows")
@pytest.mark.parametrize("odd", ["folder", "loop"])
@pytest.mark.parametrize("reuse", [(), ("--resume",), ("--overwrite",)])
def test_a_run_file_that_is_not_a_file_is_one_line(server, tmp_path, odd, reuse):  # noqa: F811
    """requests.jsonl a folder, or a symlink to itself: exit 2 in one line naming it, nothing written."""
    out = tmp_path / "run"
    assert bench(server.url, out).returncode == 0
    (out / "requests.jsonl").unlink()
    if odd == "folder":
        (out / "requests.jsonl").mkdir()
    else:
        (out / "requests.jsonl").symlink_to("requests.jsonl")
    before = (out / "run.json").read_bytes()
    result = bench(server.url, out, *reuse)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "requests.jsonl is a" in result.stderr and "internal error" not in result.stderr
    assert (out / "run.json").read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX's")
def test_a_run_killed_before_its_first_model_finished_resumes(server, tmp_path):  # noqa: F811
    """run.json is written when the run starts: a SIGKILL mid-model leaves the settings and prompts on disk, and
    --resume continues the run under its id from requests.jsonl: the requests answered before the kill are kept as
    they were, not sent again, and the model's rates over time count the new attempt's requests only."""
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps(["Count to three."]), encoding="utf-8")
    out = tmp_path / "run"
    args = ["bench", "--endpoint", server.url, "--models", "slow-50", "--prompts", str(prompts), "--rounds", "6",
            "--warmup", "1", "--max-tokens", "4", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "fl_tui", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=REPO)
    try:  # the warm-up's line and at least two measured ones
        until_sync(lambda: written_lines(out) >= 3 or proc.poll() is not None, "three requests written",
                   seen=lambda: written_lines(out))
    finally:
        proc.kill()
        proc.wait(60)
    started = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert started["finished_at"] is None and started["models"] == []
    before = {line["id"]: line for line in jsonl(out / "requests.jsonl") if not line["warmup"]}
    assert len(before) >= 2
    resumed = run_cli(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming run {started['run_id']}: 0 model(s) finished, 1 to run" in resumed.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["run_id"] == started["run_id"] and [m["status"] for m in run["models"]] == ["ok"]
    assert run["models"][0]["resumed"] == len(before) and run["models"][0]["measured_ok"] == 6
    assert any(f"{len(before)} measured request(s) kept from an earlier attempt" in w for w in run["warnings"])
    lines = jsonl(out / "requests.jsonl")
    measured = [line for line in lines if not line["warmup"]]
    assert len(measured) == 6 and len({line["id"] for line in measured}) == 6
    for line in measured:  # answered before the kill: the very record, its clock and text, not a second request
        if line["id"] in before:
            assert line == before[line["id"]]
    assert sum(line["id"] in before for line in measured) == len(before)
    kept = jsonl(out / "requests.superseded.jsonl")  # the killed attempt's warm-up is not thrown away either
    assert [line["warmup"] for line in kept] == [True] and {line["run_id"] for line in kept} == {started["run_id"]}
    other = run_cli(*[a if a != "6" else "7" for a in args], "--resume")
    assert other.returncode == 2 and "other settings (rounds 6 -> 7)" in other.stderr
    more = run_cli(*[a if a != "slow-50" else "slow-50,sched-5000" for a in args], "--resume")
    assert more.returncode == 2, more.stderr
    assert "other settings (models_asked ['slow-50'] -> ['slow-50', 'sched-5000'])" in more.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX's")
def test_a_concurrent_level_is_measured_again_whole_on_resume(server, tmp_path):  # noqa: F811
    """At a level above 1 a request's figures depend on the load around it: nothing is reused, the killed
    attempt's lines go aside, no id is written twice; another level than the run's is refused."""
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps(["Count to three."]), encoding="utf-8")
    out = tmp_path / "run"
    args = ["bench", "--endpoint", server.url, "--models", "slow-50", "--prompts", str(prompts), "--rounds", "8",
            "--concurrency", "2", "--warmup", "0", "--max-tokens", "4", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "fl_tui", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        until_sync(lambda: written_lines(out) >= 3 or proc.poll() is not None, "three requests written",
                   seen=lambda: written_lines(out))
    finally:
        proc.kill()
        proc.wait(60)
    killed = {line["id"] for line in jsonl(out / "requests.jsonl")}
    sequential = run_cli(*[a if a != "2" else "1" for a in args], "--resume")
    assert sequential.returncode == 2 and "other settings (concurrency 2 -> 1)" in sequential.stderr
    resumed = run_cli(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["models"][0]["resumed"] is None and run["models"][0]["measured_ok"] == 8
    ids = [line["id"] for line in jsonl(out / "requests.jsonl")]
    assert len(ids) == 8 and len(set(ids)) == 8
    assert {line["id"] for line in jsonl(out / "requests.superseded.jsonl")} == killed
