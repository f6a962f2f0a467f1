"""What makes a folder registrable as a model: one rule for the register dialog and the runtime backend."""

from __future__ import annotations

from pathlib import Path

from fl_tui.core.errors import FileProblem
from fl_tui.core.jsonfile import read_json
from fl_tui.core.limits import SMALL_FILE_MAX

MARKER = "genai_config.json"  # ONNX Runtime GenAI's model description


def folder_problem(folder: Path) -> str | None:
    """Why `folder` is not a model folder the runtime can register, or None when it is."""
    if not folder.is_dir():
        return f"{folder}: no such folder"
    if not (folder / MARKER).is_file():
        return f"{folder}: not an ONNX Runtime GenAI model folder ({MARKER} is missing)"
    return None


def folder_context(folder: Path) -> int | None:
    """The tokens a request may hold, prompt and answer, by a model folder's genai_config.json: the smaller of
    `model.context_length` and `search.max_length` (ONNX Runtime GenAI enforces both), or None when it cannot
    say: no such file, not JSON, too large, or no positive integer there."""
    try:
        _text, data = read_json(folder / MARKER, SMALL_FILE_MAX)
    except (FileProblem, OSError):
        return None
    if not isinstance(data, dict):
        return None
    limits = [_positive(data.get("model"), "context_length"), _positive(data.get("search"), "max_length")]
    return min((n for n in limits if n is not None), default=None)


def _positive(section: object, key: str) -> int | None:
    value = section.get(key) if isinstance(section, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
