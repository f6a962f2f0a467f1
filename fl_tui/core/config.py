"""User settings: one TOML file under the user config dir, validated; a bad file never stops the app, and saving
a setting edits the file in place (tomlkit) instead of rewriting it from what this version understood.

The app reads them before its first screen, so a file that is plainly valid (every key known, every value of its
type and in range, the usual case) is read without pydantic, whose import and schema cost about 0.1 s there; anything
else goes through the pydantic schema (fl_tui/core/config_schema.py), which decides and words every problem.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fl_tui.core import locations
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.settings import BOUNDS, CATALOGS, Settings
from fl_tui.core.tomlfile import read_toml

HEADER = "# fl-tui settings (see README, Configuration)\n"


def _text(value: object) -> bool:
    return type(value) is str


def _integer(key: str):
    low, high = BOUNDS[key]
    return lambda value: type(value) is int and low <= value <= high


# What the schema surely accepts unchanged, per key; a value these do not pass is left to the schema.
_PLAINLY_VALID = {
    "endpoint": _text, "catalog": lambda v: _text(v) and v in CATALOGS, "catalog_url": _text,
    "model_cache_dir": _text, "demo_models": lambda v: type(v) is bool, "theme": _text,
    "rounds": _integer("rounds"), "warmup": _integer("warmup"), "max_tokens": _integer("max_tokens"),
    "timeout_s": lambda v: type(v) is float and math.isfinite(v) and v > 0, "rater": _text,
    "auto_advance": lambda v: type(v) is bool,
    "keys": lambda v: type(v) is dict and all(_text(k) and _text(x) for k, x in v.items()),
}


def _plainly_valid(raw: Mapping[str, Any]) -> Settings | None:
    """The settings, when every key passes _PLAINLY_VALID; None sends `raw` to the schema."""
    if not all(key in _PLAINLY_VALID and _PLAINLY_VALID[key](value) for key, value in raw.items()):
        return None
    values = dict(raw)
    if "model_cache_dir" in values:
        values["model_cache_dir"] = Path(values["model_cache_dir"])
    return Settings(**values)


def _validate(raw: Mapping[str, Any]) -> tuple[Settings | None, list[dict]]:
    """The settings, or the schema's errors (pydantic's, as `ValidationError.errors()` gives them)."""
    settings = _plainly_valid(raw)
    if settings is not None:
        return settings, []
    from fl_tui.core.config_schema import validate

    values, errors = validate(raw)
    return (Settings(**values) if values is not None else None), errors


# Environment variables that override the file, for a shell session or a test run (`FL_TUI_CATALOG=offline`).
ENVIRONMENT = {"FL_TUI_ENDPOINT": "endpoint", "FL_TUI_CATALOG": "catalog"}


def _with_environment(settings: Settings, env: Mapping[str, str]) -> tuple[Settings, FileProblem | None]:
    """The settings with the environment's overrides, or unchanged with the problem if a value is invalid."""
    update = {field: env[name] for name, field in ENVIRONMENT.items() if env.get(name)}
    if not update:
        return settings, None
    current = {k: v for k, v in asdict(settings).items() if v is not None}  # None: unset (TOML has no null)
    if current.get("model_cache_dir") is not None:
        current["model_cache_dir"] = str(current["model_cache_dir"])
    validated, errors = _validate({**current, **update})
    if validated is not None:
        return validated, None
    err = errors[0]
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
    settings, errors = _validate(raw)
    if settings is not None:
        return settings, None
    from fl_tui.core.jsonfile import dotted_path

    err = errors[0]
    loc = dotted_path(err["loc"])  # odd keys quoted: an escape in a key stays inert
    problem = FileProblem(path, f"{loc}: {err['msg']}", _line_of(text, str(err["loc"][0])), 1)
    bad = {e["loc"][0] for e in errors if e["loc"]}
    kept, _errors = _validate({k: v for k, v in raw.items() if k not in bad})  # fields are independent
    return kept, problem


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
    import tomlkit  # here: only saving needs it, and reading runs before the app's first screen

    doc = tomlkit.parse(text)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = str(value) if isinstance(value, Path) else value
    atomic_write_text(path, tomlkit.dumps(doc))
