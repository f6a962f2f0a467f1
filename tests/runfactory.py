"""Synthetic run.json dicts with known numbers, for tests of what is computed or drawn from a run."""

from fl_tui.bench.records import PERCENTILE_METHOD, RUN_SCHEMA, ModelResult, RequestResult
from fl_tui.bench.stats import aggregate_rates, model_summary

SETTINGS = {"rounds": 3, "warmup": 1, "temperature": 0.0, "seed": 42, "max_tokens": 128, "concurrency": 1,
            "timeout_s": 120, "prompt_set": "workshop", "watts": 15}


def make_run(models: list[ModelResult], requests: list[RequestResult], **settings) -> dict:
    return {
        "schema": RUN_SCHEMA, "run_id": "20250102-030405-abcd", "started_at": "2025-01-02T03:04:05Z",
        "finished_at": "2025-01-02T03:10:00Z", "endpoint": "http://127.0.0.1:5273/v1", "backend": "embedded",
        "settings": {**SETTINGS, **settings}, "percentile_method": PERCENTILE_METHOD,
        "models": [m.to_json() for m in models], "requests": [r.to_json() for r in requests],
    }


def requests_for(model: str, ttfts: list[float], e2es: list[float], decode: list[float]) -> list[RequestResult]:
    out = []
    start = 0.0
    for i, (ttft, e2e, tps) in enumerate(zip(ttfts, e2es, decode, strict=True), 1):
        out.append(RequestResult(
            id=f"{model}-{i}", model=model, prompt_id=f"p{i}", round=1, warmup=False, status="ok", start_ms=start,
            ttft_ms=ttft, e2e_ms=e2e, decode_tps=tps, tpot_ms=1000 / tps, output_tokens=20,
            chunk_offsets_ms=[ttft, ttft + 10, e2e], text=f"answer {i}",
        ))
        start += e2e + 5
    return out


def model_from(name: str, requests: list[RequestResult], **kw) -> ModelResult:
    tps, rps = aggregate_rates(requests)
    kw = {"status": "ok", "planned": len(requests), "measured_ok": len(requests), **kw}
    return ModelResult(model=name, requested_as=name.split("-")[0], summary=model_summary(requests),
                       aggregate_output_tps=tps, requests_per_s=rps, **kw)


def sample_run() -> dict:
    """Two measured models and a failed one; the numbers are chosen so every statistic is checkable by hand."""
    alpha = requests_for("alpha-cpu", [50.0, 60.0, 70.0], [900.0, 1000.0, 1100.0], [20.0, 22.0, 24.0])
    beta = requests_for("beta-gpu", [120.0, 130.0, 500.0], [400.0, 450.0, 700.0], [60.0, 70.0, 80.0])
    models = [
        model_from("alpha-cpu", alpha, rss_peak_mb=900.0, disk_mb=2100.5, load_s=3.2, deterministic=True,
                   energy_wh_per_1k_tokens=0.42),
        model_from("beta-gpu", beta, rss_peak_mb=1500.0, disk_mb=3900.0, deterministic=False,
                   nondeterministic_prompts=["p2"], energy_wh_per_1k_tokens=0.12),
        ModelResult(model="gamma-npu", requested_as="gamma", status="failed", error="Model not cached: gamma-npu",
                    planned=3, measured_ok=0),
    ]
    return make_run(models, alpha + beta)


def stopped_run() -> dict:
    """A run stopped during its second model: 3 of 8 measured requests answered; the third model never started."""
    alpha = requests_for("alpha-cpu", [50.0] * 8, [900.0] * 8, [20.0] * 8)
    beta = requests_for("beta-gpu", [120.0] * 3, [400.0] * 3, [60.0] * 3)
    models = [
        model_from("alpha-cpu", alpha),
        model_from("beta-gpu", beta, status="stopped", planned=8, error="ran 3 of 8 measured requests"),
        ModelResult(model="gamma-npu", requested_as="gamma", status="stopped", error="not started", planned=8,
                    measured_ok=0),
    ]
    return {**make_run(models, alpha + beta), "interrupted": True}
