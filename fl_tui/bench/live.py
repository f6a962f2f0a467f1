"""The live view's state, folded from the engine's events. Headless: the Benchmark tab draws it on a clock.

The child-process reader's thread (fl_tui.bench.child) appends events to a queue; `LiveState.drain` applies them
and `LiveState.tick` parses the new bytes of each request in flight (already stamped by the engine; a Chunk names
its request, so at a level above 1 each answer keeps its own text), so statistics are computed a few times a
second over arrays, never once per token, and drawing never touches a timestamp. The answer pane follows one
request at a time (`LiveState.inflight`): the oldest still in flight, so a request's text is shown to its end.

A run that sweeps load levels or prompt lengths also gets one row per model and level (`LiveState.levels`), in the
order the engine runs them (`sweep_plan`); each finished request goes to its level's row by the level it names.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

import numpy as np

from fl_tui.bench import load
from fl_tui.bench.endpoints import short
from fl_tui.bench.engine import BenchSettings
from fl_tui.bench.events import (
    Chunk,
    Event,
    LiveRequest,
    ModelFinished,
    ModelPhase,
    Phase,
    RequestFinished,
    RequestStarted,
    RunFailed,
    RunFinished,
    RunStarted,
)
from fl_tui.bench.metrics import parse_events
from fl_tui.bench.records import ModelResult, RequestResult
from fl_tui.bench.runschema import RunJson
from fl_tui.bench.stats import chunk_gaps
from fl_tui.connection.sse import SSEEvent
from fl_tui.core.textsafe import plain

MARKS = 12  # the last answers' check marks shown per model
Level = tuple[int | None, int | None]  # (concurrency, prompt length) as a request names them; None: not swept
ROLLING = 240  # gaps kept for a model's rolling sparkline (a few widths of the widget)
TEXT_LIMIT = 4000  # characters of the streaming answer kept for display


def sweep_plan(settings: BenchSettings) -> tuple[Level, ...]:
    """The levels each model runs, in the engine's order (each concurrency, then each prompt length within it),
    keyed as its requests are tagged: a concurrency only when several were asked, a length only when swept."""
    levels = settings.levels or (settings.concurrency,)
    return tuple((c if len(levels) > 1 else None, t) for c in levels for t in (settings.prompt_tokens or (None,)))


def level_name(level: Level) -> str:
    """`c4 t1024`: short, for a narrow column."""
    concurrency, length = level
    return " ".join([*([f"c{concurrency}"] if concurrency is not None else []),
                     *([f"t{length}"] if length is not None else [])])


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q, method="linear")) if values else None


@dataclass
class ModelRow:
    name: str
    total: int  # measured requests planned; the warm-up is not counted, here or in `done`
    status: Phase = Phase.WAITING
    detail: str | None = None
    done: int = 0  # measured requests finished, answered or failed
    ttft: list[float] = field(default_factory=list)
    itl: list[float] = field(default_factory=list)
    decode_tps: list[float] = field(default_factory=list)
    rss_peak_mb: float | None = None
    deterministic: bool | None = None
    rolling: collections.deque = field(default_factory=lambda: collections.deque(maxlen=ROLLING))
    level: Level = (None, None)
    final: bool = False  # the engine's ModelFinished for this row came: `status` is its verdict
    good: int = 0  # measured requests meeting every --slo bound
    window_ms: tuple[float, float] | None = None  # first start and last end of its answered requests
    slo_fraction: float | None = None  # the engine's figures once it has finished the row, else None
    goodput_rps: float | None = None
    checks_passed: int = 0  # of the measured answers' checks run so far
    checks_run: int = 0
    marks: collections.deque = field(default_factory=lambda: collections.deque(maxlen=MARKS))  # ✓ / ✗ per answer

    def checks_line(self) -> str | None:
        """`✓✓✗  checks 5/6`: each finished answer's mark (✓ when it passed all its checks), then the totals."""
        if not self.checks_run:
            return None
        return f"{''.join(self.marks)}  checks {self.checks_passed}/{self.checks_run}"

    def figures(self) -> dict[str, float | None]:
        return {
            "ttft_p50": _pct(self.ttft, 50),
            "ttft_p95": _pct(self.ttft, 95),
            "ttft_p99": _pct(self.ttft, 99),
            "itl_p95": _pct(self.itl, 95),
            "decode_tps": float(np.mean(self.decode_tps)) if self.decode_tps else None,
        }

    def goodput(self) -> tuple[float | None, float | None]:
        """(fraction of measured requests meeting every bound, those per second of the answered requests' window),
        as the engine computes them (load.goodput): its own figures once it sent them."""
        if self.final:
            return self.slo_fraction, self.goodput_rps
        if not self.done:
            return None, None
        span_s = (self.window_ms[1] - self.window_ms[0]) / 1000 if self.window_ms else 0.0
        return self.good / self.done, (self.good / span_s if span_s > 0 else None)


