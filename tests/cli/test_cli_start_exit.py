"""The CLI's start and end: `--help` loads none of the commands' heavy dependencies, and the fast exit of
`status`, `models list` and `bench` (os._exit, the runtime's release left to it: fl_tui.cli.context) loses
nothing."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from conftest import FL_TUI, REPO, run_cli
from waiting import stopped_midway

LEFT_TO_EXIT = "the runtime's native release is left to the process's end (os._exit)"

HEAVY = ("numpy", "httpx", "pydantic", "foundry_local_sdk", "textual")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["models", "list", "--help"], ["bench", "--help"],
                                  ["annotate", "export", "--help"], ["judge", "--help"], ["serve", "--help"]])
def test_help_and_version_import_none_of_the_heavy_libraries(argv):
    code = (
        "import sys\nfrom fl_tui.cli.main import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "HEAVY []" in proc.stderr, proc.stderr
    assert "usage: fl-tui" in proc.stdout or "fl-tui 0." in proc.stdout


def test_a_registration_survives_the_fast_exit(tmp_path, served):
    folder = tmp_path / "mine"
    shutil.copytree(served.home / "data" / "demo-models" / "fl-demo-fast-generic-cpu", folder)
    env = {"FL_TUI_HOME": str(tmp_path / "home")}
    assert run_cli("models", "register", str(folder), "--alias", "mine", env=env).returncode == 0
    assert run_cli("status", env=env).returncode == 0  # the fast exit
    for _ in range(2):  # each a fast exit, its whole output piped
        listed = run_cli("models", "list", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert "mine" in {m["alias"] for m in json.loads(listed.stdout)}


@pytest.mark.native  # the CLI opens the embedded runtime
def test_debug_shows_the_time_split_and_the_exit_code_is_kept():
    result = run_cli("--debug", "status")
    assert result.returncode == 0
    line = [x for x in result.stderr.splitlines() if x.startswith("fl-tui: time:")]
    assert line and all(stage in line[0] for stage in ("start", "probe", "listing", "shutdown", "total"))
    assert "Traceback" not in result.stderr


@pytest.mark.native  # the CLI opens the embedded runtime
def test_the_fast_exit_with_a_closed_pipe_ends_quietly():
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    try:
        proc = subprocess.run([*FL_TUI, "models", "list", "--json"], stdout=write_fd, stderr=subprocess.PIPE,
                              text=True, timeout=60, cwd=REPO)
    finally:
        os.close(write_fd)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr


@pytest.mark.native  # the embedded runtime, in the benchmark's own process
@pytest.mark.parametrize("stopped", [False, True], ids=["finished", "sigterm"])
def test_a_bench_on_the_runtime_takes_the_fast_exit_with_every_file_written(tmp_path, stopped):
    """Finished, or stopped by SIGTERM midway: the run's files are whole, and the runtime's release (two seconds
    of it flushing telemetry) is left to the process's end."""
    out = tmp_path / "run"
    rounds = "400" if stopped else "1"
    args = [*FL_TUI, "--debug", "bench", "--models", "fl-demo-fast", "--rounds", rounds, "--warmup", "0",
            "--max-tokens", "8", "--out", str(out)]
    if stopped:
        code, _stdout, stderr = stopped_midway(args, out, lambda proc: proc.send_signal(signal.SIGTERM), cwd=REPO)
        assert code == 128 + signal.SIGTERM and "interrupted" in stderr, stderr
    else:
        result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO)
        code, stderr = result.returncode, result.stderr
        assert code == 0, stderr
    assert LEFT_TO_EXIT in stderr and "Traceback" not in stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    lines = (out / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    assert run["interrupted"] is stopped and len(lines) >= (2 if stopped else 1)
    assert [r["id"] for r in run["requests"]] == [json.loads(line)["id"] for line in lines]
    assert (out / "report.md").is_file() and (out / "report.csv").is_file()
