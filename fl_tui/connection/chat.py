"""Stream one chat completion over the OpenAI-compatible API and keep every byte's arrival time.

Every backend serves inference this way (the embedded runtime through its own loopback web service), so a
measurement takes the same path on a laptop as on a remote box. Nothing here parses JSON while the stream is
open: events are stamped and stored, and `fl_tui.bench` interprets them afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpcore
import httpx

from fl_tui.connection.sse import SSEEvent, SSEParser
from fl_tui.connection.stamped import KERNEL_STAMPS, StampedBackend, StampedStream
from fl_tui.core.limits import (
    ERROR_BODY_MAX,
    EVENT_SLACK,
    EVENTS_PER_TOKEN,
    NON_STREAM_PREVIEW,
    STREAM_MAX_BYTES,
    size_text,
)


def stream_client(concurrency: int = 1, keep_alive: bool = False) -> httpx.AsyncClient:
    """A client for measured streams: TCP_NODELAY, no proxy from the environment, and by default a new
    connection per request. Measured on Foundry Local's web service (SDK 2.2.1): on a reused connection the
    first token waits ~40 ms for Linux's delayed ACK, because the server writes the role chunk and the first
    token separately without TCP_NODELAY; a fresh connection starts in quick-ACK mode. Connection set-up is
    outside t0 either way, so a fresh connection measures the server, not that interaction. On Linux, plain
    http:// connections read with kernel receive stamps (connection.stamped), so stream_chat can take the time
    bytes waited in the socket off their stamps; https:// ones, and every one elsewhere, go through httpx's own."""
    options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency if keep_alive else 0)
    plain = httpx.AsyncHTTPTransport(socket_options=options, limits=limits)
    # On Linux, http:// reads go through StampedBackend (kernel receive stamps; recvmsg and add_reader, which
    # Windows' proactor loop lacks). httpx has no parameter for a network backend, so its pool is replaced by one
    # built with the same limits and options; an httpx without that attribute keeps its own (stamps as before).
    if KERNEL_STAMPS and hasattr(plain, "_pool"):
        plain._pool = httpcore.AsyncConnectionPool(
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, socket_options=options, network_backend=StampedBackend(),
        )
    return httpx.AsyncClient(
        mounts={"http://": plain, "https://": httpx.AsyncHTTPTransport(socket_options=options, limits=limits)},
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
    read up to ERROR_BODY_MAX bytes, then the connection is closed. `on_event` is called with each stamped
    event as it arrives, for live views; it must be cheap (append to a buffer).
    """
    rec = StreamRecord(scheduled_ns=time.perf_counter_ns())
    perf = time.perf_counter_ns

    async def trace(name: str, info: dict) -> None:
        # t0 just before the body (the request's last bytes) is handed to the socket: nothing between this stamp
        # and the write yields to the event loop, while after the write anyio yields once, and with other
        # requests in flight a stamp taken at "complete" waited for them (TTFTs under the server's own showed it).
        if name == "http11.send_request_body.started":
            rec.t0_ns = perf()
        elif name == "http11.receive_response_headers.complete":
            rec.headers_ns = perf()

    parser = SSEParser()
    request = client.build_request(
        "POST", f"{inference_url.rstrip('/')}/chat/completions", json=body,
        headers={"Accept": "text/event-stream", "Accept-Encoding": "identity"},  # raw bytes are the payload
        extensions={"trace": trace},
    )
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(request, stream=True)
            try:
                rec.status_code = response.status_code
                rec.content_type = response.headers.get("content-type")
                rec.content_encoding = response.headers.get("content-encoding")
                rec.location = response.headers.get("location")
                if response.status_code >= 400:
                    rec.error_body = (await _read_capped(response, ERROR_BODY_MAX)).decode("utf-8", "replace")
                    return rec
                max_events = event_cap(body.get("max_tokens"))
                network = response.extensions.get("network_stream")
                stamped = network if isinstance(network, StampedStream) else None
                last = 0
                async for chunk in response.aiter_raw():
                    # now, less the time the read's bytes waited in the socket (kernel receive stamps, where the
                    # stream has them): a chunk waiting for the loop behind other streams is not stamped late. Never
                    # before the previous chunk's stamp, which a slow on_event between chunks of one read could pass.
                    stamp = last = max(last, perf() - (stamped.waited_ns if stamped is not None else 0))
                    rec.body_bytes += len(chunk)
                    if len(rec.head) < NON_STREAM_PREVIEW:
                        rec.head = (rec.head + chunk)[:NON_STREAM_PREVIEW]
                    if rec.body_bytes > STREAM_MAX_BYTES:
                        rec.cut = f"stream cut at {size_text(STREAM_MAX_BYTES)} (the byte cap)"
                        return rec
                    for ev in parser.feed(chunk, stamp):
                        rec.events.append(ev)
                        if on_event is not None:
                            on_event(ev)
                    if len(rec.events) > max_events:
                        rec.cut = (
                            f"stream cut after {max_events} events: more than max_tokens x {EVENTS_PER_TOKEN} "
                            f"+ {EVENT_SLACK} (the server did not stop at max_tokens)"
                        )
                        return rec
                for ev in parser.finish(perf()):
                    rec.events.append(ev)
                    if on_event is not None:
                        on_event(ev)
            finally:
                await response.aclose()
    except TimeoutError:
        rec.timed_out = True
        rec.transport_error = f"timed out after {timeout_s:g} s"
    except httpx.TransportError as exc:
        dropped = isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        rec.transport_error = f"{'connection dropped' if dropped else 'transport error'} ({detail})"
    finally:
        rec.end_ns = perf()
    return rec


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """Up to `cap` raw bytes of the body; the rest is never read (closing the response drops the connection)."""
    buf = bytearray()
    async for chunk in response.aiter_raw():
        buf += chunk
        if len(buf) >= cap:
            break
    return bytes(buf[:cap])
