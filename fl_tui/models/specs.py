"""The workshop's models.json: the models to offer, keyed by Foundry Local alias or variant id, and what each can do."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fl_tui.core.jsonfile import load_validated
from fl_tui.core.resources import search_roots


class ModelSpec(BaseModel):
    """Unknown keys (license, notes, ...) are kept: the file is the workshop's, and it may know more than we do."""

    model_config = ConfigDict(extra="allow", strict=True)

    capabilities: list[str] = []
    size_mb: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


def _named(name: str) -> str:
    if not name:
        raise ValueError("a model name must not be empty")
    return name


_ADAPTER = pydantic.TypeAdapter(dict[Annotated[str, AfterValidator(_named)], ModelSpec])


def load_models_file(path: Path) -> dict[str, ModelSpec]:
    return load_validated(path, _ADAPTER)


def find_models_file() -> Path | None:
    for root in search_roots():
        if (root / "models.json").is_file():
            return root / "models.json"
    return None


def load_specs(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """The given models.json, else the first one found; none at all is fine (no capabilities shown)."""
    file = Path(path) if path else find_models_file()
    return load_models_file(file) if file else {}
