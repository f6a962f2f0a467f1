"""`fl-tui completion bash|zsh`: a shell completion script generated from the parser itself (shtab), so it
never drifts from the commands."""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh")


def add_parser(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (see README, Shell completion)")
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(args.parser, shell=args.shell), end="")
    return 0
