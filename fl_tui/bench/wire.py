"""The engine's events as JSON lines, so a benchmark can run in a process of its own and be watched from another.

Why: timestamps must be taken where nothing else competes for the interpreter. In the app's process a render
holds the GIL for milliseconds (and a full garbage collection for tens), and an engine thread stamping bytes
would wait for it. So the Benchmark tab runs `fl-tui bench --events` as a child: the child stamps, measures and
writes the run files exactly as headless; the app only reads these lines and draws.

The child writes through an asyncio pipe transport, which never blocks its loop (a slow reader only grows a
buffer); stamps are taken before anything is written.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from fl_tui.bench.engine import (
    LiveRequest,
    ModelFinished,
    ModelPhase,
    RequestFinished,
    RequestStarted,
    RunFinished,
    RunStarted,
)
from fl_tui.bench.records import ModelResult, RequestResult
from fl_tui.bench.runfiles import load_run
from fl_tui.connection.sse import SSEEvent


def encode(event: object) -> dict | None:
    if isinstance(event, RunStarted):
        return {"k": "run", "run_id": event.run_id, "run_dir": str(event.run_dir), "models": event.models,
                "per_model": event.requests_per_model}
    if isinstance(event, ModelPhase):
        return {"k": "phase", "model": event.model, "phase": event.phase, "detail": event.detail}
    if isinstance(event, RequestStarted):
        live = event.live
        return {"k": "req", "model": live.model, "prompt_id": live.prompt_id, "prompt": live.prompt,
                "round": live.round, "warmup": live.warmup}
    if isinstance(event, RequestFinished):
        return {"k": "done", "model": event.model, "result": event.result.to_json()}
    if isinstance(event, ModelFinished):
        return {"k": "model", "model": event.model, "result": event.result.to_json()}
    if isinstance(event, RunFinished):
        return {"k": "end", "interrupted": event.interrupted}
    return None


def encode_chunk(event: SSEEvent) -> dict:
    return {"k": "c", "t": event.t_ns, "d": event.data.decode("utf-8", "replace"), "e": event.event}


class Decoder:
    """Turns wire lines back into engine events; chunks go into the LiveRequest of the request in flight."""

    def __init__(self) -> None:
        self.live: LiveRequest | None = None
        self.run_dir: Path | None = None

    def decode(self, line: str) -> object | None:
        msg = json.loads(line)
        kind = msg["k"]
        if kind == "c":
            if self.live is not None:
                self.live.events.append(SSEEvent(msg["t"], msg["d"].encode("utf-8"), msg["e"]))
            return None
        if kind == "run":
            self.run_dir = Path(msg["run_dir"])
            return RunStarted(msg["run_id"], self.run_dir, msg["models"], msg["per_model"])
        if kind == "phase":
            return ModelPhase(msg["model"], msg["phase"], msg["detail"])
        if kind == "req":
            self.live = LiveRequest(msg["model"], msg["prompt_id"], msg["prompt"], msg["round"], msg["warmup"])
            return RequestStarted(self.live)
        if kind == "done":
            return RequestFinished(msg["model"], RequestResult(**msg["result"]))
        if kind == "model":
            return ModelFinished(msg["model"], ModelResult(**msg["result"]))
        if kind == "end":
            return RunFinished(load_run(self.run_dir), msg["interrupted"])
        raise ValueError(f"unknown event kind {kind!r}")


class WireWriter:
    """The child's side: an observer and a chunk sink for BenchEngine that write lines to stdout.

    Token chunks are sent in batches every BATCH_S (their stamps are already taken; a screen draws at 10 Hz), so
    the watching process wakes a few dozen times a second, not once per token; other events go at once, after
    the chunks before them, so the order is kept."""

    BATCH_S = 0.05

    def __init__(self, transport: asyncio.WriteTransport):
        self.transport = transport
        self._pending: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    async def open(cls, stream=None) -> WireWriter:
        loop = asyncio.get_running_loop()
        transport, _protocol = await loop.connect_write_pipe(asyncio.Protocol, stream or sys.stdout)
        return cls(transport)

    @staticmethod
    def _line(msg: dict) -> bytes:
        return (json.dumps(msg, ensure_ascii=False) + "\n").encode("utf-8")

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self.transport.write(b"".join(self._pending))
            self._pending = []

    def observe(self, event: object) -> None:
        msg = encode(event)
        if msg is not None:
            self._pending.append(self._line(msg))
            self.flush()

    def chunk(self, event: SSEEvent) -> None:
        self._pending.append(self._line(encode_chunk(event)))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.BATCH_S, self.flush)

    async def drain(self) -> None:
        """Wait until everything is written (the run's last lines must reach the reader before exit)."""
        self.flush()
        while self.transport.get_write_buffer_size():
            await asyncio.sleep(0.01)
