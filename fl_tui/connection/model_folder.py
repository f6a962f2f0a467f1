"""What makes a folder registrable as a model: one rule for the register dialog and the runtime backend."""

from __future__ import annotations

from pathlib import Path

MARKER = "genai_config.json"  # ONNX Runtime GenAI's model description


def folder_problem(folder: Path) -> str | None:
    """Why `folder` is not a model folder the runtime can register, or None when it is."""
    if not folder.is_dir():
        return f"{folder}: no such folder"
    if not (folder / MARKER).is_file():
        return f"{folder}: not an ONNX Runtime GenAI model folder ({MARKER} is missing)"
    return None
