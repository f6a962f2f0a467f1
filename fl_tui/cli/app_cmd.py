"""No command: open the app."""

from __future__ import annotations

import argparse


def run_app(args: argparse.Namespace) -> int:
    from fl_tui.ui.app import run

    return run(args)
