"""`fl-tui fleet run INVENTORY`: the shipped Ansible playbook (fleet/playbook.yml) run over an inventory, so every
box benchmarks itself against its own Foundry Local at once, then the runs that came home merged into one report
(fl_tui.runs.fleet). The playbook is the whole fan-out: this is its command line, checked before it starts, and
`fl-tui fleet playbook` says where it is for those who run ansible-playbook themselves."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fl_tui.core import locations
from fl_tui.core.errors import UserError
from fl_tui.core.resources import packaged_data
from fl_tui.runs import fleet as fleets

ANSIBLE = "ansible-playbook"


def playbook() -> Path:
    """The playbook the install carries (a wheel's fl_tui/data/fleet, a checkout's top-level fleet/)."""
    path = packaged_data() / "fleet" / "playbook.yml"
    if not path.is_file():
        raise UserError(f"this install carries no fleet playbook (looked for {path})")
    return path


def _ansible_playbook() -> str:
    """ansible-playbook beside this Python first (the `fleet` extra in a venv that is not activated), then PATH."""
    beside = Path(sys.executable).parent / ANSIBLE
    found = str(beside) if beside.is_file() else shutil.which(ANSIBLE)
    if found is None:
        raise UserError("fleet run needs ansible-core on this machine: pip install 'fl-tui[fleet]'")
    return found


def _settings(args: argparse.Namespace, out: Path) -> dict:
    """The playbook's extra vars, checked here so that a mistake is one line before any host is touched."""
    for name, value in (("--rounds", args.rounds), ("--forks", args.forks), ("--install-timeout", args.install_timeout),
                        ("--bench-timeout", args.bench_timeout)):
        if not value > 0:
            raise UserError(f"{name} must be a positive number, got {value:g}")
    if not Path(args.inventory).is_file():
        raise UserError(f"{args.inventory}: no such inventory file")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out}: --out must be a new or empty folder (one per fleet run)")
    settings: dict = {"fleet_out": str(out), "fleet_models": args.models, "fleet_rounds": args.rounds,
                      "fleet_prompts": args.prompts, "fleet_install_timeout": int(args.install_timeout),
                      "fleet_bench_timeout": int(args.bench_timeout)}
    if args.prompts.endswith(".json"):
        if not Path(args.prompts).is_file():
            raise UserError(f"{args.prompts}: no such prompt file")
        settings["fleet_prompts"] = str(Path(args.prompts).resolve())
    if args.wheel:
        if not Path(args.wheel).is_file():
            raise UserError(f"{args.wheel}: no such wheel")
        settings["fleet_wheel"] = str(Path(args.wheel).resolve())
    try:
        settings["fleet_bench_args"] = shlex.split(args.bench_args)
    except ValueError as exc:
        raise UserError(f"--bench-args: {exc}") from exc
    return settings


def run(args: argparse.Namespace) -> int:
    out = Path(args.out or locations.runs_dir() / time.strftime("fleet-%Y%m%d-%H%M%S")).resolve()
    settings = _settings(args, out)
    if args.limit:
        settings["fleet_hosts"] = args.limit  # not ansible's --limit, which would leave out the controller's plays
    command = [_ansible_playbook(), "-i", args.inventory, str(playbook()), "--forks", str(args.forks),
               "-e", json.dumps(settings)]
    # Pipelining runs a task over the SSH session it opens, without copying the module to a temp file first: about
    # a third off a fleet run (docs/fleet.md); the playbook uses no become, which is what could refuse it
    env = {"ANSIBLE_PIPELINING": "True", **os.environ}
    started = time.monotonic()
    done = subprocess.run(command, stdout=sys.stderr, env=env, check=False)  # progress on stderr, report on stdout
    seconds = time.monotonic() - started
    if not (out / fleets.FLEET_FILE).is_file():
        print(f"fl-tui: {ANSIBLE} ended (exit {done.returncode}) before it recorded the hosts in "
              f"{out / fleets.FLEET_FILE}: its output above says why", file=sys.stderr)
        return 1
    fleet = fleets.load_fleet([out])
    for line in dict.fromkeys([*fleet.notes, *fleet.warnings]):
        print(f"fl-tui: warning: {line}", file=sys.stderr)
    fleets.export(fleet)
    print(fleet.markdown(), end="")
    ok = sum(h.outcome is fleets.Outcome.OK for h in fleet.hosts)
    others = ", ".join(f"{h.name} {h.outcome}" for h in fleet.hosts if h.outcome is not fleets.Outcome.OK)
    print(f"fleet: {ok} of {len(fleet.hosts)} hosts ok{f' ({others})' if others else ''} in {seconds:.1f} s; "
          f"report: {out / fleets.REPORT_FILES[0]}", file=sys.stderr)
    return 0 if ok == len(fleet.hosts) else 1


def where(args: argparse.Namespace) -> int:
    print(playbook())
    return 0
