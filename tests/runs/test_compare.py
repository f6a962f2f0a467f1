"""Run comparison: bootstrap intervals keep noise from being called a regression and catch a real slowdown."""

import numpy as np
import pytest

from fl_tui.bench.compare import compare_runs, models_only_in, render_comparison
from fl_tui.bench.records import PERCENTILE_METHOD, RUN_SCHEMA, ModelResult, RequestResult
from fl_tui.bench.stats import model_summary

KEYS = {("ttft_ms", "p50"), ("ttft_ms", "p95"), ("e2e_ms", "p95"), ("itl_ms", "p95"), ("decode_tps", "mean")}


def make_run(models: list[ModelResult], requests: list[RequestResult]) -> dict:
    return {
        "schema": RUN_SCHEMA, "run_id": "r", "started_at": None, "finished_at": None, "endpoint": "x",
        "backend": "embedded", "settings": {"rounds": len(requests), "warmup": 0, "temperature": 0.0, "seed": 0,
                                            "max_tokens": 64, "concurrency": 1, "timeout_s": 60, "prompt_set": "t",
                                            "watts": None},
        "percentile_method": PERCENTILE_METHOD,
        "models": [m.to_json() for m in models], "requests": [r.to_json() for r in requests],
    }


def requests_for(model: str, *, seed: int = 1, n: int = 30, ttft_scale: float = 1.0, decode_scale: float = 1.0,
                 with_warmup: bool = True) -> list[RequestResult]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ttft = float(rng.normal(100.0, 8.0)) * ttft_scale
        gaps = rng.normal(20.0, 2.0, size=15) / decode_scale
        offsets = list(ttft + np.concatenate([[0.0], np.cumsum(gaps)]))
        e2e = offsets[-1]
        tpot = (e2e - ttft) / 15
        out.append(RequestResult(
            id=f"{model}-{i}", model=model, prompt_id=f"p{i % 5}", round=i // 5 + 1, warmup=False, status="ok",
            ttft_ms=ttft, e2e_ms=e2e, tpot_ms=tpot, decode_tps=1000 / tpot, output_tokens=16,
            chunk_offsets_ms=[float(x) for x in offsets],
        ))
    if with_warmup:  # a cold warm-up and a failure that must not count
        out.append(RequestResult(id=f"{model}-w", model=model, prompt_id="p0", round=1, warmup=True, status="ok",
                                 ttft_ms=5000.0, e2e_ms=9000.0, decode_tps=1.0, chunk_offsets_ms=[5000.0, 9000.0]))
        out.append(RequestResult(id=f"{model}-f", model=model, prompt_id="p0", round=9, warmup=False,
                                 status="failed", error="x", ttft_ms=1.0, e2e_ms=2.0, decode_tps=1e6))
    return out


def run_of(*model_requests: list[RequestResult]) -> dict:
    models = [ModelResult(model=reqs[0].model, requested_as=reqs[0].model, status="ok", summary=model_summary(reqs))
              for reqs in model_requests]
    return make_run(models, [r for reqs in model_requests for r in reqs])


def by_key(deltas):
    return {(d.model, d.metric, d.stat): d for d in deltas}


def test_identical_runs_show_no_regression_and_intervals_contain_zero():
    base = run_of(requests_for("m"))
    deltas = compare_runs(base, base, resamples=500)
    assert {(d.metric, d.stat) for d in deltas} == KEYS
    for d in deltas:
        assert d.change == 0.0 and d.base == d.new
        assert d.ci_low < 0.0 < d.ci_high, d
        assert not d.regression and not d.improvement


def test_same_build_different_noise_is_not_a_regression():
    deltas = compare_runs(run_of(requests_for("m", seed=1)), run_of(requests_for("m", seed=2)), resamples=500)
    assert not any(d.regression for d in deltas)


def test_base_values_are_the_run_statistics():
    reqs = requests_for("m")
    base = run_of(reqs)
    d = by_key(compare_runs(base, base, resamples=50))
    summary = base["models"][0]["summary"]
    assert d["m", "ttft_ms", "p50"].base == pytest.approx(summary["ttft_ms"]["p50"])
    assert d["m", "ttft_ms", "p95"].base == pytest.approx(summary["ttft_ms"]["p95"])
    assert d["m", "e2e_ms", "p95"].base == pytest.approx(summary["e2e_ms"]["p95"])
    assert d["m", "itl_ms", "p95"].base == pytest.approx(summary["itl_ms"]["p95"])  # pooled gaps, as in the summary
    assert d["m", "decode_tps", "mean"].base == pytest.approx(summary["decode_tps"]["mean"])


def test_twice_slower_first_token_is_a_regression():
    base = run_of(requests_for("m", seed=1))
    new = run_of(requests_for("m", seed=2, ttft_scale=2.0))
    d = by_key(compare_runs(base, new, resamples=1000))
    for stat in ("p50", "p95"):
        delta = d["m", "ttft_ms", stat]
        assert delta.regression, delta
        assert delta.change == pytest.approx(1.0, abs=0.3)
        assert delta.ci_low > 0.10
    assert not d["m", "itl_ms", "p95"].regression
    assert not d["m", "decode_tps", "mean"].regression


