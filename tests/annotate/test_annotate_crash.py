"""Crash safety: a process scoring as fast as it can is killed with SIGKILL at random moments, again and again. After
every kill the annotation file parses and holds every score the process had acknowledged (printed after the save
returned); the one score in flight may or may not be there, nothing else may differ."""

import json
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import time

from conftest import REPO

from fl_tui.annotate.session import ScoringSession
from fl_tui.annotate.store import load_annotations
from fl_tui.bench.runfiles import read_run

KILLS = 30

SCORER = r"""
import random, sys
from fl_tui.annotate.session import OVERALL, ScoringSession

rng = random.Random(int(sys.argv[2]))
session = ScoringSession.open(sys.argv[1], "crash")
print("ready", flush=True)
while True:
    index = rng.randrange(session.total)
    session.goto(index)
    old = session.current.overall
    value = rng.choice([n for n in (1, 2, 3, 4, 5) if n != old])
    print(f"try {index} {value}", flush=True)
    session.set_score(OVERALL, value)
    print(f"ok {index} {value}", flush=True)
"""


def read_until(proc, acknowledged: int, timeout: float = 60.0) -> str:
    """The child's output up to its `acknowledged`-th "ok" line (whole lines only), within `timeout`."""
    out: list[str] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while sum(line.startswith("ok ") for line in out) < acknowledged:
            left = deadline - time.monotonic()
            assert left > 0 and sel.select(left), f"the scorer did not acknowledge {acknowledged} scores: {out[-3:]}"
            line = proc.stdout.readline()
            assert line, f"the scorer ended early: {proc.stderr.read()}"
            out.append(line)
    assert out[0] == "ready\n", out[0]
    return "".join(out)


def overall_scores(path) -> list[int | None]:
    data = json.loads(path.read_text(encoding="utf-8"))  # must always parse
    return [item["overall"] for item in data["items"]]


def test_sigkill_at_random_moments_never_loses_an_acknowledged_score(bench_run, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("run.json", "requests.jsonl"):
        shutil.copy(bench_run / name, run_dir)
    session = ScoringSession.open(run_dir, "crash", overall_only=True)  # made here: every kill finds a valid file
    path = session.path
    run = read_run(run_dir)
    known = overall_scores(path)
    rng = random.Random(20250101)
    acknowledged_total = killed_while_scoring = awaited = 0
    for kill in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", SCORER, str(run_dir), str(kill)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=REPO, env=os.environ.copy(),
        )
        early = ""
        try:
            if kill % 5 == 4:  # now and then anywhere, start-up and opening included
                time.sleep(rng.uniform(0.0, 0.6))  # a random moment to kill at, not a wait for state
            else:  # mostly in the middle of the scoring loop: after a random number of acknowledged scores
                wanted = rng.randint(1, 3)
                early = read_until(proc, wanted)
                awaited += wanted
                time.sleep(rng.uniform(0.0, 0.005))  # then into the next save, wherever it is
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        output = early + proc.stdout.read()
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
        assert "Traceback" not in stderr, stderr
        lines = output.split("\n")[:-1]  # a line cut by the kill has no newline: left out
        in_flight = None
        for line in lines:
            words = line.split()
            if words[0] == "try":
                in_flight = int(words[1]), int(words[2])
            elif words[0] == "ok":
                index, value = int(words[1]), int(words[2])
                assert in_flight == (index, value)
                known[index] = value
                in_flight = None
                acknowledged_total += 1
        on_disk = overall_scores(path)
        for index, value in enumerate(on_disk):
            if in_flight is not None and index == in_flight[0]:
                assert value in (known[index], in_flight[1]), (kill, index, value)
                known[index] = value  # what the file holds now is the truth for the next round
            else:
                assert value == known[index], (kill, index, value, known[index])
        if in_flight is not None or any(line.startswith("ok") for line in lines):
            killed_while_scoring += 1
        load_annotations(path, run)  # and it is a valid annotation file, not just JSON
    assert acknowledged_total >= awaited  # the kills landed while scores were being saved
    assert killed_while_scoring >= KILLS // 2


def test_a_kill_mid_save_leaves_no_temp_file_after_reopening(tmp_path):
    from fl_tui.core.fileio import remove_stale_temps

    target = tmp_path / "annotations.ann.json"
    target.write_text("{}")
    leftover = tmp_path / ".annotations.ann.json.abc123.tmp"
    leftover.write_text('{"half": ')
    other = tmp_path / ".annotations.bob.json.x.tmp"
    other.write_text("")
    assert remove_stale_temps(target) == [leftover]
    assert not leftover.exists() and other.exists() and target.read_text() == "{}"
