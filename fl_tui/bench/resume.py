"""A run folder given to `fl-tui bench --out` again: refused, replaced (--overwrite) or continued (--resume).

Continuing keeps what finished: a model that finished (status ok) is kept with its requests and not run again.
A model that did not finish runs again under the same run id, into the same files, but the measured requests it
had answered at a sequential level (one in flight, no --rate) are kept and not sent again: each such request was
timed alone, so its figures do not depend on what ran around it. At a concurrent or paced level a request's
figures depend on the load around it, so that level runs again whole. Each attempt has its own monotonic clock, so
`start_ms` offsets compare within an attempt; rates over time (aggregate tok/s, req/s, goodput per second, energy)
count the last attempt's requests only, fractions (the share meeting the SLOs) all of them (docs/benchmarking.md,
"Resuming a run")."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pydantic

from fl_tui.bench.reuse import Reuse
from fl_tui.bench.runfiles import REQUESTS_FILE, RUN_FILE, read_requests_jsonl, read_run
from fl_tui.bench.runschema import RequestJson, as_written
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fileio import atomic_write_text

SUPERSEDED_FILE = "requests.superseded.jsonl"  # an unfinished model's lines from an earlier attempt, kept
RUN_OUTPUTS = (RUN_FILE, REQUESTS_FILE, "report.md", "report.csv", SUPERSEDED_FILE)  # what a run writes there


@dataclass(frozen=True)
class Carried:
    """What an earlier attempt at this run finished, kept as it was written."""

    run_id: str
    started_at: str
    models: list[dict] = field(default_factory=list)  # run.json `models` entries with status ok
    requests: list[dict] = field(default_factory=list)  # their requests
    warnings: list[str] = field(default_factory=list)  # the earlier attempt's
    schedule_seed: int | None = None  # the Poisson schedule's drawn seed: a resumed run paces as it did
    earlier: list[dict] = field(default_factory=list)  # unfinished models' answered sequential requests, reused

    def names(self, endpoint: str | None = None) -> set[str]:
        """The models finished at `endpoint` (None: the run's only one), by both the name asked for and the
        variant id, so either spelling on the command line matches."""
        done = [m for m in self.models if m.get("endpoint") == endpoint]
        return {m["requested_as"] for m in done} | {m["model"] for m in done}


def holds_run(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (RUN_FILE, REQUESTS_FILE))


def check_out(folder: Path, reuse: Reuse) -> None:
    """Refuse a file, a folder where a run's file is something else (a folder, a link that leads nowhere), or a
    folder holding a run unless told what to do with it."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder}: is a file, not a folder; give the folder the run should go in")
    for name in RUN_OUTPUTS:
        path = folder / name
        if (path.is_symlink() or path.exists()) and not path.is_file():
            kind = "a folder" if path.is_dir() else "a link that leads nowhere, or in a loop"
            raise UserError(f"--out {folder}: {name} is {kind}, not a file; move it away or give another --out")
    if not holds_run(folder):
        if reuse is Reuse.RESUME:
            raise UserError(f"--resume: {folder} holds no run to continue")
        return
    if reuse is Reuse.REFUSE:
        raise UserError(f"--out {folder} already holds a run; pass --resume to continue it or --overwrite to "
                        "replace it")


def remove_run(folder: Path) -> None:
    """--overwrite: the old run's files go (only those: anything else in the folder stays)."""
    for name in RUN_OUTPUTS:
        (folder / name).unlink(missing_ok=True)


# absent from an older run: unset equals absent
LOAD_KEYS = ("levels", "rate", "duration_s", "slo", "prompt_tokens", "models_asked")


def _comparable(settings: dict) -> dict:
    """The drawn schedule seed is the run's own, not a setting. The level (`concurrency`) is compared: requests
    are reused only at the level they were measured at."""
    plain = json.loads(json.dumps(settings))  # a tuple written is a list read
    return {k: v for k, v in plain.items()
            if k != "schedule_seed" and not (k in LOAD_KEYS and v in (None, [], {}))}


