"""Statistics over a model's measured requests (defined in fl_tui/bench/definitions.py).

Percentiles are `numpy.percentile(..., method="linear")`, as vLLM, genai-perf and AIPerf compute them: on three values
[1, 2, 3] the p95 is 2.9, never above the maximum. Warm-up requests and failed requests are left out of every figure.

Each function takes `RequestResult` objects, their records read back (runschema.RequestJson: the same fields) or
their run.json dicts alike, so the engine and the reports of a finished run compute the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

import numpy as np

from fl_tui.bench.records import PERCENTILE_METHOD, STAT_KEYS, SUMMARY_METRICS, ModelStatus, RequestResult

Request = RequestResult | Mapping[str, Any]
_PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}


def get_field(request: Request, name: str) -> Any:
    """One field of a request, whether it is a `RequestResult` or its run.json dict."""
    return request.get(name) if isinstance(request, Mapping) else getattr(request, name)


def measured_ok(requests: Iterable[Request]) -> list[Request]:
    """The requests every figure is computed over: not warm-up, and answered completely."""
    return [r for r in requests if not get_field(r, "warmup") and get_field(r, "status") == "ok"]


def summarize(values: Iterable[float | int | None]) -> dict:
    """n, mean, std, min, p50, p90, p95, p99, max (STAT_KEYS) as plain floats; None values are left out.

    std is the sample standard deviation (divisor n - 1), None for fewer than two values."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return {key: (0 if key == "n" else None) for key in STAT_KEYS}
    points = np.percentile(data, list(_PERCENTILES.values()), method=PERCENTILE_METHOD)
    out: dict = {"n": int(data.size), "mean": float(data.mean()), "min": float(data.min()), "max": float(data.max()),
                 "std": float(data.std(ddof=1)) if data.size >= 2 else None}
    out.update({key: float(p) for key, p in zip(_PERCENTILES, points, strict=True)})
    return {key: out[key] for key in STAT_KEYS}


def chunk_gaps(request: Request) -> list[float]:
    """Inter-chunk latencies of one request: successive differences of its chunk offsets."""
    offsets = get_field(request, "chunk_offsets_ms") or []
    return [b - a for a, b in pairwise(offsets)]


def metric_values(requests: Iterable[Request], metric: str) -> list[float]:
    """The raw values a metric's statistics are computed from, over measured ok requests.

    `itl_ms` pools the inter-chunk latencies of all those requests (vLLM style); every other metric gives one value per
    request that has it (TPOT is per request).
    """
    chosen = measured_ok(requests)
    if metric == "itl_ms":
        return [gap for r in chosen for gap in chunk_gaps(r)]
    return [v for r in chosen if (v := get_field(r, metric)) is not None]


def model_summary(requests: Iterable[Request]) -> dict[str, dict]:
    """SUMMARY_METRICS -> summarize() over the measured (not warm-up) requests with status "ok"."""
    requests = list(requests)
    return {metric: summarize(metric_values(requests, metric)) for metric in SUMMARY_METRICS}


def aggregate_rates(requests: Iterable[Request]) -> tuple[float | None, float | None]:
    """(output tokens/s, requests/s) over the measured ok requests: sum N, and the number of requests, divided by
    (last end - first start) in seconds, where end = start_ms + e2e_ms. None when there is no such window."""
    timed = [r for r in measured_ok(requests) if None not in (get_field(r, "start_ms"), get_field(r, "e2e_ms"))]
    if not timed:
        return None, None
    first = min(get_field(r, "start_ms") for r in timed)
    last = max(get_field(r, "start_ms") + get_field(r, "e2e_ms") for r in timed)
    seconds = (last - first) / 1000.0
    if seconds <= 0:
        return None, None
    tokens = sum(get_field(r, "output_tokens") or 0 for r in timed)
    return tokens / seconds, len(timed) / seconds


def determinism(requests: Iterable[Request]) -> tuple[bool | None, list[str]]:
    """Did every prompt answered in two or more measured rounds give the same text each time?

    (True, []) when all agree, (False, [prompt ids that differ]) otherwise, (None, []) when no prompt has two measured
    ok answers. Meaningful at temperature 0 only: the caller decides whether to ask.
    """
    by_prompt: dict[str, set] = {}
    counts: dict[str, int] = {}
    for r in measured_ok(requests):
        prompt = get_field(r, "prompt_id")
        by_prompt.setdefault(prompt, set()).add(get_field(r, "text_sha256"))
        counts[prompt] = counts.get(prompt, 0) + 1
    compared = [p for p in by_prompt if counts[p] >= 2]
    if not compared:
        return None, []
    differing = [p for p in compared if len(by_prompt[p]) > 1]
    return not differing, differing


def model_status(requests: Iterable[Request], load_error: str | None, planned: int | None = None,
                 stopped: bool = False) -> tuple[ModelStatus, str | None]:
    """The model's ModelStatus and why it is not ok, over its measured requests.

    `stopped`: the run was stopped while this model ran; it is "stopped" unless all `planned` measured requests
    had already run. Otherwise a model fails when it did not load (the reason is the load error) or when no measured
    request succeeded (the reason is the first request error), and is "partial" when some failed.
    """
    if load_error is not None:
        return ModelStatus.FAILED, load_error
    measured = [r for r in requests if not get_field(r, "warmup")]
    failed = [r for r in measured if get_field(r, "status") != "ok"]
    first_error = next((get_field(r, "error") for r in failed if get_field(r, "error")), "unknown error")
    if stopped and (planned is None or len(measured) < planned):
        of = f" of {planned}" if planned is not None else ""
        failures = f"; {len(failed)} failed: {first_error}" if failed else ""
        return ModelStatus.STOPPED, f"ran {len(measured)}{of} measured requests{failures}"
    if not measured:
        return ModelStatus.FAILED, "no measured request was run"
    if len(failed) == len(measured):
        return ModelStatus.FAILED, first_error
    if failed:
        return ModelStatus.PARTIAL, f"{len(failed)} of {len(measured)} requests failed: {first_error}"
    return ModelStatus.OK, None
