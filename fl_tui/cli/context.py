"""What every command needs: the settings and an open backend, chosen the same way the app chooses them."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

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
def backend_for(args: argparse.Namespace, **embedded_options):
    """Yields (backend, choice); closes the backend (and stops an embedded runtime) afterwards.

    `embedded_options` go to the embedded runtime: management commands pass web=False (no inference needed)."""
    settings = settings_for(args)
    choice: Choice = choose_endpoint(args.endpoint, settings)
    try:
        backend: Backend = open_backend(choice, settings, debug=args.debug, **embedded_options)
    except ValueError as exc:  # a malformed endpoint URL
        raise UserError(f"{choice.source}: {exc}") from exc
    try:
        yield backend, choice
    finally:
        backend.close()
