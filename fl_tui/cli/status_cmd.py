"""`fl-tui status`: which endpoint, backend and generation, the cache, what is loaded."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from fl_tui.cli.context import backend_for
from fl_tui.cli.output import Format, render_table
from fl_tui.connection.base import CATALOG_UNREACHABLE_MESSAGE, Backend, CatalogState
from fl_tui.core.textsafe import plain

SETTLE_S = 15.0  # an online catalog's first fetch: the answer then matches what the app's header shows


def _process(backend: Backend) -> str:
    """Which process runs the models (memory and CPU are measured there), or why that is unknown."""
    found = backend.host()
    if found.pid is None:
        return found.reason or "unknown"
    return f"this one (pid {found.pid})" if backend.in_process else f"pid {found.pid}"


def run(args: argparse.Namespace) -> int:
    with backend_for(args, web=False, fast_exit=True) as (backend, choice):
        backend.settle(SETTLE_S)
        status = backend.status()
        process = _process(backend)
    if args.format is Format.JSON:
        print(json.dumps({**asdict(status), "source": choice.source, "process": process}, indent=2))
        return 0
    catalog = {
        CatalogState.OK: "reachable",
        CatalogState.UNREACHABLE: CATALOG_UNREACHABLE_MESSAGE,
        CatalogState.UNKNOWN: "unknown: no answer from the catalog yet",
        CatalogState.NONE: "none (this backend has no catalog)",
    }[status.catalog]
    rows = [
        ("endpoint", f"{status.endpoint}  ({choice.source})"),
        ("backend", f"{status.backend} {status.generation or ''}".strip()),
        ("cache", status.cache_path or "-"),
        ("catalog", catalog + (f" ({status.detail})" if status.detail else "")),
        ("loaded", ", ".join(status.loaded) or "(none)"),
        ("process", process),
    ]
    if args.format is not Format.TEXT:
        print(render_table(args.format, ("field", "value"), [{"field": k, "value": v} for k, v in rows]))
        return 0
    for key, value in rows:
        print(f"{key:<9}{plain(value, keep_newlines=False)}")
    return 0
