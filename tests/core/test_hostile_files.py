"""Hostile file contents: every file fl-tui reads back either loads, with every known field of the type it was
written with (so what reads it later cannot crash), or is a FileProblem naming its place: never another exception.

Hypothesis puts arbitrary JSON values (lone surrogates, deep nesting, huge integers, wrong types) into the fields of
a valid run.json, prompt set and config, and the CLI is run on the worst of them for the exit code and the message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runfactory import sample_run

from fl_tui.bench.compare import compare_runs
from fl_tui.bench.metrics import request_result
from fl_tui.bench.report import render_csv, render_markdown
from fl_tui.bench.runfiles import read_run
from fl_tui.cli.annotate_cmd import render_jsonl
from fl_tui.connection.chat import StreamRecord
from fl_tui.connection.sse import SSEEvent
from fl_tui.core.config import load_settings
from fl_tui.core.errors import FileProblem
from fl_tui.core.prompts import load_prompt_set

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["\ud800", "a\udc00b", "\x1b]52;c;eA==\x07", "\u202e"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                           max_size=3), max_leaves=8)
DEEP = st.integers(min_value=60, max_value=3000).map(lambda n: "[" * n + "]" * n)
FILE_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _dumps(value: object) -> str:
    return json.dumps(value)  # ensure_ascii: lone surrogates are written as \\udXXX escapes, as a foreign tool might


@settings(FILE_SETTINGS, max_examples=25)  # compare_runs bootstraps: each example costs ~0.5 s
@given(where=st.sampled_from(["top", "model", "request"]), key=st.sampled_from(
    ["run_id", "models", "requests", "summary", "chunk_offsets_ms", "round", "warmup", "ttft_ms", "text", "spec",
     "output_tokens", "error", "settings", "prompts", "model", "status"]), value=VALUES, raw=st.none() | DEEP)
def test_run_json_loads_whole_or_is_a_file_problem(tmp_path, where, key, value, raw):
    run = sample_run()
    target = {"top": run, "model": run["models"][0], "request": run["requests"][0]}[where]
    target[key] = "@RAW@" if raw else value
    (tmp_path / "run.json").write_text(_dumps(run).replace('"@RAW@"', raw or ""), encoding="utf-8")
    try:
        loaded = read_run(tmp_path)
    except FileProblem as problem:
        assert problem.line is not None, problem  # a place an editor can jump to
        return
    render_markdown(loaded).encode("utf-8")  # what reads a loaded run does not crash on it
    render_csv(loaded).encode("utf-8")
    compare_runs(loaded, loaded)


@FILE_SETTINGS
@given(value=VALUES)
def test_prompt_sets_load_or_are_file_problems(tmp_path, value):
    path = tmp_path / "prompts.json"
    for doc in ([value], {"name": "x", "prompts": [{"id": "p1", "prompt": value}]}, value):
        path.write_text(_dumps(doc), encoding="utf-8")
        try:
            prompts = load_prompt_set(path)
        except FileProblem:
            continue
        json.dumps(prompts.model_dump(), ensure_ascii=False).encode("utf-8")  # savable in run.json


@FILE_SETTINGS
@given(key=st.sampled_from(["rounds", "timeout_s", "theme", "keys", "model_cache_dir", "evil\x1b[2J"]),
       value=st.one_of(st.integers(), st.text(max_size=6), st.booleans(), st.just("1" * 5000)))
def test_config_values_never_end_the_program(tmp_path, key, value):
    path = tmp_path / "config.toml"
    literal = value if value == "1" * 5000 else json.dumps(value).lower() if isinstance(value, bool) else (
        json.dumps(value))
    path.write_text(f"{json.dumps(key)} = {literal}\n", encoding="utf-8")
    _settings, problem = load_settings(path)
    assert problem is None or "\x1b" not in problem.message


def test_the_cli_reports_a_wrong_typed_run_with_its_place_and_exit_2(tmp_path):
    commands = (("compare", str(tmp_path), str(tmp_path)), ("annotate", "export", str(tmp_path)))
    for mutate, where in (
        (lambda r: r.__setitem__("models", ["x"]), "models.0"),
        (lambda r: r["models"][0].__setitem__("summary", "x"), "models.0.summary"),
        (lambda r: r["requests"][0].__setitem__("chunk_offsets_ms", "abc"), "requests.0.chunk_offsets_ms"),
        (lambda r: r["requests"][0].__setitem__("text", "bad \ud800"), "a lone surrogate"),
    ):
        run = sample_run()
        mutate(run)
        (tmp_path / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
        for args in (("report", str(tmp_path)), *(commands if where == "models.0" else ())):
            result = run_cli(*args)
            assert result.returncode == 2, (args, result.stderr)
            assert result.stderr.startswith(f"fl-tui: {tmp_path / 'run.json'}:"), result.stderr
            assert where in result.stderr and "internal error" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on Windows")
def test_a_fifo_or_dev_zero_as_an_input_file_is_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = run_cli("--config", str(fifo), "--endpoint", "http://127.0.0.1:9", "status")  # reading must not block
    assert "not a regular file (a FIFO) (using defaults)" in result.stderr and result.returncode == 2
    result = run_cli("--endpoint", "http://127.0.0.1:9", "bench", "--models-file", "/dev/zero", "--models", "x")
    assert result.returncode == 2 and "/dev/zero: cannot read: not a regular file (a character device)" in result.stderr


def test_a_run_id_with_escapes_is_printed_inert_by_compare(tmp_path):
    run = sample_run()
    run["run_id"] = "evil\x1b]52;c;eA==\x07\u202e"
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    result = run_cli("compare", str(tmp_path), str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "base evil" in result.stdout
    assert not any(c in result.stdout + result.stderr for c in ("\x1b", "\x07", "\u202e"))


def test_the_shipped_examples_still_load():
    repo = Path(__file__).resolve().parents[2]
    assert load_prompt_set(repo / "prompts" / "default.json").prompts


def test_an_export_of_a_note_keeping_a_lone_surrogate_encodes():
    text = render_jsonl([{"note": "bad \ud800 note"}, {"note": "fine ü"}])
    assert text.encode("utf-8") == b'{"note": "bad \\ud800 note"}\n{"note": "fine \xc3\xbc"}\n'


EVENT_DATA = st.one_of(
    st.binary(max_size=60),
    VALUES.map(lambda v: _dumps(v).encode()),
    VALUES.map(lambda v: _dumps({"choices": [{"delta": {"content": v}, "finish_reason": v}], "usage": {
        "completion_tokens": v, "prompt_tokens": v}}).encode()),
    DEEP.map(str.encode),
)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.tuples(EVENT_DATA, st.sampled_from([None, "error", "ping"])), max_size=6),
       status=st.sampled_from([200, 200, 302, 500]))
def test_scoring_any_stream_is_total_and_its_record_saves(events, status):
    rec = StreamRecord(scheduled_ns=0, t0_ns=10, headers_ns=20, end_ns=99, status_code=status,
                       events=[SSEEvent(30 + i, data, name) for i, (data, name) in enumerate(events)],
                       error_body="\x1b]52;c;eA==\x07 \ud800" if status >= 400 else None)
    result = request_result(rec, id="r", model="m", prompt_id="p", round=1, warmup=False, run_start_ns=0)
    assert result.status in ("ok", "failed")
    assert (result.output_tokens is None) or (isinstance(result.output_tokens, int) and result.output_tokens >= 0)
    json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")  # requests.jsonl can always be written
    assert "\x1b" not in (result.error or "")


def test_undecodable_bytes_in_a_prompt_or_a_model_name_are_refused_up_front():
    endpoint = ("--endpoint", "http://127.0.0.1:9")
    result = run_cli(*endpoint, "bench", "--models", "x", env={"BENCH_PROMPT": "caf\udce9"})  # b"caf\xe9", Latin-1
    assert result.returncode == 2 and "BENCH_PROMPT is not valid UTF-8 text (byte 4)" in result.stderr, result.stderr
    result = run_cli(*endpoint, "bench", env={"BENCH_MODELS": "m\udcff"})
    assert result.returncode == 2 and "BENCH_MODELS is not valid UTF-8 text" in result.stderr, result.stderr
