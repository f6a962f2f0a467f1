"""Client queue time at concurrency > 1 or paced: how long each measured request waited, from when it was due
(at once, or at its --rate instant) to its t0.

It is not service time (TTFT and E2E start at t0, notes in docs/metrics.md, "How the figures are measured"), but a
person sizing a concurrency level needs to see it, so the reports show it beside the figures instead of leaving
it in the raw files. A run at concurrency 1 has no queue time (`queue_ms` is null) and gets no queue section.
"""

from __future__ import annotations

from fl_tui.bench.load import level_label
from fl_tui.bench.runschema import RunJson
from fl_tui.bench.stats import summarize


def queue_summaries(run: RunJson) -> dict[str, dict]:
    """level_label (the model id, with its level in a sweep) -> summarize() of the queue_ms of its measured
    requests (ok or failed: waiting is the client's)."""
    waits: dict[str, list[float]] = {}
    for request in run.requests:
        value = request.queue_ms
        if request.warmup or value is None:
            continue
        waits.setdefault(level_label(request), []).append(value)
    return {model: summarize(values) for model, values in waits.items()}
