"""The Benchmark tab's set-up: its fields read into BenchSettings, and the last one remembered across restarts.

The fields are read with the parsers `fl-tui bench` uses (fl_tui.bench.load and .prefill), so the tab and the
command accept the same text and refuse it with the same one line, named after the field that holds it.

The last set-up lives in the state folder, not in the user's config.toml: it is what was last run, written by the
app, while config.toml is the person's own file. Written atomically at each start of a run; read tolerantly: a
missing file is the first start, and a corrupt or foreign one is reported in one line and ignored, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pydantic

from fl_tui.bench import load, prefill
from fl_tui.bench.engine import BenchSettings
from fl_tui.connection.endpoint import normalize_endpoint
from fl_tui.core import locations
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.jsonfile import load_validated
from fl_tui.core.limits import SMALL_FILE_MAX
from fl_tui.core.redact import redact_text

SETUP_SCHEMA = "fl-tui/bench-setup/1"
# field -> its label in the form, in the form's order. Files written before a field existed simply lack it.
FORM_LABELS = {
    "rounds": "Rounds", "warmup": "Warm-up", "temperature": "Temperature", "seed": "Seed",
    "max_tokens": "Max tokens", "timeout_s": "Timeout (s)", "concurrency": "Concurrency", "rate": "Rate (req/s)",
    "duration_s": "Duration (s)", "slo": "SLOs (ms)", "prompt_tokens": "Prompt tokens", "endpoints": "Also at",
}
FORM_FIELDS = tuple(FORM_LABELS)
VALUE_MAX = 256  # characters of one remembered field: short numbers and lists, a few endpoint URLs


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
    return locations.personal_state_dir() / "bench-setup.json"


def save_setup(setup: BenchSetup, path: Path | None = None) -> None:
    """Endpoints with credentials in them (`http://user:pw@box`) are not remembered: no password is written."""
    fields = {k: v for k, v in setup.fields.items() if k in FORM_FIELDS}
    if redact_text(fields.get("endpoints", "")) != fields.get("endpoints", ""):
        fields["endpoints"] = ""
    data = {"schema": SETUP_SCHEMA, "models": list(setup.models), "prompt_set": setup.prompt_set,
            "fields": {k: v[:VALUE_MAX] for k, v in fields.items()}}
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


class FieldError(UserError):
    """A field's text that does not read: which field, so that the form can mark it, and one line saying why."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{FORM_LABELS[name]}: {problem}")
        self.field = name


def _number(kind: Callable[[str], float], minimum: float, above: bool = False) -> Callable[[str], float]:
    def read(raw: str) -> float:
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"expected {'an integer' if kind is int else 'a number'}, got {raw!r}") from None
        if value < minimum or (above and value == minimum) or value != value:
            raise ValueError(f"must be {'more than' if above else 'at least'} {minimum:g}, got {raw!r}")
        return value
    return read


def _endpoints(raw: str) -> tuple[str, ...]:
    """More endpoints to run the matrix against after the app's own, comma-separated, as `--endpoint A,B`."""
    out: list[str] = []
    for given in (part.strip() for part in raw.split(",")):
        if given:
            url = normalize_endpoint(given)  # ValueError: one line saying what is wrong with it
            if url in out:
                raise ValueError(f"{redact_text(url)} is named twice")
            out.append(url)
    return tuple(out)


def read_endpoints(fields: Mapping[str, str]) -> tuple[str, ...]:
    """The form's further endpoints (() when none); FieldError for a malformed one."""
    return read_field("endpoints", fields.get("endpoints", "")) or ()


# field -> how its text reads; the optional ones are None when empty
_READERS: dict[str, Callable[[str], object]] = {
    "rounds": _number(int, 1), "warmup": _number(int, 0), "temperature": _number(float, 0),
    "seed": _number(int, float("-inf")), "max_tokens": _number(int, 1), "timeout_s": _number(float, 0, above=True),
    "concurrency": load.parse_levels, "rate": load.parse_rate, "duration_s": _number(float, 0, above=True),
    "slo": load.parse_slo, "prompt_tokens": prefill.parse_prompt_tokens, "endpoints": _endpoints,
}
OPTIONAL = frozenset({"seed", "concurrency", "rate", "duration_s", "slo", "prompt_tokens", "endpoints"})


def read_field(name: str, text: str) -> object:
    """One field's value (None for an empty optional one); FieldError saying why it does not read."""
    raw = text.strip()
    if not raw and name in OPTIONAL:
        return None
    try:
        return _READERS[name](raw)
    except ValueError as exc:
        _flag, colon, problem = str(exc).partition(": ")  # load's messages name the command's flag: the field does
        raise FieldError(name, problem if colon and _flag.startswith("--") else str(exc)) from None


def read_settings(fields: Mapping[str, str]) -> BenchSettings:
    """The form's text as BenchSettings, as `fl-tui bench` would read the same options; the first bad field is
    a FieldError. A missing field reads as empty."""
    v = {name: read_field(name, fields.get(name, "")) for name in FORM_FIELDS}
    if v["duration_s"] is not None and v["rate"] is None:
        raise FieldError("duration_s", "needs a rate (an unpaced run is measured in rounds)")
    levels: tuple[int, ...] = v["concurrency"] or ((load.UNCAPPED,) if v["rate"] else (1,))  # as the command
    return BenchSettings(
        rounds=v["rounds"], warmup=v["warmup"], temperature=v["temperature"], seed=v["seed"],
        max_tokens=v["max_tokens"], timeout_s=v["timeout_s"], concurrency=levels[0],
        levels=levels if len(levels) > 1 else (), rate=str(v["rate"]) if v["rate"] else None,
        duration_s=v["duration_s"], slo=v["slo"], prompt_tokens=v["prompt_tokens"] or (),
    )
