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
    """The context length, in tokens, that a model folder's genai_config.json gives (`model.context_length`), or
    None when it cannot say: no such file, not JSON, too large, or no positive integer there."""
    try:
        _text, data = read_json(folder / MARKER, SMALL_FILE_MAX)
    except (FileProblem, OSError):
        return None
    model = data.get("model") if isinstance(data, dict) else None
    value = model.get("context_length") if isinstance(model, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
