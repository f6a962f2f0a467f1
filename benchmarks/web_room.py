"""What a workshop room costs on this box (`python benchmarks/web_room.py [--people 8]`), for docs/workshop.md,
"What a room costs":

1. memory per session: the RSS of each person's app process (psutil), sessions opened one after another through
   the websocket protocol against `fl-tui web` on the embedded runtime's web service (`fl-tui serve`);
2. how many sessions the box holds while a benchmark runs: with a headless `fl-tui bench` streaming from the same
   runtime, each person presses a key every 0.5 s and the time to the first bytes of the redrawn screen is
   measured; the box "holds" N people while that p95 stays under 250 ms (the floor: the same with no benchmark);
3. score to instructor: a person scores an answer; the time until `fl-tui room RUN --watch --every 0.2` prints the
   view that counts it.

Everything runs on loopback in a temporary FL_TUI_HOME and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

FL_TUI = [sys.executable, "-m", "fl_tui"]
HOLD_P95_MS = 250.0
KEYS_EACH = 12


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([*FL_TUI, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    return proc, proc.stdout.readline().strip()


class Session:
    """One person's websocket, read all the time (which also answers the server's heartbeat pings): what the app
    draws goes into a queue, timed by whoever waits on it."""

    def __init__(self, client: aiohttp.ClientSession, ws) -> None:
        self.client, self.ws = client, ws
        self.frames: asyncio.Queue[str] = asyncio.Queue()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.frames.put_nowait(message.data.decode("utf-8", "replace"))

    async def until(self, text: str, limit_s: float = 60.0) -> None:
        seen = ""
        while text not in seen:
            seen += await asyncio.wait_for(self.frames.get(), limit_s)

    async def close(self) -> None:
        await self.client.close()
        self.reader.cancel()


async def _open(ws_url: str, name: str) -> Session:
    client = aiohttp.ClientSession(trust_env=False)
    session = Session(client, await client.ws_connect(f"{ws_url}?name={name}&width=100&height=32"))
    await session.until("Models")
    return session


async def _key_latencies(sessions: list[Session], keys: int) -> list[float]:
    """Each person presses Tab (focus moves: the screen is redrawn) every 0.5 s; ms to the first bytes back."""
    async def one(session: Session) -> list[float]:
        out = []
        for _ in range(keys):
            while not session.frames.empty():  # what the screen was still sending before the key
                session.frames.get_nowait()
            sent = time.perf_counter()
            await session.ws.send_json(["stdin", "\t"])
            await asyncio.wait_for(session.frames.get(), 30)
            out.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.5)  # a person's pace
        return out

    results = await asyncio.gather(*(one(s) for s in sessions))
    return [ms for r in results for ms in r]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else float("nan")


async def measure(people: int, home: Path, env: dict[str, str]) -> None:
    served, url = _start(["serve", "--port", "0"], env)
    run = home / "data" / "runs" / "room"
    subprocess.run([*FL_TUI, "--endpoint", url, "bench", "--models", "fl-demo-fast", "--prompts", "quick",
                    "--rounds", "2", "--max-tokens", "16", "--out", str(run)], env=env, check=True,
                   capture_output=True, timeout=300)
    web, first = _start(["--endpoint", url, "web", "--port", "0", "--max-sessions", str(people + 1)], env)
    port, token = re.match(r"http://[^:]+:(\d+)/\?token=(\S+)", first).groups()
    ws_url = f"ws://127.0.0.1:{port}/ws/{token}"
    sessions = []
    try:
        rss = []
        for i in range(people):
            sessions.append(await _open(ws_url, f"p{i}"))
        for child in psutil.Process(web.pid).children(recursive=True):
            rss.append(child.memory_info().rss / 2**20)
        print(f"memory per session: median {statistics.median(rss):.0f} MB RSS (min {min(rss):.0f}, "
              f"max {max(rss):.0f}) over {len(rss)} sessions on the Models tab")

        for n in sorted({1, 2, 4, people}):
            if n > people:
                continue
            quiet = await _key_latencies(sessions[:n], KEYS_EACH)
            bench = subprocess.Popen([*FL_TUI, "--endpoint", url, "bench", "--models", "fl-demo-slow", "--prompts",
                                      "default", "--rounds", "20", "--max-tokens", "64", "--out",
                                      str(home / f"load-{n}")], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            loaded = await _key_latencies(sessions[:n], KEYS_EACH)
            bench.send_signal(signal.SIGINT)
            bench.wait(60)
            verdict = "holds" if _p95(loaded) < HOLD_P95_MS else "does not hold"
            print(f"{n} people: key -> screen p95 {_p95(quiet):.0f} ms quiet (floor), {_p95(loaded):.0f} ms while "
                  f"a benchmark streams: {verdict} (under {HOLD_P95_MS:.0f} ms)")

        watch = subprocess.Popen([*FL_TUI, "room", str(run), "--watch", "--every", "0.2"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        while "scoring" not in watch.stdout.readline():
            pass
        first = sessions[0]
        await first.ws.send_json(["stdin", "3"])
        await first.until("rater p0")
        sent = time.perf_counter()
        await first.ws.send_json(["stdin", "4"])
        line = ""
        while "p0: 1/" not in line:
            line = watch.stdout.readline()
        print(f"score -> instructor's view (`fl-tui room --watch --every 0.2`): "
              f"{(time.perf_counter() - sent) * 1000:.0f} ms")
        watch.terminate()
        watch.wait(30)
    finally:
        for session in sessions:
            await session.close()
        for proc in (web, served):
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=8)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="fl-tui-room-"))
    env = {**os.environ, "FL_TUI_HOME": str(home), "FL_TUI_CATALOG": "offline"}
    env.pop("FL_TUI_ENDPOINT", None)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    asyncio.run(measure(args.people, home, env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
