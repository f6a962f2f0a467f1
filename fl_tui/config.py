"""User settings: one TOML file under the user config dir, validated; a bad file never stops the app."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fl_tui import locations
from fl_tui.errors import FileProblem
from fl_tui.fileio import atomic_write_text


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = Field(None, description="a Foundry Local or OpenAI-compatible URL; empty = auto")
    catalog: Literal["auto", "online", "offline"] = Field(
        "auto", description="embedded runtime: probe the public catalog (auto), always use it, or never"
    )
    catalog_url: str | None = Field(None, description="another catalog (…/asset-gallery/v1.0/models)")
    model_cache_dir: Path | None = Field(None, description="embedded runtime's model cache")
    demo_models: bool = Field(True, description="build and register the two offline demo models")
    theme: str = "fl-dark"
    rounds: int = Field(3, ge=1, le=1000)
    warmup: int = Field(1, ge=0, le=100)
    max_tokens: int = Field(128, ge=1, le=32768)
    timeout_s: float = Field(120.0, gt=0)
    rater: str | None = None
    keys: dict[str, str] = Field(default_factory=dict, description="action id -> key, e.g. models.load = 'l'")


# Environment variables that override the file, for a shell session or a test run (`FL_TUI_CATALOG=offline`).
ENVIRONMENT = {"FL_TUI_ENDPOINT": "endpoint", "FL_TUI_CATALOG": "catalog"}


def _with_environment(settings: Settings, env: Mapping[str, str]) -> tuple[Settings, FileProblem | None]:
    """The settings with the environment's overrides, or unchanged with the problem if a value is invalid."""
    update = {field: env[name] for name, field in ENVIRONMENT.items() if env.get(name)}
    if not update:
        return settings, None
    try:
        return Settings.model_validate({**settings.model_dump(), **update}), None
    except ValidationError as exc:
        err = exc.errors()[0]
        name = next(n for n, f in ENVIRONMENT.items() if f == err["loc"][0])
        return settings, FileProblem(f"environment {name}", err["msg"])


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def load_settings(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Settings, FileProblem | None]:
    """The settings (the file's, then the environment's overrides), and the problem if there was one (then the
    defaults are used for the file's part)."""
    settings, problem = _load_file(path or locations.config_file())
    settings, env_problem = _with_environment(settings, os.environ if env is None else env)
    return settings, problem or env_problem


def _load_file(path: Path) -> tuple[Settings, FileProblem | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(), FileProblem(path, f"cannot read: {exc}")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        return Settings(), FileProblem(path, f"invalid TOML: {msg}", *(map(int, m.groups()) if m else ()))
    try:
        return Settings.model_validate(raw), None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        return Settings(), FileProblem(path, f"{loc}: {err['msg']}", _line_of(text, str(err["loc"][0])), 1)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write only what differs from the defaults, atomically, so the file stays short and readable."""
    path = path or locations.config_file()
    data = settings.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    atomic_write_text(path, "# fl-tui settings (see README, Configuration)\n" + tomli_w.dumps(data))
