"""The engine's event protocol: the `--events` codec round-trips every event type, and the child-process reader
turns every way a run can go wrong into one RunFailed."""

import dataclasses
import json
import os
import subprocess
import sys
import threading
import typing
from array import array
from enum import StrEnum
from pathlib import Path

import pytest
from conftest import FL_TUI
from hypothesis import given
from hypothesis import strategies as st
from test_engine_faults import server  # noqa: F401 - the loopback server fixture
from waiting import until_sync

from fl_tui.bench.child import ChildRun
from fl_tui.bench.events import EVENT_TYPES, ModelFinished, RunFailed, RunFinished, RunStarted
from fl_tui.bench.wire import WireWriter, decode, encode

SCALARS = {
    bool: st.booleans(),
    int: st.integers(),
    float: st.floats(allow_nan=False),
    str: st.text(),
    bytes: st.binary(),
    Path: st.text(min_size=1).map(Path),
    array: st.lists(st.floats(allow_nan=False)).map(lambda v: array("d", v)),
    dict: st.dictionaries(st.text(), st.floats(allow_nan=False) | st.text() | st.none()),
}


def values(hint) -> st.SearchStrategy:
    """Any value of an annotated type, built from the annotation as the codec reads it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if args and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return st.none() | values(inner)
    if origin in (list, tuple):
        return st.lists(values(args[0]), max_size=3).map(origin)
    if hint in SCALARS:
        return SCALARS[hint]
    if issubclass(hint, StrEnum):
        return st.sampled_from(list(hint))
    hints = typing.get_type_hints(hint)
    on_wire = [f.name for f in dataclasses.fields(hint) if f.metadata.get("wire", True)]
    return st.builds(hint, **{name: values(hints[name]) for name in on_wire})


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda kind: kind.__name__)
@given(data=st.data())
def test_every_event_type_comes_back_equal_through_a_wire_line(kind, data):
    event = data.draw(values(kind))
    line = WireWriter.line(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # one event, one line, whatever the text holds
    back = decode(line.decode("ascii"))
    assert type(back) is kind and back == event


def test_run_finished_carries_the_folder_not_the_run():
    line = encode(RunFinished(Path("/runs/x"), True, run={"huge": "run.json"}))
    assert line == {"k": "RunFinished", "run_dir": str(Path("/runs/x")), "interrupted": True}


@pytest.mark.parametrize("line", [
    "not json", "[1, 2]", '{"k": "Nope"}', '{"k": "RunStarted"}',
    '{"k": "RunStarted", "run_id": 1, "run_dir": "/x", "models": [], "planned_per_model": 1}',
    '{"k": "ModelPhase", "model": "m", "phase": "sleeping", "detail": null}',
    '{"k": "RunFailed", "message": "x", "extra": 1}',
])
def test_a_line_that_is_not_an_event_is_a_value_error(line):
    with pytest.raises(ValueError):
        decode(line)


# -- the child-process reader ---------------------------------------------------------------------------------

def wire(*events) -> str:
    return "".join(WireWriter.line(e).decode("ascii") for e in events)


def watch(script: str, timeout: float = 30.0) -> list:
    """A ChildRun of `python -c script`; the events it reported once it ended (RunFailed or RunFinished)."""
    seen, ended = [], threading.Event()

    def observe(event):
        seen.append(event)
        if isinstance(event, RunFailed | RunFinished):
            ended.set()

    child = ChildRun([sys.executable, "-c", script], observe)
    assert ended.wait(timeout), f"the reader never ended the run; saw {seen!r}"
    child.wait(timeout)
    return seen


STARTED = RunStarted("r1", Path("/nowhere/r1"), ("m",), 2)


def test_a_child_that_dies_is_a_run_failed_with_its_last_words():
    script = f"import sys; sys.stdout.write({wire(STARTED)!r}); sys.stdout.flush(); " \
             "sys.stderr.write('Traceback: boom\\n'); sys.exit(3)"
    seen = watch(script)
    assert seen[0] == STARTED
    assert isinstance(seen[-1], RunFailed) and len(seen) == 2
    assert "exited with code 3" in seen[-1].message and "boom" in seen[-1].message


def test_a_garbage_line_is_a_run_failed_and_stops_the_child():
    # the child would go on for a minute: the reader must stop it (SIGINT) rather than wait
    script = f"import sys, time; sys.stdout.write({wire(STARTED)!r} + 'garbage\\n'); sys.stdout.flush(); " \
             "time.sleep(60)"
    seen = watch(script, timeout=20)
    assert seen[0] == STARTED and len(seen) == 2
    assert isinstance(seen[1], RunFailed) and "garbage" in seen[1].message


def test_a_child_that_had_to_be_terminated_is_reported_stopped(monkeypatch):
    """A Windows app without a console cannot send Ctrl-Break: the child is terminated (platform.interrupt says
    so), and the run is reported stopped with where its requests are, not as a crash with an exit code."""
    from fl_tui.core import platform

    def terminated(proc):
        proc.terminate()
        return False

    monkeypatch.setattr(platform, "interrupt", terminated)
    seen, ended = [], threading.Event()
    script = f"import sys, time; sys.stdout.write({wire(STARTED)!r}); sys.stdout.flush(); time.sleep(60)"
    child = ChildRun([sys.executable, "-c", script], lambda event: (seen.append(event), ended.set()))
    until_sync(lambda: seen, "the run started")
    ended.clear()
    child.stop()
    assert ended.wait(30), seen
    child.wait(30)
    assert isinstance(seen[-1], RunFailed) and seen[-1].message.startswith("stopped: the benchmark process was "
                                                                             "terminated"), seen[-1]


def test_a_run_whose_files_cannot_be_read_is_a_run_failed(tmp_path):
    script = f"import sys; sys.stdout.write({wire(STARTED, RunFinished(tmp_path, False))!r})"
    seen = watch(script)
    assert isinstance(seen[-1], RunFailed) and "run.json" in seen[-1].message


def test_a_finished_run_arrives_with_its_run_loaded(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"schema": "fl-tui/run/1", "run_id": "r1"}))
    seen = watch(f"import sys; sys.stdout.write({wire(STARTED, RunFinished(tmp_path, True))!r})")
    assert seen[-1] == RunFinished(tmp_path, True) and seen[-1].run.run_id == "r1"


@pytest.mark.parametrize("stdout", ["pipe", "file"])
def test_bench_events_end_cleanly_on_a_pipe_or_a_file_with_a_failed_model(server, tmp_path, stdout):  # noqa: F811
    """`--events` on a pipe (the app's child) or redirected to a file, a model failing: every line an event, the
    run finished, and the exit a failed model's 1, not an internal error (the pipe transport once closed stdout
    under the command's last flush, and refused a regular file)."""
    events_file = tmp_path / "events.jsonl"
    with events_file.open("wb") as sink:
        result = subprocess.run(
            [*FL_TUI, "bench", "--endpoint", server.url, "--models", "sched-5000,fault-http500", "--rounds", "1",
             "--warmup", "0", "--max-tokens", "4", "--out", str(tmp_path / "run"), "--events"],
            stdout=subprocess.PIPE if stdout == "pipe" else sink, stderr=subprocess.PIPE, text=True, timeout=120,
            env={**os.environ, "BENCH_PROMPT": "Say hello."})
    assert result.returncode == 1 and "internal error" not in result.stderr, result.stderr
    lines = result.stdout if stdout == "pipe" else events_file.read_text(encoding="ascii")
    events = [decode(line) for line in lines.splitlines()]
    assert isinstance(events[-1], RunFinished) and events[-1].run_dir == tmp_path / "run"
    assert {str(e.result.status) for e in events if isinstance(e, ModelFinished)} == {"ok", "failed"}


@pytest.mark.parametrize("leave_loaded", [True, False])
def test_a_stop_for_the_apps_quit_is_marked_before_the_child_is_signalled(monkeypatch, leave_loaded):
    """The child reads the mark when the stop reaches it (bench.child.app_quitting): it must be there first, only
    for the app's quit, and gone with the process."""
    from fl_tui.core import platform

    marked_at_signal = []

    def interrupt(proc):
        marked_at_signal.append(Path(mark).exists())
        proc.terminate()
        return False

    monkeypatch.setattr(platform, "interrupt", interrupt)
    seen, ended = [], threading.Event()
    script = (f"import os, sys, time; sys.stderr.write(os.environ['FL_TUI_QUIT_MARK'] + '\\n'); sys.stderr.flush();"
              f"sys.stdout.write({wire(STARTED)!r}); sys.stdout.flush(); time.sleep(60)")
    child = ChildRun([sys.executable, "-c", script], lambda event: (seen.append(event), ended.set()))
    until_sync(lambda: seen and child.stderr_tail, "the run started, saying where its mark would be")
    mark = child.stderr_tail[0]
    assert not Path(mark).exists() and Path(mark).parent.is_dir()
    ended.clear()
    child.stop(leave_loaded=leave_loaded)
    assert ended.wait(30), seen
    child.wait(30)
    assert marked_at_signal == [leave_loaded]
    assert not Path(mark).parent.exists()  # the mark's folder goes with the process
