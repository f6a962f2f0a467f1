"""A fleet: one benchmark run per box, each measured by the box against its own Foundry Local and fetched home by
the fleet playbook (fleet/playbook.yml) into one folder, `<folder>/<host>/run.json`, beside a fleet.json that says
how each host fared. Read together they make one report: a row per host × model with the host's environment beside
its figures, and percentiles pooled over every host's raw request records (a p95 of per-box p95s is no p95)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict

from fl_tui.bench.environment import COMPARED
from fl_tui.bench.load import level_label
from fl_tui.bench.records import PERCENTILE_METHOD
from fl_tui.bench.report import MISSING, TABLE_COLUMNS, csv_row, finite, settings_line, table_row
from fl_tui.bench.runfiles import RUN_FILE, RunListing, RunState, read_run, run_dir_of
from fl_tui.bench.runschema import ModelJson, RunJson, as_written
from fl_tui.bench.stats import model_summary
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.jsonfile import load_validated
from fl_tui.core.textsafe import csv_cell, json_text, plain

FLEET_FILE = "fleet.json"
FLEET_SCHEMA = "fl-tui/fleet/1"
REPORT_SCHEMA = "fl-tui/fleet-report/1"
REPORT_FILES = ("fleet-report.md", "fleet-report.csv", "fleet-report.json")
# The environment beside each host's figures, and the rest of it in the Hosts table: (run.json key, column)
ROW_ENVIRONMENT = (("os", "OS"), ("cpu_model", "CPU"), ("ram_gib", "RAM (GiB)"), ("gpus", "GPU"),
                   ("foundry_local_sdk", "SDK"), ("onnxruntime", "ORT"))
HOST_ENVIRONMENT = (("kernel", "Kernel"), ("arch", "Arch"), ("cpu_cores", "Cores"), ("python", "Python"),
                    ("fl_tui", "fl-tui"), ("endpoint_kind", "Endpoint"), ("endpoint_version", "Endpoint version"))
# The pooled table: (summary metric, statistic, column)
POOLED_COLUMNS = (("ttft_ms", "p50", "TTFT p50 (ms)"), ("ttft_ms", "p95", "TTFT p95 (ms)"),
                  ("ttft_ms", "p99", "TTFT p99 (ms)"), ("e2e_ms", "p50", "E2E p50 (ms)"),
                  ("e2e_ms", "p95", "E2E p95 (ms)"), ("e2e_ms", "p99", "E2E p99 (ms)"),
                  ("tpot_ms", "p50", "TPOT p50 (ms)"), ("itl_ms", "p95", "ITL p95 (ms)"),
                  ("decode_tps", "mean", "Decode tok/s"))
_NUMERIC = {"RAM (GiB)", "Cores", "Time (s)", "Hosts", *TABLE_COLUMNS[2:-1], *(c for _, _, c in POOLED_COLUMNS)}


class Outcome(StrEnum):
    """What became of one host: `ok` means its run came home (a model that failed there shows in its row)."""

    OK = "ok"
    FAILED = "failed"  # reached, but installing, running or fetching failed, or its run does not load
    UNREACHABLE = "unreachable"


def _one_folder(name: str) -> str:
    """A host's run is the folder of its name inside the fleet folder, never a path elsewhere."""
    if name in ("", ".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"a host name must name one folder, not {name!r}")
    return name


class _HostEntry(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    host: Annotated[str, AfterValidator(_one_folder)]
    outcome: Annotated[Outcome, pydantic.Field(strict=False)]  # strict would want the enum itself, not its word
    error: str | None = None
    seconds: float | int | None = None


class _FleetFile(BaseModel):
    """fleet.json as the playbook writes it; keys it does not know are kept for a newer writer."""

    model_config = ConfigDict(extra="allow", strict=True)
    schema_: str = pydantic.Field(alias="schema")
    started_at: str | None = None
    finished_at: str | None = None
    hosts: list[_HostEntry]


_FLEET_ADAPTER = pydantic.TypeAdapter(_FleetFile)


@dataclass(frozen=True)
class Host:
    name: str
    outcome: Outcome
    run: RunJson | None = None  # its run.json, when it came home and loads
    error: str | None = None  # why there is no run
    seconds: float | None = None  # the host's time in the playbook, install to fetch

    @property
    def environment(self) -> Mapping:
        return (self.run.environment if self.run is not None else None) or {}


@dataclass(frozen=True)
class Pooled:
    """One model (at one level) over every host that ran it: statistics of all their measured requests at once."""

    label: str
    hosts: list[str]
    summary: dict  # stats.model_summary over the pooled requests


@dataclass(frozen=True)
class Fleet:
    name: str  # the fleet folder's name, or the runs' names joined
    folder: Path | None  # where the report files go; None for runs named one by one
    hosts: list[Host]
    pooled: list[Pooled]
    environment_differs: list[str]  # COMPARED keys whose values are not the same on every host with a run
    settings_differ: list[str]  # settings keys that are not the same in every run
    started_at: str | None = None
    finished_at: str | None = None
    notes: list[str] = field(default_factory=list)  # one line each, for the person

    @property
    def warnings(self) -> list[str]:
        """What makes the pooled figures mix unlike things, one line each."""
        out = []
        if self.environment_differs:
            out.append(f"environments differ between hosts: {', '.join(self.environment_differs)} (the pooled "
                       "figures mix different machines or software; each host's row says which)")
        if self.settings_differ:
            out.append(f"settings differ between hosts' runs: {', '.join(self.settings_differ)} (the pooled "
                       "figures mix different benchmarks)")
        bare = [h.name for h in self.hosts if h.run is not None and not h.environment]
        if bare:
            out.append(f"no environment recorded by: {', '.join(bare)}; whether their machines match is unknown")
        return out

    def markdown(self) -> str:
        return render_markdown(self)

    def csv(self) -> str:
        return render_csv(self)

    def json(self) -> str:
        return render_json(self)


def is_fleet_folder(path: Path | str) -> bool:
    """A folder that is no run itself but holds a fleet.json or run folders (one per host)."""
    path = Path(path)
    if not path.is_dir() or (path / RUN_FILE).exists() or (path / "requests.jsonl").exists():
        return False
    return (path / FLEET_FILE).is_file() or any((d / RUN_FILE).is_file() for d in _subfolders(path))


def _subfolders(path: Path) -> list[Path]:
    return sorted(d for d in path.iterdir() if d.is_dir())


def describe_fleets(root: Path | str) -> list[RunListing]:
    """The fleet folders in `root` for a run picker, newest first; one whose fleet.json does not load is listed as
    unreadable (opening it says why)."""
    root = Path(root)
    found = [d for d in _subfolders(root) if is_fleet_folder(d)] if root.is_dir() else []
    listings = []
    for folder in found:
        try:
            record = load_validated(folder / FLEET_FILE, _FLEET_ADAPTER) if (folder / FLEET_FILE).is_file() else None
        except FileProblem:
            listings.append(RunListing(folder, folder.name, RunState.UNREADABLE))
            continue
        hosts = [h.host for h in record.hosts] if record else [d.name for d in _subfolders(folder)]
        listings.append(RunListing(folder, folder.name, RunState.FLEET, _when(record.started_at if record else None),
                                   tuple(hosts)))
    return sorted(listings, key=lambda item: item.folder.stat().st_mtime, reverse=True)


def _when(text: str | None) -> datetime | None:
    """fleet.json's start, for a picker: a date it cannot read is shown as none, as a run's is."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _host_run(name: str, folder: Path, notes: list[str]) -> Host:
    """The host whose run is in `folder`; a run that is missing or does not load makes it a failed host."""
    try:
        return Host(name, Outcome.OK, read_run(folder))
    except FileProblem as exc:
        why = plain(str(exc), keep_newlines=False)
        notes.append(f"{name}: its run is left out: {why}")
        return Host(name, Outcome.FAILED, error=why)


def _from_folder(folder: Path, notes: list[str]) -> tuple[list[Host], str | None, str | None]:
    """The hosts of a fleet folder: in fleet.json's order with its outcomes, then any other run folder in it."""
    hosts: list[Host] = []
    started = finished = None
    if (folder / FLEET_FILE).is_file():
        record = load_validated(folder / FLEET_FILE, _FLEET_ADAPTER)
        if record.schema_ != FLEET_SCHEMA:
            raise FileProblem(folder / FLEET_FILE, f"not an fl-tui fleet: schema {record.schema_!r}, expected "
                                                   f"{FLEET_SCHEMA!r}", 1, 1)
        started, finished = record.started_at, record.finished_at
        for entry in record.hosts:
            seconds = None if entry.seconds is None else float(entry.seconds)
            if entry.outcome is Outcome.OK:
                found = _host_run(entry.host, folder / entry.host, notes)
                hosts.append(Host(found.name, found.outcome, found.run, found.error, seconds))
            else:
                hosts.append(Host(entry.host, entry.outcome, error=entry.error, seconds=seconds))
    listed = {h.name for h in hosts}
    hosts += [_host_run(d.name, d, notes) for d in _subfolders(folder)
              if d.name not in listed and (d / RUN_FILE).is_file()]
    return hosts, started, finished


def load_fleet(paths: Sequence[Path | str]) -> Fleet:
    """The fleet in one fleet folder, or made of several run folders (each a host, named by its folder)."""
    notes: list[str] = []
    started = finished = None
    if len(paths) == 1 and is_fleet_folder(paths[0]):
        folder: Path | None = Path(paths[0])
        hosts, started, finished = _from_folder(Path(paths[0]), notes)
        name = Path(paths[0]).resolve().name
    else:
        folder = None
        hosts = []
        for given in paths:
            run_dir = run_dir_of(given)
            if not (run_dir / RUN_FILE).is_file():
                raise UserError(f"{given}: not a run folder (no {RUN_FILE})")
            hosts.append(_host_run(run_dir.resolve().name, run_dir, notes))
        names = [h.name for h in hosts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise UserError(f"two runs are in folders named {twice[0]!r}: a fleet names each host by its folder")
        name = " + ".join(names)
    if not hosts:
        raise UserError(f"{paths[0]}: no run folders in it (a fleet folder holds {FLEET_FILE} or one run folder "
                        "per host)")
    ran = [h for h in hosts if h.run is not None]
    return Fleet(name, folder, hosts, _pooled(ran), _differing([h.environment for h in ran], COMPARED),
                 _differing([h.run.settings for h in ran if h.run is not None]), started, finished,
                 notes)


def _pooled(hosts: list[Host]) -> list[Pooled]:
    """Per model (and level), the requests of every host that ran it, summarised together."""
    requests: dict[str, list] = {}
    owners: dict[str, list[str]] = {}
    for host in hosts:
        for request in host.run.requests if host.run is not None else []:
            label = level_label(request)
            requests.setdefault(label, []).append(request)
            if host.name not in owners.setdefault(label, []):
                owners[label].append(host.name)
    return [Pooled(label, owners[label], model_summary(items)) for label, items in requests.items()]


def pooled_run(fleet: Fleet) -> RunJson:
    """The fleet as one run, for a comparison: every host's requests together, the first host's settings, and the
    environment the hosts share, a fact that differs between them said so (never one host's, as if all had it)."""
    ran = [(h.environment, h.run) for h in fleet.hosts if h.run is not None]
    environment = {**(ran[0][0] if ran else {}), **{key: "differs between hosts" for key in fleet.environment_differs}}
    return RunJson(run_id=fleet.name, settings=ran[0][1].settings if ran else {}, environment=environment or None,
                   requests=[r for _, run in ran for r in run.requests])


def _differing(mappings: list[Mapping], keys: Sequence[str] | None = None) -> list[str]:
    """The keys whose values are not all the same (a key one mapping lacks counts as differing)."""
    if len(mappings) < 2:
        return []
    names = keys if keys is not None else list(dict.fromkeys(k for m in mappings for k in m))
    return [k for k in names if len({json.dumps(m.get(k), sort_keys=True, default=str) for m in mappings}) > 1]


def export(fleet: Fleet) -> list[Path]:
    """fleet-report.md, .csv and .json into the fleet folder, each replaced atomically."""
    if fleet.folder is None:
        return []
    written = []
    for name, text in zip(REPORT_FILES, (fleet.markdown(), fleet.csv(), fleet.json()), strict=True):
        atomic_write_text(fleet.folder / name, text)
        written.append(fleet.folder / name)
    return written


def _cell(value: object) -> str:
    return plain(value, keep_newlines=False).replace("\\", "\\\\").replace("|", "\\|")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _num(value: object, digits: int = 1) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:.{digits}f}"


def environment_value(env: Mapping, key: str) -> str:
    """One environment fact as a cell: GPUs by name, a missing fact as —."""
    value = env.get(key)
    if key == "gpus":
        names = [g.get("name") for g in value if isinstance(g, Mapping)] if isinstance(value, list) else []
        return ", ".join(str(n) for n in names if n) or "none found"
    return MISSING if value is None else plain(value, keep_newlines=False)


def _stat(summary: Mapping, metric: str, stat: str) -> object:
    return (summary.get(metric) or {}).get(stat)


def host_rows(fleet: Fleet) -> list[tuple[Host, ModelJson | None]]:
    """(host, one of its run's model entries) per row; a host without a run gets one row with None."""
    rows: list[tuple[Host, ModelJson | None]] = []
    for host in fleet.hosts:
        models = host.run.models if host.run is not None else []
        rows += [(host, m) for m in models] if models else [(host, None)]
    return rows


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, numbers right-aligned."""
    rule = "|" + "|".join("---:" if name in _NUMERIC else "---" for name in header) + "|"
    return ["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(r) + " |" for r in rows)]


def _environment_cells(host: Host, columns: Sequence[tuple[str, str]]) -> list[str]:
    return [_cell(environment_value(host.environment, key)) if host.run else MISSING for key, _ in columns]


def render_markdown(fleet: Fleet) -> str:
    counts = {o: sum(h.outcome == o for h in fleet.hosts) for o in Outcome}
    first = next((h.run for h in fleet.hosts if h.run is not None), None)
    when = f"{plain(fleet.started_at or MISSING)} to {plain(fleet.finished_at or MISSING)}"
    out = [f"# fl-tui fleet report {plain(fleet.name, keep_newlines=False)}", "",
           f"- Hosts: {len(fleet.hosts)} ({', '.join(f'{n} {o}' for o, n in counts.items())})",
           *([f"- Fleet run: {when}"] if fleet.started_at or fleet.finished_at else []),
           f"- Settings{' (first host)' if fleet.settings_differ else ''}: "
           f"{settings_line(first.settings if first is not None else {})}",
           f"- Percentiles: numpy, method \"{PERCENTILE_METHOD}\"; pooled ones over every host's measured requests"]
    warnings = fleet.warnings
    if warnings:
        out += ["", "## Warnings", "", *(f"- {_cell(w)}" for w in warnings)]
    out += ["", "## Hosts", ""]
    out += _table(["Host", "Outcome", "Run, or what happened", "Time (s)", *(c for _, c in HOST_ENVIRONMENT)],
                  [[_cell(h.name), h.outcome.value, _cell(h.run.run_id if h.run else h.error or MISSING),
                    _num(h.seconds), *_environment_cells(h, HOST_ENVIRONMENT)] for h in fleet.hosts])
    out += ["", "## Pooled over hosts", "", "Each model's measured requests on every host that ran it, as one sample.",
            ""]
    out += _table(["Model", "Hosts", "n", *(c for _, _, c in POOLED_COLUMNS)],
                  [[_cell(p.label), str(len(p.hosts)), str(_stat(p.summary, "e2e_ms", "n") or 0),
                    *(_num(_stat(p.summary, metric, stat)) for metric, stat, _ in POOLED_COLUMNS)]
                   for p in fleet.pooled]) if fleet.pooled else ["No host's run came home."]
    out += ["", "## Each host", "", "Each host's own figures, as its report.md gives them, beside its machine.", ""]
    rows = []
    for host, model in host_rows(fleet):
        cells = table_row(model) if model is not None else [MISSING, host.outcome.value,
                                                             *[MISSING] * (len(TABLE_COLUMNS) - 2)]
        rows.append([_cell(host.name), *cells, *_environment_cells(host, ROW_ENVIRONMENT)])
    out += _table(["Host", *TABLE_COLUMNS, *(c for _, c in ROW_ENVIRONMENT)], rows)
    return "\n".join(out) + "\n"


CSV_HOST_COLUMNS = ("scope", "host", "outcome", "hosts")
CSV_ENV_COLUMNS = COMPARED  # every environment fact a comparison looks at


def render_csv(fleet: Fleet) -> str:
    """A row per host × model (scope `host`, its environment in columns), then a row per pooled model (scope
    `pooled`); the figure columns are report.csv's."""
    figure_columns: list[str] = []
    lines: list[dict] = []
    for host, model in host_rows(fleet):
        figures = csv_row(model, {}) if model is not None else {}  # queue columns empty: the entry's figures only
        figure_columns += [c for c in figures if c not in figure_columns]
        env = {key: environment_value(host.environment, key) for key in CSV_ENV_COLUMNS
               if host.environment.get(key) is not None}
        lines.append({"scope": "host", "host": host.name, "outcome": host.outcome.value, "hosts": 1, **env,
                      **figures})
    for p in fleet.pooled:
        n = _stat(p.summary, "e2e_ms", "n")
        pooled = ModelJson.model_construct(model=p.label, requested_as=None, status=None, summary=p.summary,
                                           measured_ok=n)  # the pool's figures under report.csv's columns
        figures = csv_row(pooled, {})
        figure_columns += [c for c in figures if c not in figure_columns]
        lines.append({"scope": "pooled", "hosts": len(p.hosts), **figures})
    columns = [*CSV_HOST_COLUMNS, *CSV_ENV_COLUMNS, *figure_columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for line in lines:
        writer.writerow([csv_cell(line.get(c)) for c in columns])
    return buffer.getvalue()


def render_json(fleet: Fleet) -> str:
    """The fleet without the raw requests: each host's outcome, environment and model entries, and the pooled
    summaries."""
    report = {
        "schema": REPORT_SCHEMA, "name": fleet.name, "started_at": fleet.started_at, "finished_at": fleet.finished_at,
        "percentile_method": PERCENTILE_METHOD, "warnings": fleet.warnings,
        "environment_differs": fleet.environment_differs, "settings_differ": fleet.settings_differ,
        "hosts": [{"host": h.name, "outcome": h.outcome.value, "error": h.error, "seconds": h.seconds,
                   "run_id": h.run.run_id if h.run else None, "environment": dict(h.environment),
                   "settings": as_written(h.run, "settings") if h.run else None,
                   "models": [m.model_dump(exclude_unset=True) for m in h.run.models] if h.run else []}
                  for h in fleet.hosts],
        "pooled": [{"model": p.label, "hosts": p.hosts, "summary": p.summary} for p in fleet.pooled],
    }
    return json_text(json.dumps(finite(report), indent=2, ensure_ascii=False, allow_nan=False)) + "\n"
