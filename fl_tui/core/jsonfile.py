"""Load a JSON file and validate it with pydantic, so every problem reads `path:line:col: what was expected`.

The json module gives positions only for syntax errors and pydantic gives schema errors as key paths; `locate` maps
such a path back to an offset in the text, so schema errors get a line and column too.

Validation runs in pydantic's Python mode on what `json.loads` returned: adapters that must not coerce (say "3" into
3.0) should be strict.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import read_input
from fl_tui.core.limits import JSON_DEPTH_MAX, SMALL_FILE_MAX

if TYPE_CHECKING:  # imported where a file is validated: reading the settings and models.json needs no pydantic
    import pydantic

T = TypeVar("T")

_WHITESPACE = re.compile(r"[ \t\n\r]*")  # exactly what JSON (and the json module) allow between tokens
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCALAR = re.compile(r'[^ \t\n\r,:\[\]{}"]+')  # a number, true/false/null, or NaN/Infinity (json.loads accepts them)
_BARE_KEY = re.compile(r"[\w-]+")
_KEY_TAG = "[key]"  # pydantic ends a loc with this when a dict key, not its value, is wrong
# A \\uD800-\\uDFFF escape (after an even run of backslashes, so it is one): JSON allows it, UTF-8 cannot hold it.
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*(\\u[dD][89a-fA-F][0-9a-fA-F]{2})")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_OR_STRING = re.compile(r'[\[\]{}]|"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class ProblemAt(ValueError):
    """Raised by a validator to blame a part of its value (the second of two equal ids), not the whole value."""

    def __init__(self, message: str, *path: str | int):
        super().__init__(message)
        self.path = path


def load_validated(path: Path, adapter: pydantic.TypeAdapter[T], limit: int = SMALL_FILE_MAX) -> T:
    text, data = read_json(path, limit)
    return validate(path, text, data, adapter)


def read_json(path: Path, limit: int = SMALL_FILE_MAX, *, lone_surrogates: bool = False) -> tuple[str, object]:
    """The text is returned with the value so that later schema errors can be placed in it. Files over `limit`
    bytes, files that are not regular (FIFOs, devices) and nesting deeper than JSON_DEPTH_MAX are refused: what is
    read back is then safe to copy, validate and write again without recursion trouble. So are lone surrogate
    escapes, unless the caller keeps them (annotation notes round-trip them as escapes)."""
    text = decode_text(path, read_input(Path(path), limit))
    _check_depth(path, text)
    if not lone_surrogates:
        _check_surrogates(path, text)
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem(path, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from exc
    except RecursionError as exc:
        raise FileProblem(path, "not valid JSON: nested too deeply") from exc
    except ValueError as exc:  # an integer longer than Python's digit limit
        raise FileProblem(path, f"not valid JSON: {exc}") from exc


def validate(path: Path, text: str, data: object, adapter: pydantic.TypeAdapter[T]) -> T:
    """Only the first error is reported: the one line an editor can jump to."""
    import pydantic

    try:
        return adapter.validate_python(data)
    except pydantic.ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc, message = tuple(error["loc"]), error["msg"]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ValueError):  # our own validators' words, without pydantic's "Value error, " prefix
            message = str(cause)
        if isinstance(cause, ProblemAt):
            loc += cause.path
        at_key = loc[-1:] == (_KEY_TAG,)
        message = f"{dotted_path(loc)}: {message}"
        raise problem_at(path, text, loc[:-1] if at_key else loc, message, at_key=at_key) from exc


def problem_at(path: Path, text: str, loc: Sequence[str | int], message: str, *, at_key: bool = False) -> FileProblem:
    """A FileProblem pointing at the value (or, with `at_key`, the key) found at `loc` in the JSON text."""
    line, col = _line_col(text, locate(text, loc, at_key=at_key))
    return FileProblem(path, message, line, col)


def dotted_path(loc: Sequence[str | int]) -> str:
    """`prompts.2.max_tokens`; odd keys are quoted, which also keeps control characters out of the message."""
    steps = [str(s) if isinstance(s, int) or _BARE_KEY.fullmatch(s) else json.dumps(s) for s in loc if s != _KEY_TAG]
    return ".".join(steps) or "top level"


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based, counted in characters like json.JSONDecodeError, so both kinds of error agree."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def locate(text: str, loc: Sequence[str | int], at_key: bool = False) -> int:
    """Offset of the value at `loc` in valid JSON `text`, or of its key when `at_key`.

    A step that matches nothing (a missing key, a pydantic union tag) stops the walk: the deepest enclosing value is
    the best place to point at. For duplicate keys the last one counts, as in json.loads.
    """
    pos = key_pos = _skip_whitespace(text, 0)
    for step in loc:
        found = _member(text, pos, step)
        if found is None:
            return pos
        key_pos, pos = found
    return key_pos if at_key else pos


def _member(text: str, pos: int, step: str | int) -> tuple[int, int] | None:
    """(key offset, value offset) of `step` in the object or array starting at `pos`."""
    opener = text[pos : pos + 1]
    if not ((opener == "{" and isinstance(step, str)) or (opener == "[" and isinstance(step, int))):
        return None
    found = None
    pos = _skip_whitespace(text, pos + 1)
    index = 0
    while text[pos] not in "]}":
        key_pos = pos
        if opener == "{":
            key_end = _STRING.match(text, pos).end()
            key = json.loads(text[pos:key_end])
            pos = _skip_whitespace(text, _skip_whitespace(text, key_end) + 1)  # past the colon
            if key == step:
                found = key_pos, pos
        elif index == step:
            return pos, pos
        pos = _skip_whitespace(text, _skip_value(text, pos))
        if text[pos] == ",":
            pos = _skip_whitespace(text, pos + 1)
        index += 1
    return found


def _skip_value(text: str, pos: int) -> int:
    depth = 0
    while True:
        char = text[pos]
        if char == '"':
            pos = _STRING.match(text, pos).end()
        elif char in "[{":
            depth += 1
            pos += 1
        elif char in "]}":
            depth -= 1
            pos += 1
        elif char in ",: \t\n\r":  # only ever inside a container, never a value by itself
            pos += 1
            continue
        else:
            pos = _SCALAR.match(text, pos).end()
        if depth == 0:
            return pos


def _skip_whitespace(text: str, pos: int) -> int:
    return _WHITESPACE.match(text, pos).end()


def _check_surrogates(path: Path, text: str) -> None:
    """A lone surrogate escape decodes to a string no file or terminal can take: refused here, with its place.
    A high one directly followed by a low one is a pair (one character) and fine."""
    if "\\u" not in text:
        return
    units = [(m.start(1), m.end(1), int(m.group(1)[2:], 16)) for m in _SURROGATE_ESCAPE.finditer(text)]
    for i, (begin, end, unit) in enumerate(units):
        if unit < 0xDC00:  # high: a low one must follow at once
            nxt = units[i + 1] if i + 1 < len(units) else None
            paired = nxt is not None and nxt[0] == end and nxt[2] >= 0xDC00
        else:  # low: a high one must come just before
            prev = units[i - 1] if i else None
            paired = prev is not None and prev[1] == begin and prev[2] < 0xDC00
        if not paired:
            line, col = _line_col(text, begin)
            raise FileProblem(path, f"a lone surrogate {text[begin:end]} is not a character", line, col)


def _check_depth(path: Path, text: str) -> None:
    """Brackets outside strings counted at C speed (strings and other characters removed by regex); only a file
    that is too deep is walked again, to place the error."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    if deepest <= JSON_DEPTH_MAX:
        return
    depth = 0
    for match in _BRACKET_OR_STRING.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > JSON_DEPTH_MAX:
                line, col = _line_col(text, match.start())
                raise FileProblem(path, f"nested deeper than {JSON_DEPTH_MAX} levels", line, col)
        elif char in "]}":
            depth -= 1


def decode_text(path: Path, raw: bytes) -> str:
    raw = raw.removeprefix(codecs.BOM_UTF8)  # Windows editors like to write one; it is not content
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8")) + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        raise FileProblem(path, message, line, col) from exc
