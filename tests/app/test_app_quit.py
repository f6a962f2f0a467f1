"""Quitting the real app in a real terminal: what it saved just before `q` is on disk afterwards, and the process
ends cleanly even though it leaves the runtime's native release to its os._exit (fl_tui/cli/app_cmd.py)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

from conftest import FL_TUI, REPO

from fl_tui.connection.opening import Opening

DEADLINE_S = 120  # a busy 2-core machine builds the demo models on the first start


def read_until(master: int, seen: bytearray, marker: bytes) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while marker not in seen:
        assert time.monotonic() < deadline, f"{marker!r} never came; the end of the output: {bytes(seen[-800:])!r}"
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal
                chunk = b""
            assert chunk, f"the app ended before {marker!r}: {bytes(seen[-800:])!r}"
            seen += chunk


def drain(master: int) -> None:
    """Read until the process closes its side, so it never blocks writing to a full terminal."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return


def test_a_theme_chosen_just_before_q_is_saved_and_the_app_ends_cleanly(tmp_path):
    home = tmp_path / "fl-tui"
    (home / "config").mkdir(parents=True)
    config = home / "config" / "config.toml"
    config.write_text('# my settings\ncatalog = "offline"\nendpoint = "embedded"\ntheme = "fl-dark"\n',
                      encoding="utf-8")
    env = {**os.environ, "FL_TUI_HOME": str(home), "HOME": str(tmp_path), "TERM": "xterm-256color"}
    for name in ("NO_COLOR", "TEXTUAL", "TEXTUAL_DRIVER", "FOUNDRY_LOCAL_ENDPOINT"):
        env.pop(name, None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(FL_TUI, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True)
    os.close(slave)
    try:
        seen = bytearray()
        read_until(master, seen, b"fl-demo-fast")
        os.write(master, b"\x14")  # Ctrl+T: the next theme, saved by a worker
        os.write(master, b"q")  # at once after it
        drain(master)
        assert proc.wait(DEADLINE_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = config.read_text(encoding="utf-8")
    assert 'theme = "fl-dark"' not in text and 'theme = "fl-' in text, text
    assert text.startswith("# my settings\n")  # edited in place, comment kept


class Runtime:
    def __init__(self):
        self.calls = []

    def close(self):
        self.calls.append("close")

    def close_for_exit(self):
        self.calls.append("close_for_exit")
        return True


def test_closing_for_exit_leaves_the_release_to_the_process_end_and_says_so():
    runtime = Runtime()
    quick = Opening(lambda: runtime)
    assert quick.close(for_exit=True) is True and runtime.calls == ["close_for_exit"]
    runtime.calls.clear()
    full = Opening(lambda: runtime)
    assert full.close() is False and runtime.calls == ["close"]
