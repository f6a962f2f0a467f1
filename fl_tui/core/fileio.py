"""Writes that never leave a half-written file: a temporary file in the same folder, fsync, atomic rename.

The file gets the mode a plain open() would give it (the umask applies; mkstemp alone makes 0600), or keeps the
mode of the file it replaces, so a run written on a shared box is readable by whoever may read its folder."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from fl_tui.core import platform
from fl_tui.core.errors import FileProblem
from fl_tui.core.limits import size_text


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """`path` replaced whole. A symlink is written through: its target is replaced and the link stays (a config
    kept in a dotfiles folder stays linked)."""
    path = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
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


def read_input(path: Path, limit: int) -> bytes:
    """The bytes of a file a person pointed us at, refused (FileProblem) when it is not a regular file or is larger
    than `limit`. Opened non-blocking, so a FIFO neither hangs the open nor is read; /dev/zero is a device."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if os.path.isdir(path):  # Windows refuses to open a folder with "permission denied": say what it is
            raise FileProblem(path, "cannot read: not a regular file (a directory)") from exc
        raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(path, f"cannot read: not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise FileProblem(path, f"cannot read: larger than {size_text(limit)} ({info.st_size} bytes)")
        data = _read_up_to(fd, limit + 1)  # a file still growing is cut here, and refused
    except OSError as exc:
        raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileProblem(path, f"cannot read: larger than {size_text(limit)}")
    return data


def _read_up_to(fd: int, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0 and (part := os.read(fd, min(n, 1 << 20))):
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))
    for test, name in kinds:
        if test(mode):
            return name
    return "not a plain file"
