"""What every command needs: the settings and an open backend, chosen the same way the app chooses them."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from fl_tui.cli.ending import ExitPlan
from fl_tui.connection.base import Backend
from fl_tui.connection.resolve import Choice, choose_endpoint, open_backend
from fl_tui.core.config import Settings, load_settings
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain


def settings_for(args: argparse.Namespace) -> Settings:
    settings, problem = load_settings(Path(args.config) if args.config else None)
    if problem is not None:
        print(f"fl-tui: {plain(problem, keep_newlines=False)} (using defaults)", file=sys.stderr)
    return settings


@contextmanager
def backend_for(args: argparse.Namespace, *, fast_exit: bool = False, deadline_s: float | None = None,
                **embedded_options):
    """Yields (backend, choice); closes the backend (and stops an embedded runtime) afterwards.

    `fast_exit`: a command that has nothing left to write once it is done (status, models list, bench) lets the
    process end without the runtime's native release (Backend.close_for_exit, one to two seconds), where the entry
    point allows it. `embedded_options` go to the embedded runtime: management commands pass web=False."""
    watch = getattr(args, "stopwatch", None)
    plan: ExitPlan = getattr(args, "exit_plan", None) or ExitPlan()
    settings = settings_for(args)
    choice: Choice = choose_endpoint(args.endpoint, settings)
    if watch:
        watch.mark("parse and imports")
    try:
        backend: Backend = open_backend(choice, settings, debug=args.debug, deadline_s=deadline_s,
                                        **embedded_options)
    except ValueError as exc:  # a malformed endpoint URL
        raise UserError(f"{choice.source}: {exc}") from exc
    if watch:
        watch.mark("start", backend.start_stages())
    try:
        yield backend, choice
    finally:
        if watch:
            watch.mark("listing")
        if fast_exit and plan.allowed:
            plan.pending = backend.close_for_exit() or plan.pending
            if watch and plan.pending:
                watch.notes.append("the runtime's native release is left to the process's end (os._exit)")
        else:
            backend.close()
        if watch:
            watch.mark("shutdown")
