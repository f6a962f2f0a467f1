"""An incremental Server-Sent Events splitter that stamps each event with the arrival time of its bytes.

It is fed raw network reads and each read's arrival time (`perf_counter_ns` right after the read, less the time
its bytes waited in the socket where connection.stamped knows it), so no parsing or UI work ever sits between the
bytes arriving and their timestamp (see fl_tui/bench/definitions.py and docs/metrics.md, "How the figures are
measured"). Lines end in LF or CRLF; comments and unknown fields are skipped; data lines of one event are joined by
LF. The pending partial line is a bytearray searched only where new bytes arrived, so a long line without a newline
costs linear time; its length is bounded by the stream's byte cap (see chat.py), not here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    t_ns: int  # arrival of the read that completed the event
    data: bytes
    event: str | None = None  # the `event:` field, e.g. "error"


class SSEParser:
    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._data: list[bytes] = []
        self._event: str | None = None

    def feed(self, chunk: bytes, t_ns: int) -> list[SSEEvent]:
        self._buf += chunk  # amortised linear: a bytearray grows in place
        if b"\n" not in chunk:
            return []
        end = self._buf.rfind(b"\n")
        lines = bytes(self._buf[:end]).split(b"\n")
        del self._buf[: end + 1]
        out: list[SSEEvent] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data or self._event is not None:
                    out.append(SSEEvent(t_ns, b"\n".join(self._data), self._event))
                self._data = []
                self._event = None
            elif line[:1] != b":":
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    self._data.append(value)
                elif name == b"event":
                    self._event = value.decode("utf-8", "replace")
        return out

    def finish(self, t_ns: int) -> list[SSEEvent]:
        """Flush an event the server did not terminate with a blank line (lenient: some servers close early)."""
        tail = self.feed(b"\n\n", t_ns) if (self._buf or self._data or self._event is not None) else []
        self._buf.clear()
        return tail
