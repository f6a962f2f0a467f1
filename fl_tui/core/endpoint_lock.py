"""One benchmark at a time per endpoint, across app processes (the tabs of `fl-tui web`, or two terminals): a run
measured while another one shares the service would report the other's load as its own latency.

The lock is an OS file lock on a file per endpoint in the state dir, held by the app while its benchmark child
runs; the OS drops it when the holder ends, however it ends, so a crash leaves nothing stale behind. The file says
who holds it, for the notice the second app shows.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

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


def lock_path(endpoint: str) -> Path:
    key = hashlib.sha256(endpoint.rstrip("/").encode()).hexdigest()[:16]
    return locations.state_dir() / "bench-locks" / f"{key}.lock"


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
