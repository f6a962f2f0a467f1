"""What measuring costs the box being measured: CPU per streamed token of `fl-tui bench`, and the server's own
lateness while it measures, beside a bare httpx reader on the same server.

On a real inference box Foundry Local shares the CPU with the benchmark, so a client that burns CPU slows the model
it measures. The loopback server (loopback_server.py, its own process) streams `sched-<rate>` tokens at scheduled
instants and records when each chunk actually left; its lateness is that minus the schedule.

Each client runs as its own process, timed by the kernel (wait4's rusage: user + system CPU). Fixed costs (the
interpreter, imports, the run's files) are taken out by running each client twice, with `--max-tokens 1` and with
the full length: CPU per token = (CPU long - CPU short) / (tokens long - tokens short). Runs alternate bare, fl-tui,
bare, fl-tui...; medians.

- bare: `httpx.Client.stream` + `iter_lines`, every line kept with a `perf_counter_ns` stamp, parsed at the end;
- fl-tui: `fl-tui bench --endpoint URL --models sched-<rate> --rounds R --warmup 0 --max-tokens N` (headless).

Target: fl-tui's CPU per token <= 1.2x the bare reader's, and the server's lateness p99 no worse.
Run: .venv/bin/python benchmarks/client_footprint.py [--rate 2000] [--tokens 4000] [--requests 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import loopback_server  # noqa: E402 - a sibling script, not a package

BARE = """
import json, sys, time, httpx
url, model, requests, tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
body = {"model": model, "stream": True, "max_tokens": tokens, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Say hello."}]}
with httpx.Client(timeout=120) as client:
    for _ in range(requests):
        lines = []
        with client.stream("POST", url + "/v1/chat/completions", json=body) as resp:
            for line in resp.iter_lines():
                lines.append((time.perf_counter_ns(), line))
        parsed = [json.loads(line[6:]) for _, line in lines if line.startswith("data: {")]
"""


def timed(command: list[str]) -> float:
    """CPU seconds (user + system) of one process, from the kernel."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:4]} failed with {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime


def lateness_ms(records: list[dict], rate: float, ttft_ms: float) -> list[float]:
    """How late each token chunk left against its schedule (received + ttft + i / rate)."""
    late = []
    for record in records:
        start = record["received_ns"] + ttft_ms * 1e6
        late += [(sent - (start + i * 1e9 / rate)) / 1e6 for i, sent in enumerate(record["chunks_ns"])]
    return late


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2000, help="tokens/s the server streams (default 2000)")
    parser.add_argument("--tokens", type=int, default=4000, help="tokens per request (default 4000)")
    parser.add_argument("--requests", type=int, default=3, help="requests per run (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each client (default 3)")
    args = parser.parse_args()
    model = f"sched-{args.rate}"
    with loopback_server.start_subprocess(lifetime_s=3600) as server, tempfile.TemporaryDirectory() as tmp:
        def bare(tokens: int) -> list[str]:
            return [sys.executable, "-c", BARE, server.url, model, str(args.requests), str(tokens)]

        def ours(tokens: int, run: int) -> list[str]:
            return [sys.executable, "-m", "fl_tui", "--endpoint", server.url, "bench", "--models", model,
                    "--rounds", str(args.requests), "--warmup", "0", "--max-tokens", str(tokens),
                    "--prompts", str(prompts), "--out", f"{tmp}/run-{tokens}-{run}"]

        prompts = Path(tmp) / "prompts.json"
        prompts.write_text(json.dumps(["Say hello."]), encoding="utf-8")
        per_token: dict[str, list[float]] = {"bare": [], "fl-tui": []}
        late: dict[str, list[float]] = {"bare": [], "fl-tui": []}
        extra_tokens = (args.tokens - 1) * args.requests
        for run in range(args.runs):
            for name in ("bare", "fl-tui"):
                short = timed(bare(1) if name == "bare" else ours(1, run))
                server.clear()
                long = timed(bare(args.tokens) if name == "bare" else ours(args.tokens, run))
                late[name] += lateness_ms(server.records(model), args.rate, loopback_server.TTFT_MS)
                per_token[name].append((long - short) / extra_tokens * 1e6)
    bare_us, ours_us = statistics.median(per_token["bare"]), statistics.median(per_token["fl-tui"])
    ratio = ours_us / bare_us
    print(f"client footprint at {args.rate} tok/s, {args.requests} x {args.tokens} tokens, median of {args.runs}, "
          f"load {os.getloadavg()[0]:.1f}")
    for name, us in (("bare httpx reader", bare_us), ("fl-tui bench", ours_us)):
        key = "bare" if name.startswith("bare") else "fl-tui"
        print(f"    {name:18} CPU {us:6.1f} µs/token   server lateness p99 {p99(late[key]):6.2f} ms")
    print(f"    fl-tui / bare CPU per token: {ratio:.2f}x (target <= 1.2x) {'ok' if ratio <= 1.2 else 'FAIL'}")
    print(json.dumps({"bench": "client_footprint", "rate": args.rate, "bare_us_per_token": round(bare_us, 2),
                      "fl_tui_us_per_token": round(ours_us, 2), "ratio": round(ratio, 3),
                      "bare_lateness_p99_ms": round(p99(late["bare"]), 3),
                      "fl_tui_lateness_p99_ms": round(p99(late["fl-tui"]), 3)}))


if __name__ == "__main__":
    main()
