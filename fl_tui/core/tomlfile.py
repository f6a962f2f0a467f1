"""Read a TOML file as carefully as a JSON one (see jsonfile): size-capped, regular files only, a UTF-8 BOM allowed,
and every problem a FileProblem with its line and column where TOML gives one, never an internal error."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import read_input
from fl_tui.core.jsonfile import decode_text
from fl_tui.core.limits import SMALL_FILE_MAX

_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def read_toml(path: Path, limit: int = SMALL_FILE_MAX) -> tuple[str, dict]:
    """The text (for placing later schema errors) and the table."""
    text = decode_text(path, read_input(Path(path), limit))
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _AT.search(str(exc))
        place = tuple(map(int, where.groups())) if where else ()
        raise FileProblem(path, f"invalid TOML: {_AT.sub('', str(exc))}", *place) from exc
    except RecursionError as exc:
        raise FileProblem(path, "invalid TOML: nested too deeply") from exc
    except ValueError as exc:  # an integer longer than Python's digit limit
        raise FileProblem(path, f"invalid TOML: {exc}") from exc
