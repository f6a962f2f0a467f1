"""Test isolation and the real Foundry Local runtime.

Every path the app, the runtime and its telemetry could write (HOME, XDG dirs, FL_TUI_HOME) points into one
temporary folder set up before anything is imported, and the session fails if anything lands in that HOME.
The runtime is a process-wide singleton, so the in-process one is shared by the whole session; the `embedded`
fixture puts it back as it found it (nothing loaded, no extra registered folders) around every test, so the order
of the tests does not matter. `fl-tui serve` runs in a subprocess with its own data dir.

The public catalog is made unreachable on purpose (`FL_TUI_CATALOG=offline`, and `catalog="offline"` in-process):
a test never depends on whether this machine has internet, or on how its resolver words a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis's per-example deadline (200 ms) is a wall-clock limit: on a busy machine it fails tests for slowness.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

ROOT = Path(tempfile.mkdtemp(prefix="fl-tui-tests-"))
HOME = ROOT / "home"
HOME.mkdir()
os.environ.update(
    HOME=str(HOME),
    FL_TUI_HOME=str(ROOT / "fl-tui"),
    XDG_CONFIG_HOME=str(ROOT / "xdg-config"),
    XDG_DATA_HOME=str(ROOT / "xdg-data"),
    XDG_CACHE_HOME=str(ROOT / "xdg-cache"),
    NO_COLOR="1",
    FL_TUI_CATALOG="offline",
    FL_TUI_ENDPOINT="embedded",  # whatever else listens on 127.0.0.1:5273 on this machine
    FL_TUI_SMOLLM2="off",  # with the smollm2 extra installed, only tests/models/test_smollm2.py converts and runs it
)
os.environ.pop("FOUNDRY_LOCAL_ENDPOINT", None)
REPO = Path(__file__).resolve().parents[1]
FL_TUI = [sys.executable, "-m", "fl_tui"]
# `make test-windows` (.ci/windows/lane.sh) runs this suite under Windows CPython in Wine, where the SDK's native
# runtime hangs in its start-up and the full-screen app cannot be judged: tests that need either are left out there,
# with the SIGKILL crash tests (no SIGKILL on Windows) and the statistics oracles (scipy's Windows build calls
# ucrtbase.crealf, which Wine 8.0 lacks; the code they check is plain numpy).
WINE_LANE = os.environ.get("FL_TUI_LANE") == "wine"
NEEDS_RUNTIME = {"runtime", "embedded", "served", "bench_run", "snap_compare"}
NATIVE_ONLY_MODULES = ("test_app_", "test_web", "test_embedded", "test_serve", "test_bench_real", "test_demo_models",
                       "test_install", "test_annotate_crash", "test_annotate_pairwise_crash",
                       "test_annotate_stats")

# Wine's CreateProcess now and then fails with ERROR_INTERNAL_ERROR under load (once in about ten lanes here), a
# failure of the emulator that Windows does not have: the lane tries such a spawn again, and says how often it did.
WINE_SPAWN_RETRY_DELAYS_S = (0.2, 1.0, 3.0)
wine_spawn_retries: list[str] = []
if WINE_LANE:
    import _winapi

    _create_process = _winapi.CreateProcess

    def _create_process_tried_again(*args):
        for delay in WINE_SPAWN_RETRY_DELAYS_S:
            try:
                return _create_process(*args)
            except OSError as exc:
                if exc.winerror != 1359:  # ERROR_INTERNAL_ERROR
                    raise
                wine_spawn_retries.append(str(args[1])[:120])
                time.sleep(delay)
        return _create_process(*args)

    _winapi.CreateProcess = _create_process_tried_again


def pytest_terminal_summary(terminalreporter):
    if wine_spawn_retries:
        terminalreporter.write_line(f"Wine's CreateProcess failed with ERROR_INTERNAL_ERROR and was tried again "
                                    f"{len(wine_spawn_retries)} time(s): {wine_spawn_retries}")


def pytest_ignore_collect(collection_path, config):
    """Under the Wine lane, the modules that drive the app, the browser or the runtime are not even imported (some
    import POSIX-only modules at the top)."""
    return True if WINE_LANE and collection_path.name.startswith(NATIVE_ONLY_MODULES) else None


def pytest_collection_modifyitems(config, items):
    """Under the Wine lane, deselect (and count) the tests that need the native runtime; the rest runs."""
    if not WINE_LANE:
        return
    kept, dropped = [], []
    for item in items:
        native = NEEDS_RUNTIME & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("native")
        (dropped if native else kept).append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def pytest_sessionfinish(session, exitstatus):
    """The suite must leave nothing in the home directory: the runtime's defaults would write to ~/.fl-tui."""
    left = sorted(str(p.relative_to(HOME)) for p in HOME.rglob("*"))
    if left:
        print(f"\nFAIL: the tests wrote into the home directory: {left[:10]}", file=sys.stderr)
        session.exitstatus = 1
    shutil.rmtree(ROOT, ignore_errors=True)


