"""A shorter GIL switch interval while streams are in flight next to the recorder thread.

The recorder thread parses a finished stream while the others still stream, each read by its own thread
(connection.stamped). When a packet arrives, that thread waits for the GIL until the recorder gives it up: by
default after up to 5 ms, the gap between two tokens at 200 tokens/s. A read that late can find the next token
already in the socket and take both at once, and both then carry the later one's receive time. Measured with
benchmarks/stream_accuracy.py (d) at concurrency 8 (then with every stream read on the event loop): rounds with a
gap-error p99 of 3-5 ms at the default interval, none above 0.21 ms at 0.5 ms.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_S = 0.0005


@contextmanager
def prompt_switches(interval_s: float = SWITCH_INTERVAL_S) -> Iterator[None]:
    """Set the interpreter's switch interval (process-wide) to at most `interval_s`, and restore it after."""
    before = sys.getswitchinterval()
    if before <= interval_s:  # already short; left alone (a set/get round trip can move it by a microsecond)
        yield
        return
    sys.setswitchinterval(interval_s)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
