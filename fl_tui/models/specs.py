"""The workshop's models.json: the models to offer, keyed by Foundry Local alias or variant id, and what each can do.

The app reads it before its first screen, so a file that is plainly valid (the shipped one, and any written like
it) is read without pydantic, whose import costs about 0.1 s there; anything else goes through the pydantic schema
(fl_tui/models/specs_schema.py), which decides and words every problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fl_tui.core.jsonfile import read_json
from fl_tui.core.resources import search_roots


@dataclass(frozen=True)
class ModelSpec:
    """Unknown keys (license, notes, ...) are kept in `extra`: the file is the workshop's, and it may know more
    than we do."""

    capabilities: list[str] = field(default_factory=list)
    size_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        """Every key, the known ones first, as the file gave them."""
        return {"capabilities": self.capabilities, "size_mb": self.size_mb, **self.extra}


def _plain_spec(value: object) -> ModelSpec | None:
    """The spec when the schema surely accepts `value` unchanged (size_mb as a float); None leaves it to the schema."""
    if type(value) is not dict:
        return None
    capabilities = value.get("capabilities", [])
    size = value.get("size_mb")
    if type(capabilities) is not list or not all(type(c) is str for c in capabilities):
        return None
    if size is not None and not (type(size) in (int, float) and math.isfinite(size) and size >= 0):
        return None
    extra = {k: v for k, v in value.items() if k not in ("capabilities", "size_mb")}
    return ModelSpec(list(capabilities), None if size is None else float(size), extra)


def load_models_file(path: Path) -> dict[str, ModelSpec]:
    text, data = read_json(path)
    if type(data) is dict:
        specs = {name: _plain_spec(value) for name, value in data.items() if type(name) is str and name}
        if len(specs) == len(data) and all(spec is not None for spec in specs.values()):
            return specs
    from fl_tui.models.specs_schema import validate

    return {name: ModelSpec(*fields) for name, fields in validate(path, text, data).items()}


def find_models_file() -> Path | None:
    for root in search_roots():
        if (root / "models.json").is_file():
            return root / "models.json"
    return None


def load_specs(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """The given models.json, else the first one found; none at all is fine (no capabilities shown)."""
    file = Path(path) if path else find_models_file()
    return load_models_file(file) if file else {}
