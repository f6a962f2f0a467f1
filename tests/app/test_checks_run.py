"""Check results through a run: the engine records them per request and per model, report.md, CSV and compare
show them, `fl-tui report` recomputes them for an old run, and the live and summary views show them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from conftest import run_cli
from loopback_module import loopback
from runfactory import make_run, model_from, requests_for, sample_run
from textual.app import App
from waiting import until

from fl_tui.bench.checks import checks_summary, with_checks
from fl_tui.bench.compare import compare_runs
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.bench.events import ModelPhase, Phase, RequestFinished, RunStarted
from fl_tui.bench.live import LiveState
from fl_tui.bench.records import RequestResult
from fl_tui.bench.report import render_csv, render_markdown, table_columns, table_row
from fl_tui.bench.runfiles import read_run
from fl_tui.bench.runschema import as_run
from fl_tui.cli.bench_progress import BenchProgress
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.errors import FileProblem
from fl_tui.core.prompts import Prompt, PromptSet
from fl_tui.ui.widgets.bench.live_view import LiveView
from fl_tui.ui.widgets.bench.summary_view import SummaryView, fitted_columns

# The loopback server answers " the quick brown fox jumps over" to max_tokens=6, whatever the prompt.
ANSWER = " the quick brown fox jumps over"
CHECKED = PromptSet(name="checked", prompts=[
    Prompt.model_validate({"id": "p1", "prompt": "Say something.", "checks": [
        {"contains": "FOX"},  # passes
        {"max_words": 5},  # fails: six words
        {"max_sentences": 1},  # passes
    ]}),
    Prompt.model_validate({"id": "p2", "prompt": "Say more.", "checks": [{"not_contains": "cat"}]}),  # passes
])


def table(markdown: str) -> tuple[list[str], dict[str, list[str]]]:
    """The Results table of report.md: header and rows by model."""
    lines = markdown.split("## Results", 1)[1].strip().split("\n\n", 1)[0].splitlines()
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return rows[0], {r[0]: r for r in rows[2:]}


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=3600)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def checked_run(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("checked") / "run"
    backend = OpenAICompatBackend(server.url)
    try:
        engine = BenchEngine(backend, ["sched-1000", "fault-http500"], CHECKED,
                             BenchSettings(rounds=2, warmup=1, max_tokens=6, timeout_s=10), out)
        run = asyncio.run(engine.run())
    finally:
        backend.close()
    return out, run


def test_each_measured_answer_gets_its_results_and_each_model_its_hand_counted_pass_rate(checked_run):
    out, run = checked_run
    on_disk = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert on_disk["models"] == run["models"]
    good = [r for r in on_disk["requests"] if r["model"] == "sched-1000"]
    assert [r["text"] for r in good] == [ANSWER] * 5  # a warm-up and 2 rounds x 2 prompts
    warm, *measured = good
    assert warm["warmup"] and warm["checks"] is None  # the warm-up prompt is not the set's
    assert [r["checks"] for r in measured if r["prompt_id"] == "p1"] == [[
        {"name": 'contains all "FOX"', "passed": True, "why": "all found"},
        {"name": "max_words 5", "passed": False, "why": "6 words"},
        {"name": "max_sentences 1", "passed": True, "why": "1 sentence"},
    ]] * 2
    assert [r["checks"] for r in measured if r["prompt_id"] == "p2"] == [
        [{"name": 'not_contains all "cat"', "passed": True, "why": "none found"}]] * 2
    # by hand: per round p1 passes 2 of 3, p2 1 of 1; two rounds: 6 of 8 checks, and only p2's 2 answers pass all
    models = {m["model"]: m for m in on_disk["models"]}
    assert models["sched-1000"]["checks"] == {"passed": 6, "n": 8, "pass_rate": 0.75, "answers": 4,
                                              "answers_passed": 2}
    assert models["fault-http500"]["checks"] is None  # no answer, nothing checked (not 0 of 0)
    lines = [json.loads(line) for line in (out / "requests.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["checks"] for line in lines] == [r["checks"] for r in on_disk["requests"]]


def test_report_md_and_csv_show_checks_beside_speed(checked_run):
    out, _run = checked_run
    header, rows = table((out / "report.md").read_text(encoding="utf-8"))
    assert header[-1] == "Checks" and "TTFT p50 (ms)" in header and "Decode tok/s" in header
    assert rows["sched-1000"][-1] == "75% (6/8)"
    assert rows["fault-http500"][-1] == "—"
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "| sched-1000 | p1 | max_words 5 | 0/2 |" in text
    assert '| sched-1000 | p2 | not_contains all "cat" | 2/2 |' in text
    by_model = {r["model"]: r for r in csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8")))}
    assert (by_model["sched-1000"]["checks_pass_rate"], by_model["sched-1000"]["checks_passed"],
            by_model["sched-1000"]["checks_n"], by_model["sched-1000"]["checks_answers"]) == ("0.75", "6", "8", "4")
    assert by_model["fault-http500"]["checks_n"] == ""


def test_report_recomputes_the_checks_from_the_stored_texts(checked_run, tmp_path):
    """An old run: its prompts had the checks, but nothing was recorded. `fl-tui report` gets what the run got."""
    out, run = checked_run
    old = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for entry in (*old["requests"], *old["models"]):
        del entry["checks"]
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(old), encoding="utf-8")
    recomputed = with_checks(as_run(old)).models
    assert [m.model_dump() for m in recomputed] == [m.model_dump() for m in as_run(run).models]
    result = run_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    _header, rows = table(result.stdout)
    assert rows["sched-1000"][-1] == "75% (6/8)"
    assert table((folder / "report.md").read_text(encoding="utf-8"))[1]["sched-1000"][-1] == "75% (6/8)"


def test_report_checks_a_run_made_before_checks_with_a_prompt_set_that_has_them(tmp_path):
    run = sample_run()  # texts "answer 1", "answer 2", "answer 3" for prompts p1, p2, p3; no prompt has checks
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    plain = run_cli("report", str(folder))
    assert plain.returncode == 0, plain.stderr
    assert "Checks" not in table(plain.stdout)[0]
    prompts = tmp_path / "later.json"
    prompts.write_text(json.dumps({"name": "later", "prompts": [
        {"id": "p1", "prompt": "?", "checks": [{"contains": "answer 1"}]},
        {"id": "p2", "prompt": "?", "checks": [{"max_words": 1}, {"regex": r"\d"}]},
        {"id": "p9", "prompt": "?", "checks": [{"contains": "never asked"}]},
    ]}), encoding="utf-8")
    result = run_cli("report", str(folder), "--prompts", str(prompts))
    assert result.returncode == 0, result.stderr
    _header, rows = table(result.stdout)
    # each model: p1 passes, p2 "answer 2" has two words (fails) and a digit (passes), p3 has no checks
    assert rows["alpha-cpu"][-1] == rows["beta-gpu"][-1] == "67% (2/3)"
    assert rows["gamma-npu"][-1] == "—"
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "b", "prompts": [{"id": "p1", "prompt": "?", "checks": [{"regex": "("}]}]}')
    refused = run_cli("report", str(folder), "--prompts", str(bad))
    assert refused.returncode == 2 and refused.stderr.startswith(f"fl-tui: {bad}:1:")
    assert "regex does not compile" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_report_keeps_the_recorded_checks_of_a_run_whose_prompts_it_cannot_read(checked_run, tmp_path):
    """A newer version's check kind in run.json: one warning, and the results the run recorded."""
    out, _run = checked_run
    newer = json.loads((out / "run.json").read_text(encoding="utf-8"))
    newer["prompts"][0]["checks"].append({"rouge_l": 0.5})
    folder = tmp_path / "newer"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(newer), encoding="utf-8")
    result = run_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    assert table(result.stdout)[1]["sched-1000"][-1] == "75% (6/8)"
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("fl-tui: warning: checks of ") and "not recomputed: run.json prompt 1: " in warning


