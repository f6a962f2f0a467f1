"""Crash safety of pairwise files: a process judging and undoing as fast as it can is killed with SIGKILL at random
moments, again and again. After every kill the file loads and holds every change the process had acknowledged
(printed after the save returned), verdicts and undo history alike; the one change in flight may or may not be
there. Then a session resumes on it and undoes back to the start."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time

from conftest import REPO
from test_annotate_crash import read_until

from fl_tui.annotate.pairwise import VERDICTS, PairwiseSession, load_pairwise
from fl_tui.bench.runfiles import read_run

KILLS = 24

JUDGE = r"""
import random, sys
from fl_tui.annotate.pairwise import VERDICTS, PairwiseSession

rng = random.Random(int(sys.argv[2]))
session = PairwiseSession.open(sys.argv[1], "crash")
print("ready", flush=True)
while True:
    if rng.random() < 0.3:
        print("try undo", flush=True)
        session.undo()
        print("ok undo", flush=True)
    else:
        index = session.index = rng.randrange(session.total)
        verdict = rng.choice(VERDICTS)
        print(f"try {index} {verdict}", flush=True)
        session.judge(verdict)
        print(f"ok {index} {verdict}", flush=True)
"""


def apply(state: tuple, words: list[str]) -> tuple:
    """The (verdicts, history) after one change, as PairwiseSession makes it."""
    verdicts, history = list(state[0]), list(state[1])
    if words == ["undo"]:
        if history:
            pair, before, _after = history.pop()
            verdicts[pair] = before
    else:
        pair, verdict = int(words[0]), words[1]
        history.append((pair, verdicts[pair], verdict))
        verdicts[pair] = verdict
    return verdicts, history


def on_disk(path, run) -> tuple:
    file = load_pairwise(path, run)  # a whole, valid pairwise file, not just JSON
    return [p.verdict for p in file.pairs], [(c.pair, c.before, c.after) for c in file.history]


def test_sigkill_at_random_moments_never_loses_an_acknowledged_change(bench_run, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("run.json", "requests.jsonl"):
        shutil.copy(bench_run / name, run_dir)
    path = PairwiseSession.open(run_dir, "crash", seed=9).path  # made here: every kill finds a valid file
    run = read_run(run_dir)
    known = on_disk(path, run)
    rng = random.Random(20261202)
    acknowledged = killed_while_judging = 0
    for kill in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", JUDGE, str(run_dir), str(kill)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=REPO, env=os.environ.copy())
        early = ""
        try:
            if kill % 6 == 5:  # now and then anywhere, start-up and opening included
                time.sleep(rng.uniform(0.0, 0.6))  # a random moment to kill at, not a wait for state
            else:
                early = read_until(proc, rng.randint(1, 4))
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
        in_flight = None
        for line in output.split("\n")[:-1]:  # a line cut by the kill has no newline: left out
            kind, *words = line.split()
            if kind == "try":
                in_flight = words
            elif kind == "ok":
                assert words == in_flight
                known = apply(known, words)
                in_flight = None
                acknowledged += 1
        found = on_disk(path, run)
        if in_flight is None:
            assert found == known, (kill, found, known)
        else:
            assert found in (known, apply(known, in_flight)), (kill, found, known, in_flight)
            known = found
            killed_while_judging += 1
    assert acknowledged >= KILLS // 2 and killed_while_judging >= KILLS // 3

    session = PairwiseSession.open(run_dir, "crash")  # resumes on what the kills left, and undoes all of it
    assert [p.verdict for p in session.file().pairs] == known[0]
    for _ in known[1]:
        assert session.undo()
    assert not session.undo() and all(p.verdict is None for p in session.file().pairs)
    assert set(known[0]) <= {None, *VERDICTS}
