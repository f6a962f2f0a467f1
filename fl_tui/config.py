"""User settings: one TOML file under the user config dir, validated; a bad file never stops the app, and saving
a setting edits the file in place (tomlkit) instead of rewriting it from what this version understood."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fl_tui import locations
from fl_tui.errors import FileProblem
from fl_tui.fileio import atomic_write_text

HEADER = "# fl-tui settings (see README, Configuration)\n"


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


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _parse(path: Path, text: str) -> tuple[dict | None, FileProblem | None]:
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        return None, FileProblem(path, f"invalid TOML: {msg}", *(map(int, m.groups()) if m else ()))


def load_settings(path: Path | None = None) -> tuple[Settings, FileProblem | None]:
    """The settings, and the first problem with the file if it had one. A key that does not validate (misspelt,
    out of range) is left out and reported; the others still apply. A file that does not parse gives the defaults."""
    path = path or locations.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(), FileProblem(path, f"cannot read: {exc}")
    raw, problem = _parse(path, text)
    if raw is None:
        return Settings(), problem
    try:
        return Settings.model_validate(raw), None
    except ValidationError as exc:
        errors = exc.errors()
    err = errors[0]
    loc = ".".join(str(p) for p in err["loc"])
    problem = FileProblem(path, f"{loc}: {err['msg']}", _line_of(text, str(err["loc"][0])), 1)
    bad = {e["loc"][0] for e in errors if e["loc"]}
    return Settings.model_validate({k: v for k, v in raw.items() if k not in bad}), problem  # fields are independent


def save_settings(changes: dict[str, Any], path: Path | None = None) -> None:
    """Set (or, for None, remove) the given keys in the file, editing it in place: comments, order and keys this
    version does not know survive. A file that does not parse is never written over: a FileProblem says why."""
    path = path or locations.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = HEADER
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblem(path, f"settings not saved: cannot read the file: {exc}") from exc
    raw, problem = _parse(path, text)
    if raw is None:
        raise FileProblem(path, f"settings not saved, the file is kept as it is: {problem.message}",
                          problem.line, problem.col)
    doc = tomlkit.parse(text)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = str(value) if isinstance(value, Path) else value
    atomic_write_text(path, tomlkit.dumps(doc))
