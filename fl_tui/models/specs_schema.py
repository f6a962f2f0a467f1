"""models.json's schema in pydantic: what fl_tui.models.specs hands over when the file is not plainly valid, so
every problem is placed and worded as for the other JSON files (fl_tui.core.jsonfile)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fl_tui.core.jsonfile import validate as validate_json


class ModelSpecSchema(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    capabilities: list[str] = []
    size_mb: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


def _named(name: str) -> str:
    if not name:
        raise ValueError("a model name must not be empty")
    return name


_ADAPTER = pydantic.TypeAdapter(dict[Annotated[str, AfterValidator(_named)], ModelSpecSchema])


def validate(path: Path, text: str, data: object) -> dict[str, tuple[list[str], float | None, dict]]:
    """Each spec's capabilities, size and other keys, or a FileProblem at the first error."""
    return {name: (spec.capabilities, spec.size_mb, dict(spec.model_extra or {}))
            for name, spec in validate_json(path, text, data, _ADAPTER).items()}
