"""Stream one chat completion over the OpenAI-compatible API and keep every byte's arrival time.

Every backend serves inference this way (the embedded runtime through its own loopback web service), so a
measurement takes the same path on a laptop as on a remote box. Nothing here parses JSON while the stream is
open: events are stamped and stored, and `fl_tui.bench` interprets them afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field

import httpcore
import httpx

from fl_tui.connection.sse import SSEEvent, SSEParser
from fl_tui.connection.stamped import KERNEL_STAMPS, Cancelled, Control, StampedBackend, StampedStream, bound
from fl_tui.core.limits import (
    ERROR_BODY_MAX,
    EVENT_SLACK,
    EVENTS_PER_TOKEN,
    NON_STREAM_PREVIEW,
    STREAM_MAX_BYTES,
    size_text,
)


class StreamClient(httpx.AsyncClient):
    """An httpx.AsyncClient that also holds `threaded`, a blocking client for plain http:// on Linux, whose reads
    stream_chat makes in a thread per stream (connection.stamped); None elsewhere."""

    def __init__(self, threaded: httpx.Client | None, **kwargs: typing.Any) -> None:
        super().__init__(**kwargs)
        self.threaded = threaded

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            if self.threaded is not None:
                self.threaded.close()

    async def __aexit__(self, *exc: typing.Any) -> None:
        try:
            await super().__aexit__(*exc)
        finally:
            if self.threaded is not None:
                self.threaded.close()

HEADERS = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}  # raw bytes are the payload


def stream_client(concurrency: int = 1, keep_alive: bool = False) -> StreamClient:
    """A client for measured streams: TCP_NODELAY, no proxy from the environment, and by default a new
    connection per request. Measured on Foundry Local's web service (SDK 2.2.1): on a reused connection the
    first token waits ~40 ms for Linux's delayed ACK, because the server writes the role chunk and the first
    token separately without TCP_NODELAY; a fresh connection starts in quick-ACK mode. Connection set-up is
    outside t0 either way, so a fresh connection measures the server, not that interaction. On Linux, plain
    http:// streams are read by a blocking thread each with kernel receive stamps (connection.stamped), so
    stream_chat can take the time bytes waited in the socket off their stamps; https:// ones, and every one
    elsewhere, go through httpx's own transport on the event loop."""
    options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency if keep_alive else 0)
    threaded = None
    if KERNEL_STAMPS:
        # httpx has no parameter for a network backend, so the transport's pool is replaced by one built with the
        # same options. No connection limit: each stream's thread holds its own connection (the caller bounds how
        # many are in flight), so a thread never waits in the pool, where a cancel could not reach it.
        plain = httpx.HTTPTransport(socket_options=options, limits=limits)
        plain._pool = httpcore.ConnectionPool(
            max_connections=None, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, socket_options=options, network_backend=StampedBackend(),
        )
        threaded = httpx.Client(transport=plain, timeout=None, trust_env=False)
    return StreamClient(
        threaded,
        mounts={"http://": httpx.AsyncHTTPTransport(socket_options=options, limits=limits),
                "https://": httpx.AsyncHTTPTransport(socket_options=options, limits=limits)},
        timeout=None, trust_env=False,
    )


def chat_body(
    model: str,
    prompt: str,
    *,
    max_tokens: int = 128,
    temperature: float | None = 0.0,
    seed: int | None = None,
    system: str | None = None,
) -> dict:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    body: dict = {
        "model": model,
        "messages": messages,
        "stream": True,
        "max_tokens": max_tokens,
        "stream_options": {"include_usage": True},
    }
    if temperature is not None:
        body["temperature"] = temperature
    if seed is not None:
        body["seed"] = seed
    return body


