"""Defaults that `fl-tui --help` shows, in a module that imports nothing: the parser (fl_tui.cli.parser) is built
without the commands' implementations, and these take their defaults from here too, so the two cannot drift."""

from __future__ import annotations

DEFAULT_SERVICE = ("127.0.0.1", 5273)  # where `fl-tui serve` listens and every command looks first
JUDGE_MAX_TOKENS = 200  # a judge's reply for four aspects needs ~100 tokens; small models have small contexts
