"""A blocking network backend for httpcore whose reads carry the kernel's receive time (Linux SO_TIMESTAMPNS).

stream_chat reads each plain-http stream through it in a thread of its own: one blocking `recvmsg` per read, where
a read on the event loop costs a readiness wait (epoll, a reader added and removed, a timer) and a second
`recvmsg` per token chunk, CPU the box being measured does not have (benchmarks/client_footprint.py). The kernel
stamps each packet as it is received, so how long a read's bytes waited in the socket (for the thread to be
scheduled, or for the GIL) is known, and stream_chat takes it off its stamps. Plain TCP only (http://); where the
kernel gives no stamp, `waited_ns` is 0 and the stamps are those of the read.
Where the platform cannot give them at all (Windows, macOS: no SO_TIMESTAMPNS, and on Windows no `CMSG_SPACE`),
`KERNEL_STAMPS` is false, `WHY_NOT` says why (`--debug` prints it), and stream_client keeps httpx's own transport
on the event loop, whose reads are stamped on arrival.

A blocking read must still end: every wait on the socket lasts at most SLICE_S (SO_RCVTIMEO / SO_SNDTIMEO, so a
read is one system call), after which the request's `Control` is asked whether it was cancelled or is past its
deadline; `Control.cancel` also shuts the socket down, which wakes a read at once.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import struct
import sys
import threading
import time
import typing
from collections.abc import Iterator

import httpcore

# asm-generic value, used by every Linux architecture Python runs on here; absent from the socket module
SO_TIMESTAMPNS = 35
SLICE_S = 0.25  # the longest a blocked read or write goes without looking at its request's Control


def _why_not(platform: str = sys.platform, sock: object = socket) -> str | None:
    """Why reads cannot carry the kernel's receive stamp here, or None where they can."""
    if platform != "linux":
        return f"kernel receive stamps are Linux-only (this is {platform}): reads are stamped on arrival"
    if not (hasattr(sock, "CMSG_SPACE") and hasattr(sock.socket, "recvmsg")):
        return "this Python's socket module has no recvmsg/CMSG_SPACE: reads are stamped on arrival"
    return None


WHY_NOT = _why_not()
KERNEL_STAMPS = WHY_NOT is None
_ANCILLARY = socket.CMSG_SPACE(16) if KERNEL_STAMPS else 0  # one struct timespec
_SLICE = struct.pack("ll", int(SLICE_S), int(SLICE_S % 1 * 1_000_000))  # struct timeval


class Cancelled(Exception):
    """The request's Control was cancelled (its caller stopped waiting for it)."""


class Control:
    """One request's deadline (time.monotonic) and cancellation, seen by the thread reading it. httpcore hands a
    network stream no request, and a kept-alive connection serves requests from several threads, so the thread
    running a request binds its Control (`bound`) and the stream looks it up on each wait."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.cancelled = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled("the request was cancelled")
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise TimeoutError("the request's deadline passed")

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.cancelled:
                _shut(sock)

    def cancel(self) -> None:
        """From any thread: the request's reads and writes end at their next look, a blocked read at once."""
        with self._lock:
            self.cancelled = True
            if self._sock is not None:
                _shut(self._sock)


_bound = threading.local()


@contextlib.contextmanager
def bound(control: Control) -> Iterator[Control]:
    """`with bound(control):` the current thread's streams answer to `control` until the block ends."""
    _bound.control = control
    try:
        yield control
    finally:
        _bound.control = None


def _control(sock: socket.socket) -> Control | None:
    control = getattr(_bound, "control", None)
    if control is not None and control._sock is not sock:
        control.attach(sock)  # a kept-alive connection now serving this thread's request
    return control