@dataclass
class StreamRecord:
    """What one streamed request looked like on the wire, with monotonic nanosecond stamps."""

    scheduled_ns: int  # when the caller asked for the request (before any connection work)
    t0_ns: int | None = None  # the request's last bytes handed to the socket (stamped just before the write)
    headers_ns: int | None = None  # response headers received
    end_ns: int | None = None  # stream closed (or cut)
    status_code: int | None = None
    events: list[SSEEvent] = field(default_factory=list)
    error_body: str | None = None  # the body of a non-2xx answer, up to ERROR_BODY_MAX bytes
    transport_error: str | None = None  # connection dropped, timeout, ...
    timed_out: bool = False
    cut: str | None = None  # why the client stopped reading a stream that went on (a bound was hit)
    content_type: str | None = None
    content_encoding: str | None = None
    location: str | None = None  # of a redirect (never followed)
    body_bytes: int = 0  # bytes of the body read (raw, as they came)
    head: bytes = b""  # the first NON_STREAM_PREVIEW bytes of the body, to describe what a non-stream was


def event_cap(max_tokens: object) -> int:
    """How many events a stream may carry: max_tokens x EVENTS_PER_TOKEN + EVENT_SLACK."""
    tokens = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 128
    return tokens * EVENTS_PER_TOKEN + EVENT_SLACK


EventSink = Callable[[SSEEvent], None]


async def stream_chat(
    client: httpx.AsyncClient,
    inference_url: str,
    body: dict,
    *,
    timeout_s: float | None = None,
    on_event: EventSink | None = None,
) -> StreamRecord:
    """POST `body` to `{inference_url}/chat/completions` and record the stream. Never raises for server or
    transport failures: they land in the record so the caller can score the request, not lose the run.

    `timeout_s` bounds the whole request (a stalled stream is cut there); a stream is also cut after
    STREAM_MAX_BYTES bytes or `event_cap(max_tokens)` events, with `rec.cut` saying which, and an error body is
    read up to ERROR_BODY_MAX bytes, then the connection is closed. `on_event` is called on the event loop with
    each stamped event after it arrived (in batches when the stream is read in a thread), for live views; it must
    be cheap (append to a buffer).
    """
    rec = StreamRecord(scheduled_ns=time.perf_counter_ns())
    url = f"{inference_url.rstrip('/')}/chat/completions"
    threaded = client.threaded if isinstance(client, StreamClient) else None
    if threaded is not None and url.startswith("http://"):
        return await _in_thread(threaded, url, body, rec, timeout_s, on_event)
    reading = _Reading(rec, body, on_event)

    async def trace(name: str, info: dict) -> None:
        reading.trace(name)

    request = client.build_request("POST", url, json=body, headers=HEADERS, extensions={"trace": trace})
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(request, stream=True)
            try:
                if reading.head(response):
                    async for chunk in response.aiter_raw():
                        if reading.error_chunk(chunk):
                            break
                    reading.error_end()
                else:
                    async for chunk in response.aiter_raw():
                        if reading.chunk(chunk, 0):
                            break
                    else:
                        reading.finish()
            finally:
                await response.aclose()
    except TimeoutError:
        reading.timed_out(timeout_s)
    except httpx.TransportError as exc:
        reading.failed(exc)
    finally:
        rec.end_ns = time.perf_counter_ns()
    return rec


