"""The live view's state, folded from the engine's events. Headless: the Benchmark tab draws it on a clock.

The engine's thread appends events to a queue; `LiveState.drain` applies them and `LiveState.tick` reads the
new bytes of the request in flight (already stamped by the engine), so statistics are computed a few times a
second over arrays, never once per token, and drawing never touches a timestamp.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

from fl_tui.bench.child import RunFailed
from fl_tui.bench.engine import (
    LiveRequest,
    ModelFinished,
    ModelPhase,
    RequestFinished,
    RequestStarted,
    RunFinished,
    RunStarted,
)
from fl_tui.bench.metrics import parse_events
from fl_tui.bench.stats import chunk_gaps
from fl_tui.textsafe import plain

ROLLING = 240  # gaps kept for a model's rolling sparkline (a few widths of the widget)
TEXT_LIMIT = 4000  # characters of the streaming answer kept for display


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q, method="linear")) if values else None


@dataclass
class ModelRow:
    name: str
    total: int
    status: str = "waiting"
    detail: str | None = None
    done: int = 0
    ttft: list[float] = field(default_factory=list)
    itl: list[float] = field(default_factory=list)
    decode_tps: list[float] = field(default_factory=list)
    rss_peak_mb: float | None = None
    deterministic: bool | None = None
    rolling: collections.deque = field(default_factory=lambda: collections.deque(maxlen=ROLLING))

    def figures(self) -> dict[str, float | None]:
        return {
            "ttft_p50": _pct(self.ttft, 50),
            "ttft_p95": _pct(self.ttft, 95),
            "ttft_p99": _pct(self.ttft, 99),
            "itl_p95": _pct(self.itl, 95),
            "decode_tps": float(np.mean(self.decode_tps)) if self.decode_tps else None,
        }


@dataclass
class InFlight:
    live: LiveRequest
    seen: int = 0  # events of live.events already read
    last_token_ns: int | None = None
    gaps: list[float] = field(default_factory=list)  # ms between token-bearing chunks, as they came
    text: str = ""


class LiveState:
    def __init__(self) -> None:
        self.queue: collections.deque = collections.deque()  # appended by the engine's thread
        self.rows: dict[str, ModelRow] = {}
        self.inflight: InFlight | None = None
        self.run_id: str | None = None
        self.run_dir = None
        self.run: dict | None = None
        self.interrupted = False
        self.failure: str | None = None  # the run's process ended without finishing (RunFailed)

    def observe(self, event: object) -> None:
        """The engine's observer: only an append, safe from its thread."""
        self.queue.append(event)

    def drain(self) -> bool:
        """Apply queued events; returns whether anything changed."""
        changed = False
        while self.queue:
            self.apply(self.queue.popleft())
            changed = True
        return self.tick() or changed

    def apply(self, event: object) -> None:
        if isinstance(event, RunStarted):
            self.run_id, self.run_dir = event.run_id, event.run_dir
            self.rows = {m: ModelRow(m, event.requests_per_model) for m in event.models}
        elif isinstance(event, ModelPhase):
            row = self.rows[event.model]
            row.status, row.detail = event.phase, event.detail
        elif isinstance(event, RequestStarted):
            self.tick()  # finish reading the previous request before switching
            self.inflight = InFlight(event.live)
        elif isinstance(event, RequestFinished):
            self._finished(self.rows[event.model], event.result)
        elif isinstance(event, ModelFinished):
            row = self.rows[event.model]
            row.rss_peak_mb = event.result.rss_peak_mb
            row.deterministic = event.result.deterministic
        elif isinstance(event, RunFailed):
            self.failure = event.message
        elif isinstance(event, RunFinished):
            self.tick()
            self.run, self.interrupted = event.run, event.interrupted
            for row in self.rows.values():
                if row.status in ("waiting", "loading", "warm-up", "running"):
                    row.status = "stopped" if event.interrupted else row.status

    def _finished(self, row: ModelRow, result) -> None:
        row.done += 1
        if result.warmup or result.status != "ok":
            return
        if result.ttft_ms is not None:
            row.ttft.append(result.ttft_ms)
        row.itl.extend(chunk_gaps(result))
        if result.decode_tps is not None:
            row.decode_tps.append(result.decode_tps)

    def tick(self) -> bool:
        """Read the new events of the request in flight: its gaps and its text."""
        flight = self.inflight
        if flight is None:
            return False
        events = flight.live.events
        count = len(events)  # the engine's thread only appends; read up to what is there now
        if count == flight.seen:
            return False
        parsed = parse_events(events[flight.seen:count])
        flight.seen = count
        row = self.rows.get(flight.live.model)
        for stamp in parsed.token_stamps:
            if flight.last_token_ns is not None:
                gap = (stamp - flight.last_token_ns) / 1e6
                flight.gaps.append(gap)
                if row is not None:
                    row.rolling.append(gap)
            flight.last_token_ns = stamp
        if parsed.answer:
            flight.text = (flight.text + plain("".join(parsed.answer)))[-TEXT_LIMIT:]
        return True

    def progress(self) -> tuple[int, int]:
        return sum(r.done for r in self.rows.values()), sum(r.total for r in self.rows.values())
