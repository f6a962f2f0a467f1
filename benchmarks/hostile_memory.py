"""How much memory and time `fl-tui bench` spends on answers that never end, against a normal answer.

The hostile server (hostile_server.py, in a thread of this process) sends an HTTP 500 whose body never ends, a 200
stream that ignores max_tokens, and a `data:` line without a newline, each up to 512 MiB unless the client hangs up.
Each bench runs in its own process; its peak RSS is the kernel's (wait4 ru_maxrss), so nothing here samples.
Also times the SSE splitter on one 40 MiB line without a newline (quadratic before, 6.7 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import hostile_server  # noqa: E402 - a sibling script, not a package

from fl_tui.connection.sse import SSEParser  # noqa: E402

ENDLESS = ("endless-500", "endless-200", "long-line")


def bench(url: str, models: str, out: Path, max_tokens: int) -> tuple[int, float, float]:
    """(exit code, peak RSS in MiB, wall seconds) of one `fl-tui bench`."""
    args = [sys.executable, "-m", "fl_tui", "--endpoint", url, "bench", "--models", models, "--rounds", "1",
            "--warmup", "0", "--max-tokens", str(max_tokens), "--timeout", "120", "--out", str(out)]
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, time.monotonic() - start


def splitter_seconds(megabytes: int = 40) -> float:
    parser, piece = SSEParser(), b"x" * 2**20
    start = time.perf_counter()
    for _ in range(megabytes):
        parser.feed(piece, 0)
    return time.perf_counter() - start


def main() -> int:
    handle = hostile_server.start_thread(lifetime_s=600)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for max_tokens in (128, 32768):
                _code, base_mib, _seconds = bench(handle.endpoint("ok"), "good", Path(tmp) / f"base{max_tokens}",
                                               max_tokens)
                for model in ENDLESS:
                    code, mib, seconds = bench(handle.endpoint("ok"), model, Path(tmp) / f"{model}{max_tokens}",
                                               max_tokens)
                    run = json.loads((Path(tmp) / f"{model}{max_tokens}" / "run.json").read_text(encoding="utf-8"))
                    reason = run["requests"][0]["error"]
                    sent = handle.server.sent[model] / 2**20
                    rows.append({"model": model, "max_tokens": max_tokens, "exit": code, "peak_rss_mib": round(mib, 1),
                                 "baseline_mib": round(base_mib, 1), "growth_mib": round(mib - base_mib, 1),
                                 "seconds": round(seconds, 2), "server_sent_mib": round(sent, 1), "reason": reason})
    finally:
        handle.stop()
    print(f"{'model':<12} {'max_tokens':>10} {'peak RSS':>9} {'growth':>8} {'time':>7} {'sent':>9}  reason")
    for r in rows:
        print(f"{r['model']:<12} {r['max_tokens']:>10} {r['peak_rss_mib']:>5.0f} MiB {r['growth_mib']:>4.0f} MiB "
              f"{r['seconds']:>5.1f} s {r['server_sent_mib']:>5.1f} MiB  {r['reason'][:70]}")
    split = splitter_seconds()
    print(f"SSE splitter, one 40 MiB line without a newline: {split:.3f} s")
    print(json.dumps({"hostile_memory": rows, "splitter_40mib_s": round(split, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
