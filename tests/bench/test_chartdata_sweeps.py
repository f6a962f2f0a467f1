"""The sweep charts' data (throughput vs concurrency, TTFT vs prompt length) and the summary table of a load run,
checked against the hand-made run dicts' own entries."""

from levelruns import concurrency_run, prompt_run
from runfactory import sample_run

from fl_tui.bench import chartdata, summarytable
from fl_tui.bench.runschema import ModelJson, as_run


def entry(run: dict, model: str, **level) -> dict:
    return next(m for m in run["models"] if m["model"] == model and all(m.get(k) == v for k, v in level.items()))


def test_throughput_by_concurrency_is_each_levels_aggregate_rate_per_model():
    run = concurrency_run()
    data = chartdata.throughput_by_concurrency(as_run(run))
    assert list(data) == ["alpha-cpu", "beta-gpu"]
    for model, (levels, tps) in data.items():
        assert levels == [1, 2, 4]
        assert tps == [entry(run, model, concurrency=c)["aggregate_output_tps"] for c in levels]


def test_ttft_by_prompt_length_is_each_lengths_ttft_p50_per_model():
    run = prompt_run()
    data = chartdata.ttft_by_prompt_length(as_run(run))
    assert data["alpha-cpu"][0] == [128, 1024, 4096] and data["beta-gpu"][0] == [128, 1024]
    for model, (lengths, ttft) in data.items():
        assert ttft == [entry(run, model, prompt_tokens=p)["summary"]["ttft_ms"]["p50"] for p in lengths]
    assert data["alpha-cpu"][1] == [60.0, 310.0, 1210.0]  # the middle of each level's three TTFTs


def test_a_failed_level_is_left_out_and_a_run_sweeping_both_has_a_series_per_other_level():
    run = concurrency_run()
    entry(run, "beta-gpu", concurrency=4)["status"] = "failed"
    assert chartdata.throughput_by_concurrency(as_run(run))["beta-gpu"][0] == [1, 2]
    for m in run["models"]:
        m["prompt_tokens"] = 128 if m["model"] == "alpha-cpu" else 1024
    entry(run, "alpha-cpu", concurrency=4)["prompt_tokens"] = 1024
    series = chartdata.throughput_by_concurrency(as_run(run))
    assert series["alpha-cpu @ 128 tok"][0] == [1, 2] and series["alpha-cpu @ 1024 tok"][0] == [4]


def test_the_sweep_charts_are_offered_only_for_a_run_that_swept():
    base = [kind for kind, _title in chartdata.CHARTS]
    assert chartdata.kinds_for(as_run(sample_run())) == base
    assert chartdata.kinds_for(as_run(concurrency_run())) == [*base, "tps_vs_concurrency"]
    assert chartdata.kinds_for(as_run(prompt_run())) == [*base, "ttft_vs_prompt"]


def test_a_load_runs_summary_has_a_level_speedup_and_goodput_per_entry():
    run = concurrency_run()
    record = as_run(run)
    header = summarytable.header(record, quality=False)
    assert header[:2] == ["Model", "Level"]
    assert {"TTFT sd (ms)", "Speedup", "SLO met", "Goodput (req/s)"} <= set(header)
    rows = [dict(zip(header, summarytable.row(record, m, header), strict=True)) for m in record.models]
    assert [(r["Model"], r["Level"]) for r in rows] == [(m["model"], f"c={m['concurrency']}") for m in run["models"]]
    assert [r["Speedup"] for r in rows] == ["—", "1.90", "3.50", "—", "1.02", "1.03"]
    assert [r["SLO met"] for r in rows] == ["100%", "67%", "33%", "100%", "100%", "0%"]
    assert [r["Goodput (req/s)"] for r in rows] == ["1.50", "2.10", "1.40", "0.80", "0.90", "0.00"]
    assert [r["TTFT sd (ms)"] for r in rows] == [f"{m['summary']['ttft_ms']['std']:.1f}" for m in run["models"]]
    assert rows[0]["TTFT sd (ms)"] == "10.0"  # 50, 60, 70 ms


def test_a_plain_run_has_no_level_or_goodput_columns_and_prompt_lengths_read_as_tokens():
    header = summarytable.header(as_run(sample_run()), quality=False)
    assert not {"Level", "Speedup", "SLO met", "Goodput (req/s)"} & set(header) and "TTFT sd (ms)" in header
    run = as_run(prompt_run())
    assert [summarytable.level_cell(m) for m in run.models][:3] == ["128 tok", "1024 tok", "4096 tok"]
    level = ModelJson(model="m", requested_as="m", status="ok", concurrency=2, rate="poisson:5")
    assert summarytable.level_cell(level) == "c=2 poisson:5/s"


def test_the_detail_line_gives_mean_and_std_of_each_figure():
    run = concurrency_run()
    line = summarytable.detail_line(ModelJson(**entry(run, "alpha-cpu", concurrency=2)))
    ttft = entry(run, "alpha-cpu", concurrency=2)["summary"]["ttft_ms"]
    assert line.startswith("alpha-cpu c=2 (mean ± sd): ")
    assert f"TTFT {ttft['mean']:.1f} ± {ttft['std']:.1f} ms" == "TTFT 100.0 ± 10.0 ms"  # 90, 100, 110
    assert "TTFT 100.0 ± 10.0 ms" in line
    assert "decode 23.0 ± 2.0 tok/s" in line  # 21, 23, 25
