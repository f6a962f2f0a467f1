"""`fl-tui` command line: no command opens the app; the others run the same core headless.

Exit codes: 0 ok, 1 a model failed or a regression, 2 bad input (an unknown model name included), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from fl_tui import __version__
from fl_tui.connection.base import BackendError
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain

Handler = Callable[[argparse.Namespace], int]

def _add_global_options(parser: argparse.ArgumentParser, *, on_command: bool) -> None:
    """The options every command takes, before or after its name (as vLLM's and guidellm's do). On a command
    their default is SUPPRESS: given there, they set the value; not given, the top level's value stands."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if on_command else value

    parser.add_argument("--debug", action="store_true", default=default(False),
                        help="show tracebacks and the runtime's own log output")
    parser.add_argument("--endpoint", default=default(None),
                        help="a Foundry Local or OpenAI-compatible URL (default: auto, see README)")
    parser.add_argument("--config", default=default(None),
                        help="settings file (default: the user config dir's config.toml)")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command's parser, nested ones too. argparse has no public way to walk them; shtab reads the same."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                found += [child, *_subparsers(child)]
    return found


def build_parser() -> argparse.ArgumentParser:
    from fl_tui.cli import annotate_cmd, bench_cmd, completion_cmd, models_cmd, report_cmd, serve_cmd, status_cmd

    parser = argparse.ArgumentParser(
        prog="fl-tui",
        description="Run, measure and judge local language models on Microsoft Foundry Local.",
        epilog="exit codes: 0 ok, 1 a model failed or a regression, 2 bad input or an unknown model, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"fl-tui {__version__}")
    _add_global_options(parser, on_command=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (status_cmd, models_cmd, bench_cmd, report_cmd, annotate_cmd, serve_cmd, completion_cmd):
        module.add_parser(sub)
    for child in _subparsers(parser):
        _add_global_options(child, on_command=True)
    parser.set_defaults(parser=parser)  # `completion` describes the parser it was called through
    return parser


def _quiet_stdout() -> None:
    """The reader went away (`| head`): point stdout at /dev/null so the interpreter's last flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handling below
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
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
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            print("fl-tui: the app needs a terminal; name a command to run headless (e.g. `fl-tui status`)\n",
                  file=sys.stderr)
            parser.print_help(sys.stderr)
            return 2
        from fl_tui.cli.app_cmd import run_app

        return _run(run_app, args)
    return _run(args.handler, args)
