"""Text from a model, a server or a file is untrusted: it must reach a terminal or a spreadsheet inert."""

from __future__ import annotations

import json
import math
import re

from fl_tui.core.redact import redact_text

# C0 controls except tab and newline, DEL, C1 controls (which include the 8-bit CSI, 0x9b), and the bidi
# embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069; U+200E/U+200F and U+061C, the
# left-to-right, right-to-left and Arabic letter marks), which reorder what a terminal shows.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


def whole_unicode(text: str) -> str:
    """Surrogate pairs joined into their character and lone surrogates shown as U+FFFD, so the text encodes as
    UTF-8. JSON's `\\ud83d` escapes decode to lone surrogates, and a pair split across two events arrives as two."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def plain(text: object, *, keep_newlines: bool = True) -> str:
    """Escape sequences removed whole, other control and bidi characters shown as U+FFFD, lone surrogates too, and
    credentials in URLs masked (`user:***@host`); never styled by anyone. Every outside string shown goes here."""
    s = str(text)
    if s.isascii() and s.isprintable() and "@" not in s and "=" not in s:
        return s  # nothing to remove, replace or mask: most cells of a long table (300,000 model ids) are this
    s = redact_text(_ANSI.sub("", whole_unicode(s)))
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


def json_text(text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with C1 controls, DEL and bidi marks written as
    \\uXXXX escapes: the same value, but inert on a terminal. json.dumps escapes only the C0 controls itself."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
