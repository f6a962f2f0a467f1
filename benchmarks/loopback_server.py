"""A dependency-free loopback HTTP/1.1 server that streams like Foundry Local, on a schedule it records itself.

It answers `GET /v1/models` and `POST /v1/chat/completions` (SSE over `Transfer-Encoding: chunked`, the chunks
Foundry Local sends: a role-only chunk, one token per chunk, a `delta: {}` chunk with the finish reason, the usage
chunk when `stream_options.include_usage` is set, then `data: [DONE]`). The model name picks the behaviour:

- `sched-<rate>`: the first token `--ttft-ms` (plus `--prefill-us-per-token` per prompt token: a prefill cost) after
  the request body was read, then token i at
  received + ttft + i / rate, `max_tokens` tokens; each chunk is written at its instant (sleep, nanosleep, then
  busy-wait the last 0.1 ms) and the instant it left (after write + drain) is recorded with
  `time.perf_counter_ns()`, which is CLOCK_MONOTONIC on Linux and so comparable with a client's stamps in another
  process.
- `burst`: every token as fast as the server can write it.
- `slow-<ms>`: a token every <ms> ms (sleep only, the first after the prefill cost too), for interrupting a run.
- `fault-http500`, `fault-sse-error`, `fault-malformed`, `fault-drop` (RST mid-stream), `fault-stall` (silence until
  the client leaves, at most 30 s), `fault-noend` (clean close without finish_reason or [DONE]), `fault-every2`
  (every second request to it answers HTTP 500: a model that ends "partial").

Prompt tokens are counted as whitespace-separated words of the messages' contents (what `usage.prompt_tokens` says);
with `--context-tokens N` a request whose prompt tokens + max_tokens exceed N is refused with HTTP 400, as Foundry
Local refuses one beyond a model's context length.

Requests are served in parallel (each connection on its own task), as llama.cpp, vLLM or Ollama with several
slots do; `--serialize` (`serialize=True`) serves one chat request at a time, in arrival order, as Foundry Local
does: a waiting request's schedule starts when its turn comes, so the wait shows as TTFT.

`GET /_records` returns what was recorded, `[{"model", "received_ns", "chunks_ns": [token chunks only], ...}]`;
`DELETE /_records` clears it. Everything is bounded: tokens per request, requests per connection, idle time,
connections, and the server's own lifetime (`--lifetime`), after which it stops by itself.

Run: `python benchmarks/loopback_server.py [--port 0]` prints its URL as the first line of stdout and stops on
SIGINT/SIGTERM. Import: `start_subprocess()` (precise timing: its busy-waits do not share this process's GIL) or
`start_thread()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field

HOST = "127.0.0.1"
TTFT_MS = 20.0
FEW_TOKENS = 3  # what a fault model sends before it misbehaves
MAX_TOKENS_CAP = 200_000
MAX_REQUESTS_PER_CONNECTION = 10_000
MAX_CONNECTIONS = 100_000
IDLE_TIMEOUT_S = 30.0
STALL_LIMIT_S = 30.0
LIFETIME_S = 900.0
MAX_RECORDS = 2_000
# Timed writes: an event-loop sleep (millisecond granularity) until SPIN_NS before the instant, a blocking nanosleep
# until NAP_SPIN_NS before, then a busy-wait. A longer busy-wait (1.5 ms) was tried: on a 2-vCPU VM a server spinning
# non-stop (2,000 tokens/s) delayed the client's wake-ups by ~1.3 ms now and then, an error that was the server's.
SPIN_NS = 1_500_000
NAP_SPIN_NS = 100_000

FAULT_MODELS = (
    "fault-http500", "fault-sse-error", "fault-malformed", "fault-drop", "fault-stall", "fault-noend", "fault-every2",
)
LISTED_MODELS = (
    "sched-50", "sched-200", "sched-1000", "sched-2000", "sched-5000", "burst",
    "slow-20", "slow-50", "slow-100", "slow-200", *FAULT_MODELS,
)
WORDS = (" the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", ".", " It", " runs")

_SCHED = re.compile(r"^sched-(\d+(?:\.\d+)?)$")
_SLOW = re.compile(r"^slow-(\d+(?:\.\d+)?)$")


def _json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _chunk(payload: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(payload), payload)


@dataclass
class Record:
    model: str
    received_ns: int
    max_tokens: int
    chunks_ns: list[int] = field(default_factory=list)  # token-bearing chunks, as they left
    role_ns: int | None = None
    end_ns: int | None = None
    outcome: str = "running"

    def to_json(self) -> dict:
        return {
            "model": self.model, "received_ns": self.received_ns, "max_tokens": self.max_tokens,
            "chunks_ns": self.chunks_ns, "role_ns": self.role_ns, "end_ns": self.end_ns, "outcome": self.outcome,
        }


class Request:
    __slots__ = ("body", "headers", "method", "path", "received_ns")

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes, received_ns: int):
        self.method, self.path, self.headers, self.body, self.received_ns = method, path, headers, body, received_ns


class _Stream:
    """Writes one chat completion as chunked SSE, with the chunk layout of Foundry Local."""

    def __init__(self, writer: asyncio.StreamWriter, model: str, serial: int):
        self.writer = writer
        self.model = model
        self._head = b'{"choices":[{"delta":{"content":'
        self._tail = (
            f'}},"finish_reason":null,"index":0}}],"created":{int(time.time())},'
            f'"id":"chatcmpl-loopback-{serial}","model":{json.dumps(model)},"object":"chat.completion.chunk"}}'
        ).encode()
        self._meta = {"created": int(time.time()), "id": f"chatcmpl-loopback-{serial}", "model": model,
                      "object": "chat.completion.chunk"}

    async def send(self, data: bytes) -> int:
        self.writer.write(data)
        await self.writer.drain()
        return time.perf_counter_ns()

    def token_event(self, text: str) -> bytes:
        return _chunk(b"data: " + self._head + _json(text) + self._tail + b"\n\n")

    def event(self, obj: dict, name: str | None = None) -> bytes:
        prefix = f"event: {name}\n".encode() if name else b""
        return _chunk(prefix + b"data: " + _json(obj) + b"\n\n")

    def raw_event(self, data: bytes) -> bytes:
        return _chunk(b"data: " + data + b"\n\n")

    def role(self) -> bytes:
        choice = {"delta": {"role": "assistant", "content": ""}, "finish_reason": None, "index": 0}
        return self.event({"choices": [choice], **self._meta})

    def finish(self, reason: str) -> bytes:
        return self.event({"choices": [{"delta": {}, "finish_reason": reason, "index": 0}], **self._meta})

    def usage(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        return self.event({"choices": [], **self._meta, "usage": usage})

    @staticmethod
    def done() -> bytes:
        return _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"


def _sse_headers() -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
    )


def _response(status: int, reason: str, body: bytes, content_type: str = "application/json", close=False) -> bytes:
    connection = b"close" if close else b"keep-alive"
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n"
        % (status, reason.encode(), content_type.encode(), len(body), connection)
    ) + body


def _error(status: int, reason: str, message: str) -> bytes:
    return _response(status, reason, _json({"error": {"message": message, "code": status}}))


async def _at(deadline_ns: int, precise: bool) -> None:
    """Wait until `deadline_ns` (perf_counter_ns); `precise` adds the nanosleep and the busy-wait (see SPIN_NS)."""
    remaining = deadline_ns - time.perf_counter_ns()
    if not precise:
        if remaining > 0:
            await asyncio.sleep(remaining / 1e9)
        return
    if remaining > SPIN_NS:
        await asyncio.sleep((remaining - SPIN_NS) / 1e9)
    remaining = deadline_ns - time.perf_counter_ns()
    if remaining > NAP_SPIN_NS:
        time.sleep((remaining - NAP_SPIN_NS) / 1e9)
    while time.perf_counter_ns() < deadline_ns:
        pass


class LoopbackServer:
    def __init__(self, host: str = HOST, port: int = 0, *, ttft_ms: float = TTFT_MS, lifetime_s: float = LIFETIME_S,
                 serialize: bool = False, prefill_us_per_token: float = 0.0, context_tokens: int | None = None):
        self.host, self.port = host, port
        self.prefill_ns_per_token = prefill_us_per_token * 1e3
        self.context_tokens = context_tokens
        self.serialize = serialize
        self._turn: asyncio.Lock | None = None  # made on the serving loop
        self.ttft_ns = int(ttft_ms * 1e6)
        self.lifetime_s = lifetime_s
        self.records: list[Record] = []
        self.url: str | None = None
        self._serial = 0
        self._connections = 0
        self._counts: dict[str, int] = {}
        self._stop: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def serve(self, on_ready=None) -> None:
        """Serve until stop() or the lifetime ends; then every open connection is cut."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._turn = asyncio.Lock()
        server = await asyncio.start_server(self._connection, self.host, self.port, limit=1 << 20)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        if on_ready is not None:
            on_ready(self.url)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.lifetime_s)
        finally:
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 5)

    def stop(self) -> None:
        """Thread-safe."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    # -- HTTP ---------------------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections += 1
        if self._connections > MAX_CONNECTIONS:
            self.stop()
        self._writers.add(writer)
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                try:
                    request = await asyncio.wait_for(self._read_request(reader), IDLE_TIMEOUT_S)
                except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                    break
                if request is None or not await self._dispatch(request, reader, writer):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
        return Request(method, path.split("?", 1)[0], headers, body, time.perf_counter_ns())

    async def _dispatch(self, req: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must close."""
        if req.method == "GET" and req.path in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "loopback"} for m in LISTED_MODELS]
            writer.write(_response(200, "OK", _json({"object": "list", "data": data})))
        elif req.path == "/_records" and req.method == "GET":
            writer.write(_response(200, "OK", _json([r.to_json() for r in self.records])))
        elif req.path == "/_records" and req.method == "DELETE":
            self.records.clear()
            self._counts.clear()
            writer.write(_response(200, "OK", b"[]"))
        elif req.path in ("/v1/chat/completions", "/chat/completions") and req.method == "POST":
            async with self._turn if self.serialize else contextlib.nullcontext():
                req.received_ns = max(req.received_ns, time.perf_counter_ns())  # its turn, when serialized
                keep = await self._chat(req, reader, writer)
                if keep:
                    await writer.drain()
            return keep and req.headers.get("connection", "").lower() != "close"
        else:
            writer.write(_error(404, "Not Found", f"no route for {req.method} {req.path}"))
        await writer.drain()
        return req.headers.get("connection", "").lower() != "close"

    # -- chat ---------------------------------------------------------------------------------------------

    async def _chat(self, req: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            body = json.loads(req.body)
            model = str(body["model"])
        except (ValueError, KeyError, TypeError):
            writer.write(_error(400, "Bad Request", "the body must be JSON with a model"))
            return True
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 16
        max_tokens = max(1, min(int(max_tokens), MAX_TOKENS_CAP))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or [])
        self._counts[model] = self._counts.get(model, 0) + 1

        if model == "fault-http500" or (model == "fault-every2" and self._counts[model] % 2 == 0):
            writer.write(_error(500, "Internal Server Error", "injected fault: the runtime crashed"))
            return True
        if self.context_tokens is not None and prompt_tokens + max_tokens > self.context_tokens:
            writer.write(_error(400, "Bad Request", f"request requires {prompt_tokens + max_tokens} total tokens "
                                f"({prompt_tokens} input + {max_tokens} output), which exceeds the model's maximum "
                                f"context length of {self.context_tokens} tokens"))
            return True
        sched, slow = _SCHED.match(model), _SLOW.match(model)
        if not (sched or slow or model == "burst" or model in FAULT_MODELS):
            writer.write(_error(404, "Not Found", f"model {model!r} not found"))
            return True

        self._serial += 1
        stream = _Stream(writer, model, self._serial)
        rec = Record(model, req.received_ns, max_tokens)
        self.records.append(rec)
        del self.records[:-MAX_RECORDS]
        rec.role_ns = await stream.send(_sse_headers() + stream.role())

        if sched or slow:
            rate = float(sched.group(1)) if sched else 1000.0 / float(slow.group(1))
            ttft_ns = (self.ttft_ns if sched else int(1e9 / rate)) + int(prompt_tokens * self.prefill_ns_per_token)
            start = req.received_ns + ttft_ns
            for i in range(max_tokens):
                await _at(start + int(i * 1e9 / rate), precise=bool(sched))
                rec.chunks_ns.append(await stream.send(stream.token_event(WORDS[i % len(WORDS)])))
        elif model in ("burst", "fault-every2"):  # fault-every2 answers its odd requests at once
            for i in range(max_tokens):
                writer.write(stream.token_event(WORDS[i % len(WORDS)]))
                await writer.drain()
                rec.chunks_ns.append(time.perf_counter_ns())
        else:
            few = min(FEW_TOKENS, max_tokens)
            for i in range(few):
                rec.chunks_ns.append(await stream.send(stream.token_event(WORDS[i % len(WORDS)])))
            return await self._fault(model, stream, rec, reader, writer)

        tail = stream.finish("length")
        if include_usage:
            tail += stream.usage(prompt_tokens, max_tokens)
        rec.end_ns = await stream.send(tail + stream.done())
        rec.outcome = "ok"
        return True

    async def _fault(self, model, stream: _Stream, rec: Record, reader, writer: asyncio.StreamWriter) -> bool:
        rec.outcome = model
        if model == "fault-sse-error":
            rec.end_ns = await stream.send(stream.event({"error": {"message": "boom"}}, name="error") + b"0\r\n\r\n")
            return True
        if model == "fault-malformed":
            rec.end_ns = await stream.send(stream.raw_event(b"{not json") + b"0\r\n\r\n")
            return True
        if model == "fault-noend":  # the body ends cleanly, but the answer never finished
            rec.end_ns = await stream.send(b"0\r\n\r\n")
            return False
        if model == "fault-drop":  # RST: SO_LINGER with a zero timeout, then close
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            rec.end_ns = time.perf_counter_ns()
            return False
        if model == "fault-stall":  # silence until the client hangs up (read gives EOF), at most STALL_LIMIT_S
            with contextlib.suppress(TimeoutError, ConnectionError, OSError):
                await asyncio.wait_for(reader.read(1), STALL_LIMIT_S)
            rec.end_ns = time.perf_counter_ns()
            return False
        raise AssertionError(model)


