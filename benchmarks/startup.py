"""How long fl-tui takes to start, and what the offline demo models cost to build and keep.

Times, as the wall time of a subprocess (median of 5, after one untimed run that builds the demo models):
`fl-tui status` (embedded runtime, catalog offline; target <= 1.0 s), `fl-tui models list`, and `python -c pass` as
the floor; `fl-tui --help`, `--version` and every `COMMAND --help` interleaved with that floor (target <= 4x).
In-process: `fl_tui.demo.build.build_demo_model` for both demo models (median of 5, imports done beforehand),
and the demo models' sizes on disk. Everything runs in a temporary FL_TUI_HOME / HOME / XDG_* (as tests/conftest.py
isolates the tests), removed afterwards.

Run: .venv/bin/python benchmarks/startup.py   (about 30 s)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
HELP_COMMANDS = (("status",), ("models", "list"), ("bench",), ("report",), ("annotate", "export"), ("judge",),
                 ("serve",), ("completion",))
REPO = Path(__file__).resolve().parents[1]


def isolated_env(root: Path) -> dict[str, str]:
    (root / "home").mkdir()
    config = root / "fl-tui" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('catalog = "offline"\n', encoding="utf-8")
    env = {
        **os.environ,
        "HOME": str(root / "home"),
        "FL_TUI_HOME": str(root / "fl-tui"),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        "NO_COLOR": "1",
    }
    env.pop("FOUNDRY_LOCAL_ENDPOINT", None)
    # Python's bytecode cache, as an installed fl-tui has it (pip compiles it at install): without it every start
    # would time the compiling of fl-tui's modules too (about 0.05 s here). The untimed first run writes it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def wall(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[2:])} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return took


BREAKDOWN = """
import json, time
t0 = time.perf_counter()
import fl_tui.cli.main
from fl_tui.core.config import load_settings
from fl_tui.connection.base import UnknownModel
from fl_tui.connection.resolve import Choice, open_backend
t1 = time.perf_counter()
backend = open_backend(Choice(None, "startup"), load_settings()[0], web=False)
t2 = time.perf_counter()
backend.status()
t3 = time.perf_counter()
backend.list_models()
try:
    backend.resolve("no-such-model:1")  # offline the runtime alone would retry ~4.5 s per unknown id
except UnknownModel:
    pass
t3b = time.perf_counter()
backend.close()
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "open runtime": t2 - t1, "status()": t3 - t2,
                  "listing + unknown id": t3b - t3, "close()": t4 - t3b}))
"""


def breakdown(env: dict[str, str]) -> dict[str, float]:
    """Where `fl-tui status` spends its time, stage by stage, in one fresh interpreter (as the command runs it)."""
    proc = subprocess.run([sys.executable, "-c", BREAKDOWN], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def folder_bytes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="fl-tui-startup-"))
    try:
        env = isolated_env(root)
        fl = [sys.executable, "-m", "fl_tui"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "fl-tui status": [*fl, "status"],
            "fl-tui models list": [*fl, "models", "list"],
        }
        first = wall(commands["fl-tui status"], env)  # a fresh home: builds and registers the demo models
        times = {name: [wall(args, env) for _ in range(RUNS)] for name, args in commands.items()}
        # Targets, interleaved with their floor so a busy machine slows both alike: each help <= 4x python -c pass.
        helps = {"fl-tui --help": [*fl, "--help"], "fl-tui --version": [*fl, "--version"],
                 **{f"fl-tui {' '.join(c)} --help": [*fl, *c, "--help"] for c in HELP_COMMANDS}}
        floor: list[float] = []
        help_times: dict[str, list[float]] = {name: [] for name in helps}
        for _ in range(RUNS):
            for name, args in helps.items():
                floor.append(wall(commands["python -c pass"], env))
                help_times[name].append(wall(args, env))
        stages = [breakdown(env) for _ in range(3)]
        stages = {key: statistics.median(s[key] for s in stages) for key in stages[0]}

        os.environ.update({k: v for k, v in env.items() if k in ("HOME", "FL_TUI_HOME") or k.startswith("XDG_")})
        from fl_tui.demo.build import DEMO_MODELS, build_demo_model

        start = time.perf_counter()
        build_demo_model(DEMO_MODELS[0], root / "warm")  # imports onnx and tokenizers; not in the median
        first_build = time.perf_counter() - start
        builds = []
        for i in range(RUNS):
            start = time.perf_counter()
            for spec in DEMO_MODELS:
                build_demo_model(spec, root / f"build-{i}" / spec.name)
            builds.append(time.perf_counter() - start)
        sizes = {spec.name: folder_bytes(root / "build-0" / spec.name) for spec in DEMO_MODELS}
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"startup, wall time of a subprocess, median of {RUNS} (min-max); embedded runtime, catalog offline")
    for name, values in times.items():
        print(f"    {name:<22} {statistics.median(values):6.2f} s  ({min(values):.2f}-{max(values):.2f})")
    target = 4 * statistics.median(floor)
    print(f"targets (interleaved with the floor; python -c pass {statistics.median(floor):.3f} s, x4 = {target:.3f} s)")
    for name, values in help_times.items():
        got = statistics.median(values)
        print(f"    {name:<34} {got:6.3f} s  = {got / statistics.median(floor):4.1f}x floor  "
              f"{'ok' if got <= target else 'OVER'} (<= 4x)")
    status = statistics.median(times["fl-tui status"])
    print(f"    {'fl-tui status (offline)':<34} {status:6.3f} s  {'ok' if status <= 1.0 else 'OVER'} (<= 1.0 s)")
    print(f"    {'first fl-tui status':<22} {first:6.2f} s  (fresh home: builds and registers the demo models)")
    print("    where `fl-tui status` goes (in one interpreter, median of 3): "
          + ", ".join(f"{key} {value:.2f} s" for key, value in stages.items()))
    print(f"demo model build, in process, both models, median of {RUNS}: {statistics.median(builds):.2f} s "
          f"({min(builds):.2f}-{max(builds):.2f}); first build with imports, one model: {first_build:.2f} s")
    print("demo models on disk:")
    for name, files in sizes.items():
        detail = ", ".join(f"{f} {n / 1024:,.0f} KiB" for f, n in files.items())
        print(f"    {name:<26} {sum(files.values()) / 2**20:5.2f} MiB  ({detail})")
    summary = {
        "bench": "startup",
        "status_s": round(statistics.median(times["fl-tui status"]), 3),
        "models_list_s": round(statistics.median(times["fl-tui models list"]), 3),
        "python_floor_s": round(statistics.median(times["python -c pass"]), 3),
        "help_s": {name: round(statistics.median(v), 3) for name, v in help_times.items()},
        "help_floor_s": round(statistics.median(floor), 3),
        "first_status_s": round(first, 3),
        "status_stages_s": {key: round(value, 3) for key, value in stages.items()},
        "demo_build_both_s": round(statistics.median(builds), 3),
        "demo_model_mib": {name: round(sum(files.values()) / 2**20, 2) for name, files in sizes.items()},
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
