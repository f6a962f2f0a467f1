"""Text from a model, a server or a file is untrusted: it must reach a terminal or a spreadsheet inert."""

from __future__ import annotations

import json
import math
import re

# C0 controls except tab and newline, DEL, and C1 controls (which include the 8-bit CSI, 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


def plain(text: object, *, keep_newlines: bool = True) -> str:
    """Escape sequences removed whole, other control characters shown as U+FFFD; never styled by anyone."""
    s = _ANSI.sub("", str(text))
    s = _CONTROL.sub("\ufffd", s)
    return s if keep_newlines else s.replace("\n", " ").replace("\t", " ")


def csv_cell(value: object) -> object:
    """A value as a CSV cell: empty for None and non-finite floats, true/false, dicts and lists as JSON; and
    spreadsheet formulas neutralised: a text cell starting with = + - @ (or a tab/CR) gets a leading quote."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        value = plain(value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return value
