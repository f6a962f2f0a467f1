"""Time and peak memory of `fl-tui models list` against a server listing 300,000 model ids, beside a floor.

The floor is a bare Python process that fetches the same /v1/models body with httpx, parses it with json and prints
one id a line: what any client must at least spend. Each runs in its own process; peak RSS is the kernel's
(wait4 ru_maxrss). Run: `.venv/bin/python benchmarks/many_models.py [count]`.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time

FLOOR = """
import httpx, json, sys
data = json.loads(httpx.get(sys.argv[1] + "/v1/models", timeout=60).content)
sys.stdout.write("".join(m["id"] + "\\n" for m in data["data"]))
"""


def serve(count: int) -> http.server.ThreadingHTTPServer:
    body = json.dumps({"object": "list", "data": [{"id": f"model-{i:06d}"} for i in range(count)]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.startswith("/v1/models")
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(command: list[str]) -> tuple[int, float, float]:
    """(exit code, peak RSS in MiB, wall seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.monotonic() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    server = serve(count)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    floor = measure([sys.executable, "-c", FLOOR, url])
    ours = measure([sys.executable, "-m", "fl_tui", "--endpoint", url, "models", "list"])
    print(f"{count:,} ids, load {os.getloadavg()[0]:.1f}")
    for name, (code, rss, seconds) in (("floor (httpx + json)", floor), ("fl-tui models list", ours)):
        print(f"  {name:22} exit {code}  peak RSS {rss:6.0f} MiB  {seconds:5.1f} s")
    print(f"  ratio: memory {ours[1] / floor[1]:.1f}x, time {ours[2] / floor[2]:.1f}x")
    server.shutdown()


if __name__ == "__main__":
    main()
