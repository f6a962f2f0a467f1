"""Console streams that cannot fail on a character: Windows writes a pipe or console in its ANSI code page (cp1252
and the like), which has no ✓, √ or most of a model's answer. Such a stream is set to replace what it cannot
encode instead of raising mid-report; JSON goes out \\u-escaped there, so it loses nothing."""

from __future__ import annotations

import sys
from typing import TextIO

# what fl-tui itself prints besides ASCII: marks, the report's √n, rules, ellipses, ±
PROBE = "✓✗√─…±"


def unicode_ok(stream: TextIO | None) -> bool:
    """Whether every character can be written as it is (a UTF encoding)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        PROBE.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def tolerate(streams: tuple[TextIO | None, ...] | None = None) -> None:
    """Make each stream that cannot encode everything replace what it cannot (`?`) rather than raise."""
    for stream in streams if streams is not None else (sys.stdout, sys.stderr):
        if stream is not None and not unicode_ok(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
