"""Read the files a benchmark run leaves in its folder: run.json (the whole run) and requests.jsonl (one request per
line, appended as the run goes, so a crash leaves at most a truncated last line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from fl_tui.bench.records import READ_SCHEMAS, RUN_SCHEMA, ModelStatus
from fl_tui.bench.runschema import RUN_ADAPTER, RunJson
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import read_input
from fl_tui.core.jsonfile import problem_at, read_json, validate
from fl_tui.core.limits import RUN_FILE_MAX
from fl_tui.core.textsafe import plain

RUN_FILE = "run.json"
REQUESTS_FILE = "requests.jsonl"


def run_dir_of(path: Path | str) -> Path:
    """A run's folder, given the folder or its run.json."""
    path = Path(path)
    return path.parent if path.name == RUN_FILE else path


def read_run(path: Path | str) -> RunJson:
    """The run.json of a run folder (or that file itself) as its typed, read-only record: checked to be an
    `fl-tui/run/2` run (or a `/1` one, read alike: the load fields are simply absent)."""
    path = Path(path)
    if path.is_dir():
        path = path / RUN_FILE
    text, data = read_json(path, RUN_FILE_MAX)
    if not isinstance(data, dict):
        raise FileProblem(path, f"not an fl-tui run: expected a JSON object with schema {RUN_SCHEMA!r}", 1, 1)
    schema = data.get("schema")
    if schema not in READ_SCHEMAS:
        found = "no schema" if "schema" not in data else f"schema {json.dumps(schema)[:60]}"
        where = ("schema",) if "schema" in data else ()
        raise problem_at(path, text, where, f"not an fl-tui run: {found}, expected {RUN_SCHEMA!r}")
    return validate(path, text, data, RUN_ADAPTER)  # every known field's type checked


def read_requests_jsonl(path: Path | str) -> list[dict]:
    """Every request line of a requests.jsonl (or of the one in a run folder).

    A last line without its newline that does not parse is what a crash mid-write leaves: it is dropped. Any other
    line that is not a JSON object is a FileProblem naming its line.
    """
    path = Path(path)
    if path.is_dir():
        path = path / REQUESTS_FILE
    raw = read_input(path, RUN_FILE_MAX)
    lines = raw.split(b"\n")
    out: list[dict] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cut_short = number == len(lines)  # the file does not end with a newline after this line
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if cut_short:
                break
            raise FileProblem(path, f"not valid JSON: {_reason(exc)}", number) from exc
        if not isinstance(value, dict):
            if cut_short:
                break
            raise FileProblem(path, "expected a JSON object (one request per line)", number)
        out.append(value)
    return out


def _reason(exc: ValueError | RecursionError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _stamp(run_dir: Path) -> float:
    """When the run last wrote its files (run.json at its end, requests.jsonl while it runs)."""
    times = [p.stat().st_mtime for p in (run_dir / RUN_FILE, run_dir / REQUESTS_FILE) if p.is_file()]
    return max(times)


def list_runs(root: Path | str) -> list[Path]:
    """Run folders under `root` (those holding a run.json or a requests.jsonl), newest first.

    Newest means the most recently written run files; equal times fall back to the folder name, descending."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [d for d in root.iterdir() if d.is_dir() and ((d / RUN_FILE).is_file() or (d / REQUESTS_FILE).is_file())]
    return sorted(runs, key=lambda d: (_stamp(d), d.name), reverse=True)


class RunState(StrEnum):
    """A run as a whole, for the pickers. "stopped" and "partial" mean what they mean for a model (ModelStatus)."""

    OK = "ok"  # every model ok
    PARTIAL = "partial"  # it ran to its end, some model is not ok
    FAILED = "failed"  # no model is ok
    STOPPED = "stopped"  # stopped early (Ctrl+X, Ctrl-C)
    UNFINISHED = "unfinished"  # no finished run.json: still running, or its process died
    UNREADABLE = "unreadable"  # run.json is not a run fl-tui can read
    FLEET = "fleet"  # a fleet folder: one run per host (fl_tui/runs/fleet.py)


@dataclass(frozen=True)
class RunListing:
    """One line of a run picker: what a person needs to tell the runs apart."""

    folder: Path
    run_id: str
    state: RunState
    started_at: datetime | None = None
    models: tuple[str, ...] = ()

    def label(self) -> str:
        """Two lines: `2025-01-02 03:04  stopped  <run id>`, in local time, then the models; plain text."""
        when = self.started_at.astimezone().strftime("%Y-%m-%d %H:%M") if self.started_at else "—".ljust(16)
        models = ", ".join(plain(m, keep_newlines=False) for m in self.models) or "no models recorded"
        return f"{when}  {self.state:<10}  {plain(self.run_id, keep_newlines=False)}\n  {models}"


def run_state(run: RunJson) -> RunState:
    statuses = [m.status for m in run.models]
    if run.interrupted:
        return RunState.STOPPED
    if not run.finished_at:
        return RunState.UNFINISHED
    if statuses and all(s == ModelStatus.OK for s in statuses):
        return RunState.OK
    return RunState.PARTIAL if ModelStatus.OK in statuses else RunState.FAILED


def _started(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def describe_run(folder: Path) -> RunListing:
    """The listing of one run folder; a run.json that cannot be read is listed as unreadable, not raised."""
    if not (folder / RUN_FILE).is_file():
        return RunListing(folder, folder.name, RunState.UNFINISHED)
    try:
        run = read_run(folder)
    except FileProblem:
        return RunListing(folder, folder.name, RunState.UNREADABLE)
    models = tuple(dict.fromkeys(m.model for m in run.models))  # once, however many levels
    return RunListing(folder, run.run_id or folder.name, run_state(run), _started(run.started_at), models)


def describe_runs(root: Path | str) -> list[RunListing]:
    """Every run under `root`, newest first (list_runs), described for a picker."""
    return [describe_run(folder) for folder in list_runs(root)]