def _checked_requests(model: str, passes: list[bool]) -> list[RequestResult]:
    requests = requests_for(model, [50.0] * len(passes), [900.0] * len(passes), [20.0] * len(passes))
    for request, passed in zip(requests, passes, strict=True):
        request.checks = [{"name": "c", "passed": passed, "why": ""}]
    return requests


def _run_with(passes: list[bool]) -> dict:
    requests = _checked_requests("alpha-cpu", passes)
    model = model_from("alpha-cpu", requests)
    model.checks = checks_summary(requests)
    return make_run([model], requests)


def test_compare_calls_a_drop_in_pass_rate_a_regression():
    base = _run_with([True] * 20)
    worse = _run_with([True] * 5 + [False] * 15)
    (delta,) = [d for d in compare_runs(base, worse) if d.metric == "checks"]
    assert (delta.name, delta.base, delta.new, delta.regression) == ("checks pass_rate", 1.0, 0.25, True)
    (same,) = [d for d in compare_runs(base, _run_with([True] * 20)) if d.metric == "checks"]
    assert not same.regression and same.change == 0.0
    (better,) = [d for d in compare_runs(worse, base) if d.metric == "checks"]
    assert better.improvement and not better.regression


def test_compare_cli_exits_1_on_a_pass_rate_drop(tmp_path):
    folders = []
    for name, run in (("base", _run_with([True] * 20)), ("new", _run_with([True] * 5 + [False] * 15))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps(run), encoding="utf-8")
        folders.append(str(tmp_path / name))
    result = run_cli("compare", *folders)
    assert result.returncode == 1, result.stdout + result.stderr
    assert any("checks pass_rate" in line and "REGRESSION" in line for line in result.stdout.splitlines())


