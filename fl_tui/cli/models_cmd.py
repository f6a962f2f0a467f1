"""`fl-tui models …`: list, download, load, unload, remove and register models headless."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from fl_tui.cli.context import backend_for
from fl_tui.cli.output import Format, print_table
from fl_tui.connection.base import (
    CATALOG_UNREACHABLE_MESSAGE,
    Backend,
    BackendError,
    CatalogState,
    ModelEntry,
    ModelSource,
    UnknownModel,
)
from fl_tui.core.errors import UserError
from fl_tui.core.progress import PercentBar
from fl_tui.core.textsafe import plain
from fl_tui.models.filter import apply_filter, parse_filter
from fl_tui.models.modelview import capabilities, size_text
from fl_tui.models.specs import load_specs

COLUMNS = ("alias", "id", "device", "size", "cached", "loaded", "source", "capabilities")


def run_list(args: argparse.Namespace) -> int:
    specs = load_specs(args.models_file)
    conditions = parse_filter(args.filter or "")
    with backend_for(args, web=False, fast_exit=True) as (backend, _choice):
        if args.loaded:
            models = backend.list_loaded()
        elif args.cached:
            models = backend.list_cached()
        else:
            models = backend.list_models()
        status = backend.status()
    models = sorted(apply_filter(models, conditions, specs), key=lambda m: (m.alias, m.id))
    if args.format is Format.JSON:
        print(json.dumps([{**asdict(m), "capabilities": capabilities(m, specs)} for m in models], indent=2))
        return 0
    if status.catalog is CatalogState.UNREACHABLE and not (args.loaded or args.cached):
        print(f"({CATALOG_UNREACHABLE_MESSAGE})", file=sys.stderr)
    text = args.format is Format.TEXT
    rows = [
        {
            "alias": m.alias, "id": m.id, "device": m.device or "-", "size": size_text(m),
            "cached": ("✓" if m.cached else "") if text else m.cached,
            "loaded": ("●" if m.loaded else "") if text else m.loaded,
            "source": m.source, "capabilities": capabilities(m, specs),
        }
        for m in models
    ]
    print_table(args.format, COLUMNS, rows)
    if not rows and text:
        print("(no models)")
    return 0


def download_with_progress(backend: Backend, entry: ModelEntry) -> None:
    """Runs the download in a thread so Ctrl-C can cancel it cleanly (the runtime checks the cancel flag)."""
    bar = PercentBar(plain(entry.id), entry.size_mb)
    cancel = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            backend.download(entry.id, bar.update, cancel)
        except BaseException as exc:  # handed to the main thread, which reports it
            failure.append(exc)

    thread = threading.Thread(target=work, name="download", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        thread.join(30)
        bar.close()
        raise UserError(f"download of {entry.id} cancelled; nothing was marked as cached") from None
    bar.close()
    if failure:
        raise failure[0]


def run_download(args: argparse.Namespace) -> int:
    with backend_for(args, web=False) as (backend, _):
        try:
            entry = backend.resolve(args.name)
        except UnknownModel as exc:
            if backend.status().catalog is CatalogState.UNREACHABLE:
                raise UserError(f"cannot download {args.name!r}: the model catalog is unreachable (offline?), so "
                                "only cached and local models are known; try again online") from exc
            raise
        if entry.cached:
            print(f"{plain(entry.id)} is already in the cache")
            return 0
        download_with_progress(backend, entry)
        print(f"downloaded {plain(entry.id)}")
    return 0


def run_load(args: argparse.Namespace) -> int:
    with backend_for(args, web=False) as (backend, _):
        entry = backend.resolve(args.name)
        backend.load(entry.id, args.ttl)
        print(f"loaded {plain(entry.id)}")
        if backend.in_process:
            print("note: the embedded runtime ends with this command; run `fl-tui serve` to keep models loaded",
                  file=sys.stderr)
    return 0


def run_unload(args: argparse.Namespace) -> int:
    with backend_for(args, web=False) as (backend, _):
        entry = backend.resolve(args.name)
        backend.unload(entry.id)
        print(f"unloaded {plain(entry.id)}")
    return 0


def run_unload_all(args: argparse.Namespace) -> int:
    with backend_for(args, web=False) as (backend, _):
        ids = backend.unload_all()
    print(f"unloaded {', '.join(plain(i) for i in ids)}" if ids else "nothing was loaded")
    return 0


def removal_summary(entry: ModelEntry) -> str:
    if entry.source is ModelSource.LOCAL:
        return f"unregister {entry.id} (its folder {entry.path or '?'} is kept)"
    size = f", {entry.disk_bytes / 2**20:.1f} MB" if entry.disk_bytes else ""
    return f"delete {entry.id} from the cache ({entry.path or '?'}{size})"


def run_remove(args: argparse.Namespace) -> int:
    with backend_for(args, web=False) as (backend, _):
        entry = backend.resolve(args.name)
        what = plain(removal_summary(entry))
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError(f"would {what}; pass --yes to confirm when not at a terminal")
            answer = input(f"{what}{' (it is loaded and will be unloaded)' if entry.loaded else ''}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return 0
        backend.remove(entry.id)
        print(f"done: {what}")
    return 0


def run_register(args: argparse.Namespace) -> int:
    with backend_for(args, web=False) as (backend, _):
        try:
            entry = backend.register(Path(args.folder), args.model_id, args.alias)
        except BackendError as exc:
            raise UserError(str(exc)) from exc
        note = "" if entry.extra.get("served_over_http") else " (served over HTTP from the next start)"
        print(f"registered {plain(entry.id)} as {plain(entry.alias)}{note}")
    return 0
