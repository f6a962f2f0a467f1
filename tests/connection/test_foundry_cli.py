"""The `foundry` CLI wrapper, against a fake `foundry` executable.

The real Foundry Local CLI cannot be installed here (it ships as signed Windows/macOS packages, not from a package
registry this machine reaches), so a small Python script named `foundry` is put first on PATH. It prints the JSON
shapes that public consumers of CLI 0.10.x/0.11.0 parse (`{"models": [...]}` for `model list -o json` and
`cache list -o json`), plus banners, garbage, errors on stderr and progress output, to test parsing and error handling.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest
import stand_in

from fl_tui.connection.base import BackendError
from fl_tui.connection.foundry_cli import FoundryCli, json_document

CATALOG = {
    "models": [
        {
            "alias": "phi-4-mini",
            "id": "Phi-4-mini-instruct-generic-cpu:4",
            "displayName": "Phi-4-mini-instruct-generic-cpu",
            "type": "Chat",
            "device": "Cpu",
            "fileSizeMb": 4915,
            "cached": True,
            "license": "MIT",
            "supportsToolCalling": True,
        },
        {"alias": "qwen2.5-0.5b", "id": "qwen2.5-0.5b-instruct-generic-cpu:3", "device": "CPU", "fileSizeMb": 822},
        {"type": "Chat"},  # names no model: skipped
    ]
}

FAKE = r'''
import json, os, sys, time

args = sys.argv[1:]
with open(os.environ["FAKE_FOUNDRY_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
mode = os.environ.get("FAKE_FOUNDRY_MODE", "")
catalog = json.loads(os.environ["FAKE_FOUNDRY_CATALOG"])

if mode == "hang":
    time.sleep(30)
if mode == "garbage":
    print("Unknown output format 'json'")
    sys.exit(0)
if args[:2] == ["model", "list"]:
    rows = catalog["models"]
    if "--cached" in args:
        rows = [r for r in rows if r.get("cached")]
    if "--loaded" in args:
        rows = rows[:1]
    print(json.dumps(rows if mode == "bare" else {"models": rows}, indent=2))
elif args[:2] == ["cache", "list"]:
    print("\U0001f7e2 Service is Started on http://127.0.0.1:5273/, PID 4242!")  # a banner before the JSON
    print(json.dumps({"models": [{"alias": "phi-4-mini", "id": "Phi-4-mini-instruct-generic-cpu:4"}]}))
elif args[:2] == ["cache", "remove"]:
    if args[2] == "nope":
        print("Error: Model 'nope' was not found in the cache.", file=sys.stderr)
        print("Run 'foundry cache list' to see cached models.", file=sys.stderr)
        sys.exit(1)
    print(f"Model {args[2]} was removed.")
elif args[:2] == ["model", "download"]:
    if args[2] == "missing-model":
        print("Error: Model 'missing-model' not found in the catalog.", file=sys.stderr)
        print("Run 'foundry model list' to see available models.", file=sys.stderr)
        sys.exit(3)
    steps = 60 if args[2] == "slow" else 4
    for i in range(steps + 1):
        sys.stdout.write(f"\rDownloading {args[2]}: {100 * i / steps:.1f}% ")
        sys.stdout.flush()
        if args[2] == "slow" and i == 6:
            time.sleep(120)  # stuck at 10%: only a cancel (killing this process) ends the download early
    print(f"\nModel {args[2]} downloaded successfully.")
else:
    print(f"Unknown command '{' '.join(args)}'", file=sys.stderr)
    sys.exit(2)
'''


@pytest.fixture
def fake_foundry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts the fake `foundry` first on PATH; returns the log of the argument lists it was called with."""
    if sys.platform == "win32":  # found by the Wine lane: see docs/platforms.md, "Windows and macOS"
        pytest.skip("the fake `foundry` as a .bat: its output and a kill of it are not yet what a foundry.exe gives")
    bindir = tmp_path / "bin"
    stand_in.install(bindir, "foundry", FAKE)
    log = tmp_path / "calls.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_FOUNDRY_LOG", str(log))
    monkeypatch.setenv("FAKE_FOUNDRY_CATALOG", json.dumps(CATALOG))
    monkeypatch.delenv("FAKE_FOUNDRY_MODE", raising=False)
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def cli() -> FoundryCli:
    found = FoundryCli.find(timeout=10.0)
    assert found is not None
    return found