class _Reading:
    """What stream_chat does with a response, on the event loop or in a thread: stamps each read, keeps its
    bytes and events within the caps, and says when to stop reading."""

    def __init__(self, rec: StreamRecord, body: dict, emit: Callable[[list[SSEEvent]], None] | EventSink | None,
                 *, batches: bool = False) -> None:
        self.rec = rec
        self.parser = SSEParser()
        self.max_events = event_cap(body.get("max_tokens"))
        self.emit = emit
        self.batches = batches  # emit takes each read's events as one list, not one at a time
        self.last = 0
        self.error_buf = bytearray()

    def trace(self, name: str) -> None:
        # t0 just before the body (the request's last bytes) is handed to the socket: nothing between this stamp
        # and the write waits for anything, while on the event loop anyio yields once after the write, and with
        # other requests in flight a stamp taken at "complete" waited for them (TTFTs under the server's own
        # showed it).
        if name == "http11.send_request_body.started":
            self.rec.t0_ns = time.perf_counter_ns()
        elif name == "http11.receive_response_headers.complete":
            self.rec.headers_ns = time.perf_counter_ns()

    def head(self, response: httpx.Response) -> bool:
        """Note the response's status and headers; True when it is an error, whose body is read by error_chunk."""
        rec = self.rec
        rec.status_code = response.status_code
        rec.content_type = response.headers.get("content-type")
        rec.content_encoding = response.headers.get("content-encoding")
        rec.location = response.headers.get("location")
        return response.status_code >= 400

    def error_chunk(self, chunk: bytes) -> bool:
        """Keep an error body up to ERROR_BODY_MAX bytes; True once that many are kept (the rest is never read:
        closing the response drops the connection)."""
        self.error_buf += chunk
        return len(self.error_buf) >= ERROR_BODY_MAX

    def error_end(self) -> None:
        self.rec.error_body = bytes(self.error_buf[:ERROR_BODY_MAX]).decode("utf-8", "replace")

    def chunk(self, chunk: bytes, waited_ns: int) -> bool:
        """One read of the body; True when a cap was hit (`rec.cut` says which) and reading must stop."""
        rec = self.rec
        # now, less the time the read's bytes waited in the socket (kernel receive stamps, where the stream has
        # them): a chunk that waited for its reader is not stamped late. Never before the previous chunk's stamp,
        # which a slow on_event between chunks of one read could pass.
        stamp = self.last = max(self.last, time.perf_counter_ns() - waited_ns)
        rec.body_bytes += len(chunk)
        if len(rec.head) < NON_STREAM_PREVIEW:
            rec.head = (rec.head + chunk)[:NON_STREAM_PREVIEW]
        if rec.body_bytes > STREAM_MAX_BYTES:
            rec.cut = f"stream cut at {size_text(STREAM_MAX_BYTES)} (the byte cap)"
            return True
        events = self.parser.feed(chunk, stamp)
        if events:
            self._keep(events)
        if len(rec.events) > self.max_events:
            rec.cut = (
                f"stream cut after {self.max_events} events: more than max_tokens x {EVENTS_PER_TOKEN} "
                f"+ {EVENT_SLACK} (the server did not stop at max_tokens)"
            )
            return True
        return False

    def finish(self) -> None:
        """The body ended: an event the server did not terminate is kept too."""
        events = self.parser.finish(time.perf_counter_ns())
        if events:
            self._keep(events)

    def _keep(self, events: list[SSEEvent]) -> None:
        self.rec.events += events
        if self.emit is None:
            return
        if self.batches:
            self.emit(events)
        else:
            for ev in events:
                self.emit(ev)

    def timed_out(self, timeout_s: float | None) -> None:
        self.rec.timed_out = True
        self.rec.transport_error = f"timed out after {timeout_s:g} s"

    def failed(self, exc: httpx.TransportError) -> None:
        dropped = isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.rec.transport_error = f"{'connection dropped' if dropped else 'transport error'} ({detail})"


async def _in_thread(client: httpx.Client, url: str, body: dict, rec: StreamRecord, timeout_s: float | None,
                     on_event: EventSink | None) -> StreamRecord:
    """stream_chat's request made by a thread of its own with blocking reads (connection.stamped): the event loop
    is woken when the stream has ended, and, for `on_event`, as _Handoff says.
    A cancel (the caller's) ends the thread's reads at once, and is raised when the thread has ended."""
    loop = asyncio.get_running_loop()
    control = Control(None if timeout_s is None else time.monotonic() + timeout_s)
    handoff = None if on_event is None else _Handoff(loop, on_event)
    reading = _Reading(rec, body, handoff.put if handoff else None, batches=True)
    ended: asyncio.Future[None] = loop.create_future()

    def run() -> None:
        failure: BaseException | None = None
        try:
            with bound(control):
                _read_blocking(client, url, body, reading, timeout_s)
        except BaseException as exc:  # handed to the loop, raised there by the caller
            failure = exc
        finally:
            rec.end_ns = time.perf_counter_ns()
            loop.call_soon_threadsafe(_settle, ended, failure)

    threading.Thread(target=run, name="fl-tui-stream", daemon=True).start()
    try:
        await asyncio.shield(ended)
    except asyncio.CancelledError:
        control.cancel()
        # promptly: the thread's read was woken, its next look at `control` ends it; shielded again, so a second
        # cancel leaves `ended` for the thread to settle
        await asyncio.shield(ended)
        raise
    finally:
        if handoff is not None:
            handoff.close()
    if handoff is not None and handoff.error is not None:
        raise handoff.error
    return rec


