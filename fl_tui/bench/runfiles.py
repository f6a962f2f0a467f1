"""Read the files a benchmark run leaves in its folder: run.json (the whole run) and requests.jsonl (one request per
line, appended as the run goes, so a crash leaves at most a truncated last line)."""

from __future__ import annotations

import json
from pathlib import Path

from fl_tui.bench.records import RUN_SCHEMA
from fl_tui.bench.runschema import RUN_ADAPTER
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import read_input
from fl_tui.core.jsonfile import problem_at, read_json, validate
from fl_tui.core.limits import RUN_FILE_MAX

RUN_FILE = "run.json"
REQUESTS_FILE = "requests.jsonl"


def run_dir_of(path: Path | str) -> Path:
    """A run's folder, given the folder or its run.json."""
    path = Path(path)
    return path.parent if path.name == RUN_FILE else path


def load_run(path: Path | str) -> dict:
    """The run.json of a run folder (or that file itself), checked to be an `fl-tui/run/1` run."""
    path = Path(path)
    if path.is_dir():
        path = path / RUN_FILE
    text, data = read_json(path, RUN_FILE_MAX)
    if not isinstance(data, dict):
        raise FileProblem(path, f"not an fl-tui run: expected a JSON object with schema {RUN_SCHEMA!r}", 1, 1)
    schema = data.get("schema")
    if schema != RUN_SCHEMA:
        found = "no schema" if "schema" not in data else f"schema {json.dumps(schema)[:60]}"
        where = ("schema",) if "schema" in data else ()
        raise problem_at(path, text, where, f"not an fl-tui run: {found}, expected {RUN_SCHEMA!r}")
    validate(path, text, data, RUN_ADAPTER)  # the dict is what callers read; this checks every known field's type
    data.setdefault("models", [])
    data.setdefault("requests", [])
    return data


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
