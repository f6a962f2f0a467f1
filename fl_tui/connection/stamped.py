"""A network backend for httpcore whose reads carry the kernel's receive time (Linux SO_TIMESTAMPNS).

With several streams on one event loop, a chunk that arrives while the loop serves another stream waits in the
socket until the loop comes back to it; a stamp taken after the read then carries that wait, and measured gaps
grow with concurrency (benchmarks/stream_accuracy.py (d)). The kernel stamps each packet as it is received, so how
long a read's bytes waited in the socket is known, and stream_chat takes it off its stamps. Plain TCP only
(http://); elsewhere, and where the kernel gives no stamp, `waited_ns` is 0 and the stamps are as before.
Where the platform cannot give them at all (Windows, macOS: no SO_TIMESTAMPNS, and on Windows no `CMSG_SPACE` or
`add_reader`), `KERNEL_STAMPS` is false, `WHY_NOT` says why (`--debug` prints it), and stream_client keeps httpx's
own transport, whose reads are stamped on arrival.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
import typing

import httpcore

# asm-generic value, used by every Linux architecture Python runs on here; absent from the socket module
SO_TIMESTAMPNS = 35


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


# Reads in a row that found bytes waiting (never awaiting the loop): a server flooding the socket (endless
# `100 Continue`) would otherwise hold the loop, and no deadline set on it (the request's --timeout) could fire
YIELD_EVERY = 64


class StampedStream(httpcore.AsyncNetworkStream):
    """A non-blocking TCP socket read with recvmsg; `waited_ns` is how long the last read's bytes (its last packet)
    sat in the kernel before the read returned."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.waited_ns = 0
        self._ready_reads = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        loop = asyncio.get_running_loop()
        self._ready_reads += 1
        if self._ready_reads >= YIELD_EVERY:  # before the read: its kernel stamp still says when the bytes came
            self._ready_reads = 0
            await asyncio.sleep(0)
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                try:
                    data, ancillary, _flags, _addr = self._sock.recvmsg(max_bytes, _ANCILLARY)
                    break
                except BlockingIOError:
                    self._ready_reads = 0
                    await _readable(loop, self._sock, deadline)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "timed out") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc
        self.waited_ns = _waited(ancillary)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                await asyncio.get_running_loop().sock_sendall(self._sock, buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._sock.close()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.AsyncNetworkStream:
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


class StampedBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[tuple] | None = None,
    ) -> StampedStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                last: OSError | None = None
                for family, kind, proto, _name, address in infos:
                    sock = socket.socket(family, kind, proto)
                    try:
                        sock.setblocking(False)
                        for option in socket_options or ():
                            sock.setsockopt(*option)
                        if KERNEL_STAMPS:
                            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                        if local_address:
                            sock.bind((local_address, 0))
                        await loop.sock_connect(sock, address)
                        return StampedStream(sock)
                    except OSError as exc:
                        sock.close()
                        last = exc
                    except BaseException:
                        sock.close()
                        raise
                raise last or OSError(f"no address for {host}")
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket, deadline: float | None) -> None:
    """Until `sock` has bytes (or an end) to read; TimeoutError at `deadline` (the loop's clock). One timer and
    one reader for the wait, not an asyncio.timeout context per read: a read is made for every token chunk, and
    what the client spends per chunk is CPU the box being measured does not have."""
    ready = loop.create_future()
    fd = sock.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    timer = None if deadline is None else loop.call_at(deadline, lambda: ready.done() or ready.set_exception(
        TimeoutError("no bytes before the read timeout")))
    try:
        await ready
    finally:
        loop.remove_reader(fd)
        if timer is not None:
            timer.cancel()


def _has_data(sock: socket.socket) -> bool:
    """Bytes or an end of stream waiting (MSG_PEEK leaves them for the next read)."""
    try:
        sock.recv(1, socket.MSG_PEEK)
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
