"""Reports made from a run.json dict: the table shows the run's own numbers, highlights pick the right model, every
formula is stated, and nothing a model or server wrote reaches a terminal or a spreadsheet live."""

import csv
import io
import json

import pytest
from runfactory import sample_run, stopped_run

from fl_tui.bench.report import CSV_COLUMNS, render_csv, render_json, render_markdown, write_reports


@pytest.fixture
def run() -> dict:
    return sample_run()


def table(markdown: str) -> tuple[list[str], dict[str, list[str]]]:
    """The Results table: its header and its rows by model."""
    results = markdown.split("## Results", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in results.splitlines() if line.startswith("| ")]
    split = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    return split[0], {row[0]: row for row in split[1:]}


def test_table_rows_show_the_run_dict_values(run):
    header, rows = table(render_markdown(run))
    assert header == ["Model", "Status", "n", "TTFT p50 (ms)", "TTFT p95 (ms)", "Decode tok/s", "E2E p95 (ms)",
                      "Avg latency (ms)", "Output tok/s", "RSS peak (MB)", "Disk (MB)", "Deterministic"]
    for model in run["models"]:
        row = dict(zip(header, rows[model["model"]], strict=True))
        s = model["summary"]
        if model["status"] == "failed":
            assert row["Status"] == "failed" and row["TTFT p50 (ms)"] == "—"
            continue
        assert row["Status"] == model["status"]
        assert row["TTFT p50 (ms)"] == f"{s['ttft_ms']['p50']:.1f}"
        assert row["TTFT p95 (ms)"] == f"{s['ttft_ms']['p95']:.1f}"
        assert row["Decode tok/s"] == f"{s['decode_tps']['mean']:.1f}"
        assert row["E2E p95 (ms)"] == f"{s['e2e_ms']['p95']:.1f}"
        assert row["Avg latency (ms)"] == f"{s['e2e_ms']['mean']:.1f}"
        assert row["Output tok/s"] == f"{model['aggregate_output_tps']:.1f}"
        assert row["RSS peak (MB)"] == f"{model['rss_peak_mb']:.1f}"
        assert row["Disk (MB)"] == f"{model['disk_mb']:.1f}"
    assert rows["alpha-cpu"][1:5] == ["ok", "3/3", "60.0", "69.0"]  # hand-checked: p95 of 50, 60, 70 (linear) is 69
    assert rows["alpha-cpu"][-1] == "yes"
    assert rows["beta-gpu"][-1] == "no (p2)"


def test_header_lines_name_the_run(run):
    md = render_markdown(run)
    assert md.startswith("# fl-tui benchmark run 20250102-030405-abcd")
    assert "2025-01-02T03:04:05Z" in md
    assert "http://127.0.0.1:5273/v1" in md and "embedded" in md
    settings_line = next(line for line in md.splitlines() if line.startswith("- Settings:"))
    for fragment in ("rounds 3", "warm-up 1", "temperature 0.0", "seed 42", "max tokens 128", "concurrency 1",
                     "timeout 120 s", "prompt set workshop", "watts 15 W"):
        assert fragment in settings_line


def test_settings_read_as_a_person_says_them(run):
    """A swept run names its levels, not its first one alone beside them; an SLO is its bounds, not a dict; a flag is
    yes/no; an empty list is left out."""
    run["settings"].update(concurrency=1, levels=[1, 2, 4], slo={"ttft_ms": 500.0, "e2e_ms": 8000.0},
                           keep_alive=False, models_asked=[])
    line = next(line for line in render_markdown(run).splitlines() if line.startswith("- Settings:"))
    assert "concurrency levels 1, 2, 4;" in line and "concurrency 1;" not in line
    assert "slo ttft_ms ≤ 500 ms and e2e_ms ≤ 8000 ms;" in line and "keep-alive no" in line
    assert not any(raw in line for raw in ("{", "[", "False", "models asked", "levels [", "keep_alive"))


def test_failures_list_gives_the_reason(run):
    md = render_markdown(run)
    failures = md.split("## Failures", 1)[1].split("##", 1)[0]
    assert "gamma-npu" in failures and "Model not cached: gamma-npu" in failures
    assert "alpha-cpu" not in failures