@dataclass
class InFlight:
    live: LiveRequest
    pending: list[SSEEvent] = field(default_factory=list)  # its chunks not yet parsed
    last_token_ns: int | None = None
    gaps: list[float] = field(default_factory=list)  # ms between token-bearing chunks, as they came
    text: str = ""


class LiveState:
    def __init__(self, plan: tuple[Level, ...] = ((None, None),), slo: dict[str, float] | None = None,
                 endpoints: tuple[str, ...] = ()) -> None:
        """`plan`: sweep_plan of the run's settings; `slo`: its --slo bounds, for the live goodput; `endpoints`:
        where the run goes, in order, when it goes to several (its models are then named `model @ host:port`)."""
        self.queue: collections.deque[Event] = collections.deque()  # appended by the child reader's thread
        self.plan, self.slo = plan, slo or None
        self.endpoints = endpoints if len(endpoints) > 1 else ()
        self.rows: dict[str, ModelRow] = {}
        self.variants: dict[str, str] = {}  # model as asked -> the variant id it ran as (the summary's name)
        self.levels: dict[str, dict[Level, ModelRow]] = {}  # model -> its level rows, when the run sweeps
        self._finished_levels: dict[str, int] = {}  # model -> ModelFinished events seen (one per level, in order)
        self.flights: dict[str, InFlight] = {}  # the requests in flight by key, oldest first
        self.inflight: InFlight | None = None  # the one the answer pane follows
        self.run_id: str | None = None
        self.run_dir: Path | None = None
        self.run: RunJson | None = None
        self.interrupted = False
        self.failure: str | None = None  # the run's process ended without finishing (RunFailed)
        self.finished = 0  # requests finished, warm-ups included: what the run's process has sent so far

    def observe(self, event: Event) -> None:
        """The engine's observer: only an append, safe from its thread."""
        self.queue.append(event)

    def drain(self) -> bool:
        """Apply queued events; returns whether anything changed."""
        changed = False
        while self.queue:
            self.apply(self.queue.popleft())
            changed = True
        return self.tick() or changed

    def apply(self, event: Event) -> None:
        match event:
            case RunStarted(run_id=run_id, run_dir=run_dir, models=models, planned_per_model=total):
                self.run_id, self.run_dir = run_id, run_dir
                self.rows = {m: ModelRow(m, total) for m in models}
                if self.swept:
                    per_level = total // len(self.plan)
                    self.levels = {m: {lv: ModelRow(m, per_level, level=lv) for lv in self.plan} for m in models}
            case ModelPhase(model=model, phase=phase, detail=detail):
                row = self.rows[model]
                row.status, row.detail = phase, detail
            case RequestStarted(live=live):
                self.flights[live.key] = flight = InFlight(live)
                if self.inflight is None or self.inflight.live.key not in self.flights:
                    self.tick()  # the text of the one shown so far is complete before it is left
                    self.inflight = flight
            case Chunk(request=key, event=chunk):
                if (flight := self.flights.get(key)) is not None:
                    flight.pending.append(chunk)
            case RequestFinished(model=model, result=result):
                self._landed(result.id)
                self.variants[model] = result.model
                self.finished += 1
                self._finished(self.rows[model], result)
                level = self.levels.get(model, {}).get((result.concurrency, result.prompt_target))
                if level is not None and not result.warmup:
                    self._finished(level, result)
            case ModelFinished(model=model, result=result):
                row = self.rows[model]
                row.rss_peak_mb = result.rss_peak_mb
                row.deterministic = result.deterministic
                self._level_finished(model, result)
            case RunFailed(message=message):
                self.failure = message
            case RunFinished(run=run, interrupted=interrupted):
                self.tick()
                self.flights.clear()  # a stopped run's abandoned requests never finish
                self.run, self.interrupted = run, interrupted
                for row in self.rows.values():
                    if interrupted and row.status.active:  # the engine says so for the model it was running
                        row.detail = ("not started" if row.status is Phase.WAITING
                                      else f"ran {row.done} of {row.total} measured requests")
                        row.status = Phase.STOPPED
            case _:
                assert_never(event)

    @property
    def swept(self) -> bool:
        """Whether rows need a Level column: several levels, or several endpoints (named `#2` there)."""
        return len(self.plan) > 1 or bool(self.endpoints)

    def short_name(self, name: str) -> tuple[str, str]:
        """(model, `#2`) for a row of a run against several endpoints, where a narrow column has no room for
        `model @ host:port`; (model, "") otherwise. `legend` says which endpoint each number is. The model is
        named by the variant id it ran as once a request of it finished, as the summary and reports name it."""
        model, at, where = name.rpartition(" @ ")
        shorts = [short(e) for e in self.endpoints]
        if not at or where not in shorts:
            return self.variants.get(name, name), ""
        return self.variants.get(name, model), f"#{shorts.index(where) + 1}"

    def legend(self) -> str:
        """`#1 127.0.0.1:5273  #2 box:8080`, or "" for a run against one endpoint."""
        return "  ".join(f"#{i} {short(e)}" for i, e in enumerate(self.endpoints, 1))

    def shown_rows(self) -> list[ModelRow]:
        """What the table lists: each model's level rows when the run sweeps, else the model's own row."""
        return [row for model, mine in self.rows.items() for row in (self.levels.get(model, {}).values() or [mine])]

    def level_status(self, row: ModelRow) -> str:
        """A level row's status: the engine's verdict once it came; until then the model's when it ended (a load
        failure or a stop), else what the row's own requests say."""
        model = self.rows[row.name]
        if row.final or row is model:
            return row.status
        if not model.status.active:
            return model.status
        if row.done >= row.total:
            return Phase.DONE
        if row.done:
            return Phase.RUNNING
        return model.status if row.level == self.plan[0] else Phase.WAITING  # the first level: loading, warm-up

    def _level_finished(self, model: str, result: ModelResult) -> None:
        """The engine finishes a model's levels in the plan's order, one ModelFinished each."""
        index = self._finished_levels.get(model, 0)
        self._finished_levels[model] = index + 1
        rows = self.levels.get(model)
        if not rows or index >= len(self.plan):
            return
        row = rows[self.plan[index]]
        row.final, row.status = True, Phase.DONE if result.status == "ok" else Phase(result.status)
        row.detail, row.rss_peak_mb, row.deterministic = result.error, result.rss_peak_mb, result.deterministic
        row.slo_fraction, row.goodput_rps = result.slo_fraction, result.goodput_rps

    def _finished(self, row: ModelRow, result: RequestResult) -> None:
        if result.warmup:
            return
        row.done += 1
        if self.slo and load.meets({k: getattr(result, k) for k in ("status", "queue_ms", *load.SLO_KEYS)}, self.slo):
            row.good += 1
        if result.status != "ok":
            return
        if result.start_ms is not None and result.e2e_ms is not None:
            end = result.start_ms + result.e2e_ms
            row.window_ms = (min(row.window_ms[0], result.start_ms), max(row.window_ms[1], end)) \
                if row.window_ms else (result.start_ms, end)
        if result.ttft_ms is not None:
            row.ttft.append(result.ttft_ms)
        row.itl.extend(chunk_gaps(result))
        if result.decode_tps is not None:
            row.decode_tps.append(result.decode_tps)
        if result.checks:
            passed = sum(bool(c.get("passed")) for c in result.checks)
            row.checks_passed += passed
            row.checks_run += len(result.checks)
            row.marks.append("✓" if passed == len(result.checks) else "✗")

    def _landed(self, key: str) -> None:
        """A request finished: its last chunks are read, and the pane moves on to the oldest one still in
        flight (with none, the finished answer stays shown until the next starts)."""
        flight = self.flights.pop(key, None)
        if flight is None:
            return
        self._read(flight)
        if flight is self.inflight and self.flights:
            self.inflight = next(iter(self.flights.values()))

    def tick(self) -> bool:
        """Read the new chunks of every request in flight: their gaps and their text."""
        changed = False
        for flight in self.flights.values():
            changed = self._read(flight) or changed
        return changed

    def _read(self, flight: InFlight) -> bool:
        if not flight.pending:
            return False
        parsed = parse_events(flight.pending)
        flight.pending = []
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
        """(measured requests finished, planned) over all models."""
        return sum(r.done for r in self.rows.values()), sum(r.total for r in self.rows.values())
