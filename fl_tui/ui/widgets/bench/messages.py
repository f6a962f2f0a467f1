"""What the Benchmark tab's thread workers post back to the UI: typed, so a handler reacts to what was found."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import psutil
from textual.message import Message

from fl_tui.bench.child import ChildRun
from fl_tui.bench.runfiles import RunListing
from fl_tui.bench.runschema import RunJson
from fl_tui.bench.setup_state import BenchSetup


@dataclass
class HostFound(Message):
    """The process that serves the models (for the live RSS reading), or None when there is none to watch."""

    process: psutil.Process | None


@dataclass
class RunLaunched(Message):
    child: ChildRun


@dataclass
class RunEnded(Message):
    """The run finished (or was stopped) and its files are written."""

    run: RunJson
    folder: Path


@dataclass
class RunBroke(Message):
    """The run could not start, or its process ended without finishing it: what went wrong."""

    title: str
    error: str


@dataclass
class RunOpened(Message):
    run: RunJson
    folder: Path


@dataclass
class QualityRead(Message):
    """The scores of `run` by model (None: nobody has scored it): people's, or a judge model's when no person
    scored it; `label` says whose ("scored by ann, bob", "judged by model:x")."""

    run: RunJson
    quality: dict | None
    label: str | None = None


@dataclass
class Exported(Message):
    names: list[str]
    folder: Path
    notes: list[str] = field(default_factory=list)  # what the report left out and why


class Picking(StrEnum):
    """What a list of runs is for: one to open (runs and fleet folders), or two to compare (runs only)."""

    OPEN = "open"
    COMPARE = "compare"


@dataclass
class RunsListed(Message):
    """The runs on disk, listed on a thread worker, for the picker that `picking` asks for."""

    picking: Picking
    runs: list[RunListing]


@dataclass
class ComparisonReady(Message):
    text: str


@dataclass
class FleetOpened(Message):
    """A fleet folder's report (fl_tui/runs/fleet.py), as `fl-tui report FOLDER` prints it."""

    text: str


@dataclass
class BenchProblem(Message):
    """A run that cannot be opened or compared (a bad file), a set-up that cannot be written: a notification."""

    title: str
    error: str


@dataclass
class SetupRead(Message):
    """The prompt sets on disk by name; the remembered set-up (None before the first run), or why the file there
    was ignored."""

    sets: dict[str, Path]
    setup: BenchSetup | None
    problem: str | None = None
