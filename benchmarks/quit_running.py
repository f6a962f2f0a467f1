"""How long `q` takes to give the shell back while a benchmark runs in the app: from the `y` that confirms the quit
to the end of the process (every byte read, the exit status collected).

Each run is the app (`python -m fl_tui`, embedded runtime, catalog offline) on a real 120x40 pseudo-terminal, as in
`app_start.py`, in a fresh temporary home whose remembered Benchmark set-up is the slow demo model, the `quick`
prompt set, 50 rounds of up to 64 tokens (far longer than the run is let go). The script waits for the models, goes
to the Benchmark tab (`2`), starts the run (Ctrl+R), lets it stream for 3 s, writes `q`, waits for the dialog that
asks, and writes `y`. The benchmark process is then stopped: it writes what finished, and leaves the model it loaded
to the runtime, which ends with the app. The first run builds the demo models and is not timed.

Target: `y` -> process gone <= 0.3 s. Run: .venv/bin/python benchmarks/quit_running.py [--runs N]   (about 1 minute)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import app_start  # next to this file: the pty and the fresh home

TARGET_S = 0.3
STREAM_S = 3.0  # the run streams this long before `q`
SETUP = {"schema": "fl-tui/bench-setup/1", "models": ["fl-demo-slow"], "prompt_set": "quick",
         "fields": {"rounds": "50", "max_tokens": "64", "warmup": "0"}}


def one(env: dict[str, str]) -> tuple[float, int]:
    term = app_start.Terminal([sys.executable, "-m", "fl_tui"], env)
    try:
        term.read_until(app_start.ALIAS)
        term.read_until(app_start.LIVE)
        term.write(b"2")
        term.read_until(b"Start")  # the Benchmark pane's footer key: the pane is mounted
        term.write(b"\x12")  # Ctrl+R: start the run
        time.sleep(STREAM_S)
        mark = len(term.data)
        term.write(b"q")
        term.read_until(b"Quit while", after=mark)
        confirmed = term.write(b"y")
        gone = term.wait_closed()
    except BaseException:
        term.proc.kill()
        term.proc.wait()
        raise
    return gone - confirmed, term.proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="fl-tui-quit-running-"))
    try:
        env = app_start.isolated_env(root)
        state = root / "fl-tui" / "state"
        state.mkdir(parents=True)
        (state / "bench-setup.json").write_text(json.dumps(SETUP), encoding="utf-8")
        one(env)  # untimed: builds the demo models
        results = [one(env) for _ in range(runs)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    times = [took for took, _ in results]
    median = statistics.median(times)
    clean = all(code == 0 for _, code in results)
    print(f"quit while a benchmark runs, 120x40 pty, {runs} runs: y -> process gone median {median:.3f} s "
          f"({min(times):.3f}-{max(times):.3f}); target <= {TARGET_S} s {'ok' if median <= TARGET_S else 'FAIL'}"
          f"{'' if clean else '; NOT CLEAN: exit codes ' + str([code for _, code in results])}")
    print(json.dumps({"bench": "quit_running", "runs": runs, "quit_s": round(median, 3), "target_s": TARGET_S,
                      "clean_exits": clean}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
