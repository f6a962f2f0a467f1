"""The platform module's branches, both taken here by forcing `is_windows`: nothing in this suite runs Windows."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest

from fl_tui.core import fileio, platform


@pytest.fixture(params=[False, True], ids=["posix", "windows"])
def windows(request, monkeypatch) -> bool:
    monkeypatch.setattr(platform, "is_windows", lambda: request.param)
    return request.param


class FakeProc:
    pid = 4242

    def __init__(self):
        self.sent: list[int] = []
        self.terminated = False

    def send_signal(self, sig: int) -> None:
        self.sent.append(sig)

    def terminate(self) -> None:
        self.terminated = True


def test_interrupt_is_ctrl_c_on_posix_and_ctrl_break_on_windows(windows, monkeypatch):
    breaks: list[int] = []
    monkeypatch.setattr(platform, "console_break", lambda pid: breaks.append(pid) or True)
    proc = FakeProc()
    platform.interrupt(proc)
    assert (breaks, proc.sent) == (([proc.pid], []) if windows else ([], [signal.SIGINT]))
    options = platform.child_group_options()
    assert options == ({"creationflags": platform.CREATE_NEW_PROCESS_GROUP} if windows else {})


def test_without_a_console_to_send_ctrl_break_through_the_child_is_terminated(monkeypatch):
    monkeypatch.setattr(platform, "is_windows", lambda: True)
    monkeypatch.setattr(platform, "console_break", lambda pid: False)  # GenerateConsoleCtrlEvent failed
    proc = FakeProc()
    platform.interrupt(proc)
    assert proc.terminated and proc.sent == []


def test_stop_signals_are_only_those_the_platform_has():
    posix = SimpleNamespace(SIGTERM=15, SIGHUP=1, SIGINT=2)
    win = SimpleNamespace(SIGTERM=15, SIGBREAK=21, SIGINT=2)  # Windows' signal module has no SIGHUP
    assert platform.stop_signals(posix) == [15, 1]
    assert platform.stop_signals(win) == [15, 21]
    assert (signal.SIGBREAK if sys.platform == "win32" else signal.SIGHUP) in platform.stop_signals()  # this machine's


def test_replace_retries_a_held_file_on_windows_only(windows, monkeypatch, tmp_path):
    real = os.replace
    failures = iter([PermissionError("held open"), PermissionError("held open")])
    slept: list[float] = []

    def flaky(src, dst):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    src, dst = tmp_path / "new", tmp_path / "old"
    src.write_text("new")
    dst.write_text("old")
    if windows:
        platform.replace(src, dst, sleep=slept.append)
        assert dst.read_text() == "new" and slept == list(platform.REPLACE_RETRY_DELAYS_S[:2])
    else:
        with pytest.raises(PermissionError):
            platform.replace(src, dst, sleep=slept.append)
        assert dst.read_text() == "old" and slept == []


def test_replace_on_windows_gives_up_after_its_retries(monkeypatch, tmp_path):
    monkeypatch.setattr(platform, "is_windows", lambda: True)

    def held(src, dst):
        raise PermissionError("held open")

    monkeypatch.setattr(os, "replace", held)
    slept: list[float] = []
    with pytest.raises(PermissionError):
        platform.replace(tmp_path / "a", tmp_path / "b", sleep=slept.append)
    assert slept == list(platform.REPLACE_RETRY_DELAYS_S)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no file modes to honour")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_umask_is_read_without_changing_it(umask):
    old = os.umask(umask)
    try:
        assert platform.current_umask() == umask and platform.new_file_mode() == 0o666 & ~umask
        assert os.umask(umask) == umask  # still what it was
    finally:
        os.umask(old)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no file modes to honour")
def test_atomic_write_gives_new_files_the_umask_mode_and_keeps_an_existing_mode(tmp_path):
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.json"
        fileio.atomic_write_text(fresh, "{}")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        private = tmp_path / "private.toml"
        private.write_text("a = 1")
        private.chmod(0o600)
        fileio.atomic_write_text(private, "a = 2")
        assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_text() == "a = 2"
    finally:
        os.umask(old)


def test_the_benchmark_child_is_stopped_through_the_platform_module(monkeypatch):
    """ChildRun.stop goes through platform.interrupt (which picks the Windows way there), never SIGINT directly."""
    from fl_tui.bench import child

    seen: list[object] = []
    monkeypatch.setattr(platform, "interrupt", seen.append)
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        run = object.__new__(child.ChildRun)
        run.proc, run.stop_sent = proc, False
        run.stop()
        run.stop()  # once: a second Ctrl-C could cut short the writing of what finished
        assert seen == [proc]
    finally:
        proc.stdin.close()
        proc.wait(30)


def test_listener_lookup_without_privileges_is_unknown_with_the_reason(monkeypatch):
    """psutil.net_connections needs administrator rights on macOS and (unelevated) Windows."""
    import psutil

    from fl_tui.connection import process

    def denied(kind):
        raise psutil.AccessDenied(pid=None, name="net_connections")

    monkeypatch.setattr(psutil, "net_connections", denied)
    found = process.find_listener("http://127.0.0.1:5273")
    assert found.pid is None and "needs administrator rights" in found.reason
    assert process.find_listener("http://10.1.2.3:5273").reason == "the server is on another machine"


def test_listener_lookup_finds_this_machines_server(served):
    from fl_tui.connection.process import find_listener

    assert find_listener(served.url).pid == served.proc.pid


def test_a_bench_run_says_why_the_server_process_is_not_measured(monkeypatch, embedded):
    import psutil

    from fl_tui.cli.bench_cmd import _unmeasured_reason
    from fl_tui.connection.openai_compat import OpenAICompatBackend

    remote = OpenAICompatBackend("http://10.1.2.3:5273")  # never contacted: the address alone tells
    assert _unmeasured_reason(remote) == "the server is on another machine"
    assert _unmeasured_reason(embedded) is None

    def denied(kind):
        raise psutil.AccessDenied(pid=None, name="net_connections")

    monkeypatch.setattr(psutil, "net_connections", denied)
    local = OpenAICompatBackend("http://127.0.0.1:5273")
    assert "needs administrator rights" in _unmeasured_reason(local)
