"""Hand-made run.json dicts of load-level runs: a concurrency sweep with SLOs, and a --prompt-tokens sweep in the
shape that sweep writes (`prompt_tokens` per entry, `prefill_tps` in the summary)."""

from runfactory import make_run, model_from, requests_for

from fl_tui.bench.records import RequestResult


def _level(model: str, ttft: float, tps: float, **fields) -> tuple[dict, list[RequestResult]]:
    requests = requests_for(model, [ttft, ttft + 10, ttft + 20], [ttft + 400] * 3, [tps, tps + 2, tps + 4])
    for r in requests:
        r.concurrency = fields.get("concurrency")
    entry = model_from(model, requests).to_json()
    entry.update(fields)
    return entry, requests


def concurrency_run() -> dict:
    """alpha-cpu and beta-gpu at concurrency 1, 2 and 4 with a TTFT bound; every figure below is the entry's own."""
    levels = [("alpha-cpu", 1, 50.0, 20.0, 40.0, None, 1.0, 1.5), ("alpha-cpu", 2, 90.0, 21.0, 76.0, 1.9, 0.67, 2.1),
              ("alpha-cpu", 4, 170.0, 22.0, 140.0, 3.5, 0.33, 1.4), ("beta-gpu", 1, 120.0, 60.0, 61.0, None, 1.0, 0.8),
              ("beta-gpu", 2, 130.0, 61.0, 62.0, 1.02, 1.0, 0.9), ("beta-gpu", 4, 140.0, 62.0, 63.0, 1.03, 0.0, 0.0)]
    run = make_run([], [], levels=[1, 2, 4], slo={"ttft_ms": 150.0})
    for model, level, ttft, tps, aggregate, speedup, fraction, good in levels:
        entry, requests = _level(model, ttft, tps, concurrency=level, speedup=speedup, slo_fraction=fraction,
                                 goodput_rps=good)
        entry["aggregate_output_tps"] = aggregate
        run["models"].append(entry)
        run["requests"] += [r.to_json() for r in requests]
    return run


def prompt_run() -> dict:
    """alpha-cpu at prompt lengths 128, 1024 and 4096 (TTFT climbing with them), beta-gpu at 128 and 1024."""
    run = make_run([], [], prompt_tokens=[128, 1024, 4096])
    for model, length, ttft in [("alpha-cpu", 128, 50.0), ("alpha-cpu", 1024, 300.0), ("alpha-cpu", 4096, 1200.0),
                                ("beta-gpu", 128, 20.0), ("beta-gpu", 1024, 60.0)]:
        entry, requests = _level(model, ttft, 30.0, prompt_tokens=length)
        entry["summary"]["prefill_tps"] = {"n": 3, "mean": length / ttft * 1000, "std": 1.0}
        run["models"].append(entry)
        run["requests"] += [r.to_json() for r in requests]
    return run
