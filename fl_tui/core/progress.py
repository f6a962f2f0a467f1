"""Percent-based progress as text: percent, speed and ETA; for the CLI bar and the app's download list."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(label: str, pct: float, elapsed_s: float, total_mb: float | None = None, width: int = 24) -> str:
    """Speed is in MB/s when the total size is known, else in %/s; ETA from the average rate so far."""
    rate = pct / max(elapsed_s, 1e-9)  # %/s
    speed = f"{rate * total_mb / 100:.1f} MB/s" if total_mb else f"{rate:.1f} %/s"
    eta = _duration((100 - pct) / rate) if rate > 0 else "--:--"
    filled = int(width * pct / 100)
    return f"{label} [{'#' * filled}{'.' * (width - filled)}] {pct:5.1f}%  {speed}  ETA {eta}"


class PercentBar:
    """A progress_line redrawn in place on a terminal, or printed every 10% otherwise."""

    def __init__(self, label: str, total_mb: float | None = None, stream: TextIO | None = None, width: int = 24):
        self.label, self.total_mb, self.width = label, total_mb, width
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self.last_line_pct = -10.0
        self.pct = 0.0

    def line(self, pct: float, now: float) -> str:
        return progress_line(self.label, pct, now - self.start, self.total_mb, self.width)

    def update(self, pct: float) -> None:
        self.pct = max(0.0, min(100.0, pct))
        if self.tty:
            self.stream.write("\r" + self.line(self.pct, time.monotonic()))
            self.stream.flush()
        elif self.pct - self.last_line_pct >= 10 or self.pct >= 100 > self.last_line_pct:
            self.last_line_pct = self.pct
            print(self.line(self.pct, time.monotonic()), file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