def test_find_uses_path(fake_foundry, tmp_path, monkeypatch):
    assert cli().executable.endswith("foundry")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert FoundryCli.find() is None


def test_model_list_is_parsed(fake_foundry):
    models = cli().list_models()
    assert calls(fake_foundry) == [["model", "list", "-o", "json"]]
    assert [m.id for m in models] == ["Phi-4-mini-instruct-generic-cpu:4", "qwen2.5-0.5b-instruct-generic-cpu:3"]
    phi, qwen = models
    assert (phi.alias, phi.device, phi.size_mb, phi.cached, phi.license, phi.tool_calling) == (
        "phi-4-mini",
        "CPU",
        4915.0,
        True,
        "MIT",
        True,
    )
    assert phi.display_name == "Phi-4-mini-instruct-generic-cpu"
    assert phi.extra["cli"]["type"] == "Chat"
    assert (qwen.cached, qwen.license, qwen.tool_calling, qwen.loaded) == (False, None, None, False)


def test_filters_are_passed_and_set_the_flags(fake_foundry):
    cached = cli().list_models(cached=True)
    loaded = cli().list_models(loaded=True)
    assert calls(fake_foundry) == [
        ["model", "list", "--cached", "-o", "json"],
        ["model", "list", "--loaded", "-o", "json"],
    ]
    assert [m.id for m in cached] == ["Phi-4-mini-instruct-generic-cpu:4"]
    assert loaded[0].loaded is True


def test_a_bare_list_is_accepted(fake_foundry, monkeypatch):
    monkeypatch.setenv("FAKE_FOUNDRY_MODE", "bare")
    assert len(cli().list_models()) == 2


def test_cache_list_skips_a_banner(fake_foundry):
    cached = cli().list_cached()
    assert calls(fake_foundry) == [["cache", "list", "-o", "json"]]
    assert [(m.id, m.alias, m.cached) for m in cached] == [("Phi-4-mini-instruct-generic-cpu:4", "phi-4-mini", True)]


def test_unparsable_output_is_a_backend_error(fake_foundry, monkeypatch):
    monkeypatch.setenv("FAKE_FOUNDRY_MODE", "garbage")
    with pytest.raises(BackendError, match="unparsable output: \"Unknown output format 'json'\""):
        cli().list_models()


def test_a_failing_command_reports_the_first_line_of_stderr(fake_foundry):
    with pytest.raises(BackendError) as err:
        cli().remove("nope")
    assert str(err.value) == "foundry cache remove nope --force: Error: Model 'nope' was not found in the cache."


def test_remove_passes_force(fake_foundry):
    cli().remove("phi-4-mini")
    assert calls(fake_foundry) == [["cache", "remove", "phi-4-mini", "--force"]]


def test_a_hanging_cli_times_out(fake_foundry, monkeypatch):
    monkeypatch.setenv("FAKE_FOUNDRY_MODE", "hang")
    with pytest.raises(BackendError, match=r"no answer within 0\.5 s"):
        FoundryCli("foundry", timeout=0.5).list_models()


def test_a_missing_executable_is_a_backend_error():
    with pytest.raises(BackendError, match="cannot run /nonexistent/foundry"):
        FoundryCli("/nonexistent/foundry").list_models()


def test_download_reports_progress_in_order(fake_foundry):
    seen: list[float] = []
    cli().download("phi-4-mini", progress=seen.append)
    assert seen == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert calls(fake_foundry) == [["model", "download", "phi-4-mini"]]


def test_a_failed_download_reports_stderr(fake_foundry):
    with pytest.raises(BackendError) as err:
        cli().download("missing-model")
    first_line = "Error: Model 'missing-model' not found in the catalog."
    assert str(err.value) == f"foundry model download missing-model: {first_line}"


def test_a_download_can_be_cancelled(fake_foundry):
    cancel = threading.Event()
    seen: list[float] = []

    def progress(pct: float) -> None:
        seen.append(pct)
        if pct >= 5:
            cancel.set()

    with pytest.raises(BackendError, match="download cancelled"):
        cli().download("slow", progress=progress, cancel=cancel)
    assert seen and seen[-1] < 100.0  # without the cancel the fake would finish, after two minutes


def test_json_document_ignores_chatter_around_the_json():
    assert json_document('Starting...\n{"models": []}\nDone. {"not": "this"}') == {"models": []}
    with pytest.raises(ValueError):
        json_document("no json here")