def carried_over(folder: Path, settings: dict, prompts: list[dict]) -> Carried:
    """The finished part of the run in `folder`, after checking it was made with the same settings and prompts
    (a continued run mixing two settings would measure nothing consistent)."""
    if not (folder / RUN_FILE).is_file():  # a run from before run.json was written at its start
        raise UserError(f"--resume: {folder} has no {RUN_FILE} (the run ended before its first model finished); "
                        "use --overwrite")
    run = read_run(folder)
    before = _comparable(run.settings)
    now = _comparable(settings)
    changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    if changed:
        detail = ", ".join(f"{k} {before.get(k)!r} -> {now.get(k)!r}" for k in changed)
        raise UserError(f"--resume: the run in {folder} was made with other settings ({detail})")
    if as_written(run, "prompts") != prompts:  # a file without prompts matches none
        raise UserError(f"--resume: the run in {folder} was made with other prompts")
    # a model at one endpoint (in a run against several, each is its own); one not ok runs all its levels again
    unfinished = {(m.endpoint, m.model) for m in run.models if m.status != "ok"}
    finished = [m for m in run.models if m.status == "ok" and (m.endpoint, m.model) not in unfinished]
    done = {(m.endpoint, m.model) for m in finished}
    # kept as they were written (the keys the file had, values as read), to be written again
    models = [m.model_dump(exclude_unset=True) for m in finished]
    requests = [r.model_dump(exclude_unset=True) for r in run.requests if (r.endpoint, r.model) in done]
    warnings = list(run.warnings)
    seed = run.settings.get("schedule_seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    earlier = _answered_alone(folder, done, settings, warnings)
    return Carried(run.run_id, run.started_at or "", models, requests, warnings, seed, earlier)


def _answered_alone(folder: Path, done: set[tuple], settings: dict, warnings: list[str]) -> list[dict]:
    """The measured requests of models that did not finish which answered at a sequential level, from
    requests.jsonl (run.json lists a model's requests only once it finished); a line a kill cut short is not
    among them, nor one that does not read back as a request record (it is named in `warnings`). Sequential:
    the run's only level is 1, or the request names level 1 of a sweep; never with a rate (paced starts queue),
    never at a swept prompt length (its prompts are sized again by each attempt's calibration request)."""
    levels = settings.get("levels") or [settings.get("concurrency") or 1]
    if settings.get("rate") or settings.get("prompt_tokens") or 1 not in levels:
        return []
    level = 1 if len(levels) > 1 else None  # how a request at that level names it
    try:
        lines = read_requests_jsonl(folder) if (folder / REQUESTS_FILE).is_file() else []
    except FileProblem as exc:  # a damaged file: nothing is reused, the unfinished models run again whole
        warnings.append(f"--resume: nothing reused from {REQUESTS_FILE}: {exc}")
        return []
    answered: dict[str, dict] = {}
    for line in lines:
        if (line.get("endpoint"), line.get("model")) in done or line.get("warmup") is not False \
                or line.get("status") != "ok" or line.get("concurrency") != level:
            continue
        record = {k: v for k, v in line.items() if k != "run_id"}
        try:
            RequestJson.model_validate(record)
        except pydantic.ValidationError as exc:
            warnings.append(f"--resume: a line of {REQUESTS_FILE} is not a request record and was measured again "
                            f"({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']})")
            continue
        answered[record["id"]] = record
    return list(answered.values())


def restart_requests_file(folder: Path, carried: Carried) -> None:
    """requests.jsonl again holds exactly the carried requests and those to be reused: the unfinished models'
    other lines (warm-ups, failures, concurrent levels) would be duplicated when they run again. Those lines are not
    thrown away: they are added to SUPERSEDED_FILE as they were."""
    path = folder / REQUESTS_FILE
    every = [*carried.requests, *carried.earlier]
    kept = {r.get("id") for r in every}
    try:
        old = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    except FileNotFoundError:
        old = []
    superseded = [line for line in old if line.strip() and _line_id(line) not in kept]
    if superseded:
        with open(folder / SUPERSEDED_FILE, "a", encoding="utf-8") as out:
            out.writelines(line if line.endswith("\n") else line + "\n" for line in superseded)
    lines = "".join(json.dumps({"run_id": carried.run_id, **r}, ensure_ascii=False) + "\n" for r in every)
    atomic_write_text(path, lines)


def _line_id(line: str) -> object:
    """A requests.jsonl line's request id; a line cut short by a kill has none (and is kept aside as it is)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record.get("id") if isinstance(record, dict) else None


def settings_record(bench_settings: object, prompt_set_name: str) -> dict:
    """The `settings` object run.json holds for these settings (what --resume compares)."""
    return {**asdict(bench_settings), "prompt_set": prompt_set_name}
