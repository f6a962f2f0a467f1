"""The data behind the Benchmark tab's charts, from a run.json dict. Headless; the widget only draws it."""

from __future__ import annotations

from collections.abc import Mapping

from fl_tui.bench.load import level_label
from fl_tui.bench.stats import chunk_gaps, measured_ok

CHARTS = (
    ("ttft", "TTFT distribution (ms)"),
    ("e2e", "E2E latency distribution (ms)"),
    ("itl_position", "Inter-token gap by position in the answer (ms, mean)"),
    ("ttft_vs_decode", "TTFT p50 (ms) vs decode tok/s (mean), one point per model"),
)


def _by_model(run: Mapping) -> dict[str, list[Mapping]]:
    out: dict[str, list[Mapping]] = {}
    for req in measured_ok(run.get("requests") or []):
        out.setdefault(level_label(req), []).append(req)  # a swept run: one series per model and level
    return out


def distribution(run: Mapping, metric: str) -> dict[str, list[float]]:
    """metric ('ttft_ms' or 'e2e_ms') per model, over measured successful requests."""
    return {m: [r[metric] for r in reqs if r.get(metric) is not None] for m, reqs in _by_model(run).items()}


def gap_by_position(run: Mapping) -> dict[str, tuple[list[int], list[float]]]:
    """Mean inter-chunk gap at each position (1 = between the first and second token chunk) per model."""
    out = {}
    for model, reqs in _by_model(run).items():
        sums: dict[int, list[float]] = {}
        for req in reqs:
            for i, gap in enumerate(chunk_gaps(req), start=1):
                sums.setdefault(i, []).append(gap)
        positions = sorted(sums)
        out[model] = (positions, [sum(sums[i]) / len(sums[i]) for i in positions])
    return out


def ttft_vs_decode(run: Mapping) -> dict[str, tuple[float, float]]:
    out = {}
    for m in run.get("models") or []:
        summary = m.get("summary") or {}
        ttft = (summary.get("ttft_ms") or {}).get("p50")
        tps = (summary.get("decode_tps") or {}).get("mean")
        if ttft is not None and tps is not None:
            out[level_label(m)] = (ttft, tps)
    return out


def legend_clear_limits(
    points: list[tuple[float, float]], legend_rows: int, canvas_rows: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits ((x0, x1), (y0, y1)) that keep every point off the frame and out of the top `legend_rows` rows
    (plotext draws the legend in the canvas's top-left corner, over whatever is there) with a spare row between."""
    xs, ys = [x for x, _ in points], [y for _, y in points]

    def padded(low: float, high: float) -> tuple[float, float]:
        pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1.0)
        return low - pad, high + pad

    x0, x1 = padded(min(xs), max(xs))
    y0, top = padded(min(ys), max(ys))
    free = canvas_rows - legend_rows - 1  # rows below the legend and its spare row
    if free >= 2:  # the data's span [y0, top] fills the lowest `free` rows only
        top = y0 + (top - y0) * (canvas_rows - 1) / (free - 1)
    return (x0, x1), (y0, top)
