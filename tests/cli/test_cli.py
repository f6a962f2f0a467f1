"""The console entry point in subprocesses, as a person runs it: answers, exit codes, one-line errors."""

import json
import shutil
import socket
import time

import pytest
from conftest import http_get, run_cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.native  # the CLI opens the embedded runtime
def test_status_on_the_embedded_runtime_offline():
    start = time.perf_counter()
    result = run_cli("status")
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    assert "embedded sdk-2." in result.stdout
    assert "catalog unreachable: showing cached and local models" in result.stdout
    print(f"fl-tui status took {elapsed:.2f} s")  # the figure in docs/figures.md comes from benchmarks/, not from here


@pytest.mark.native  # the CLI opens the embedded runtime
def test_status_json_is_machine_readable():
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["backend"] == "embedded" and data["catalog"] == "unreachable" and data["loaded"] == []


def test_unreachable_endpoint_is_one_line_with_the_tunnel_hint():
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_cli("--endpoint", url, "status")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "ssh -L 5273:127.0.0.1:5273" in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback():
    result = run_cli("--debug", "--endpoint", f"http://127.0.0.1:{closed_port()}", "status")
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_env_endpoint_with_v1_suffix_is_used():
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_cli("status", env={"FOUNDRY_LOCAL_ENDPOINT": url + "/v1"})
    assert result.returncode == 2 and url in result.stderr


@pytest.mark.native  # the CLI opens the embedded runtime
def test_models_list_json_has_the_demo_models_and_capabilities():
    result = run_cli("models", "list", "--json")
    assert result.returncode == 0, result.stderr
    models = {m["alias"]: m for m in json.loads(result.stdout)}
    assert models["fl-demo-fast"]["cached"] is True
    assert models["fl-demo-slow"]["capabilities"] == ["chat", "demo"]


@pytest.mark.native  # the CLI opens the embedded runtime
def test_models_list_table_and_filters():
    table = run_cli("models", "list").stdout
    assert "fl-demo-fast-generic-cpu:1" in table and "✓" in table
    assert "(no models)" in run_cli("models", "list", "--loaded").stdout


@pytest.mark.native  # the CLI opens the embedded runtime
def test_unknown_model_lists_close_names():
    result = run_cli("models", "load", "fl-demo-fats")
    assert result.returncode == 2
    assert "unknown model 'fl-demo-fats'" in result.stderr and "fl-demo-fast" in result.stderr


@pytest.mark.native  # the CLI opens the embedded runtime
def test_load_reports_and_explains_the_process_lifetime():
    result = run_cli("models", "load", "fl-demo-fast")
    assert result.returncode == 0 and "loaded fl-demo-fast-generic-cpu:1" in result.stdout
    assert "fl-tui serve" in result.stderr


def test_malformed_models_file_names_file_line_and_column(tmp_path):
    bad = tmp_path / "models.json"
    bad.write_text('{\n  "phi": {"size_mb": "big"}\n}\n')
    result = run_cli("models", "list", "--models-file", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"fl-tui: {bad}:2:22: phi.size_mb: Input should be a valid number"


@pytest.mark.native  # the CLI opens the embedded runtime
def test_bad_config_file_is_reported_and_defaults_used(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('rounds = "many"\n')
    result = run_cli("--config", str(config), "status")
    assert result.returncode == 0
    assert f"{config}:1:1: rounds: Input should be a valid integer" in result.stderr


def test_register_then_served_by_the_next_runtime(tmp_path, served):
    """A registered folder is in the LOCAL catalog at once and served over HTTP by the next runtime start."""
    home = tmp_path / "home"
    folder = tmp_path / "mine"
    shutil.copytree(served.home / "data" / "demo-models" / "fl-demo-fast-generic-cpu", folder)
    env = {"FL_TUI_HOME": str(home)}
    reg = run_cli("models", "register", str(folder), "--alias", "mine", env=env)
    assert reg.returncode == 0, reg.stderr
    assert "registered mine:1 as mine (served over HTTP from the next start)" in reg.stdout
    from conftest import Served

    server = Served(home)
    try:

        ids = [m["id"] for m in http_get(server.url + "/v1/models").json()["data"]]
        assert "mine:1" in ids
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("stdin, kept", [("n\n", True), ("", True)])
def test_remove_refuses_without_confirmation(tmp_path, served, stdin, kept):
    folder = tmp_path / "mine"
    shutil.copytree(served.home / "data" / "demo-models" / "fl-demo-fast-generic-cpu", folder)
    env = {"FL_TUI_HOME": str(tmp_path / "home")}
    assert run_cli("models", "register", str(folder), env=env).returncode == 0
    result = run_cli("models", "remove", "mine", env=env, stdin=stdin)
    assert result.returncode == 2 and "pass --yes" in result.stderr  # not a terminal: never removes silently
    assert "mine:1" in run_cli("models", "list", env=env).stdout
    done = run_cli("models", "remove", "mine", "--yes", env=env)
    assert done.returncode == 0 and "unregister mine:1" in done.stdout
    assert "mine:1" not in run_cli("models", "list", env=env).stdout
    assert (folder / "model.onnx").exists()
