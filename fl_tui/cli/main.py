"""`fl-tui` command line: no command opens the app; the others run the same core headless."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable

from fl_tui import __version__
from fl_tui.connection.base import BackendError
from fl_tui.errors import UserError
from fl_tui.textsafe import plain

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    from fl_tui.cli import annotate_cmd, bench_cmd, models_cmd, report_cmd, serve_cmd, status_cmd

    parser = argparse.ArgumentParser(
        prog="fl-tui",
        description="Run, measure and judge local language models on Microsoft Foundry Local.",
    )
    parser.add_argument("--version", action="version", version=f"fl-tui {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and the runtime's own log output")
    parser.add_argument("--endpoint", help="a Foundry Local or OpenAI-compatible URL (default: auto, see README)")
    parser.add_argument("--config", help="settings file (default: the user config dir's config.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (status_cmd, models_cmd, bench_cmd, report_cmd, annotate_cmd, serve_cmd):
        module.add_parser(sub)
    return parser


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except (UserError, BackendError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"fl-tui: {plain(exc, keep_newlines=False)}", file=sys.stderr)  # messages quote servers and files
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("fl-tui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback with --debug
        if args.debug:
            traceback.print_exc()
        message = f"{type(exc).__name__}: {plain(exc, keep_newlines=False)}"
        print(f"fl-tui: internal error: {message} (run with --debug for details)", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from fl_tui.cli.app_cmd import run_app

        return _run(run_app, args)
    return _run(args.handler, args)