@pytest.fixture(scope="session")
def runtime():
    """The in-process runtime with the demo models and its web service (one per process), and the model ids it
    starts with."""
    from fl_tui.connection.resolve import Choice, open_backend
    from fl_tui.core.config import Settings

    backend = open_backend(Choice(None, "tests"), Settings(catalog="offline"))
    yield backend, {m.id for m in backend.list_models()}
    backend.close()


def _reset(backend, baseline: set[str]) -> None:
    backend.unload_all()
    for model in backend.list_models():
        if model.id not in baseline:
            backend.remove(model.id)


@pytest.fixture
def embedded(runtime):
    """The shared runtime, as it was at the start of the session: nothing loaded, nothing else registered."""
    backend, baseline = runtime
    _reset(backend, baseline)
    yield backend
    _reset(backend, baseline)


@pytest.fixture(autouse=True)
def fresh_state(tmp_path_factory, monkeypatch):
    """What the app remembers between sessions (the last Benchmark set-up) starts empty in every test: a run in
    one test must not change what the next one shows."""
    from fl_tui.core import locations

    state = tmp_path_factory.mktemp("state")
    monkeypatch.setattr(locations, "state_dir", lambda: state)
    return state


def http_get(url: str):
    """A GET to a test server on loopback: no proxy from the environment, a deadline for a busy machine."""
    import httpx

    return httpx.get(url, timeout=60, trust_env=False)


def run_cli(*args: str, env: dict | None = None, timeout: float = 60, stdin: str | None = None):
    """The console entry point in a subprocess, as a user runs it."""
    return subprocess.run(
        [*FL_TUI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
        input=stdin, cwd=REPO,
    )


class Served:
    def __init__(self, home: Path, extra_args: tuple[str, ...] = ()):
        self.home = home
        self.proc = subprocess.Popen(
            [*FL_TUI, "serve", "--port", "0", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "FL_TUI_HOME": str(home)},
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.proc.kill()
            raise RuntimeError(f"fl-tui serve did not print its URL: {line!r} {self.proc.stderr.read()}")
        self.url = line

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture(scope="session")
def served():
    """`fl-tui serve` in its own process and data dir: a real current-generation Foundry Local endpoint."""
    server = Served(ROOT / "served")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bench_run(served, tmp_path_factory):
    """One real `fl-tui bench` run (both demo models, the quick prompts, 2 rounds) for the tests that read runs."""
    out = tmp_path_factory.mktemp("bench-run")
    result = run_cli("--endpoint", served.url, "bench", "--models", "fl-demo-fast,fl-demo-slow", "--prompts",
                     "quick", "--rounds", "2", "--max-tokens", "16", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(autouse=True)
def snapshots_in_colour(request, monkeypatch):
    """Snapshots keep their colours (NO_COLOR, set for the subprocesses, would grey them out): the fl-ansi ones then
    show the 16-colour theme as it is, and the README's pictures are these files."""
    if "snap_compare" in request.fixturenames:
        monkeypatch.delenv("NO_COLOR", raising=False)
