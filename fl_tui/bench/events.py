"""What the benchmark engine tells its observer: one union of frozen dataclasses, matched by every consumer.

The engine emits them; `fl_tui.bench.wire` derives the `--events` JSON lines from these types; the live view,
the headless progress line and the child-process reader dispatch on them with `match`. `RunFailed` never comes
from the engine: whoever watches a run in another process says so when that run cannot finish.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from fl_tui.bench.records import ModelResult, RequestResult
from fl_tui.bench.runschema import RunJson
from fl_tui.connection.sse import SSEEvent

NOT_ON_WIRE = {"wire": False}  # field metadata: the wire leaves this field out and the reader fills it in


class Phase(StrEnum):
    """Where a model is in a run. The engine reports loading to failed; waiting and stopped are the live view's."""

    WAITING = "waiting"
    LOADING = "loading"
    WARMUP = "warm-up"
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def active(self) -> bool:
        return self in (Phase.WAITING, Phase.LOADING, Phase.WARMUP, Phase.RUNNING)


@dataclass(frozen=True)
class LiveRequest:
    """A request the engine has sent; its bytes follow as Chunk events naming it by `key`."""

    model: str
    prompt_id: str
    prompt: str
    round: int
    warmup: bool
    key: str  # the request's id in the run (several are in flight at a level above 1): its chunks name it


@dataclass(frozen=True)
class Chunk:
    """Stamped, unparsed bytes of the request `request` (a LiveRequest's key), as they arrived."""

    request: str
    event: SSEEvent


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    run_dir: Path
    models: tuple[str, ...]
    planned_per_model: int  # measured requests (rounds x prompts), the warm-up not counted
    warmup_per_model: int = 0


@dataclass(frozen=True)
class ModelPhase:
    model: str  # as requested
    phase: Phase
    detail: str | None = None


@dataclass(frozen=True)
class RequestStarted:
    live: LiveRequest


@dataclass(frozen=True)
class RequestFinished:
    model: str  # as requested
    result: RequestResult


@dataclass(frozen=True)
class ModelFinished:
    model: str  # as requested
    result: ModelResult


@dataclass(frozen=True)
class RunFinished:
    """The run is written. `run` is its run.json, read; the wire sends only the folder, where the reader loads it."""

    run_dir: Path
    interrupted: bool
    run: RunJson | None = field(default=None, compare=False, metadata=NOT_ON_WIRE)


@dataclass(frozen=True)
class RunFailed:
    """A run watched in another process ended without finishing (a crash, a bad line): what went wrong."""

    message: str


Event = (RunStarted | ModelPhase | RequestStarted | Chunk | RequestFinished | ModelFinished | RunFinished
         | RunFailed)
EVENT_TYPES: tuple[type, ...] = typing.get_args(Event)
Observer = Callable[[Event], None]
