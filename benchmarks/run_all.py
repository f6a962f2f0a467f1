"""Run every benchmark script in turn (`make bench`); exit non-zero if one of them failed to run.

A target marked FAIL in a script's output is a finding, not a crash: it does not change the exit status.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("stream_accuracy.py", "startup.py", "app_start.py", "quit_running.py", "ui_live.py", "hostile_memory.py",
           "web_room.py")


def main() -> int:
    failed = []
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        start = time.monotonic()
        code = subprocess.run([sys.executable, str(HERE / script)], timeout=600).returncode
        print(f"== {script}: exit {code} in {time.monotonic() - start:.0f} s\n", flush=True)
        if code != 0:
            failed.append(script)
    if failed:
        print(f"failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
