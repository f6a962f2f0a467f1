"""`fl-tui bench` against a real Foundry Local endpoint (`fl-tui serve` in its own process) with the demo models."""

import csv
import io
import json

import numpy as np
import pytest
from conftest import run_cli

from fl_tui.bench.records import RUN_SCHEMA, STAT_KEYS, SUMMARY_METRICS
from fl_tui.demo.build import FAST, SLOW

RUN_KEYS = {"schema", "run_id", "started_at", "finished_at", "endpoint", "backend", "settings", "percentile_method",
            "models", "requests"}
MODEL_KEYS = {"model", "status", "planned", "measured_ok", "error", "load_s", "rss_peak_mb", "rss_growth_mb", "disk_mb",
              "deterministic", "summary"}
REQUEST_KEYS = {"id", "model", "prompt_id", "round", "warmup", "status", "error", "headers_ms", "ttft_ms", "e2e_ms",
                "output_tokens", "token_count_source", "chunk_offsets_ms", "finish_reason", "text", "text_sha256"}


@pytest.fixture(scope="module")
def run_dir(served, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run_cli("--endpoint", served.url, "bench", "--models", "fl-demo-fast,fl-demo-slow", "--prompts", "quick",
                     "--rounds", "2", "--max-tokens", "16", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| fl-demo-slow-generic-cpu:1 | ok | 4/4 |" in result.stdout  # n: 2 rounds x 2 prompts, no warm-up
    return out


def test_files_and_schema(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    assert run["schema"] == RUN_SCHEMA and set(run) >= RUN_KEYS and run["percentile_method"] == "linear"
    assert run["backend"] == "foundry-service" and run["finished_at"]
    env = run["environment"]  # what the endpoint says about itself, through the CLI and the serving process
    assert env["endpoint_kind"] == "foundry-service" and env["endpoint_version"] == "current"
    assert env["cpu_cores"] and env["python"] and env["fl_tui"]
    assert [m["model"] for m in run["models"]] == [FAST.model_id, SLOW.model_id]
    for model in run["models"]:
        assert set(model) >= MODEL_KEYS and model["status"] == "ok" and model["load_s"] > 0
        assert model["planned"] == model["measured_ok"] == model["summary"]["ttft_ms"]["n"] == 4
        assert model["rss_peak_mb"] > 0 and model["disk_mb"] > 1  # the serve process's memory, the cache's bytes
        assert set(model["summary"]) == set(SUMMARY_METRICS)
        assert all(set(s) == set(STAT_KEYS) for s in model["summary"].values())
    lines = (run_dir / "requests.jsonl").read_text().splitlines()
    assert len(lines) == len(run["requests"]) == 2 * (1 + 2 * 2)  # models x (warm-up + rounds x prompts)
    assert [json.loads(line) for line in lines] == [{"run_id": run["run_id"], **r} for r in run["requests"]]
    for req in run["requests"]:
        assert set(req) >= REQUEST_KEYS and req["status"] == "ok" and req["token_count_source"] == "usage"
        assert req["output_tokens"] == 16 and len(req["chunk_offsets_ms"]) >= 1


def test_statistics_equal_numpy_on_the_raw_data(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    for model in run["models"]:
        measured = [r for r in run["requests"] if r["model"] == model["model"] and not r["warmup"]]
        assert len(measured) == 4 and model["summary"]["ttft_ms"]["n"] == 4
        for metric in ("ttft_ms", "e2e_ms"):
            raw = [r[metric] for r in measured]
            for stat, q in (("p50", 50), ("p95", 95), ("p99", 99)):
                assert model["summary"][metric][stat] == pytest.approx(np.percentile(raw, q, method="linear"))
            assert model["summary"][metric]["mean"] == pytest.approx(np.mean(raw))
        gaps = np.concatenate([np.diff(r["chunk_offsets_ms"]) for r in measured])
        assert model["summary"]["itl_ms"]["n"] == len(gaps)
        assert model["summary"]["itl_ms"]["p95"] == pytest.approx(np.percentile(gaps, 95, method="linear"))


def test_determinism_flag_and_slow_is_slower(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    fast, slow = run["models"]
    assert fast["deterministic"] is True and slow["deterministic"] is True  # greedy demo models, temperature 0
    assert slow["summary"]["decode_tps"]["mean"] < fast["summary"]["decode_tps"]["mean"]


def test_reports_regenerate_and_compare_to_itself(run_dir):
    before = (run_dir / "report.md").read_text()
    assert "## How these figures are defined" in before
    again = run_cli("report", str(run_dir))
    assert again.returncode == 0 and (run_dir / "report.md").read_text() == before
    rows = list(csv.DictReader(io.StringIO(run_cli("report", str(run_dir), "--format", "csv").stdout)))
    assert [r["model"] for r in rows] == [FAST.model_id, SLOW.model_id]
    same = run_cli("compare", str(run_dir), str(run_dir))
    assert same.returncode == 0 and "0 regressions" in same.stdout


def test_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text('{"name": "x", "prompts": [{"id": "a", "prompt": ""}]}')
    result = run_cli("bench", "--prompts", str(bad))
    assert result.returncode == 2 and result.stderr.strip().startswith(f"fl-tui: {bad}:1:")
    assert run_cli("bench", "--rounds", "0").returncode == 2
