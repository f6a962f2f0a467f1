"""`fl-tui` command line: no command opens the app; the others run the same core headless.

Exit codes: 0 ok, 1 a model failed or a regression, 2 bad input (an unknown model name included), 130 interrupted
(143 by SIGTERM, 129 by SIGHUP).
Only the parser is imported up front (fl_tui.cli.parser): `--help` and `--version` never load the commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from fl_tui.cli.console import tolerate
from fl_tui.cli.ending import ExitPlan
from fl_tui.cli.parser import build_parser, gather_endpoints
from fl_tui.cli.timing import Stopwatch

Handler = Callable[[argparse.Namespace], int]


def _quiet_stdout() -> None:
    """The reader went away (`| head`): point stdout at /dev/null so the interpreter's last flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print_traceback() -> None:
    """--debug's traceback, with any endpoint's password or key masked (messages and locals quote URLs)."""
    from fl_tui.core.redact import redact_text

    print(redact_text(traceback.format_exc()), end="", file=sys.stderr)


def _run(handler: Handler, args: argparse.Namespace) -> int:
    from fl_tui.connection.base import BackendError
    from fl_tui.core.errors import UserError
    from fl_tui.core.textsafe import plain

    try:
        gather_endpoints(args)
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handling below
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except (UserError, BackendError) as exc:
        if args.debug:
            _print_traceback()
        print(f"fl-tui: {plain(exc, keep_newlines=False)}", file=sys.stderr)  # messages quote servers and files
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("fl-tui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback with --debug
        if args.debug:
            _print_traceback()
        message = f"{type(exc).__name__}: {plain(exc, keep_newlines=False)}"
        print(f"fl-tui: internal error: {message} (run with --debug for details)", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None, *, exit_plan: ExitPlan | None = None) -> int:
    watch = Stopwatch()
    tolerate()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.exit_plan = exit_plan or ExitPlan()
    if args.command is None:
        # TEXTUAL_DRIVER: another driver draws the app (`fl-tui web` sets textual-serve's, over pipes)
        if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("TEXTUAL_DRIVER"):
            print("fl-tui: the app needs a terminal; name a command to run headless (e.g. `fl-tui status`)\n",
                  file=sys.stderr)
            parser.print_help(sys.stderr)
            return 2
        from fl_tui.cli.app_cmd import run_app

        return _run(run_app, args)
    if args.debug:
        watch.measure_python()
        args.stopwatch = watch
    code = _run(args.handler, args)
    if args.debug:
        watch.mark("output")
        print(watch.line(), file=sys.stderr)
    return code


def _flush_for_exit() -> None:
    """Everything buffered reaches its file before os._exit, which runs no atexit hook and flushes nothing."""
    if "logging" in sys.modules:
        import logging

        logging.shutdown()  # its handlers' files
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left after the command's own flush: nothing more can reach it
        _quiet_stdout()
    sys.stderr.flush()


def entry() -> None:
    """`fl-tui` and `python -m fl_tui`: main(), then the process ends. When a command left its runtime for the
    process's end to drop (ExitPlan.pending), that end is os._exit, after flushing."""
    plan = ExitPlan(allowed=True)
    code = main(exit_plan=plan)
    if plan.pending:
        _flush_for_exit()
        os._exit(code)
    sys.exit(code)
