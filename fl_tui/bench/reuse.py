"""What `fl-tui bench --out` does with a folder that already holds a run (see fl_tui.bench.resume). Its own module,
importing nothing, so the command line's parser can offer the choices without loading the benchmark engine."""

from __future__ import annotations

from enum import StrEnum


class Reuse(StrEnum):
    REFUSE = "refuse"
    OVERWRITE = "overwrite"
    RESUME = "resume"
