"""The endpoint found where Foundry Local put it, and an unreachable one explained.

The `foundry` CLI cannot be installed here, so a fake one on PATH replays what each generation prints for its
status command (the formats are in fl_tui/connection/discover.py, with where they come from).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from pathlib import Path

import pytest
import stand_in
from conftest import run_cli
from test_cli import closed_port

from fl_tui.connection import resolve
from fl_tui.connection.discover import Discovered, discover
from fl_tui.connection.foundry_cli import FoundryCli
from fl_tui.core.config import Settings

URL = "http://127.0.0.1:53494"

REPLAYS = {
    # current CLI, JSON asked for, a status line before it
    "current-json": {("server", "status", "-o", "json"): (0, '🟢 Service is running.\n{\n  "running": true,\n'
                                                              '  "webUrls": ["{url}/"],\n  "pid": 4242\n}\n')},
    # a current build that prints text whatever -o says
    "current-text": {("server", "status", "-o", "json"): (0, "Status     Ready\nWeb URLs   {url}\nPID        4242\n")},
    "current-stopped": {("server", "status", "-o", "json"): (0, '{"running": false, "webUrls": []}\n')},
    "legacy-running": {("service", "status"): (0, "🟢 Model management service is running on {url}/openai/status\n")},
    "legacy-stopped": {("service", "status"): (0, "🔴 Model management service is not running!\nTo start the "
                                                  "service, run the following command: foundry service start\n")},
}

FAKE = r'''
import json, os, sys
replay = json.loads(os.environ["FAKE_FOUNDRY_REPLAY"])
key = " ".join(sys.argv[1:])
if key not in replay:
    print(f"Unknown command '{sys.argv[1]}'", file=sys.stderr)
    sys.exit(1)
code, out = replay[key]
sys.stdout.write(out.replace("{url}", os.environ["FAKE_FOUNDRY_URL"]))
sys.exit(code)
'''


def fake_env(tmp_path: Path, scenario: str, url: str = URL) -> dict[str, str]:
    bindir = tmp_path / "bin"
    stand_in.install(bindir, "foundry", FAKE)
    replay = {" ".join(k): v for k, v in REPLAYS[scenario].items()}
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "FAKE_FOUNDRY_REPLAY": json.dumps(replay),
            "FAKE_FOUNDRY_URL": url, "FL_TUI_ENDPOINT": ""}  # the suite's own choice (embedded) off: discover


@pytest.fixture
def foundry_on_path(tmp_path, monkeypatch):
    if sys.platform == "win32":  # found by the Wine lane: see docs/platforms.md, "Windows and macOS"
        pytest.skip("the fake `foundry` as a .bat: its output and a kill of it are not yet what a foundry.exe gives")
    def use(scenario: str, url: str = URL) -> None:
        for key, value in fake_env(tmp_path, scenario, url).items():
            monkeypatch.setenv(key, value)

    return use


@pytest.mark.parametrize(("scenario", "expected"), [
    ("current-json", Discovered(URL, "foundry server status")),
    ("current-text", Discovered(URL, "foundry server status")),
    ("current-stopped", None),
    ("legacy-running", Discovered(URL, "foundry service status")),
    ("legacy-stopped", None),
])
def test_the_cli_status_is_read_for_each_generation(foundry_on_path, scenario, expected):
    foundry_on_path(scenario)
    assert discover(FoundryCli.find(timeout=10)) == expected


def test_no_cli_finds_nothing():
    assert discover(None) is None


def test_the_cli_is_asked_only_when_nothing_answers_on_5273(foundry_on_path, monkeypatch):
    foundry_on_path("current-json")
    monkeypatch.setattr(resolve, "listening", lambda host, port: False)
    choice = resolve.choose_endpoint(None, Settings(), env={})
    assert (choice.endpoint, choice.source) == (URL, "found by `foundry server status`")
    monkeypatch.setattr(resolve, "listening", lambda host, port: True)
    assert resolve.choose_endpoint(None, Settings(), env={}).source == "service on the default port"
    assert resolve.choose_endpoint("http://x:1", Settings(), env={}).source == "--endpoint"


def test_status_says_the_cli_found_the_endpoint(served, tmp_path):
    if resolve.listening(*resolve.DEFAULT_SERVICE):
        pytest.skip("something listens on 127.0.0.1:5273 on this machine, so the CLI is not asked")
    result = run_cli("status", env=fake_env(tmp_path, "legacy-running", served.url))
    assert result.returncode == 0, result.stderr
    endpoint_line = result.stdout.splitlines()[0]
    assert served.url in endpoint_line and "(found by `foundry service status`)" in endpoint_line


def test_nothing_listening_is_told_with_its_hint():
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_cli("status", "--endpoint", url)
    assert result.returncode == 2
    assert "nothing is listening there (connection refused)" in result.stderr
    assert "foundry server start" in result.stderr and "ssh -L 5273:127.0.0.1:5273" in result.stderr


@pytest.fixture
def silent_port():
    """Accepts connections and closes them without a byte: an SSH tunnel whose far end has no service."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:  # the listening socket was closed: the test is over
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    thread.join(5)


def test_listening_but_not_answering_http_is_told_apart(silent_port):
    result = run_cli("status", "--endpoint", f"http://127.0.0.1:{silent_port}")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "something is listening but sent no HTTP answer" in result.stderr
    assert "nothing behind it" in result.stderr and "tunnel it first" not in result.stderr
