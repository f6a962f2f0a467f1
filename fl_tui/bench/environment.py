"""What a run ran on, gathered once at its start into run.json's `environment`, so that `compare` can say when two
runs were measured on different machines, software or servers (a faster CPU is not a faster build).

Gathering must not slow or break a run: the one subprocess (nvidia-smi) is bounded by a short timeout, and a fact
that cannot be read is left out, never guessed. Package versions are null when the package is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import psutil

from fl_tui.connection.base import Backend, BackendError

TOOL_TIMEOUT_S = 2.0
GIB = 1024**3
PACKAGES = {  # run.json key -> distribution name
    "fl_tui": "fl-tui",
    "foundry_local_sdk": "foundry-local-sdk",
    "onnxruntime": "onnxruntime",
    "onnxruntime_genai": "onnxruntime-genai",
}
# The machine- and software-describing keys compared between runs, in the order a warning names them
COMPARED = ("os", "kernel", "arch", "cpu_model", "cpu_cores", "ram_gib", "gpus", "python", *PACKAGES,
            "endpoint_kind", "endpoint_version")


def _cpu_model() -> str | None:
    """The `model name` line of /proc/cpuinfo (Linux), else what platform says (often only the family)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _gpus() -> list[dict] | None:
    """Each GPU nvidia-smi reports (name, memory), or None when there is no nvidia-smi or it does not answer."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    gpus = []
    for line in done.stdout.splitlines():
        name, _, memory = line.partition(",")
        if name.strip():
            gpus.append({"name": name.strip(), "memory": memory.strip() or None})
    return gpus or None


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _endpoint(backend: Backend) -> dict:
    """The server's kind, and its version as far as the backend knows it (the SDK's for the embedded runtime,
    the service generation otherwise); a status that fails leaves the version out."""
    out: dict = {"endpoint_kind": backend.kind}
    if backend.kind == "embedded":
        out["endpoint_version"] = _version("foundry-local-sdk")
        return out
    try:
        generation = backend.status().generation
    except (BackendError, OSError):
        return out
    if generation:
        out["endpoint_version"] = generation
    return out


def gather(backend: Backend) -> dict:
    """The environment object of run.json; blocking (status, nvidia-smi): call it from a thread."""
    env: dict = {"os": platform.system() or None, "kernel": platform.release() or None,
                 "arch": platform.machine() or None, "cpu_model": _cpu_model(), "cpu_cores": os.cpu_count()}
    with contextlib.suppress(OSError, psutil.Error):
        env["ram_gib"] = round(psutil.virtual_memory().total / GIB, 1)
    if (gpus := _gpus()) is not None:
        env["gpus"] = gpus
    env["python"] = platform.python_version()
    env.update({key: _version(dist) for key, dist in PACKAGES.items()})
    env.update(_endpoint(backend))
    return {k: v for k, v in env.items() if v is not None or k in PACKAGES}


def differences(base: Mapping, new: Mapping) -> list[str]:
    """The compared keys whose values differ (one run having a key the other lacks counts as differing)."""
    return [key for key in COMPARED if base.get(key) != new.get(key)]


def environment_note(base_env: Mapping | None, new_env: Mapping | None) -> str | None:
    """One line for a comparison of two runs' environments (run.json `environment`): which fields differ, or which
    run has none; None when they match (or neither run recorded one: nothing to say)."""
    if not isinstance(base_env, Mapping) and not isinstance(new_env, Mapping):
        return None
    if not isinstance(base_env, Mapping) or not isinstance(new_env, Mapping):
        which = "base" if not isinstance(base_env, Mapping) else "new"
        return f"note: the {which} run has no environment recorded; whether the machines match is unknown"
    differ = differences(base_env, new_env)
    return f"environments differ: {', '.join(differ)}" if differ else None
