"""The settings' schema in pydantic: what fl_tui.core.config hands over when a value is not plainly valid, so
every problem is worded as for the JSON files, and a value pydantic accepts in a form of its own is read as it
reads it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fl_tui.core.settings import BOUNDS, CATALOGS, Settings

_PathText = Annotated[Path, Field(strict=False)]  # TOML has no path type: a string is one


def _bounded(key: str) -> Any:
    low, high = BOUNDS[key]
    return Field(getattr(Settings, key), ge=low, le=high)


class SettingsSchema(BaseModel):
    """fl_tui.core.config.Settings, field for field, with its defaults, CATALOGS and BOUNDS."""

    model_config = ConfigDict(extra="forbid", strict=True)

    endpoint: str | None = None
    catalog: Literal[CATALOGS] = Settings.catalog  # type: ignore[valid-type]
    catalog_url: str | None = None
    model_cache_dir: _PathText | None = None
    demo_models: bool = Settings.demo_models
    theme: str = Settings.theme
    rounds: int = _bounded("rounds")
    warmup: int = _bounded("warmup")
    max_tokens: int = _bounded("max_tokens")
    timeout_s: float = Field(Settings.timeout_s, gt=0, allow_inf_nan=False)
    rater: str | None = None
    auto_advance: bool = Settings.auto_advance
    keys: dict[str, str] = Field(default_factory=dict)


def validate(raw: Mapping[str, Any]) -> tuple[dict | None, list[dict]]:
    """The validated values, or pydantic's errors."""
    try:
        return SettingsSchema.model_validate(raw).model_dump(), []
    except ValidationError as exc:
        return None, exc.errors()