def _read_blocking(client: httpx.Client, url: str, body: dict, reading: _Reading, timeout_s: float | None) -> None:
    """On the request's thread: the same steps as stream_chat's on the loop, with blocking reads."""
    request = client.build_request("POST", url, json=body, headers=HEADERS,
                                   extensions={"trace": lambda name, _info: reading.trace(name)})
    try:
        response = client.send(request, stream=True)
        try:
            if reading.head(response):
                for chunk in response.iter_raw():
                    if reading.error_chunk(chunk):
                        break
                reading.error_end()
                return
            network = response.extensions.get("network_stream")
            stamped = network if isinstance(network, StampedStream) else None
            for chunk in response.iter_raw():
                if reading.chunk(chunk, stamped.waited_ns if stamped is not None else 0):
                    break
            else:
                reading.finish()
        finally:
            response.close()
    except TimeoutError:
        reading.timed_out(timeout_s)
    except Cancelled:
        pass  # the caller stopped waiting: stream_chat raises CancelledError there
    except httpx.TransportError as exc:
        reading.failed(exc)


def _settle(ended: asyncio.Future[None], failure: BaseException | None) -> None:
    if failure is None:
        ended.set_result(None)
    else:
        ended.set_exception(failure)


class _Handoff:
    """Events from a stream's thread to `on_event` on the event loop, in batches. The thread wakes the loop
    (call_soon_threadsafe, a write to its self-pipe) only for the first events after a quiet spell; while events
    keep coming, the loop takes them on its own timer every HANDOFF_S, so a stream at 2,000 tokens/s costs the
    loop 1 / HANDOFF_S wake-ups a second, not one per token (a wake-up per token cost ~25 µs of CPU a token,
    more than reading it). What `on_event` raises ends nothing on the loop; stream_chat raises it after."""

    HANDOFF_S = 0.02  # a screen draws at 10 Hz and the --events wire sends every 50 ms

    def __init__(self, loop: asyncio.AbstractEventLoop, on_event: EventSink) -> None:
        self._loop = loop
        self._on_event = on_event
        self._pending: list[SSEEvent] = []
        self._armed = False  # the loop has a take scheduled (by a wake-up or its timer)
        self._timer: asyncio.TimerHandle | None = None
        self._lock = threading.Lock()
        self.error: BaseException | None = None

    def put(self, events: list[SSEEvent]) -> None:
        """On the stream's thread."""
        with self._lock:
            self._pending += events
            wake, self._armed = not self._armed, True
        if wake:
            self._loop.call_soon_threadsafe(self._take)

    def _take(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._armed = bool(batch)  # none came since the last take: quiet, the next put wakes the loop
        self._timer = self._loop.call_later(self.HANDOFF_S, self._take) if batch else None
        self._deliver(batch)

    def close(self) -> None:
        """On the loop, once the thread has ended: the events not yet taken, now."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            batch, self._pending = self._pending, []
        self._deliver(batch)

    def _deliver(self, batch: list[SSEEvent]) -> None:
        if self.error is not None:
            return
        try:
            for ev in batch:
                self._on_event(ev)
        except Exception as exc:  # raised by stream_chat once the stream has ended
            self.error = exc
