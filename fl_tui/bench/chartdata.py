"""The data behind the Benchmark tab's charts, from a run's typed record. Headless; the widget only draws it."""

from __future__ import annotations

from collections.abc import Callable

from fl_tui.bench.load import level_label
from fl_tui.bench.records import ModelStatus
from fl_tui.bench.runschema import ModelJson, RequestJson, RunJson
from fl_tui.bench.stats import chunk_gaps, measured_ok

CHARTS = (
    ("ttft", "TTFT distribution (ms)"),
    ("e2e", "E2E latency distribution (ms)"),
    ("itl_position", "Inter-token gap by position in the answer (ms, mean)"),
    ("ttft_vs_decode", "TTFT p50 (ms) vs decode tok/s (mean), one point per model"),
)
# Offered only for a run that swept what they are drawn against (kinds_for).
SWEEP_CHARTS = (
    ("tps_vs_concurrency", "Output tok/s (aggregate) vs concurrency, per model"),
    ("ttft_vs_prompt", "TTFT p50 (ms) vs prompt length (tokens), per model"),
)
TITLES = dict(CHARTS + SWEEP_CHARTS)


def _by_model(run: RunJson) -> dict[str, list[RequestJson]]:
    out: dict[str, list[RequestJson]] = {}
    for req in measured_ok(run.requests):
        out.setdefault(level_label(req), []).append(req)  # a swept run: one series per model and level
    return out


def distribution(run: RunJson, metric: str) -> dict[str, list[float]]:
    """metric ('ttft_ms' or 'e2e_ms') per model, over measured successful requests."""
    return {m: [v for r in reqs if (v := getattr(r, metric)) is not None] for m, reqs in _by_model(run).items()}


def gap_by_position(run: RunJson) -> dict[str, tuple[list[int], list[float]]]:
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


def ttft_vs_decode(run: RunJson) -> dict[str, tuple[float, float]]:
    out = {}
    for m in run.models:
        ttft = (m.summary.get("ttft_ms") or {}).get("p50")
        tps = (m.summary.get("decode_tps") or {}).get("mean")
        if ttft is not None and tps is not None:
            out[level_label(m)] = (ttft, tps)
    return out


def _number(value: object) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
    return float(value) if ok else None


_OTHER_LABEL: dict[str, Callable[[object], str]] = {"concurrency": lambda c: f"c={c}",
                                                     "prompt_tokens": lambda p: f"{p} tok"}


def _sweep(run: RunJson, axis: str, value: Callable[[ModelJson], object]
           ) -> dict[str, tuple[list[float], list[float]]]:
    """{model: (axis values ascending, `value` at each)} over the run's answered entries that carry `axis`. A
    model's entries at one axis value but different other levels (a run sweeping both) are series of their own."""
    other = "prompt_tokens" if axis == "concurrency" else "concurrency"
    entries = [m for m in run.models if m.status == ModelStatus.OK]
    varies = len({getattr(m, other) for m in entries}) > 1
    points: dict[str, dict[float, float]] = {}
    for m in entries:
        x, y = _number(getattr(m, axis)), _number(value(m))
        if x is not None and y is not None:
            name = m.model + (f" @ {_OTHER_LABEL[other](getattr(m, other))}" if varies else "")
            points.setdefault(name, {})[x] = y
    return {name: (sorted(xy), [xy[x] for x in sorted(xy)]) for name, xy in points.items()}


def throughput_by_concurrency(run: RunJson) -> dict[str, tuple[list[float], list[float]]]:
    """Aggregate output tok/s at each concurrency level, per model: how far parallel requests pay off."""
    return _sweep(run, "concurrency", lambda m: m.aggregate_output_tps)


def ttft_by_prompt_length(run: RunJson) -> dict[str, tuple[list[float], list[float]]]:
    """TTFT p50 at each target prompt length (--prompt-tokens), per model: what prefill costs."""
    return _sweep(run, "prompt_tokens", lambda m: (m.summary.get("ttft_ms") or {}).get("p50"))


def kinds_for(run: RunJson | None) -> list[str]:
    """The chart kinds worth showing for `run`: the sweep charts only when some model has two or more levels."""
    kinds = [kind for kind, _title in CHARTS]
    if run is None:
        return kinds
    sweeps = {"tps_vs_concurrency": throughput_by_concurrency, "ttft_vs_prompt": ttft_by_prompt_length}
    return kinds + [kind for kind, data in sweeps.items() if any(len(xs) > 1 for xs, _ys in data(run).values())]


def legend_clear_limits(
    points: list[tuple[float, float]], legend_rows: int, canvas_rows: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits ((x0, x1), (y0, y1)) that keep every point off the frame and out of the top `legend_rows` rows
    (plotext draws the legend in the canvas's top-left corner, over whatever is there) with a spare row between."""
    xs, ys = [x for x, _ in points], [y for _, y in points]

    def padded(low: float, high: float) -> tuple[float, float]:
        pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1.0)
        start = max(low - pad, 0.0) if low > 0 else low - pad  # positive data: no axis below 0 ms or 0 tok/s
        return start, high + pad

    x0, x1 = padded(min(xs), max(xs))
    y0, top = padded(min(ys), max(ys))
    free = canvas_rows - legend_rows - 1  # rows below the legend and its spare row
    if free >= 2:  # the data's span [y0, top] fills the lowest `free` rows only
        top = y0 + (top - y0) * (canvas_rows - 1) / (free - 1)
    return (x0, x1), (y0, top)
