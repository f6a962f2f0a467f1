"""User settings: one TOML file under the user config dir, validated; a bad file never stops the app, and saving
a setting edits the file in place (tomlkit) instead of rewriting it from what this version understood."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fl_tui.core import locations
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.jsonfile import dotted_path
from fl_tui.core.tomlfile import read_toml

_PathText = Annotated[Path, Field(strict=False)]  # TOML has no path type: a string is one

HEADER = "# fl-tui settings (see README, Configuration)\n"


class Settings(BaseModel):
    """Strict like the JSON files: `rounds = "3"` is an error, not a 3."""

    model_config = ConfigDict(extra="forbid", strict=True)

    endpoint: str | None = Field(None, description="a Foundry Local or OpenAI-compatible URL; empty = auto")
    catalog: Literal["auto", "online", "offline"] = Field(
        "auto", description="embedded runtime: probe the public catalog (auto), always use it, or never"
    )
    catalog_url: str | None = Field(None, description="another catalog (…/asset-gallery/v1.0/models)")
    model_cache_dir: _PathText | None = Field(None, description="embedded runtime's model cache")
    demo_models: bool = Field(True, description="build and register the two offline demo models")
    theme: str = "fl-dark"
    rounds: int = Field(3, ge=1, le=1000)
    warmup: int = Field(1, ge=0, le=100)
    max_tokens: int = Field(128, ge=1, le=32768)
    timeout_s: float = Field(120.0, gt=0, allow_inf_nan=False)
    rater: str | None = None
    auto_advance: bool = Field(False, description="Annotate tab: once an answer is scored completely, go on to the "
                               "next unscored one")
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
    """The settings (the file's, then the environment's overrides), and the first problem if there was one."""
    settings, problem = _load_file(path or locations.config_file())
    settings, env_problem = _with_environment(settings, os.environ if env is None else env)
    return settings, problem or env_problem


def _load_file(path: Path) -> tuple[Settings, FileProblem | None]:
    """A key that does not validate (misspelt, out of range) is left out and reported; the others still apply.
    A file that cannot be read or parsed gives the defaults."""
    if not path.exists() and not path.is_symlink():
        return Settings(), None
    try:
        text, raw = read_toml(path)
    except FileProblem as problem:
        return Settings(), problem
    try:
        return Settings.model_validate(raw), None
    except ValidationError as exc:
        errors = exc.errors()
    err = errors[0]
    loc = dotted_path(err["loc"])  # odd keys quoted: an escape in a key stays inert
    problem = FileProblem(path, f"{loc}: {err['msg']}", _line_of(text, str(err["loc"][0])), 1)
    bad = {e["loc"][0] for e in errors if e["loc"]}
    return Settings.model_validate({k: v for k, v in raw.items() if k not in bad}), problem  # fields are independent


def save_settings(changes: dict[str, Any], path: Path | None = None) -> None:
    """Set (or, for None, remove) the given keys in the file, editing it in place: comments, order and keys this
    version does not know survive. A file that does not parse is never written over: a FileProblem says why."""
    path = path or locations.config_file()
    if not path.exists() and not path.is_symlink():
        text = HEADER
    else:
        try:
            text, _raw = read_toml(path)
        except FileProblem as problem:
            raise FileProblem(path, f"settings not saved, the file is kept as it is: {problem.message}",
                              problem.line, problem.col) from problem
    doc = tomlkit.parse(text)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = str(value) if isinstance(value, Path) else value
    atomic_write_text(path, tomlkit.dumps(doc))