def test_the_checks_column_is_labelled_apart_from_quality():
    run = _run_with([True, True, False])
    quality = {"alpha-cpu": {"mean": 4.0, "ci95": [3.0, 5.0], "n": 3}}
    assert table_columns(as_run(run), quality)[-2:] == ["Checks", "Quality"]
    assert table_row(as_run(run).models[0], quality, checks=True)[-2:] == ["67% (2/3)", "4.00 [3.00, 5.00] (n=3)"]
    markdown = render_markdown(run, quality)
    assert "Checks: the prompt set's automatic checks" in markdown
    assert render_csv(run).splitlines()[0].endswith("checks_pass_rate,checks_passed,checks_n,checks_answers")
    assert "Most checks passed: **alpha-cpu**, 66.7% of its checks" in markdown.split("## Highlights", 1)[1]
    assert "Checks" not in table_columns(as_run(sample_run()))  # a run without checks reads as before
    assert "Most checks passed" not in render_markdown(sample_run())


def test_at_80_columns_the_summary_shows_checks_beside_the_speed_figures():
    run = sample_run()
    for model in run["models"][:2]:
        model["checks"] = {"passed": 10, "n": 12, "pass_rate": 10 / 12, "answers": 4, "answers_passed": 2}
    header = table_columns(as_run(run))
    rows = [table_row(m, checks=True) for m in as_run(run).models]
    shown = [header[i] for i in fitted_columns(79, header, rows)]
    assert {"Model", "TTFT p50 (ms)", "Decode tok/s", "Checks"} <= set(shown)


def test_headless_progress_lines_say_how_many_checks_each_answer_passed():
    stream = io.StringIO()  # not a terminal: a line per request
    progress = BenchProgress(stream)
    progress(RunStarted("run-1", Path("/tmp/x"), ("fast",), 2, 0))
    progress(_finished("fast", [True, False, True]))
    progress(_finished("fast", []))
    first, second = stream.getvalue().splitlines()[1:]
    assert first.endswith(" checks 2/3") and "checks" not in second


def _finished(model: str, passes: list[bool], warmup: bool = False) -> RequestFinished:
    checks = [{"name": f"c{i}", "passed": p, "why": ""} for i, p in enumerate(passes)]
    result = RequestResult(id="x", model=model, prompt_id="p", round=1, warmup=warmup, status="ok",
                           checks=checks or None)
    return RequestFinished(model, result)


def _live_state() -> LiveState:
    state = LiveState()
    state.apply(RunStarted("run-1", Path("/tmp/x"), ("fast", "slow"), 4, 1))
    state.apply(ModelPhase("fast", Phase.RUNNING))
    return state


def test_live_state_marks_each_answer_as_it_finishes():
    state = _live_state()
    assert state.rows["fast"].checks_line() is None
    state.apply(_finished("fast", [True, True]))
    assert state.rows["fast"].checks_line() == "✓  checks 2/2"
    state.apply(_finished("fast", [True, False]))
    state.apply(_finished("fast", [], warmup=True))  # a warm-up is never checked or counted
    assert state.rows["fast"].checks_line() == "✓✗  checks 3/4"
    assert state.rows["slow"].checks_line() is None


class LiveApp(App):
    def compose(self):
        yield LiveView()


async def test_live_view_shows_the_marks_once_an_answer_was_checked():
    app = LiveApp()
    async with app.run_test(size=(80, 30)):
        view = app.query_one(LiveView)
        box = view.query_one("#bench-checks")
        state = _live_state()
        view.draw(state, None)
        assert not box.display  # nothing checked yet: no line, no space taken
        state.apply(_finished("fast", [True]))
        state.apply(_finished("fast", [False, True]))
        view.draw(state, None)
        assert box.display
        assert str(box.render()) == "fast           ✓✗  checks 2/3"


class SummaryApp(App):
    def compose(self):
        yield SummaryView()


async def test_the_summary_view_shows_the_checks_column(tmp_path):
    run = sample_run()
    run["models"][0]["checks"] = {"passed": 2, "n": 3, "pass_rate": 2 / 3, "answers": 3, "answers_passed": 2}
    app = SummaryApp()
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(SummaryView)
        view.show(as_run(run), tmp_path)
        table = view.query_one("#bench-summary-table")
        await until(pilot, lambda: table.row_count == len(run["models"]), "the summary's rows",
                    seen=lambda: table.row_count)
        labels = [str(column.label) for column in table.columns.values()]
        assert "Checks" in labels
        cells = [str(table.get_cell_at((row, labels.index("Checks")))) for row in range(table.row_count)]
        assert cells == ["67% (2/3)", "—", "—"]


def test_a_run_json_with_a_mistyped_checks_summary_is_a_file_problem(tmp_path):
    run = sample_run()
    run["models"][0]["checks"] = {"passed": "six", "n": 8}
    (tmp_path / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
    with pytest.raises(FileProblem) as caught:
        read_run(tmp_path)
    assert caught.value.message.startswith("models.0.checks.passed")
