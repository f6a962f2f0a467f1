"""How long the app takes to show its first screen and the demo models, and to give the terminal back on `q`.

Each run is a real process on a real pseudo-terminal (120x40, TERM=xterm-256color), read byte by byte as a terminal
would, every time stamped with time.perf_counter() in this process:

- first frame: from spawning the process to the first bytes holding the tab strip's "Benchmark" label (the header
  and the tabs are drawn in the same frame);
- models: from spawning to the first bytes holding the demo model's alias (`fl-demo-fast`), a row of the table.
  From the second start on, that row is the last list seen (fl_tui/models/last_list.py), shown while the runtime
  starts; so also
- live: from spawning to the header's ` loaded ` (the runtime's first status, which comes with its own list of the
  models; the floor has no runtime: its live is its models);
- quit: from writing "q" (1 s after the alias is on screen, when the other tabs have loaded) to the alternate
  screen's exit sequence (ESC[?1049l: the terminal is back), and to the end of the process (every byte read, the
  exit status collected).

The subject is `python -m fl_tui` (the embedded runtime with the demo models, catalog offline); the floor is
`benchmarks/minimal_app.py` (a header line, two tabs, a one-row table, a footer: the least Textual needs to draw
that screen). Runs alternate floor, subject, floor, subject...; medians (min-max) are printed. Before the timed
runs, one untimed run of each builds the demo models in a fresh temporary home (removed afterwards), warms the
disk cache and writes Python's bytecode cache, as installing fl-tui does (see startup.isolated_env), and leaves
the last model list, as any earlier start does.

Targets: models on screen <= 1.3x the floor's row; q -> terminal back <= 0.3 s.

Run: .venv/bin/python benchmarks/app_start.py [--runs N]   (about 1 minute; a table, then one JSON line)
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import startup  # next to this file: one fresh-home recipe for both scripts

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COLUMNS, LINES = 120, 40
FIRST_FRAME = b"Benchmark"
ALIAS = b"fl-demo-fast"
LIVE = b" loaded "  # the header's loaded count: the runtime has answered
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z~]")  # what Textual writes to restore the terminal
TIMEOUT_S = 60
MODELS_TARGET = 1.3
QUIT_TARGET_S = 0.3
SETTLE_S = 1.0  # between the models appearing and "q"


@dataclass
class Session:
    first_frame_s: float
    models_s: float
    live_s: float
    restored_s: float  # "q" written -> ESC[?1049l read
    exited_s: float  # "q" written -> the process gone
    code: int
    tail: str  # what was written after the alternate screen was left: a traceback would be here


def isolated_env(root: Path) -> dict[str, str]:
    """startup.py's fresh home, with the runtime asked for outright and a terminal of this script's size."""
    env = startup.isolated_env(root)
    (root / "fl-tui" / "config" / "config.toml").write_text('catalog = "offline"\nendpoint = "embedded"\n',
                                                            encoding="utf-8")
    env.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(LINES))
    for name in ("NO_COLOR", "TEXTUAL", "TEXTUAL_DRIVER"):
        env.pop(name, None)
    return env


class Terminal:
    """The master side of a pty: everything the process writes, stamped when it was read."""

    def __init__(self, args: list[str], env: dict[str, str]):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.master = master
        self.data = bytearray()
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                                     start_new_session=True)
        os.close(slave)
        self.closed = False

    def read_until(self, marker: bytes, after: int = 0) -> float:
        """Seconds since the spawn at which `marker` was first read at or after byte `after`."""
        deadline = time.perf_counter() + TIMEOUT_S
        while self.data.find(marker, max(0, after - len(marker))) < 0:
            if self.closed or time.perf_counter() > deadline:
                tail = self.data[-2000:].decode(errors="replace")
                raise RuntimeError(f"{marker!r} never came; the process wrote at the end:\n{tail}")
            self._read(deadline)
        return time.perf_counter() - self.start

    def _read(self, deadline: float) -> None:
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.perf_counter()))
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every writer closed the pty (the process is gone)
            chunk = b""
        if chunk:
            self.data += chunk
        else:
            self.closed = True

    def write(self, data: bytes) -> float:
        os.write(self.master, data)
        return time.perf_counter() - self.start

    def wait_closed(self) -> float:
        deadline = time.perf_counter() + TIMEOUT_S
        while not self.closed and time.perf_counter() < deadline:
            self._read(deadline)
        self.proc.wait(timeout=TIMEOUT_S)
        took = time.perf_counter() - self.start
        os.close(self.master)
        return took


def session(args: list[str], env: dict[str, str], live_marker: bytes) -> Session:
    term = Terminal(args, env)
    try:
        first = term.read_until(FIRST_FRAME)
        models = term.read_until(ALIAS)
        live = term.read_until(live_marker)
        time.sleep(SETTLE_S)  # a person reads the screen before quitting: the quit is timed, not start-up's tail
        mark = len(term.data)
        quit_at = term.write(b"q")
        restored = term.read_until(LEAVE_ALT_SCREEN, after=mark)
        exited = term.wait_closed()
    except BaseException:
        term.proc.kill()
        term.proc.wait()
        raise
    tail = term.data[term.data.rfind(LEAVE_ALT_SCREEN) + len(LEAVE_ALT_SCREEN):]
    return Session(first, models, live, restored - quit_at, exited - quit_at, term.proc.returncode,
                   ESCAPES.sub("", tail.decode(errors="replace")))


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s ({min(values):.3f}-{max(values):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each app (default 7)")
    runs = parser.parse_args().runs
    subjects = {
        "floor (minimal_app.py)": ([sys.executable, str(HERE / "minimal_app.py")], ALIAS),
        "fl-tui": ([sys.executable, "-m", "fl_tui"], LIVE),
    }
    root = Path(tempfile.mkdtemp(prefix="fl-tui-app-start-"))
    try:
        env = isolated_env(root)
        for args, live in subjects.values():  # untimed: builds the demo models, warms the disk cache
            session(args, env, live)
        results: dict[str, list[Session]] = {name: [] for name in subjects}
        for _ in range(runs):
            for name, (args, live) in subjects.items():
                results[name].append(session(args, env, live))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    floor, subject = results.values()
    failures = [f"{name}: exit {s.code}, wrote after leaving: {s.tail.strip()[:300]!r}"
                for name, sessions in results.items() for s in sessions if s.code != 0 or s.tail.strip()]
    ratio = statistics.median(s.models_s for s in subject) / statistics.median(s.models_s for s in floor)
    quit_s = statistics.median(s.restored_s for s in subject)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "FAIL"

    print(f"app start and quit in a {COLUMNS}x{LINES} pty, median of {runs} (min-max), alternating with the floor; "
          "embedded runtime, catalog offline")
    keys = ("first_frame_s", "models_s", "live_s", "restored_s", "exited_s")
    print(f"    {'':<24} {'first frame':<24} {'models on screen':<24} {'live (runtime answered)':<24} "
          f"{'q -> terminal back':<24} q -> process gone")
    for name, sessions in results.items():
        print(f"    {name:<24} " + " ".join(f"{median([getattr(s, key) for s in sessions]):<24}" for key in keys))
    print(f"    models on screen: {ratio:.2f}x the floor (target <= {MODELS_TARGET}x) "
          f"{verdict(ratio <= MODELS_TARGET)}")
    print(f"    q -> terminal back: {quit_s:.3f} s (target <= {QUIT_TARGET_S} s) {verdict(quit_s <= QUIT_TARGET_S)}")
    for failure in failures:
        print(f"    NOT CLEAN: {failure}")
    summary = {"bench": "app_start", "runs": runs, "clean_exits": not failures,
               "models_ratio": round(ratio, 3), "models_target_ratio": MODELS_TARGET,
               "quit_restored_s": round(quit_s, 3), "quit_target_s": QUIT_TARGET_S}
    for name, key in (("floor", floor), ("app", subject)):
        for field in keys:
            summary[f"{name}_{field}"] = round(statistics.median(getattr(s, field) for s in key), 3)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
