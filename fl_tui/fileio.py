"""Writes that never leave a half-written file: a temporary file in the same folder, fsync, atomic rename.

The file gets the mode a plain open() would give it (the umask applies; mkstemp alone makes 0600), or keeps the
mode of the file it replaces, so a run written on a shared box is readable by whoever may read its folder."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from fl_tui import platform


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = platform.new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        platform.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dfd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete what a killed `atomic_write_*` of `path` left behind (never read, but clutter). Call it only
    when nothing else is writing `path`, e.g. when the one process that owns the file opens it."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale
