"""A check is bounded: a catastrophic pattern (in a `regex` check or a schema's `pattern`) runs out of its time and
is that check's failed result; a schema that recurses without end is too; and while a pattern is matched, other
threads (the streams being timed) keep running, because the `regex` package lets go of the GIL."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

import pytest
from conftest import FL_TUI, REPO, run_cli
from test_engine_faults import server  # noqa: F401 - the loopback server fixture
from waiting import stopped_midway

from fl_tui.core.checks import CHECK_TIME_S, Check, run_checks

# (a|aa)+$ backtracks over every way of splitting the a's before it fails at the "!": about 1.6^60 tries
CATASTROPHIC = r"(a|aa)+$"
HOSTILE_ANSWER = "a" * 60 + "!"


def test_a_catastrophic_regex_times_out_as_the_checks_result():
    checks = [Check(regex=CATASTROPHIC), Check(contains="a")]
    timed_out, after = run_checks(checks, HOSTILE_ANSWER)
    assert (timed_out.passed, timed_out.why) == (False, f"timed out after {CHECK_TIME_S:g} s")
    assert after.passed  # the checks after it still run


def test_a_schema_pattern_is_bounded_too():
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": CATASTROPHIC}}}
    (result,) = run_checks([Check(json_schema=schema)], json.dumps({"name": HOSTILE_ANSWER}))
    assert (result.passed, result.why) == (False, f"timed out after {CHECK_TIME_S:g} s")
    keyed = {"type": "object", "patternProperties": {CATASTROPHIC: {"type": "integer"}}}
    (result,) = run_checks([Check(json_schema=keyed)], json.dumps({HOSTILE_ANSWER: 1}))
    assert result.why == f"timed out after {CHECK_TIME_S:g} s"


def test_schema_patterns_still_judge_as_before():
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-z]+-[0-9]+$"}},
              "patternProperties": {"^x-": {"type": "integer"}}}
    good, bad_id, bad_extra = run_checks([Check(json_schema=schema)] * 3, '{"id": "ab-12", "x-n": 3}')[0], *(
        run_checks([Check(json_schema=schema)], answer)[0] for answer in ('{"id": "AB"}', '{"id": "a-1", "x-n": "3"}'))
    assert good.passed and good.why == "valid"
    assert not bad_id.passed and "does not match" in bad_id.why and bad_id.why.startswith("at id: ")
    assert not bad_extra.passed and bad_extra.why.startswith("at x-n: ")


def test_a_schema_that_recurses_without_end_is_the_checks_result():
    deep = "[" * 900 + "]" * 900  # parses (json's limit is higher), but {"items": {"$ref": "#"}} descends forever
    (result,) = run_checks([Check(json_schema={"items": {"$ref": "#"}})], deep)
    assert result.passed is False and result.why in ("nested too deeply to check",
                                                     f"timed out after {CHECK_TIME_S:g} s")


def test_other_threads_run_while_a_pattern_is_matched():
    """Python's `re` holds the GIL for a whole match: a thread beside it stands still until the match ends, so its
    longest pause is the match's whole length. With `regex` it keeps running: its longest pause is a small part."""
    spans: list[float] = []

    def check() -> None:
        began = time.perf_counter()
        run_checks([Check(regex=CATASTROPHIC)], HOSTILE_ANSWER)
        spans.append(time.perf_counter() - began)

    worker = threading.Thread(target=check)
    longest = 0.0
    worker.start()
    last = time.perf_counter()
    while worker.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    assert longest < spans[0] / 2, (longest, spans)


def _prompts(tmp_path) -> str:
    path = tmp_path / "checked.json"
    path.write_text(json.dumps({"name": "checked", "prompts": [{"id": "p1", "prompt": "Say something.", "checks": [
        {"regex": SLOW_ON_THE_LOOPBACK_ANSWER}, {"contains": "fox"}]}]}), encoding="utf-8")
    return str(path)


# (.|.)+\d on the loopback server's " the quick brown fox ..." (no digit): every way of splitting it is tried
SLOW_ON_THE_LOOPBACK_ANSWER = r"(.|.)+\d"


def test_a_run_whose_check_times_out_finishes_with_that_checks_result(server, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    result = run_cli("--endpoint", server.url, "bench", "--models", "sched-2000", "--prompts", _prompts(tmp_path),
                     "--rounds", "2", "--warmup", "0", "--max-tokens", "24", "--out", str(out))
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["interrupted"] is False and [m["status"] for m in run["models"]] == ["ok"]
    for request in run["requests"]:
        timed_out, fox = request["checks"]
        assert (timed_out["passed"], timed_out["why"]) == (False, f"timed out after {CHECK_TIME_S:g} s")
        assert fox["passed"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is TerminateProcess on Windows")
def test_sigterm_ends_a_run_while_its_checks_run_out_of_time(server, tmp_path):  # noqa: F811
    """Every answer's check takes its whole half second: SIGTERM still ends the run, run.json marked interrupted
    and the report written (the GIL is free while a pattern is matched, so the signal is handled)."""
    out = tmp_path / "run"
    code, _out, stderr = stopped_midway(
        [*FL_TUI, "--endpoint", server.url, "bench", "--models", "sched-2000", "--prompts", _prompts(tmp_path),
         "--rounds", "40", "--warmup", "0", "--max-tokens", "24", "--out", str(out)],
        out, lambda proc: proc.send_signal(signal.SIGTERM), cwd=REPO)
    assert code == 128 + signal.SIGTERM, stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["interrupted"] is True and 2 <= len(run["requests"]) < 40
    assert (out / "report.md").is_file()
