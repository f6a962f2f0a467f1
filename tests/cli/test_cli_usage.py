"""Usage errors said by the command they belong to, in two lines (its usage, the error), exit 2; a close name for a
mistyped command; `fl-tui bench --format`: the run's report alone on stdout, in that format."""

from __future__ import annotations

import csv
import io
import json
import locale

import pytest
from conftest import run_cli
from test_engine_faults import server  # noqa: F401 - the loopback server fixture


def usage_error(*args: str) -> tuple[str, str]:
    """(usage line, error line) of a command line argparse refuses, checked to be those two lines and exit 2."""
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    return lines[0], lines[1]


@pytest.mark.parametrize(("args", "command", "error"), [
    (("bench", "--rounds", "x"), "fl-tui bench", "argument --rounds: invalid int value: 'x'"),
    (("bench", "--nosuch"), "fl-tui bench", "unrecognized arguments: --nosuch"),
    (("--debug", "models", "list", "--nosuch", "x"), "fl-tui models list", "unrecognized arguments: --nosuch x"),
    (("report",), "fl-tui report", "the following arguments are required: run"),
    (("--bogus", "models", "list"), "fl-tui", "unrecognized arguments: --bogus"),  # before the command: the top's
])
def test_a_usage_error_after_a_command_is_that_commands(args, command, error):
    usage, said = usage_error(*args)
    assert usage.startswith(f"usage: {command} [options]") and f"`{command} --help`" in usage
    assert said == f"{command}: error: {error}"


@pytest.mark.parametrize(("args", "said"), [
    (("bechn",), "fl-tui: error: unknown command 'bechn'; did you mean 'bench'?"),
    (("models", "lst"), "fl-tui models: error: unknown action 'lst'; did you mean 'list'?"),
])
def test_a_mistyped_command_names_the_closest(args, said):
    assert usage_error(*args)[1] == said


def test_a_command_like_none_lists_them():
    assert usage_error("xyzzy")[1].startswith("fl-tui: error: unknown command 'xyzzy'; choose from status, models, ")


def as_piped(text: str) -> str:
    """`text` as it reaches a pipe in the console's code page: UTF-8 here, cp1252 on Windows, where fl-tui writes
    what the code page cannot carry (√, ≤) as `?` rather than failing (fl_tui/cli/console.py)."""
    encoding = locale.getpreferredencoding(False)
    return text.encode(encoding, "replace").decode(encoding)


def bench(url: str, out, *extra: str):
    return run_cli("bench", "--endpoint", url, "--models", "sched-5000", "--rounds", "2", "--warmup", "0",
                   "--max-tokens", "4", "--out", str(out), *extra, env={"BENCH_PROMPT": "Say hello."})


def test_bench_format_prints_the_report_alone(server, tmp_path):  # noqa: F811
    as_json = bench(server.url, tmp_path / "json", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["schema"] == "fl-tui/report/1" and [m["model"] for m in report["models"]] == ["sched-5000"]
    assert f"run directory: {tmp_path / 'json'}" in as_json.stderr  # with the progress, not in the JSON
    as_csv = bench(server.url, tmp_path / "csv", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout == as_piped((tmp_path / "csv" / "report.csv").read_text(encoding="utf-8"))
    assert [r["model"] for r in csv.DictReader(io.StringIO(as_csv.stdout))] == ["sched-5000"]
    as_md = bench(server.url, tmp_path / "md", "--format", "md")
    assert as_md.returncode == 0, as_md.stderr
    assert as_md.stdout == as_piped((tmp_path / "md" / "report.md").read_text(encoding="utf-8") + "\n")
    as_text = bench(server.url, tmp_path / "text")  # as always: the report, then where the run is
    assert as_text.stdout.startswith("# fl-tui benchmark run ")  # piped: no blank line before it (`| head -1`)
    assert as_text.stdout.endswith(f"run directory: {tmp_path / 'text'}\n")


def test_bench_format_and_events_both_want_stdout(tmp_path):
    result = run_cli("bench", "--events", "--format", "json", "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and not (tmp_path / "run").exists()
    assert result.stderr == "fl-tui: --format json: not with --events (both write to standard output)\n"