def test_a_stopped_model_says_stopped_with_measured_of_planned():
    run = stopped_run()
    md = render_markdown(run)
    _header, rows = table(md)
    assert [rows[m][1:3] for m in ("alpha-cpu", "beta-gpu", "gamma-npu")] == [
        ["ok", "8/8"], ["stopped", "3/8"], ["stopped", "0/8"]]
    stops = md.split("## Failures and stops", 1)[1].split("##", 1)[0]
    assert "**beta-gpu** (stopped): ran 3 of 8 measured requests" in stops
    assert "**gamma-npu** (stopped): not started" in stops and "alpha-cpu" not in stops
    assert "Interrupted: yes" in md
    cells = {r["model"]: r for r in csv.DictReader(io.StringIO(render_csv(run)))}
    assert (cells["beta-gpu"]["status"], cells["beta-gpu"]["measured_ok"], cells["beta-gpu"]["planned"]) == (
        "stopped", "3", "8")


def test_an_older_run_without_counts_shows_its_figures_n(run):
    for model in run["models"]:
        del model["planned"], model["measured_ok"]
    assert [row[2] for row in table(render_markdown(run))[1].values()] == ["3", "3", "—"]


def test_status_words_are_defined_in_the_report(run):
    defs = render_markdown(run).split("## How these figures are defined", 1)[1]
    for word in ('"ok": every planned measured request ran and answered', '"partial"',
                 '"stopped": the run was stopped before this model ran all its planned measured requests',
                 '"failed"', "**n** = measured requests that answered / measured requests planned"):
        assert word in defs, word


def test_highlights_pick_the_right_models(run):
    md = render_markdown(run)
    highlights = md.split("## Highlights", 1)[1].split("##", 1)[0]
    bullets = [line for line in highlights.strip().splitlines() if line.startswith("- ")]
    lines = {line[2:].split(":", 1)[0]: line for line in bullets}
    assert "**alpha-cpu**" in lines["Fastest first token"]  # TTFT p50 60 vs 130
    assert "**beta-gpu**" in lines["Best throughput"]  # decode 70 vs 22 tok/s
    assert "**beta-gpu**" in lines["Lowest tail"]  # E2E p95 675 vs 1090
    assert "**alpha-cpu**" in lines["Smallest memory"]  # 900 vs 1500 MB
    assert "gamma-npu" not in highlights  # no data, never picked


def test_highlights_follow_the_data_when_it_changes(run):
    run["models"][0]["summary"]["ttft_ms"]["p50"] = 500.0
    run["models"][1]["rss_peak_mb"] = 100.0
    highlights = render_markdown(run).split("## Highlights", 1)[1]
    assert "Fastest first token: **beta-gpu**" in highlights
    assert "Smallest memory: **beta-gpu**" in highlights


def test_a_failed_model_is_never_a_highlight(run):
    """A model that failed at its first request has the smallest RSS peak of all: it is still not "Smallest
    memory", nor anything else."""
    run["models"][1].update(status="failed", rss_peak_mb=10.0)
    run["models"][1]["summary"]["ttft_ms"]["p50"] = 1.0
    section = render_markdown(run).split("## Highlights", 1)[1].split("##", 1)[0]
    highlights = "\n".join(line for line in section.splitlines() if line.startswith("- "))
    assert "beta-gpu" not in highlights and "Smallest memory: **alpha-cpu**" in highlights


def test_energy_line_only_when_there_is_an_estimate(run):
    md = render_markdown(run)
    energy = next(line for line in md.splitlines() if line.startswith("Energy estimate"))
    assert "alpha-cpu 0.420 Wh" in energy and "beta-gpu 0.120 Wh" in energy and "15 W" in energy
    for m in run["models"]:
        m["energy_wh_per_1k_tokens"] = None
    assert "Energy estimate" not in render_markdown(run)


