"""The data behind the Benchmark tab's charts, from a run.json dict. Headless; the widget only draws it."""

from __future__ import annotations

from collections.abc import Mapping

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
        out.setdefault(req["model"], []).append(req)
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
            out[m["model"]] = (ttft, tps)
    return out
