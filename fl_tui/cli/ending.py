"""How a command's process ends, kept apart from fl_tui.cli.context so the entry point imports it for free."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ExitPlan:
    """May this process end with os._exit once its command is done? Only the real entry point allows it (tests
    call main() in-process); `pending` says a command left its runtime for the process's end to drop."""

    allowed: bool = False
    pending: bool = False
