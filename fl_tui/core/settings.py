"""The settings themselves, their defaults and bounds: what fl_tui.core.config reads plainly and its pydantic
schema (fl_tui.core.config_schema) checks by, in one place both import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CATALOGS = ("auto", "online", "offline")
BOUNDS = {"rounds": (1, 1000), "warmup": (0, 100), "max_tokens": (1, 32768)}  # both ends allowed; config_schema's too


@dataclass(frozen=True)
class Settings:
    """Strict like the JSON files: `rounds = "3"` is an error, not a 3. The defaults, CATALOGS and BOUNDS are
    also config_schema's (tests/core/test_config.py reads the edge values both ways)."""

    endpoint: str | None = None  # a Foundry Local or OpenAI-compatible URL; empty = auto
    catalog: str = "auto"  # embedded runtime: probe the public catalog (auto), always use it, or never (CATALOGS)
    catalog_url: str | None = None  # another catalog (…/asset-gallery/v1.0/models)
    model_cache_dir: Path | None = None  # embedded runtime's model cache
    demo_models: bool = True  # build and register the two offline demo models
    theme: str = "fl-dark"
    rounds: int = 3
    warmup: int = 1
    max_tokens: int = 128
    timeout_s: float = 120.0
    rater: str | None = None
    auto_advance: bool = False  # Annotate tab: once an answer is scored completely, go on to the next unscored one
    keys: dict[str, str] = field(default_factory=dict)  # action id -> key, e.g. models.load = 'l'
