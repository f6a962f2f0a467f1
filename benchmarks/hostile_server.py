"""A loopback HTTP/1.1 server that answers like a hostile or broken OpenAI-compatible endpoint, on cue.

The first path segment picks how the control plane behaves (the endpoint is `http://127.0.0.1:<port>/<mode>`):
- `ok`: `/openai/status` and `/status` answer 404, `/v1/models` lists `MODELS`: a plain OpenAI-compatible server.
- `huge`: `/v1/models` is a JSON list that goes on for HUGE_BYTES.
- `drip`: `/v1/models` sends its headers, then its (valid) body one byte every DRIP_S.
- `driphead`: the status line and headers themselves come one byte every DRIP_S.
- `nested`: `/v1/models` is 100,000 nested `[`: JSON, but deeper than any parser's recursion limit.
- `osc`: every route answers 404 with a body carrying an OSC 52 clipboard write, a CSI and a U+202E override.

`POST /<mode>/v1/chat/completions` behaves by model name (see `MODELS`): endless error bodies and streams, a long
line without a newline, non-streams (HTML, JSON, gzip, empty, a redirect), bad unicode, deep nesting, bad usage
and finish reasons, and `good`, a normal stream. Every loop is bounded: an endless answer stops after WRITE_LIMIT
bytes or when the client leaves, a drip after its body, and the server after `lifetime_s`. Loopback only.

Run: `python benchmarks/hostile_server.py` prints its URL; tests import `start_thread()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import threading

HOST = "127.0.0.1"
WRITE_LIMIT = 512 * 2**20  # an "endless" answer ends here, so a client that does not cut it still finishes
HUGE_BYTES = 64 * 2**20
DRIP_S = 0.1
DRIP_BODY = b'{"object":"list","data":[{"id":"good"}]}' + b" " * 600  # ~65 s at DRIP_S: far past any deadline
LIFETIME_S = 600.0
OSC52 = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\u202eevil"
MODELS = (
    "good", "endless-500", "endless-200", "long-line", "html", "json-completion", "gzip", "empty", "redirect",
    "surrogate-split", "lone-surrogate", "deep-nesting", "usage-negative", "usage-bool", "usage-string",
    "finish-error", "finish-odd", "escape-error", "done-then-more", "continue-flood",
)
ODD_IDS = ("odd-\ud800-id", "rtl-\u202etxt.exe", "red-\x1b[31m-id")  # listed by /v1/models only


def _json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()  # ensure_ascii: lone surrogates travel as \\udXXX


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _head(status: str, content_type: str, extra: str = "", length: int | None = None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}{framing}\r\nConnection: close\r\n\r\n"
    return head.encode()


def _whole(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    return _head(status, content_type, extra, len(body)) + body


def _delta(content: str | None = None, finish: str | None = None, usage: dict | None = None) -> bytes:
    choice = {"index": 0, "delta": {} if content is None else {"content": content}, "finish_reason": finish}
    obj: dict = {"object": "chat.completion.chunk", "choices": [] if usage else [choice]}
    if usage is not None:
        obj["usage"] = usage
    return _chunk(b"data: " + _json(obj) + b"\n\n")


def _stream(tokens: list[str], finish: str = "stop", usage: dict | None = None) -> bytes:
    out = _head("200 OK", "text/event-stream") + _delta("")
    out += b"".join(_delta(t) for t in tokens) + _delta(None, finish)
    out += _delta(usage={"prompt_tokens": 3, "completion_tokens": len(tokens)} if usage is None else usage)
    return out + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"


def _canned(model: str) -> bytes | None:
    """The answers that are one fixed byte string."""
    words = ["one", " two", " three"]
    return {
        "good": _stream(words),
        "html": _whole("200 OK", b"<html><body>Please log in</body></html>", "text/html"),
        "json-completion": _whole("200 OK", _json({"object": "chat.completion", "choices": [
            {"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]})),
        "gzip": _whole("200 OK", gzip.compress(b"data: not for you\n\n"), "text/event-stream",
                       "Content-Encoding: gzip\r\n"),
        "empty": _whole("200 OK", b"", "text/event-stream"),
        "redirect": _whole("302 Found", b"", "text/plain", "Location: /ok/v1/chat/completions\r\n"),
        "surrogate-split": _stream(["smile ", "\ud83d", "\ude00", " done"]),
        "lone-surrogate": _stream(["bad ", "\udc00", " end"]),
        "deep-nesting": _head("200 OK", "text/event-stream") + _chunk(b"data: " + b"[" * 100_000 + b"\n\n")
        + b"0\r\n\r\n",
        "usage-negative": _stream(words, usage={"completion_tokens": -5}),
        "usage-bool": _stream(words, usage={"completion_tokens": True}),
        "usage-string": _stream(words, usage={"completion_tokens": "7"}),
        "finish-error": _stream(words, finish="error"),
        "finish-odd": _stream(words, finish="weird"),
        "escape-error": _whole("404 Not Found", _json({"error": {"message": f"no such model {OSC52}"}})),
    }.get(model)


class HostileServer:
    def __init__(self, lifetime_s: float = LIFETIME_S):
        self.lifetime_s = lifetime_s
        self.url: str | None = None
        self.sent: dict[str, int] = {}  # bytes written per endless answer, for tests that ask how far it got
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, on_ready=None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, HOST, 0)
        self.url = f"http://{HOST}:{server.sockets[0].getsockname()[1]}"
        if on_ready is not None:
            on_ready(self.url)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.lifetime_s)
        finally:
            server.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One request per connection (every answer says Connection: close)."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = next((int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() ==
                           "content-length"), 0)
            body = await reader.readexactly(length) if length else b""
            mode, _, route = target.split("?", 1)[0].lstrip("/").partition("/")
            await self._answer(mode, "/" + route, method, body, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ValueError):
            pass  # the client left, or sent something this test server does not parse: drop the connection
        finally:
            writer.close()

    async def _answer(self, mode: str, route: str, method: str, body: bytes, writer: asyncio.StreamWriter) -> None:
        if mode == "osc":
            writer.write(_whole("404 Not Found", f"nothing here {OSC52}".encode(), "text/plain"))
        elif route == "/v1/models" and mode in ("huge", "drip", "driphead"):
            await {"huge": self._huge, "drip": self._drip, "driphead": self._driphead}[mode](writer)
        elif route == "/v1/models" and mode == "nested":
            writer.write(_whole("200 OK", b"[" * 100_000 + b"]" * 100_000))
        elif route == "/v1/models":
            listed = [{"id": m} for m in (*MODELS, *ODD_IDS)]
            writer.write(_whole("200 OK", _json({"object": "list", "data": listed})))
        elif route == "/v1/chat/completions" and method == "POST":
            await self._chat(json.loads(body)["model"], writer)
        else:
            writer.write(_whole("404 Not Found", b"no route", "text/plain"))
        await writer.drain()

    async def _endless(self, key: str, writer: asyncio.StreamWriter, head: bytes, piece: bytes) -> None:
        self.sent[key] = 0
        writer.write(head)
        while self.sent[key] < WRITE_LIMIT:
            writer.write(_chunk(piece))
            await writer.drain()  # raises once the client has gone
            self.sent[key] += len(piece)

    async def _chat(self, model: str, writer: asyncio.StreamWriter) -> None:
        canned = _canned(model)
        if canned is not None:
            writer.write(canned)
            return
        if model == "endless-500":
            await self._endless(model, writer, _head("500 Internal Server Error", "text/plain"), b"oops " * 3000)
        elif model == "endless-200":
            event = b"data: " + _json({"choices": [{"index": 0, "delta": {"content": " more"}}]}) + b"\n\n"
            await self._endless(model, writer, _head("200 OK", "text/event-stream"), event * 100)
        elif model == "long-line":
            await self._endless(model, writer, _head("200 OK", "text/event-stream") + _chunk(b"data: "), b"x" * 2**16)
        elif model == "continue-flood":  # interim responses, never the response itself
            self.sent[model] = 0
            piece = b"HTTP/1.1 100 Continue\r\n\r\n" * 1000
            while self.sent[model] < WRITE_LIMIT:
                writer.write(piece)
                await writer.drain()
                self.sent[model] += len(piece)
        elif model == "done-then-more":
            first = _stream(["a"]).removesuffix(b"0\r\n\r\n")
            await self._endless(model, writer, first, b"data: [DONE]\n\n" * 1000)
        else:
            writer.write(_whole("404 Not Found", _json({"error": {"message": "model not found"}})))

    async def _huge(self, writer: asyncio.StreamWriter) -> None:
        writer.write(_head("200 OK", "application/json") + _chunk(b'{"data":['))
        item = b'{"id":"padding-model-with-a-long-name"},' * 1000
        for _ in range(HUGE_BYTES // len(item)):
            writer.write(_chunk(item))
            await writer.drain()
        writer.write(_chunk(b'{"id":"good"}]}') + b"0\r\n\r\n")

    async def _drip(self, writer: asyncio.StreamWriter) -> None:
        writer.write(_head("200 OK", "application/json", length=len(DRIP_BODY)))
        for i in range(len(DRIP_BODY)):
            writer.write(DRIP_BODY[i : i + 1])
            await writer.drain()
            await asyncio.sleep(DRIP_S)

    async def _driphead(self, writer: asyncio.StreamWriter) -> None:
        whole = _whole("200 OK", DRIP_BODY[:41], extra="X-Pad: " + "p" * 600 + "\r\n")
        for i in range(len(whole)):
            writer.write(whole[i : i + 1])
            await writer.drain()
            await asyncio.sleep(DRIP_S)


class Handle:
    def __init__(self, server: HostileServer, thread: threading.Thread):
        self.server, self._thread = server, thread
        self.url = server.url

    def endpoint(self, mode: str = "ok") -> str:
        return f"{self.url}/{mode}"

    def stop(self) -> None:
        self.server.stop()
        self._thread.join(10)


def start_thread(lifetime_s: float = LIFETIME_S) -> Handle:
    server = HostileServer(lifetime_s)
    ready = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(lambda _url: ready.set())), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the hostile server did not start")
    return Handle(server, thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lifetime", type=float, default=LIFETIME_S)
    args = parser.parse_args(argv)
    server = HostileServer(args.lifetime)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(lambda url: print(url, flush=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
