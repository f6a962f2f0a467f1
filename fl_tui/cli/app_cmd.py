"""No command: open the app. The backend starts opening before the UI is imported (fl_tui.connection.opening), or
after the first frame when the last model list is there to show meanwhile (fl_tui.models.last_list), and
closes after the UI is gone: when the app left nothing running, without the runtime's native release (about two
seconds after the terminal is back), which the process's os._exit drops, as `fl-tui status` does."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path


def _collect_again() -> None:
    """After the first frame: what start-up made is kept out of the collections that follow (gc.freeze), until
    the end of a benchmark run gives everything frozen back to the collector (fl_tui/ui/widgets/bench/runner.py)."""
    gc.freeze()
    gc.enable()


def run_app(args: argparse.Namespace) -> int:
    # No cyclic garbage collection until the first frame is out: start-up makes few cycles and many objects, and
    # the collections they set off took about 30 ms of it (on a 2-core box; docs/figures.md).
    gc.disable()
    from fl_tui.connection.base import Backend, BackendError
    from fl_tui.connection.opening import Opening
    from fl_tui.connection.resolve import choose_endpoint, given_endpoint, open_backend
    from fl_tui.connection.roles import withheld
    from fl_tui.core.config import load_settings
    from fl_tui.core.errors import UserError
    from fl_tui.models.last_list import LastModels, endpoint_key
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

    named = given_endpoint(args.endpoint, settings)
    last_models = LastModels(endpoint_key(named[0] if named else None, settings.catalog))
    last, problem = last_models.load()
    problems += [problem] if problem else []
    opening = Opening(open_it, start=last is None)  # with a last list to show, the app starts it after its paint
    app = None
    try:
        try:
            specs = load_specs()
        except UserError as exc:
            specs, problems = {}, [*problems, str(exc)]
        from fl_tui.ui.app import FlTuiApp

        app = FlTuiApp(opening.result, settings=settings, settings_path=path, specs=specs, startup_problems=problems,
                       withheld=withheld(), last_models=last_models, last_list=last,
                       after_first_frame=_collect_again)
        return app.run() or 0
    finally:
        gc.enable()  # when the app ended before its first frame
        if app is not None:
            app.finish_work()
        plan = args.exit_plan
        quick = plan.allowed and app is not None and app.left_nothing_running()
        plan.pending = opening.close(for_exit=quick) or plan.pending
