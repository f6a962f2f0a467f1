"""Run `fl-tui bench --events` in a process of its own and hand its decoded events to an observer.

The app watches benchmarks this way so that no render or garbage collection in its process can delay a
timestamp (see fl_tui.bench.wire). Stop is Ctrl-C for the child (SIGINT; CTRL_BREAK_EVENT to its own process
group on Windows, see fl_tui.platform): it writes what finished.
"""

from __future__ import annotations

import collections
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fl_tui import platform
from fl_tui.bench.engine import BenchSettings, RunFinished
from fl_tui.bench.wire import Decoder


@dataclass(frozen=True)
class RunFailed:
    """The child ended without finishing its run (bad input, a crash): its exit code and last words."""

    message: str


def bench_args(models: list[str], prompts: Path, settings: BenchSettings, out: Path | None = None) -> list[str]:
    """`out` None: the child picks `runs/<its run id>`, and says where in its first event."""
    args = [
        "--models", ",".join(models), "--prompts", str(prompts), "--rounds", str(settings.rounds),
        "--warmup", str(settings.warmup), "--max-tokens", str(settings.max_tokens),
        "--concurrency", str(settings.concurrency), "--timeout", f"{settings.timeout_s:g}",
    ]
    if out is not None:
        args += ["--out", str(out)]
    if settings.temperature is not None:
        args += ["--temperature", f"{settings.temperature:g}"]
    if settings.seed is not None:
        args += ["--seed", str(settings.seed)]
    if settings.watts is not None:
        args += ["--watts", f"{settings.watts:g}"]
    if settings.keep_alive:
        args.append("--keep-alive")
    return args


class ChildRun:
    def __init__(self, endpoint: str, args: list[str], observer: Callable[[object], None]):
        self.observer = observer
        self.ended = False  # the child reported the end of its run
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=5)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fl_tui", "--endpoint", endpoint, "bench", *args, "--events"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            **platform.child_group_options(),
        )
        self._reader = threading.Thread(target=self._read, name="bench-child-events", daemon=True)
        self._errors = threading.Thread(target=self._read_stderr, name="bench-child-stderr", daemon=True)
        self._reader.start()
        self._errors.start()

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.running:
            platform.interrupt(self.proc)

    def wait(self, timeout: float | None = None) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code

    def _read(self) -> None:
        decoder = Decoder()
        for line in self.proc.stdout:
            try:
                event = decoder.decode(line)
            except (ValueError, KeyError, TypeError) as exc:  # a line that is not the wire: say so, keep reading
                self.observer(RunFailed(f"unreadable event from the benchmark process: {exc}: {line[:120]!r}"))
                continue
            if event is not None:
                self.ended = self.ended or isinstance(event, RunFinished)
                self.observer(event)
        code = self.proc.wait()
        self._errors.join(5)
        if not self.ended:
            last = " ".join(self.stderr_tail) or "no message"
            self.observer(RunFailed(f"the benchmark process exited with code {code}: {last}"))

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            if line.strip() and not line.startswith("  "):  # keep messages, not per-request progress lines
                self.stderr_tail.append(line.strip())

