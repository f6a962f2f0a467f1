"""`--prompt-tokens`: prompts of about N tokens (prefill vs decode), against the loopback server, which counts prompt
tokens as words and, with a prefill cost, delays the first token by that much per prompt token. Its models sleep, so
the tests compare the server's schedule, not this machine's speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from loopback_module import loopback

from fl_tui.bench import prefill
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.events import RequestStarted
from fl_tui.bench.report import render_csv, write_reports
from fl_tui.bench.runfiles import read_run
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.prompts import Prompt, PromptSet

TWO = PromptSet(name="two", prompts=[Prompt(id="a", prompt="Say hello."), Prompt(id="b", prompt="Name a colour.")])
PREFILL_US = 200.0  # per prompt token: 2048 tokens add ~410 ms to TTFT, 64 add ~13 ms


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=600, prefill_us_per_token=PREFILL_US)
    yield handle
    handle.stop()


async def run_engine(url: str, out: Path, observer=None, **settings) -> dict:
    backend = OpenAICompatBackend(url)
    try:
        engine = BenchEngine(backend, ["slow-20"], TWO, BenchSettings(**{"warmup": 0, **settings}), out,
                             observer=observer)
        return await engine.run()
    finally:
        backend.close()


def measured(run: dict) -> list[dict]:
    return [r for r in run["requests"] if not r["warmup"]]


def test_built_prompts_are_deterministic_end_with_the_question_and_share_no_long_prefix():
    text = prefill.build("Say hello.", "a|1024", 1024, prefill.TOKENS_PER_WORD)
    assert text == prefill.build("Say hello.", "a|1024", 1024, prefill.TOKENS_PER_WORD)
    assert text.endswith("\n\nQuestion: Say hello.") and text.startswith("Context")
    other = prefill.build("Say hello.", "b|1024", 1024, prefill.TOKENS_PER_WORD)
    shared = next(i for i, (x, y) in enumerate(zip(text, other, strict=False)) if x != y)
    assert shared < 200  # a different prompt's context differs within its first sentences (no prefix-cache hit)
    assert len(prefill.build("Say hello.", "a|1024", 1024, 2.0).split()) == 512  # words = target / tokens per word


async def test_prompts_are_close_to_the_target_by_the_servers_count(server, tmp_path):
    seen: list = []
    runs = [await run_engine(server.url, tmp_path / f"run{i}", seen.append, rounds=2, max_tokens=2,
                             prompt_tokens=(64, 512)) for i in range(2)]
    first, second = runs
    for r in measured(first):
        # the first guess (4/3 tokens a word) would be 25% short on a server counting words; the count corrects it
        assert r["prompt_tokens"] == pytest.approx(r["prompt_target"], rel=0.02), r["id"]
    assert {r["id"]: r["prompt_tokens"] for r in measured(first)} == {r["id"]: r["prompt_tokens"]
                                                                      for r in measured(second)}
    assert [(m["prompt_tokens"], m["status"]) for m in first["models"]] == [(64, "ok"), (512, "ok")]
    for m in first["models"]:
        mine = [r["prompt_tokens"] for r in measured(first) if r["prompt_target"] == m["prompt_tokens"]]
        assert m["prompt_tokens_mean"] == pytest.approx(sum(mine) / len(mine)) and len(mine) == 4
    assert read_run(tmp_path / "run0").settings["prompt_tokens"] == [64, 512]
    assert {r["id"].rsplit("|", 1)[1] for r in measured(first)} == {"t64", "t512"}
    shown = {e.live.prompt for e in seen if isinstance(e, RequestStarted)}  # the live view: not the whole context
    assert shown == {f"[~{n}-token context] {p.prompt}" for n in (64, 512) for p in TWO.prompts}


async def test_ttft_grows_with_prompt_length_and_prefill_rate_is_prompt_tokens_over_ttft(server, tmp_path):
    out = tmp_path / "run"
    run = await run_engine(server.url, out, rounds=2, max_tokens=3, concurrency=1, levels=(1, 2),
                           prompt_tokens=(64, 2048))
    entries = {(m["concurrency"], m["prompt_tokens"]): m for m in run["models"]}
    assert sorted(entries) == [(1, 64), (1, 2048), (2, 64), (2, 2048)]
    short, long = entries[(1, 64)]["summary"]["ttft_ms"]["p50"], entries[(1, 2048)]["summary"]["ttft_ms"]["p50"]
    assert long - short > 0.75 * (2048 - 64) * PREFILL_US / 1000  # the server adds ~397 ms; a slow machine only more
    for (level, target), m in entries.items():
        mine = [r for r in measured(run) if r["concurrency"] == level and r["prompt_target"] == target]
        by_hand = [r["prompt_tokens"] / (r["ttft_ms"] / 1000) for r in mine]
        assert [r["prefill_tps"] for r in mine] == pytest.approx(by_hand)
        assert m["summary"]["prefill_tps"]["mean"] == pytest.approx(sum(by_hand) / len(by_hand))
        assert m["summary"]["prefill_tps"]["n"] == len(mine) == 4
    # speedup is against the first level at the same prompt length
    for target in (64, 2048):
        base, two = entries[(1, target)], entries[(2, target)]
        assert base["speedup"] is None
        assert two["speedup"] == pytest.approx(two["aggregate_output_tps"] / base["aggregate_output_tps"])
    report = (out / "report.md").read_text(encoding="utf-8")
    section = report.split("## Prefill vs decode", 1)[1].split("\n## ", 1)[0]
    assert "| slow-20 @ c=1 | 2048 |" in section and "| slow-20 @ c=2 | 64 |" in section
    assert "slow-20 @ c=2, 2048 tok" in report  # the load table keeps each (level, length) apart
    assert render_csv(run).splitlines()[0].endswith(",prompt_tokens")


async def test_a_context_length_refusal_is_a_recorded_error_and_sized_by_the_shorter_count(tmp_path):
    handle = loopback.start_subprocess(lifetime_s=120, context_tokens=600)  # refuses prompt + max_tokens > 600
    backend = OpenAICompatBackend(handle.url)
    try:
        engine = BenchEngine(backend, ["slow-20"], TWO,
                             BenchSettings(warmup=0, rounds=1, max_tokens=2, prompt_tokens=(2048, 64, 512)),
                             tmp_path / "run")
        run = await engine.run()
    finally:
        backend.close()
        handle.stop()
    assert [(m["prompt_tokens"], m["status"]) for m in run["models"]] == [(2048, "failed"), (64, "ok"), (512, "ok")]
    [warning] = run["warnings"]
    assert "no usage.prompt_tokens for a 2048-token prompt (HTTP 400: request requires" in warning
    refused = [r for r in measured(run) if r["prompt_target"] == 2048]
    assert len(refused) == 2 and all(r["status"] == "failed" for r in refused)
    for r in refused:  # sized by the count at 512 (1 token a word here), not by the first guess (1536 tokens)
        said = int(r["error"].split("(", 1)[1].split(" input", 1)[0])
        assert said == pytest.approx(2048, rel=0.02) and "maximum context length of 600" in r["error"]
    assert "- **slow-20 @ 2048 tok** (failed): HTTP 400" in (tmp_path / "run" / "report.md").read_text()


def test_the_cli_sweeps_prompt_lengths(server, tmp_path):
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps(TWO.model_dump()), encoding="utf-8")
    out = tmp_path / "run"
    result = run_cli("--endpoint", server.url, "bench", "--models", "slow-20", "--prompts", str(prompts),
                     "--rounds", "1", "--warmup", "0", "--max-tokens", "2", "--prompt-tokens", "32,256",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = read_run(out)
    assert [m.prompt_tokens for m in run.models] == [32, 256]
    assert "## Prefill vs decode" in (out / "report.md").read_text(encoding="utf-8")
    assert "slow-20 @ 256 tok: " in result.stderr and " 256 prompt tokens, prefill " in result.stderr


@pytest.mark.parametrize(("value", "said"), [
    ("1,x", "--prompt-tokens: expected positive integers"),
    ("0", "--prompt-tokens: expected distinct positive integers"),
    ("128,128", "--prompt-tokens: expected distinct positive integers"),
])
def test_a_bad_prompt_tokens_value_is_one_line_and_exit_2(value, said):
    result = run_cli("bench", "--prompt-tokens", value)
    assert result.returncode == 2
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_older_run_without_the_fields_still_reads_and_reports(tmp_path):
    from runfactory import sample_run

    from fl_tui.bench.compare import compare_runs

    run = {**sample_run(), "schema": "fl-tui/run/1"}
    for m in run["models"]:
        for key in ("prompt_tokens", "prompt_tokens_mean"):
            m.pop(key)
        for metric in ("prefill_tps", "prompt_tokens"):
            m["summary"].pop(metric, None)
    for r in run["requests"]:
        r.pop("prefill_tps")
        r.pop("prompt_target")
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    read = read_run(tmp_path)
    assert read.models[0].prompt_tokens is None and read.requests[0].prefill_tps is None
    assert {d.model for d in compare_runs(read, read, resamples=20)} == {"alpha-cpu", "beta-gpu"}
    write_reports(tmp_path, read)
    assert "## Prefill vs decode" not in (tmp_path / "report.md").read_text(encoding="utf-8")
    result = run_cli("report", str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_the_benchmark_tab_passes_prompt_lengths_to_its_child_and_the_cli_reads_them_back():
    from fl_tui.bench.child import bench_args
    from fl_tui.cli.bench_cmd import bench_settings
    from fl_tui.cli.parser import build_parser
    from fl_tui.core.config import Settings

    settings = BenchSettings(prompt_tokens=(128, 1024))
    args = bench_args(["m"], Path("p.json"), settings)
    assert args[args.index("--prompt-tokens") + 1] == "128,1024"
    parsed = build_parser().parse_args(["bench", *args])
    assert bench_settings(parsed, Settings()).prompt_tokens == (128, 1024)
    assert "--prompt-tokens" not in bench_args(["m"], Path("p.json"), BenchSettings())
