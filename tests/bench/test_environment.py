"""run.json records what a run ran on, and compare says when two runs ran on different machines or software."""

import asyncio
import importlib.metadata
import json
import os
import platform
from types import SimpleNamespace

import psutil
import stand_in
from conftest import run_cli
from runfactory import sample_run

from fl_tui.bench import environment
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.environment import environment_note, gather
from fl_tui.bench.runfiles import read_run
from fl_tui.connection.base import BackendError
from fl_tui.core.prompts import Prompt, PromptSet
from fl_tui.demo.build import FAST


def fake_backend(kind="openai", generation="current", fails=False):
    def status():
        if fails:
            raise BackendError("GET /status: connection refused")
        return SimpleNamespace(generation=generation)
    return SimpleNamespace(kind=kind, status=status)


def tool_on_path(monkeypatch, tmp_path, source: str | None) -> None:
    """PATH holds only a folder with (or without) an nvidia-smi of our own, running Python `source`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if source is not None:
        stand_in.install(folder, "nvidia-smi", f"import sys, time\n{source}\n")
    monkeypatch.setenv("PATH", str(folder))


def test_a_real_run_json_records_the_environment(embedded, tmp_path):
    prompts = PromptSet(name="one", prompts=[Prompt(id="p", prompt="Say hello.")])
    out = tmp_path / "run"
    asyncio.run(BenchEngine(embedded, [FAST.alias], prompts, BenchSettings(rounds=1, warmup=0, max_tokens=4),
                            out).run())
    env = json.loads((out / "run.json").read_text(encoding="utf-8"))["environment"]
    assert env["os"] == platform.system() and env["kernel"] == platform.release()
    assert env["cpu_cores"] == os.cpu_count()
    assert abs(env["ram_gib"] - psutil.virtual_memory().total / 2**30) < 0.1
    assert env["python"] == platform.python_version()
    assert env["fl_tui"] == importlib.metadata.version("fl-tui")
    assert env["endpoint_kind"] == "embedded"
    assert env["endpoint_version"] == env["foundry_local_sdk"] == importlib.metadata.version("foundry-local-sdk")
    assert "onnxruntime_genai" in env  # null when not installed, never left out
    assert read_run(out).environment == env  # and it reads back


def test_no_nvidia_smi_leaves_gpus_out(monkeypatch, tmp_path):
    tool_on_path(monkeypatch, tmp_path, None)
    env = gather(fake_backend())
    assert "gpus" not in env
    assert env["endpoint_kind"] == "openai" and env["endpoint_version"] == "current"


def test_gpus_come_from_nvidia_smi(monkeypatch, tmp_path):
    tool_on_path(monkeypatch, tmp_path, "print('NVIDIA RTX 4090, 24564 MiB'); print('NVIDIA T4, 15360 MiB')")
    assert gather(fake_backend())["gpus"] == [{"name": "NVIDIA RTX 4090", "memory": "24564 MiB"},
                                               {"name": "NVIDIA T4", "memory": "15360 MiB"}]


def test_a_hung_or_failing_tool_and_a_failing_status_leave_their_fields_out(monkeypatch, tmp_path):
    monkeypatch.setattr(environment, "TOOL_TIMEOUT_S", 0.2)
    tool_on_path(monkeypatch, tmp_path, "time.sleep(30); print('NVIDIA T4, 15360 MiB')")
    env = gather(fake_backend(fails=True))
    assert "gpus" not in env and "endpoint_version" not in env
    assert env["endpoint_kind"] == "openai"
    stand_in.install(tmp_path / "bin", "nvidia-smi", "import sys\nprint('no devices', file=sys.stderr)\nsys.exit(9)\n")
    assert "gpus" not in gather(fake_backend())


ENV = {"os": "Linux", "kernel": "6.8.0", "arch": "x86_64", "cpu_model": "AMD EPYC 7763", "cpu_cores": 16,
       "ram_gib": 62.8, "python": "3.12.3", "fl_tui": "0.1.0", "foundry_local_sdk": "2.2.1",
       "onnxruntime": "1.31.0", "onnxruntime_genai": None, "endpoint_kind": "embedded",
       "endpoint_version": "2.2.1"}


def test_the_note_names_what_differs_and_says_nothing_when_the_same():
    other = {**ENV, "cpu_model": "Intel Xeon", "ram_gib": 31.3, "fl_tui": "0.2.0"}
    assert environment_note(ENV, other) == "environments differ: cpu_model, ram_gib, fl_tui"
    assert environment_note(ENV, dict(ENV)) is None
    gpu = {**ENV, "gpus": [{"name": "NVIDIA T4", "memory": "15360 MiB"}]}
    assert environment_note(ENV, gpu) == "environments differ: gpus"
    assert environment_note(None, None) is None  # neither recorded one: nothing to compare


def write(tmp_path, name, run):
    (tmp_path / name).mkdir()
    (tmp_path / name / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return str(tmp_path / name)


def test_compare_prints_the_differing_fields(tmp_path):
    base = write(tmp_path, "a", {**sample_run(), "environment": ENV})
    new = write(tmp_path, "b", {**sample_run(), "environment": {**ENV, "cpu_model": "Intel Xeon", "ram_gib": 31.3}})
    same = write(tmp_path, "c", {**sample_run(), "environment": ENV})
    result = run_cli("compare", base, new)
    assert result.returncode == 0, result.stderr
    assert "environments differ: cpu_model, ram_gib\n" in result.stdout
    result = run_cli("compare", base, same)
    assert result.returncode == 0, result.stderr
    assert "environment" not in result.stdout
    result = run_cli("compare", base, new, "--format", "json")
    assert json.loads(result.stdout)["environment"] == "environments differ: cpu_model, ram_gib"
    result = run_cli("compare", base, new, "--format", "csv")
    assert "warning: environments differ: cpu_model, ram_gib" in result.stderr
    assert "environments" not in result.stdout  # the table stays machine-readable


def test_a_v1_run_without_environment_still_compares_with_a_note(tmp_path):
    old = write(tmp_path, "old", {**sample_run(), "schema": "fl-tui/run/1"})
    new = write(tmp_path, "new", {**sample_run(), "environment": ENV})
    result = run_cli("compare", old, new)
    assert result.returncode == 0, result.stderr
    assert "note: the base run has no environment recorded" in result.stdout
    assert "ttft_ms p50" in result.stdout