def test_faster_first_token_is_not_a_regression():
    base = run_of(requests_for("m", seed=1))
    new = run_of(requests_for("m", seed=2, ttft_scale=0.5))
    d = by_key(compare_runs(base, new, resamples=1000))
    delta = d["m", "ttft_ms", "p50"]
    assert delta.change < -0.3
    assert not delta.regression and delta.improvement


def test_lower_decode_rate_is_a_regression_higher_is_not():
    base = run_of(requests_for("m", seed=1))
    slower = by_key(compare_runs(base, run_of(requests_for("m", seed=2, decode_scale=0.5)), resamples=1000))
    assert slower["m", "decode_tps", "mean"].regression
    assert slower["m", "itl_ms", "p95"].regression  # gaps doubled
    faster = by_key(compare_runs(base, run_of(requests_for("m", seed=2, decode_scale=1.6)), resamples=1000))
    assert not faster["m", "decode_tps", "mean"].regression and faster["m", "decode_tps", "mean"].improvement


def test_threshold_decides_what_counts():
    base = run_of(requests_for("m", seed=1))
    new = run_of(requests_for("m", seed=2, ttft_scale=1.3))
    assert by_key(compare_runs(base, new, resamples=1000))["m", "ttft_ms", "p50"].regression
    assert not by_key(compare_runs(base, new, resamples=1000, threshold=0.8))["m", "ttft_ms", "p50"].regression


def test_fixed_seed_is_deterministic():
    base = run_of(requests_for("m", seed=1))
    new = run_of(requests_for("m", seed=2, ttft_scale=1.1))
    first = compare_runs(base, new, resamples=300, seed=7)
    assert compare_runs(base, new, resamples=300, seed=7) == first
    other = compare_runs(base, new, resamples=300, seed=8)
    assert [(d.ci_low, d.ci_high) for d in other] != [(d.ci_low, d.ci_high) for d in first]


def test_models_in_one_run_only_are_listed_not_compared():
    base = run_of(requests_for("a"), requests_for("b"))
    new = run_of(requests_for("b", seed=3, ttft_scale=2.0), requests_for("c"))
    deltas = compare_runs(base, new, resamples=200)
    assert {d.model for d in deltas} == {"b"}
    only_base, only_new = models_only_in(base, new)
    assert (only_base, only_new) == (["a"], ["c"])
    text = render_comparison(deltas, only_base=only_base, only_new=only_new)
    assert "Only in the base run: a" in text and "Only in the new run: c" in text
    flagged = [line.split()[1] for line in text.splitlines() if "REGRESSION" in line]
    assert flagged == ["ttft_ms", "ttft_ms", "e2e_ms"]  # E2E includes the slower first token; ITL and decode do not
    assert "3 regressions" in text


def test_the_verdict_column_has_a_header():
    base = run_of(requests_for("m"))
    table = render_comparison(compare_runs(base, run_of(requests_for("m", seed=3, ttft_scale=2.0)), resamples=200))
    header, _rule, *rows = table.split("\n\n")[0].splitlines()
    assert header.split()[-1] == "Verdict"
    flagged = [row for row in rows if row.endswith("REGRESSION")]
    assert flagged and {row.index("REGRESSION") for row in flagged} == {header.index("Verdict")}


def test_rendered_table_is_fixed_width_and_plain():
    base = run_of(requests_for("m\x1b[31m"))
    text = render_comparison(compare_runs(base, base, resamples=50))
    assert "\x1b" not in text
    table = text.split("\n\n")[0].splitlines()
    assert table[0].startswith("Model") and set(table[1].replace(" ", "")) == {"-"}
    assert len(table) == 2 + len(KEYS)
    assert "+0.0%" in text and "0 regressions" in text


def test_a_model_without_data_in_one_run_gives_no_delta():
    base = run_of(requests_for("m"))
    new = run_of(requests_for("m"))
    for r in new["requests"]:
        r["status"] = "failed"
    assert compare_runs(base, new, resamples=50) == []


def test_each_value_has_the_standard_deviation_of_its_requests_beside_it():
    base = run_of(requests_for("m", seed=1))
    new = run_of(requests_for("m", seed=2, ttft_scale=1.5))
    deltas = {d.name: d for d in compare_runs(base, new, resamples=50)}
    def ttft_std(run):
        return np.std([r["ttft_ms"] for r in run["requests"] if not r["warmup"] and r["status"] == "ok"], ddof=1)

    ttft = deltas["ttft_ms p50"]
    assert (ttft.base_std, ttft.new_std) == (pytest.approx(ttft_std(base)), pytest.approx(ttft_std(new)))
    assert ttft.base_std > 0 and ttft.new_std > ttft.base_std  # scaled by 1.5
    line = next(x for x in render_comparison(list(deltas.values())).splitlines() if "ttft_ms p50" in x)
    assert f"{ttft.base:.2f} ± {ttft.base_std:.2f}" in line and f"{ttft.new:.2f} ± {ttft.new_std:.2f}" in line
