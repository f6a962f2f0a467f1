"""`fl-tui completion bash|zsh`: a shell completion script generated from the parser itself (shtab), so it
never drifts from the commands."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(args.parser, shell=args.shell), end="")
    return 0