def test_definitions_section_states_the_formulas(run):
    md = render_markdown(run)
    defs = md.split("## How these figures are defined", 1)[1]
    for fragment in (
        "t0", "last bytes are handed to the socket",
        "TTFT** = first event whose delta has non-empty `content`, `reasoning_content`/`reasoning`, or `tool_calls`",
        "role-only", "last token-bearing event - t0 (not the usage chunk, not `[DONE]`)",
        "(E2E - TTFT) / (N - 1)", "1 / TPOT", "N / E2E (includes TTFT)", "usage.completion_tokens",
        "token-bearing chunks", "pools", 'method="linear"', "Warm-up", "temperature 0",
        "process hosting the model",
        "Wilson score interval of p = (mean - 1) / 4", "(p + z²/2n ± z√(p(1 - p)/n + z²/4n²)) / (1 + z²/n)",
        "never leaves 1-5", 'Below n = 3 there is no interval ("n too small")', "scored completely",
    ):
        assert fragment in defs, fragment


def test_quality_column(run):
    quality = {"alpha-cpu": {"mean": 3.8, "ci95": [3.25, 4.1], "n": 12}, "beta-gpu": {"mean": 3.5, "ci95": None,
                                                                                       "n": 2}}
    header, rows = table(render_markdown(run, quality))
    assert header[-1] == "Quality"
    assert rows["alpha-cpu"][-1] == "3.80 [3.25, 4.10] (n=12)"
    assert rows["beta-gpu"][-1] == "3.50 (n=2, n too small)"  # below n = 3: the mean and n, no interval
    assert rows["gamma-npu"][-1] == "—"
    assert "Quality" not in table(render_markdown(run))[0]


def test_model_text_is_plain_and_pipes_are_escaped(run):
    evil = "evil|model[bold red]\x1b[31m\x07x"
    run["models"][0]["model"] = evil
    run["models"][2]["error"] = "boom\x1b]0;title\x07 [link=file:///etc]click[/link]\nsecond"
    run["run_id"] = "id\x1b[2J"
    md = render_markdown(run)
    assert "\x1b" not in md and "\x07" not in md
    row = next(line for line in md.splitlines() if line.startswith("| evil"))
    assert row.startswith("| evil\\|model[bold red]")  # shown literally, the pipe cannot split the cell
    assert len(table(md)[1]["evil\\|model[bold red]\ufffdx"]) == len(table(md)[0])
    failure = next(line for line in md.splitlines() if "gamma-npu" in line and "boom" in line)
    assert "second" in failure  # the reason stays on its line


def test_csv_columns_and_values(run):
    rows = list(csv.reader(io.StringIO(render_csv(run))))
    assert rows[0] == list(CSV_COLUMNS)
    by_model = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    alpha = by_model["alpha-cpu"]
    model = run["models"][0]
    assert float(alpha["ttft_p50_ms"]) == model["summary"]["ttft_ms"]["p50"]
    assert float(alpha["ttft_p99_ms"]) == model["summary"]["ttft_ms"]["p99"]
    assert float(alpha["itl_p95_ms"]) == model["summary"]["itl_ms"]["p95"]
    assert float(alpha["decode_tps_mean"]) == model["summary"]["decode_tps"]["mean"]
    assert float(alpha["aggregate_output_tps"]) == model["aggregate_output_tps"]
    assert (alpha["load_s"], alpha["deterministic"], alpha["error"]) == ("3.2", "true", "")
    gamma = by_model["gamma-npu"]
    assert (gamma["status"], gamma["error"], gamma["ttft_p50_ms"]) == ("failed", "Model not cached: gamma-npu", "")


def test_csv_quality_columns(run):
    quality = {"beta-gpu": {"mean": 4.5, "ci95": [3.25, 4.875], "n": 8}, "gamma-npu": {"mean": 4, "ci95": None,
                                                                                        "n": 2}}
    rows = list(csv.reader(io.StringIO(render_csv(run, quality))))
    assert rows[0][-4:] == ["quality_mean", "quality_ci95_low", "quality_ci95_high", "quality_n"]
    assert rows[2][0] == "beta-gpu" and rows[2][-4:] == ["4.5", "3.25", "4.875", "8"]
    assert rows[3][0] == "gamma-npu" and rows[3][-4:] == ["4", "", "", "2"]  # n too small: no interval
    assert rows[1][-4:] == ["", "", "", ""]