# -- starting it ---------------------------------------------------------------------------------------------


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy from the environment


class ServerHandle:
    """A running server: its URL, its records, and stop()."""

    def __init__(self, url: str, stopper, process: subprocess.Popen | None = None):
        self.url = url
        self._stopper = stopper
        self.process = process

    def records(self, model: str | None = None) -> list[dict]:
        with _OPENER.open(self.url + "/_records", timeout=10) as resp:
            records = json.loads(resp.read())
        return [r for r in records if model is None or r["model"] == model]

    def clear(self) -> None:
        req = urllib.request.Request(self.url + "/_records", method="DELETE")
        with _OPENER.open(req, timeout=10) as resp:
            resp.read()

    def stop(self) -> None:
        self._stopper()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_subprocess(port: int = 0, *, ttft_ms: float = TTFT_MS, lifetime_s: float = LIFETIME_S,
                     serialize: bool = False, prefill_us_per_token: float = 0.0,
                     context_tokens: int | None = None) -> ServerHandle:
    """The server in its own process (its busy-waits then never hold this process's GIL)."""
    args = [sys.executable, os.path.abspath(__file__), "--port", str(port), "--ttft-ms", str(ttft_ms),
            "--lifetime", str(lifetime_s), "--prefill-us-per-token", str(prefill_us_per_token),
            *(["--context-tokens", str(context_tokens)] if context_tokens is not None else []),
            *(["--serialize"] if serialize else [])]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"the loopback server did not start: {line!r} {proc.stderr.read()}")

    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()

    return ServerHandle(line, stop, proc)


