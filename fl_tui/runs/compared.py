"""Runs compared, once for `fl-tui compare` and the app's compare view: two runs, or one run against several
endpoints (its first endpoint is the base for each of the others), each with checks recomputed from its answers;
or fleets (fl_tui/runs/fleet.py), pooled, or host by host."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fl_tui.bench.compare import Delta, compare_runs, models_only_in, render_comparison
from fl_tui.bench.endpoints import endpoint_pairs
from fl_tui.bench.environment import environment_note
from fl_tui.bench.runfiles import read_run
from fl_tui.bench.runschema import RunJson
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain
from fl_tui.runs.finished import checked
from fl_tui.runs.fleet import Fleet, is_fleet_folder, load_fleet, pooled_run

DEFAULT_THRESHOLD = 0.10  # a change beyond 10% whose interval excludes zero is a regression


@dataclass(frozen=True)
class Comparison:
    base: str  # the base run's id, or its first endpoint
    new: str
    deltas: list[Delta]
    only_base: list[str]  # models only the base run has
    only_new: list[str]
    environment: str | None  # how the two runs' machines differ, when they do

    @property
    def regressed(self) -> bool:
        return any(d.regression for d in self.deltas)


def compare(base: Path | str, new: Path | str | None = None, *, threshold: float = DEFAULT_THRESHOLD,
            notes: list[str] | None = None) -> list[Comparison]:
    """`base` against `new`; with no `new`, the endpoints of `base` against its first one. Either may be a fleet
    folder (all its hosts' requests as one run); a fleet alone compares its first host with each other one. What
    could not be recomputed, and what differs between a fleet's hosts, is added to `notes`."""
    notes = [] if notes is None else notes
    if is_fleet_folder(base) and new is None:
        pairs = _host_pairs(load_fleet([base]), notes)
    elif new is not None and (is_fleet_folder(base) or is_fleet_folder(new)):
        (base_name, base_run), (new_name, new_run) = _side(base, notes), _side(new, notes)
        pairs = [(base_name, new_name, base_run, new_run)]
    elif new is not None:
        base_run = checked(read_run(base), None, notes)
        new_run = checked(read_run(new), None, notes)
        pairs = [(base_run.run_id, new_run.run_id, base_run, new_run)]
    else:
        base_run = checked(read_run(base), None, notes)
        pairs = endpoint_pairs(base_run)
        if not pairs:
            raise UserError(f"compare: run {base_run.run_id} was run against one endpoint; compare it with "
                            "a second run")
    return [Comparison(b, n, compare_runs(old, fresh, threshold=threshold), *models_only_in(old, fresh),
                       environment_note(old.environment, fresh.environment)) for b, n, old, fresh in pairs]


def _side(path: Path | str, notes: list[str]) -> tuple[str, RunJson]:
    """One side of a comparison: a run, or a fleet folder as one run of every host's requests."""
    if not is_fleet_folder(path):
        run = checked(read_run(path), None, notes)
        return run.run_id, run
    fleet = load_fleet([path])
    notes += [*fleet.notes, *fleet.warnings]
    return f"fleet {fleet.name}", pooled_run(fleet)


def _host_pairs(fleet: Fleet, notes: list[str]) -> list[tuple[str, str, RunJson, RunJson]]:
    """A fleet's first host whose run came home against each other such host."""
    notes += fleet.notes
    ran = [(h.name, h.run) for h in fleet.hosts if h.run is not None]
    if len(ran) < 2:
        raise UserError(f"compare: fleet {fleet.name} has {len(ran)} host run{'s' if len(ran) != 1 else ''}; "
                        "comparing its hosts needs two")
    (first, base), others = ran[0], ran[1:]
    return [(first, name, base, run) for name, run in others]


def comparison_text(comparisons: list[Comparison], threshold: float = DEFAULT_THRESHOLD) -> str:
    """The comparisons as the terminal shows them, one block each."""
    blocks = []
    for item in comparisons:
        names = [plain(name, keep_newlines=False) for name in (item.base, item.new)]
        head = f"base {names[0]}  ->  new {names[1]}  (threshold {threshold:.0%})"
        note = f"\n{plain(item.environment, keep_newlines=False)}" if item.environment else ""
        table = render_comparison(item.deltas, only_base=item.only_base, only_new=item.only_new)
        blocks.append(f"{head}{note}\n\n{table}")
    return "\n\n".join(blocks)