def test_csv_neutralises_formulas_in_model_names_and_errors(run):
    run["models"][2]["model"] = "=cmd|' /C calc'!A0"
    run["models"][2]["error"] = "@SUM(1+1)"
    run["models"][0]["model"] = "+alpha"
    rows = list(csv.reader(io.StringIO(render_csv(run))))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert "'@SUM(1+1)" in cells
    assert "'+alpha" in cells
    assert not any(cell[:1] in ("=", "+", "@") for cell in cells)


def test_json_report_is_the_run_without_requests(run):
    data = json.loads(render_json(run))
    assert data["run_id"] == run["run_id"] and data["percentile_method"] == "linear"
    assert data["models"] == run["models"]
    assert "requests" not in data


def test_write_reports_writes_markdown_and_csv(run, tmp_path):
    paths = write_reports(tmp_path / "run-1", run)
    assert [p.name for p in paths] == ["report.md", "report.csv"]
    assert paths[0].read_text(encoding="utf-8") == render_markdown(run)
    assert paths[1].read_bytes().decode("utf-8") == render_csv(run)
    assert sorted(p.name for p in (tmp_path / "run-1").iterdir()) == ["report.csv", "report.md"]  # no temp files


def test_interrupted_run_and_warnings_are_stated(run):
    assert "Interrupted" not in render_markdown(run)
    run["interrupted"] = True
    run["warnings"] = ["GPU busy\x1b[5m: figures may be noisy"]
    md = render_markdown(run)
    assert "- Interrupted: yes" in md
    warnings = md.split("## Warnings", 1)[1].split("##", 1)[0]
    assert "- GPU busy: figures may be noisy" in warnings


def test_queue_time_is_reported_at_concurrency_above_one(run):
    assert "Client queue time" not in render_markdown(run)  # concurrency 1: no request waited for a slot
    run["settings"]["concurrency"] = 2
    waits = {"alpha-cpu-1": 0.0, "alpha-cpu-2": 10.0, "alpha-cpu-3": 30.0}
    for request in run["requests"]:
        request["queue_ms"] = waits.get(request["id"])
    markdown = render_markdown(run)
    section = markdown.split("## Client queue time", 1)[1].split("##", 1)[0]
    assert "one of 2 slots, before its t0: not part of TTFT or E2E" in section
    assert "| alpha-cpu | 3 | 10.0 | 28.0 | 30.0 |" in section and "beta-gpu" not in section
    rows = list(csv.DictReader(io.StringIO(render_csv(run))))
    alpha = next(r for r in rows if r["model"] == "alpha-cpu")
    assert (alpha["queue_p50_ms"], alpha["queue_p95_ms"]) == ("10.0", "28.0")


def test_distributions_show_the_standard_deviation_beside_mean_and_percentiles(run):
    # alpha-cpu's TTFTs are 50, 60, 70 ms: mean 60, sample std sqrt(((-10)² + 0 + 10²) / 2) = 10
    markdown = render_markdown(run)
    section = markdown.split("## Distributions", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split(" | ")]
    assert header[:5] == ["Model", "Metric", "n", "mean", "std"]
    rows = {tuple(c.strip() for c in line.strip("|").split(" | ")[:2]): line for line in lines[1:]}
    alpha = [c.strip() for c in rows[("alpha-cpu", "TTFT (ms)")].strip("|").split(" | ")]
    assert (alpha[2], float(alpha[3]), float(alpha[4])) == ("3", 60.0, 10.0)
    assert ("gamma-npu", "TTFT (ms)") not in rows  # failed: nothing measured
    by_model = {row["model"]: row for row in csv.DictReader(io.StringIO(render_csv(run)))}
    assert float(by_model["alpha-cpu"]["ttft_std_ms"]) == 10.0
    assert float(by_model["alpha-cpu"]["e2e_std_ms"]) == 100.0