class StampedStream(httpcore.NetworkStream):
    """A blocking TCP socket read with recvmsg; `waited_ns` is how long the last read's bytes (its last packet)
    sat in the kernel before the read returned."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.waited_ns = 0

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        control = _control(self._sock)
        try:
            while True:
                if control is not None:  # also between reads that never wait (a server flooding the socket)
                    control.check()
                try:
                    data, ancillary, _flags, _addr = self._sock.recvmsg(max_bytes, _ANCILLARY)
                    break
                except BlockingIOError:  # SLICE_S passed with nothing to read
                    if control is None:
                        raise httpcore.ReadTimeout("no bytes within the read slice, outside a request") from None
        except OSError as exc:
            if isinstance(exc, TimeoutError):
                raise
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc
        self.waited_ns = _waited(ancillary) if ancillary else 0
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        control = _control(self._sock)
        view = memoryview(buffer)
        try:
            while view:
                if control is not None:
                    control.check()
                try:
                    view = view[self._sock.send(view):]
                except BlockingIOError:  # SLICE_S passed with the send buffer full
                    if control is None:
                        raise httpcore.WriteTimeout("the send buffer stayed full, outside a request") from None
        except OSError as exc:
            if isinstance(exc, TimeoutError):
                raise
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the stamped backend serves plain TCP only (it is mounted for http:// only)")

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "is_readable":  # a kept-alive connection the server closed or wrote to is not reused
            return self._sock.fileno() < 0 or _has_data(self._sock)
        return None


class StampedBackend(httpcore.NetworkBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[tuple] | None = None,
    ) -> StampedStream:
        control = getattr(_bound, "control", None)
        try:
            last: OSError | None = None
            for family, kind, proto, _name, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
                sock = socket.socket(family, kind, proto)
                try:
                    for option in socket_options or ():
                        sock.setsockopt(*option)
                    if KERNEL_STAMPS:
                        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    if local_address:
                        sock.bind((local_address, 0))
                    if control is not None:
                        control.attach(sock)
                    _connect(sock, address, control, timeout)
                    # blocking from here on, each wait cut at SLICE_S by the kernel (EAGAIN: BlockingIOError)
                    sock.setblocking(True)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _SLICE)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _SLICE)
                    return StampedStream(sock)
                except OSError as exc:
                    sock.close()
                    if isinstance(exc, TimeoutError):
                        raise
                    last = exc
                except BaseException:
                    sock.close()
                    raise
            raise last or OSError(f"no address for {host}")
        except TimeoutError:
            raise
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _connect(sock: socket.socket, address: tuple, control: Control | None, timeout: float | None) -> None:
    """Connect without blocking more than SLICE_S between looks at `control`; a connect `timeout` (httpcore's,
    None outside a request's own) raises httpcore.ConnectTimeout."""
    sock.setblocking(False)
    until = None if timeout is None else time.monotonic() + timeout
    err = sock.connect_ex(address)
    while err in (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK, errno.EINTR):
        if control is not None:
            control.check()
        if until is not None and time.monotonic() >= until:
            raise httpcore.ConnectTimeout(f"no connection within {timeout:g} s")
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        if poller.poll(SLICE_S * 1000):
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            break
    if err:
        raise OSError(err, errno.errorcode.get(err, str(err)))


def _shut(sock: socket.socket) -> None:
    """Wake whatever blocks on `sock` (a read returns the end of the stream); a socket already closed is left."""
    with contextlib.suppress(OSError):  # not connected yet, or closed by its reader: nothing blocks on it
        sock.shutdown(socket.SHUT_RDWR)


def _has_data(sock: socket.socket) -> bool:
    """Bytes or an end of stream waiting (MSG_PEEK leaves them for the next read)."""
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    return True


def _waited(ancillary: list[tuple[int, int, bytes]]) -> int:
    """Now minus the kernel's receive stamp, both on CLOCK_REALTIME (the stamp's clock) and read together, so a
    step of the wall clock between packets does not reach the result; never negative."""
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
            sec, nsec = struct.unpack("qq", value[:16])
            return max(0, time.time_ns() - (sec * 1_000_000_000 + nsec))
    return 0
