"""One benchmark at a time per endpoint, across processes (the tabs of `fl-tui web`, two terminals, the app and a
headless `fl-tui bench`): a run measured while another one shares the service would report the other's load as its
own latency.

The lock is an OS file lock on a file per endpoint in the state dir, keyed on the endpoint as the network sees it
(`lock_key`: scheme, address, port), held by `fl-tui bench` for each endpoint it measures and by the app while its
benchmark process runs (which is told so through HELD_ENV and does not take it again). The OS drops it when the
holder ends, however it ends, so a crash leaves nothing stale behind. The file says who holds it, for the notice
the second one shows.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from fl_tui.core import locations
from fl_tui.core.errors import UserError

if os.name == "nt":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False


class EndpointBusy(UserError):
    pass


HELD_ENV = "FL_TUI_LOCK_HELD"  # the lock_key the app holds for the benchmark process it starts


def lock_key(endpoint: str) -> str:
    """`scheme://address:port`, one key however the endpoint is spelt: `localhost`, `127.0.0.1` and `[::1]` are
    one loopback host, a name is resolved to its address, and a path (`/v1`) is no part of it."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    scheme = (parts.scheme or "http").lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:  # a port that is not a number: the spelling is all there is
        return endpoint.strip().rstrip("/").lower()
    host = (parts.hostname or "").lower()
    return f"{scheme}://{_address(host, port)}:{port}"


def _address(host: str, port: int) -> str:
    """Loopback, the address a name resolves to first (sorted, so always the same one), or the name when it does
    not resolve here."""
    try:
        found = {ipaddress.ip_address(info[4][0].split("%")[0])
                 for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (OSError, ValueError, UnicodeError):
        return host
    if any(address.is_loopback for address in found):
        return "loopback"
    return str(min(found, key=lambda a: (a.version, a))) if found else host


def lock_path(endpoint: str) -> Path:
    key = hashlib.sha256(lock_key(endpoint).encode()).hexdigest()[:16]
    return locations.state_dir() / "bench-locks" / f"{key}.lock"


def held_here(endpoint: str, env: dict[str, str] | None = None) -> bool:
    """Whether the process that started this one holds the endpoint's lock for it (the app's benchmark)."""
    return (os.environ if env is None else env).get(HELD_ENV) == lock_key(endpoint)


class EndpointLock:
    """Held from `acquire` until `release` (or the process ends)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.path = lock_path(endpoint)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Raise EndpointBusy, naming the holder, when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            try:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
            except OSError:  # Windows: the locked byte cannot be read by others
                holder = ""
            finally:
                os.close(fd)
            holder = holder or "another process"
            raise EndpointBusy(f"another session's benchmark is running on {self.endpoint} ({holder}): "
                               "start this one when it ends")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, since {time.strftime('%H:%M:%S')}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