def start_thread(port: int = 0, *, ttft_ms: float = TTFT_MS, lifetime_s: float = LIFETIME_S,
                 serialize: bool = False, prefill_us_per_token: float = 0.0,
                 context_tokens: int | None = None) -> ServerHandle:
    """The server on an event loop in a daemon thread of this process (timing shares this process's GIL)."""
    server = LoopbackServer(port=port, ttft_ms=ttft_ms, lifetime_s=lifetime_s, serialize=serialize,
                            prefill_us_per_token=prefill_us_per_token, context_tokens=context_tokens)
    ready = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(lambda _url: ready.set())), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the loopback server did not start")

    def stop() -> None:
        server.stop()
        thread.join(10)

    return ServerHandle(server.url, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ttft-ms", type=float, default=TTFT_MS)
    parser.add_argument("--lifetime", type=float, default=LIFETIME_S, help="stop by itself after this many seconds")
    parser.add_argument("--serialize", action="store_true", help="serve one chat request at a time (Foundry Local)")
    parser.add_argument("--prefill-us-per-token", type=float, default=0.0,
                        help="microseconds of first-token delay per prompt token (a prefill cost)")
    parser.add_argument("--context-tokens", type=int, help="refuse (HTTP 400) prompt + max_tokens beyond this")
    args = parser.parse_args(argv)
    server = LoopbackServer(args.host, args.port, ttft_ms=args.ttft_ms, lifetime_s=args.lifetime,
                            serialize=args.serialize, prefill_us_per_token=args.prefill_us_per_token,
                            context_tokens=args.context_tokens)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, server.stop)
            except NotImplementedError:  # Windows: no loop signal handlers
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(server.stop))
        await server.serve(lambda url: print(url, flush=True))

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
