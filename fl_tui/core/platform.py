"""What differs between POSIX and Windows, in one small module, so every branch can be tested on Linux by forcing
`is_windows` (tests monkeypatch it). The rest of fl-tui calls these and never tests the platform itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

# Windows values, spelled out: the constants exist only in Windows builds of Python.
CTRL_BREAK_EVENT = getattr(signal, "CTRL_BREAK_EVENT", 1)
CREATE_NEW_PROCESS_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)
# A file another process holds open (an editor, a virus scanner) refuses os.replace on Windows for a moment.
REPLACE_RETRY_DELAYS_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4)


def is_windows() -> bool:
    return sys.platform == "win32"


def stop_signals(sigmod: ModuleType = signal) -> list[signal.Signals]:
    """Signals that end a benchmark as Ctrl-C does, where the platform has them: SIGTERM (kill, systemd), SIGHUP
    (the SSH session dropped; POSIX only), SIGBREAK (Ctrl-Break, and how the app stops its child on Windows)."""
    return [getattr(sigmod, name) for name in ("SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(sigmod, name)]


def child_group_options() -> dict:
    """Popen options for a child the app must be able to interrupt: on Windows a new process group, which is
    what CTRL_BREAK_EVENT is addressed to (a console Ctrl-C cannot be sent to one child alone)."""
    return {"creationflags": CREATE_NEW_PROCESS_GROUP} if is_windows() else {}


def interrupt(proc: subprocess.Popen) -> bool:
    """Ask a child started with `child_group_options` to stop and write what finished: SIGINT on POSIX (exactly
    Ctrl-C), CTRL_BREAK_EVENT on Windows (`send_signal(SIGINT)` raises there). A Ctrl-Break travels through the
    console, so where the app has none (a service, a CI runner) it cannot be sent and the child is terminated:
    what it finished is already on disk, as it is after a crash. False when it was terminated."""
    if not is_windows():
        proc.send_signal(signal.SIGINT)
        return True
    if console_break(proc.pid):
        return True
    proc.terminate()
    return False


def console_break(pid: int) -> bool:
    """GenerateConsoleCtrlEvent, called directly: `os.kill(pid, CTRL_BREAK_EVENT)` answers its failure by
    terminating the process and raising SystemError (seen with CPython 3.11)."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32")
    return bool(kernel32.GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid))


def replace(src: Path | str, dst: Path | str, sleep: Callable[[float], None] = time.sleep) -> None:
    """os.replace, retried briefly on Windows when the target is held open; elsewhere a PermissionError is real."""
    for delay in REPLACE_RETRY_DELAYS_S if is_windows() else ():
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            sleep(delay)
    os.replace(src, dst)


def current_umask() -> int:
    """The process umask, read without changing it where the system says it (Linux); elsewhere set and restored."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # a moment with another mask: only where the system cannot tell us
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode open() would give a new file: 0666 less the umask (0644 under umask 022)."""
    return 0o666 & ~current_umask()
