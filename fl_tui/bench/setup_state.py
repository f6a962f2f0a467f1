"""The Benchmark tab's last set-up (models, prompt set, the form's numbers), remembered across restarts.

It lives in the state folder, not in the user's config.toml: it is what was last run, written by the app, while
config.toml is the person's own file. Written atomically at each start of a run; read tolerantly: a missing file is
the first start, and a corrupt or foreign one is reported in one line and ignored, never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pydantic

from fl_tui.core import locations
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.jsonfile import load_validated
from fl_tui.core.limits import SMALL_FILE_MAX

SETUP_SCHEMA = "fl-tui/bench-setup/1"
FORM_FIELDS = ("rounds", "warmup", "temperature", "seed", "max_tokens", "concurrency", "timeout_s")
VALUE_MAX = 64  # characters of one remembered field: the form's values are short numbers


class _SetupJson(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(strict=True, extra="ignore", populate_by_name=True)
    schema_: Literal["fl-tui/bench-setup/1"] = pydantic.Field(alias="schema")
    models: list[str]
    prompt_set: str
    fields: dict[str, pydantic.constr(max_length=VALUE_MAX)]


_ADAPTER = pydantic.TypeAdapter(_SetupJson)


@dataclass(frozen=True)
class BenchSetup:
    models: tuple[str, ...] = ()
    prompt_set: str = ""  # a prompt set's name (core.resources.prompt_sets), not its path
    fields: dict[str, str] = field(default_factory=dict)  # FORM_FIELDS -> the text the form held


def setup_file() -> Path:
    return locations.state_dir() / "bench-setup.json"


def save_setup(setup: BenchSetup, path: Path | None = None) -> None:
    data = {"schema": SETUP_SCHEMA, "models": list(setup.models), "prompt_set": setup.prompt_set,
            "fields": {k: v for k, v in setup.fields.items() if k in FORM_FIELDS}}
    atomic_write_text(path or setup_file(), json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_setup(path: Path | None = None) -> tuple[BenchSetup | None, str | None]:
    """(the remembered set-up, None), (None, None) before the first run, or (None, one line saying why a file that
    is there was ignored)."""
    path = path or setup_file()
    if not path.exists():
        return None, None
    try:
        data = load_validated(path, _ADAPTER, SMALL_FILE_MAX)
    except FileProblem as exc:
        return None, f"the last Benchmark set-up was not restored: {' '.join(str(exc).split())}"
    fields = {k: v for k, v in data.fields.items() if k in FORM_FIELDS}
    return BenchSetup(tuple(data.models), data.prompt_set, fields), None
