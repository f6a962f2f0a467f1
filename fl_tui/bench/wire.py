"""The engine's events as JSON lines, so a benchmark can run in a process of its own and be watched from another.

Why: timestamps must be taken where nothing else competes for the interpreter. In the app's process a render
holds the GIL for milliseconds (and a full garbage collection for tens), and an engine thread stamping bytes
would wait for it. So the Benchmark tab runs `fl-tui bench --events` as a child: the child stamps, measures and
writes the run files exactly as headless; the app only reads these lines and draws.

The codec is derived from the event types (fl_tui.bench.events), not written per event: a line is
`{"k": <class name>, <field>: <value>, ...}`, each value turned to and from JSON by its field's annotation, so a
new event or field needs no change here. Both ends are the same installed fl-tui, so class names are a stable
enough tag. Bytes go as surrogate-escaped text under `ensure_ascii`, so a chunk's bytes come back exactly.

On POSIX the child writes through an asyncio pipe transport, which never blocks its loop (a slow reader only grows
a buffer); into a regular file, and on Windows, it writes directly. Stamps are taken before anything is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import stat
import sys
import types
import typing
from array import array
from enum import StrEnum
from pathlib import Path

from fl_tui.bench.events import EVENT_TYPES, Chunk, Event

_BY_NAME = {cls.__name__: cls for cls in EVENT_TYPES}
_SCALARS = (bool, int, float, str)


def _to_json(value: object) -> object:
    match value:
        case None | bool() | int() | float() | str():  # a StrEnum is a str: its value goes
            return value
        case Path():
            return str(value)
        case bytes():
            return value.decode("utf-8", "surrogateescape")
        case array():
            return value.tolist()
        case list() | tuple():
            return [_to_json(v) for v in value]
        case dict():
            return {str(k): _to_json(v) for k, v in value.items()}
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: _to_json(getattr(value, f.name)) for f in _wire_fields(type(value))}
    raise TypeError(f"no wire form for {type(value).__name__}")


@functools.cache
def _wire_fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.metadata.get("wire", True))


@functools.cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _expect(raw: object, kind: type | tuple[type, ...], hint: object) -> None:
    if not isinstance(raw, kind) or (isinstance(raw, bool) and hint in (int, float)):
        raise ValueError(f"expected {getattr(hint, '__name__', hint)}, got {raw!r:.60}")


def _from_json(hint: object, raw: object) -> object:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]  # the codec knows `X | None` only
        return _from_json(inner, raw)
    if origin in (list, tuple):
        _expect(raw, list, hint)
        return origin(_from_json(args[0], item) for item in raw)
    if hint is dict or origin is dict:
        _expect(raw, dict, hint)
        return raw
    if hint in (Path, bytes):
        _expect(raw, str, hint)
        return Path(raw) if hint is Path else raw.encode("utf-8", "surrogateescape")
    if hint is array:
        _expect(raw, list, hint)
        return array("d", [_from_json(float, item) for item in raw])
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return hint(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        _expect(raw, dict, hint)
        wanted = _wire_fields(hint)
        unknown = set(raw) - {f.name for f in wanted}
        if unknown:
            raise ValueError(f"{hint.__name__}: unknown fields {sorted(unknown)}")
        hints = _hints(hint)
        return hint(**{f.name: _from_json(hints[f.name], raw[f.name]) for f in wanted if f.name in raw})
    if hint in _SCALARS:
        _expect(raw, (int, float) if hint is float else hint, hint)
        return float(raw) if hint is float else raw
    raise TypeError(f"no wire form for {hint!r}")


def encode(event: Event) -> dict:
    return {"k": type(event).__name__, **_to_json(event)}


def decode(line: str) -> Event:
    """One wire line back to its event; ValueError for anything that is not one (bad JSON, kind, field, type)."""
    msg = json.loads(line)
    if not isinstance(msg, dict) or msg.get("k") not in _BY_NAME:
        raise ValueError(f"not an event line: {line[:120]!r}")
    cls = _BY_NAME[msg.pop("k")]
    try:
        return _from_json(cls, msg)
    except TypeError as exc:  # a missing field: the dataclass's own complaint
        raise ValueError(f"{cls.__name__}: {exc}") from exc


class WireWriter:
    """The child's side: an observer and a chunk sink for BenchEngine that write lines to stdout.

    Token chunks are sent in batches every BATCH_S (their stamps are already taken; a screen draws at 10 Hz), so
    the watching process wakes a few dozen times a second, not once per token; other events go at once, after
    the chunks before them, so the order is kept."""

    BATCH_S = 0.05

    def __init__(self, transport: asyncio.WriteTransport):
        self.transport = transport
        self._pending: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    async def open(cls, stream=None) -> WireWriter:
        """A writer on a copy of `stream`'s descriptor (default stdout): the transport closes what it is given,
        and stdout must stay open for the command's last words. On POSIX a pipe, socket or terminal gets the loop's
        write transport (a slow reader never stalls the run). A regular file (`--events > events.jsonl`), which the
        loop cannot watch and whose writes never wait on a reader, is written directly; so is everything on
        Windows, whose loop writes only to pipes opened for overlapped I/O, which an inherited stdout is not (there
        the app's reader thread empties the pipe as it fills)."""
        target = os.fdopen(os.dup((stream or sys.stdout).fileno()), "wb", buffering=0)
        mode = os.fstat(target.fileno()).st_mode
        if sys.platform == "win32" or not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)):
            return cls(_FileTransport(target))
        transport, _protocol = await asyncio.get_running_loop().connect_write_pipe(asyncio.Protocol, target)
        return cls(transport)

    @staticmethod
    def line(event: Event) -> bytes:
        return (json.dumps(encode(event), ensure_ascii=True) + "\n").encode("ascii")

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self.transport.write(b"".join(self._pending))
            self._pending = []

    def observe(self, event: Event) -> None:
        self._pending.append(self.line(event))
        self.flush()

    def chunk(self, event: Chunk) -> None:
        self._pending.append(self.line(event))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.BATCH_S, self.flush)

    async def drain(self) -> None:
        """Wait until everything is written (the run's last lines must reach the reader before exit)."""
        self.flush()
        while self.transport.get_write_buffer_size():
            await asyncio.sleep(0.01)


class _FileTransport(asyncio.WriteTransport):
    """The little of a write transport WireWriter uses, over a regular file: every write goes straight in."""

    def __init__(self, file: typing.BinaryIO) -> None:
        super().__init__()
        self._file = file

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self._file.close()
