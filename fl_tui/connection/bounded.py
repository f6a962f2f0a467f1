"""Sync HTTP answers read with a size cap and, where asked, an overall deadline.

httpx's timeouts are per read: a server that drips one byte a second never trips them, and `resp.read()` keeps
whatever a server sends. Here the body is read chunk by chunk up to a cap, and a deadline is enforced by a watchdog
that shuts the request's socket down, which wakes a read blocked on it: headers included on a new connection
(detection opens one per probe), from the headers on for a reused keep-alive one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx

from fl_tui.connection.base import BackendError
from fl_tui.core.limits import ERROR_BODY_MAX, size_text

_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")  # the body kept is decoded


class AnswerTooLarge(BackendError):
    """A successful answer over its cap: refused rather than kept."""


class DeadlineExceeded(httpx.TimeoutException):
    """The overall deadline passed while a request was still being answered."""


class Deadline:
    """A point on the monotonic clock that several requests share (detection makes up to three)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._at

    def error(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"no complete answer within {self.seconds:g} s")


class _Watchdog:
    """Shuts down the sockets a request opens once the deadline passes (tracked through httpcore's trace hook)."""

    def __init__(self, deadline: Deadline):
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline.remaining(), self._fire)
        self._timer.daemon = True

    def trace(self, name: str, info: dict) -> None:
        if name == "connection.connect_tcp.complete":
            self.watch(info.get("return_value"))

    def watch(self, stream: object) -> None:
        """Shut this network stream's socket down at the deadline (a reused keep-alive connection is never
        traced as connecting: `request_bounded` passes it here once the headers are in)."""
        get_extra_info = getattr(stream, "get_extra_info", None)
        sock = get_extra_info("socket") if get_extra_info is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by httpcore, or never connected
        sock.shutdown(socket.SHUT_RDWR)


def read_capped(response: httpx.Response, cap: int, deadline: Deadline | None = None) -> tuple[bytes, bool]:
    """The (decoded) body up to `cap` bytes, and whether there was more; the rest is never read."""
    buf = bytearray()
    for chunk in response.iter_bytes():
        buf += chunk
        if len(buf) > cap:
            return bytes(buf[:cap]), True
        if deadline is not None and deadline.expired():
            raise deadline.error()
    return bytes(buf), False


def request_bounded(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    cap: int,
    deadline: Deadline | None = None,
    **kwargs,
) -> httpx.Response:
    """A complete response whose body is at most `cap` bytes (a non-2xx body is cut at ERROR_BODY_MAX instead).

    A 2xx body over the cap raises AnswerTooLarge. With a `deadline`, a request still unanswered when it passes
    fails with DeadlineExceeded (an httpx.TimeoutException, so callers treat it like any timeout).
    """
    watchdog = _Watchdog(deadline) if deadline is not None else None
    if watchdog is not None:
        kwargs["extensions"] = {**kwargs.get("extensions", {}), "trace": watchdog.trace}
        if deadline.expired():
            raise deadline.error()
    request = client.build_request(method, url, **kwargs)
    try:
        with watchdog if watchdog is not None else contextlib.nullcontext():
            response = client.send(request, stream=True)
            if watchdog is not None:
                watchdog.watch(response.extensions.get("network_stream"))
            try:
                limit = cap if response.status_code < 400 else min(cap, ERROR_BODY_MAX)
                body, more = read_capped(response, limit, deadline)
            finally:
                response.close()
    except httpx.TransportError as exc:
        if watchdog is not None and watchdog.fired and not isinstance(exc, DeadlineExceeded):
            raise deadline.error() from exc
        raise
    if more and response.status_code < 400:
        raise AnswerTooLarge(f"{what}: the answer is larger than {size_text(cap)}; not read further")
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS]
    extensions = {k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")}
    return httpx.Response(response.status_code, headers=headers, content=body, request=request, extensions=extensions)


def lines_capped(response: httpx.Response, line_max: int, what: str) -> Iterator[str]:
    """Text lines of a streamed answer; a line longer than `line_max` characters is an error, not a buffer."""
    pending = ""
    for text in response.iter_text():
        pending += text
        *lines, pending = pending.splitlines(keepends=True) or [""]
        if pending.endswith(("\n", "\r")):
            lines.append(pending)
            pending = ""
        yield from (line.rstrip("\r\n") for line in lines)
        if len(pending) > line_max:
            raise BackendError(f"{what}: a line longer than {size_text(line_max)}; not read further")
    if pending:
        yield pending
