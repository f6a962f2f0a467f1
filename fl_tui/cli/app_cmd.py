"""No command: open the app. The backend starts opening before the UI is imported (fl_tui.connection.opening), and
closes after the UI is gone."""

from __future__ import annotations

import argparse
from pathlib import Path


def run_app(args: argparse.Namespace) -> int:
    from fl_tui.connection.base import Backend, BackendError
    from fl_tui.connection.opening import Opening
    from fl_tui.connection.resolve import choose_endpoint, open_backend
    from fl_tui.core.config import load_settings
    from fl_tui.core.errors import UserError
    from fl_tui.models.specs import load_specs

    path = Path(args.config) if args.config else None
    settings, problem = load_settings(path)
    problems = [f"{problem} (using defaults)"] if problem else []

    def open_it() -> Backend:
        """Choosing may probe port 5273 and ask the `foundry` CLI: on the opening's thread, never before the paint."""
        choice = choose_endpoint(args.endpoint, settings)
        try:
            return open_backend(choice, settings, debug=args.debug)
        except ValueError as exc:
            raise BackendError(f"{choice.source}: {exc}") from exc

    opening = Opening(open_it)
    try:
        try:
            specs = load_specs()
        except UserError as exc:
            specs, problems = {}, [*problems, str(exc)]
        from fl_tui.ui.app import FlTuiApp

        app = FlTuiApp(opening.result, settings=settings, settings_path=path, specs=specs, startup_problems=problems)
        return app.run() or 0
    finally:
        opening.close()
