"""Per-model statistics: linear percentiles, pooled ITL, aggregate rates, determinism and statuses.

The percentiles are checked against the definition (Hyndman and Fan's type 7, which numpy calls "linear"),
written out here in plain Python, not against the numpy call the code makes."""

import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fl_tui.bench.records import STAT_KEYS, SUMMARY_METRICS, RequestResult
from fl_tui.bench.stats import aggregate_rates, determinism, model_status, model_summary, summarize

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def req(prompt="p1", round=1, *, warmup=False, status="ok", error=None, **kw) -> RequestResult:
    return RequestResult(id=f"{prompt}-{round}", model="m", prompt_id=prompt, round=round, warmup=warmup,
                         status=status, error=error, **kw)


def linear_percentile(values: list[float], q: float) -> float:
    """Type 7: the sorted values at positions 0..n-1, interpolated at h = (n - 1) q / 100."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * q / 100
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=60))
def test_summarize_follows_the_definitions(values):
    s = summarize(values)
    assert list(s) == list(STAT_KEYS)
    assert s["n"] == len(values)
    assert s["mean"] == pytest.approx(statistics.fmean(values), rel=1e-9, abs=1e-6)
    if len(values) >= 2:
        assert s["std"] == pytest.approx(statistics.stdev(values), rel=1e-6, abs=1e-6)
    else:
        assert s["std"] is None
    assert (s["min"], s["max"]) == (min(values), max(values))
    for key, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert s[key] == pytest.approx(linear_percentile(values, q), rel=1e-9, abs=1e-6)
        assert s["min"] <= s[key] <= s["max"]


def test_p95_of_three_values_does_not_exceed_the_maximum():
    s = summarize([1, 2, 3])
    assert s["p95"] == pytest.approx(2.9)
    assert s["p99"] == pytest.approx(2.98)
    assert s["p50"] == 2.0 and s["max"] == 3.0


def test_std_is_the_sample_standard_deviation_by_hand():
    # [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, squared deviations sum to 32, 32 / 7 = 4.571..., root 2.138...
    assert summarize([2, 4, 4, 4, 5, 5, 7, 9])["std"] == pytest.approx(math.sqrt(32 / 7))
    assert summarize([3.0])["std"] is None


def test_summarize_of_nothing():
    assert summarize([]) == {"n": 0, "mean": None, "std": None, "min": None, "p50": None, "p90": None, "p95": None,
                             "p99": None, "max": None}
    assert summarize([None, None])["n"] == 0


def test_summary_values_are_plain_python_numbers():
    s = summarize(np.array([1.0, 2.0]))
    assert all(type(s[k]) is float for k in STAT_KEYS if k != "n")
    assert type(s["n"]) is int


def test_itl_pools_gaps_of_all_measured_ok_requests_and_tpot_stays_per_request():
    requests = [
        req("a", chunk_offsets_ms=[10.0, 20.0, 40.0], tpot_ms=15.0),  # gaps 10, 20
        req("b", chunk_offsets_ms=[5.0, 35.0], tpot_ms=30.0),  # gap 30
        req("c", warmup=True, chunk_offsets_ms=[0.0, 1000.0], tpot_ms=1000.0),  # warm-up: left out
        req("d", status="failed", error="x", chunk_offsets_ms=[0.0, 500.0], tpot_ms=500.0),  # failed: left out
    ]
    summary = model_summary(requests)
    assert list(summary) == list(SUMMARY_METRICS)
    itl = summary["itl_ms"]
    assert itl["n"] == 3
    assert (itl["mean"], itl["min"], itl["max"]) == (20.0, 10.0, 30.0)
    assert itl["p50"] == 20.0
    tpot = summary["tpot_ms"]
    assert tpot["n"] == 2 and tpot["mean"] == 22.5
    assert summary["ttft_ms"]["n"] == 0  # no request had one


def test_summary_works_from_run_json_dicts_too():
    requests = [req("a", ttft_ms=10.0), req("b", ttft_ms=30.0), req("c", warmup=True, ttft_ms=999.0)]
    assert model_summary([r.to_json() for r in requests]) == model_summary(requests)
    assert model_summary(requests)["ttft_ms"]["mean"] == 20.0


def test_aggregate_rates_hand_computed():
    requests = [
        req("a", start_ms=100.0, e2e_ms=1000.0, output_tokens=30),  # ends at 1100
        req("b", start_ms=600.0, e2e_ms=1500.0, output_tokens=60),  # ends at 2100: window 100..2100 = 2 s
        req("c", warmup=True, start_ms=0.0, e2e_ms=5000.0, output_tokens=500),
        req("d", status="failed", error="x", start_ms=0.0, e2e_ms=9000.0, output_tokens=7),
    ]
    tokens_per_s, requests_per_s = aggregate_rates(requests)
    assert tokens_per_s == pytest.approx(90 / 2.0)
    assert requests_per_s == pytest.approx(2 / 2.0)


def test_aggregate_rates_without_data():
    assert aggregate_rates([]) == (None, None)
    assert aggregate_rates([req(start_ms=5.0)]) == (None, None)


def test_determinism_all_equal():
    requests = [req("a", 1, text_sha256="h1"), req("a", 2, text_sha256="h1"), req("b", 1, text_sha256="h2"),
                req("b", 2, text_sha256="h2")]
    assert determinism(requests) == (True, [])


def test_determinism_names_the_prompts_that_differ():
    requests = [
        req("a", 1, text_sha256="h1"), req("a", 2, text_sha256="h1"),
        req("b", 1, text_sha256="h2"), req("b", 2, text_sha256="other"),
        req("c", 1, text_sha256="h3"), req("c", 2, text_sha256="h3"), req("c", 3, text_sha256="x"),
    ]
    assert determinism(requests) == (False, ["b", "c"])


def test_determinism_ignores_warmup_and_failures_and_needs_two_rounds():
    assert determinism([req("a", 1, text_sha256="h")]) == (None, [])
    assert determinism([]) == (None, [])
    requests = [
        req("a", 1, text_sha256="h"),
        req("a", 1, warmup=True, text_sha256="cold"),
        req("a", 2, status="failed", error="x", text_sha256="partial"),
    ]
    assert determinism(requests) == (None, [])
    assert determinism([*requests, req("a", 3, text_sha256="h")]) == (True, [])


def test_status_ok():
    requests = [req(round=1), req(round=2), req(warmup=True, status="failed", error="w")]
    assert model_status(requests, None) == ("ok", None)


def test_status_load_failure():
    assert model_status([], "Model not cached: phi") == ("failed", "Model not cached: phi")


def test_status_failed_when_no_measured_request_succeeded():
    requests = [req(warmup=True), req(status="failed", error="HTTP 500: boom"),
                req(round=2, status="failed", error="timed out after 30 s")]
    assert model_status(requests, None) == ("failed", "HTTP 500: boom")


def test_status_failed_when_nothing_was_measured():
    status, reason = model_status([req(warmup=True)], None)
    assert status == "failed" and reason


def test_status_partial_counts_and_quotes_the_first_error():
    requests = [req(round=1), req(round=2, status="failed", error="timed out after 30 s"), req(round=3),
                req(round=4, status="failed", error="HTTP 500: x")]
    assert model_status(requests, None) == ("partial", "2 of 4 requests failed: timed out after 30 s")


def test_status_stopped_counts_measured_of_planned_without_the_warm_up():
    requests = [req(warmup=True), req(round=1), req(round=2, status="failed", error="HTTP 500: x"), req(round=3)]
    assert model_status(requests, None, planned=8, stopped=True) == (
        "stopped", "ran 3 of 8 measured requests; 1 failed: HTTP 500: x")
    stopped_in_warm_up = model_status([req(warmup=True)], None, planned=8, stopped=True)
    assert stopped_in_warm_up == ("stopped", "ran 0 of 8 measured requests")


def test_a_stop_after_every_planned_request_ran_is_not_a_stop():
    assert model_status([req(round=1), req(round=2)], None, planned=2, stopped=True) == ("ok", None)
    assert model_status([], "Model not cached: phi", planned=2, stopped=True)[0] == "failed"
