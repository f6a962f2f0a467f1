"""`--debug`: where a command's time went (the interpreter's start, parsing and imports, the runtime's start with
its catalog probe, the listing, the shutdown, the output), one line on stderr at the end."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stopwatch:
    """Marks in order; each names what ran since the one before (the first, since main() began)."""

    began: float = field(default_factory=time.perf_counter)
    marks: list[tuple[str, float, dict[str, float]]] = field(default_factory=list)
    python_s: float | None = None  # process start -> main(), measured only with --debug, on Linux
    notes: list[str] = field(default_factory=list)

    def mark(self, stage: str, parts: dict[str, float] | None = None) -> None:
        self.marks.append((stage, time.perf_counter(), parts or {}))

    def measure_python(self) -> None:
        """How long the interpreter took to reach main(): from the process's start time in /proc (Linux; the
        stage is left out elsewhere, with a note saying so), in clock ticks since boot."""
        boottime = getattr(time, "CLOCK_BOOTTIME", None)
        try:
            stat = Path("/proc/self/stat").read_text(encoding="ascii") if boottime is not None else None
        except OSError:
            stat = None
        if stat is None:
            self.notes.append("the interpreter's start is not measured here (no /proc or CLOCK_BOOTTIME)")
            return
        start_ticks = int(stat.rpartition(")")[2].split()[19])  # field 22, starttime
        at_main = time.clock_gettime(boottime) - (time.perf_counter() - self.began)
        self.python_s = max(0.0, at_main - start_ticks / os.sysconf("SC_CLK_TCK"))

    def line(self) -> str:
        shown = [] if self.python_s is None else [f"python {self.python_s:.2f} s"]
        last = self.began
        for stage, at, parts in self.marks:
            detail = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items())
            shown.append(f"{stage} {at - last:.2f} s" + (f" ({detail})" if detail else ""))
            last = at
        total = (last - self.began) + (self.python_s or 0.0)
        notes = "".join(f"; {note}" for note in self.notes)
        return f"fl-tui: time: {', '.join(shown)}; total {total:.2f} s{notes}"
