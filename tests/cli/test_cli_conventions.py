"""The command line behaves like its neighbours: options anywhere, one output flag, exit codes, pipes, no TTY,
filters and shell completion. Subprocesses, as a person runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess

import pytest
from conftest import FL_TUI, REPO, run_cli
from test_cli import closed_port

from fl_tui.connection.base import ModelEntry
from fl_tui.core.errors import UserError
from fl_tui.models.filter import apply_filter, parse_filter


@pytest.mark.parametrize("args", [
    ("status", "--endpoint", "{url}"),
    ("--endpoint", "{url}", "status"),
    ("models", "list", "--endpoint", "{url}"),
    ("models", "--endpoint", "{url}", "list"),
])
def test_global_options_before_or_after_the_command(args):
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_cli(*(a.format(url=url) for a in args))
    assert result.returncode == 2 and url in result.stderr, result.stderr


@pytest.mark.parametrize("args", [("--help",), ("bench", "--help"), ("status", "--help")])
def test_the_global_options_read_the_same_in_every_help(args):
    """`--endpoint` is one option before or after the command: the help names its value the same way."""
    shown = run_cli(*args).stdout
    assert "--endpoint ENDPOINT" in shown and "ENDPOINT_AFTER" not in shown, shown


def test_debug_after_the_command_shows_the_traceback():
    result = run_cli("status", "--debug", "--endpoint", f"http://127.0.0.1:{closed_port()}")
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_unknown_model_in_bench_is_bad_input_with_no_report(served, tmp_path):
    out = tmp_path / "run"
    result = run_cli("bench", "--endpoint", served.url, "--models", "fl-demo-fast,nosuch", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "unknown model 'nosuch'" in result.stderr
    assert result.stdout == "" and not out.exists()


def test_closed_pipe_ends_quietly(served):
    """The reading end is closed before fl-tui writes, as `| head -1` does once it has its line."""
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    try:
        proc = subprocess.run([*FL_TUI, "--endpoint", served.url, "models", "list", "--json"], stdout=write_fd,
                              stderr=subprocess.PIPE, text=True, timeout=60, cwd=REPO)
    finally:
        os.close(write_fd)
    assert proc.returncode == 0 and proc.stderr == ""


def test_no_terminal_and_no_command_prints_a_hint_and_the_help():
    result = run_cli(stdin="")
    assert result.returncode == 2 and result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert "needs a terminal" in first and "fl-tui status" in first
    assert any(line.startswith("usage: fl-tui") for line in rest)


def test_status_formats(served):
    as_json = json.loads(run_cli("status", "--endpoint", served.url, "--format", "json").stdout)
    assert json.loads(run_cli("status", "--endpoint", served.url, "--json").stdout) == as_json
    rows = list(csv.DictReader(io.StringIO(run_cli("status", "--endpoint", served.url, "--format", "csv").stdout)))
    assert {r["field"]: r["value"] for r in rows}["backend"].startswith("foundry-service")
    md = run_cli("status", "--endpoint", served.url, "--format", "md").stdout.splitlines()
    assert md[:2] == ["| field | value |", "|---|---|"]


def test_models_list_filter_and_formats(served):
    def listed(*extra: str) -> list[dict]:
        result = run_cli("models", "list", "--endpoint", served.url, "--json", *extra)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert {m["alias"] for m in listed("--filter", "device=CPU,capability=chat")} == {"fl-demo-fast", "fl-demo-slow"}
    assert [m["alias"] for m in listed("--filter", "alias=*fast")] == ["fl-demo-fast"]
    assert listed("--filter", "device=GPU") == []
    table = run_cli("models", "list", "--endpoint", served.url, "--format", "csv", "--filter", "alias=fl-demo-slow")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [(r["alias"], r["cached"], r["capabilities"]) for r in rows] == [("fl-demo-slow", "true", "chat,demo")]


def test_filter_parsing():
    models = [ModelEntry("a-cpu:1", "a", device="CPU", task="chat-completion", cached=True),
              ModelEntry("b-gpu:1", "b", device="GPU", task="chat-completion")]
    assert [m.id for m in apply_filter(models, parse_filter("device=cpu"), {})] == ["a-cpu:1"]
    assert [m.id for m in apply_filter(models, parse_filter("task=chat, cached=no"), {})] == ["b-gpu:1"]
    for bad, says in (("device", "key=value"), ("colour=red", "unknown key 'colour'"), ("device=", "key=value")):
        with pytest.raises(UserError, match=says):
            parse_filter(bad)


@pytest.mark.native  # the CLI opens the embedded runtime
def test_models_download_offline_says_the_catalog_is_unreachable():
    result = run_cli("models", "download", "phi-4-mini")
    assert result.returncode == 2
    assert "catalog is unreachable" in result.stderr and "unknown model" not in result.stderr


def _bash_complete(line: str) -> list[str]:
    script = run_cli("completion", "bash").stdout
    words = line.split(" ")
    probe = (f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE="{line}"; '
             f'COMP_POINT={len(line)}; _shtab_fl_tui; printf "%s\\n" "${{COMPREPLY[@]}}"')
    result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_bash_completion_completes_commands_and_options():
    assert "bench" in _bash_complete("fl-tui be")
    assert "--endpoint" in _bash_complete("fl-tui bench --end")
    assert set(_bash_complete("fl-tui models list --format ")) >= {"text", "json", "csv", "md"}


def test_zsh_completion_is_generated():
    script = run_cli("completion", "zsh").stdout
    assert script.startswith("#compdef fl-tui") and "bench" in script


def test_parser_gives_every_command_the_global_options():
    from fl_tui.cli.parser import parse_args

    args = parse_args(["models", "list", "--endpoint", "http://x", "--config", "c.toml", "--debug"])
    assert (args.endpoint, args.config, args.debug) == ("http://x", "c.toml", True)
    args = parse_args(["--endpoint", "http://y", "bench"])
    assert (args.endpoint, args.config, args.debug) == ("http://y", None, False)


def test_bench_gathers_endpoints_before_and_after_the_command_name():
    from fl_tui.cli.parser import parse_args

    args = parse_args(["--endpoint", "http://a", "bench", "--endpoint", "http://b,http://c", "--endpoint", "http://d"])
    assert args.endpoints == ["http://a", "http://b", "http://c", "http://d"] and args.endpoint == "http://a"


def test_several_endpoints_are_refused_where_one_is_meant():
    done = run_cli("status", "--endpoint", "http://127.0.0.1:9", "--endpoint", "http://127.0.0.1:10")
    assert done.returncode == 2
    assert done.stderr.strip() == "fl-tui: --endpoint given 2 times: only `fl-tui bench` runs against several"
