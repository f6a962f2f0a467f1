"""The run.json schema for reading back, derived from the very dataclasses that write it (records.py).

A hand-edited or foreign run.json with a wrong type (`models: ["x"]`, `summary: "x"`, `chunk_offsets_ms: "abc"`)
must be a `path:line:col` problem when it is read, not a crash in whatever reads that field later. Unknown keys
are kept (a newer writer may add some); the types of the known ones are checked strictly, as they were written.
"""

from __future__ import annotations

import dataclasses
from array import array
from typing import get_type_hints

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from fl_tui.bench.records import ModelResult, RequestResult

_READ = ConfigDict(extra="allow", strict=True)
Number = float | int
Stats = dict[str, Number | None]


def _model_of(cls: type, name: str, overrides: dict[str, object]) -> type[BaseModel]:
    """A pydantic model with one field per dataclass field; `array` fields are read as lists of numbers."""
    hints = get_type_hints(cls)
    fields: dict[str, tuple[object, object]] = {}
    for f in dataclasses.fields(cls):
        kind = overrides.get(f.name, hints[f.name])
        if kind is array:
            kind = list[Number]
        if f.default is not dataclasses.MISSING:
            default: object = f.default
        elif f.default_factory is not dataclasses.MISSING:
            made = f.default_factory()
            default = Field(default_factory=list if isinstance(made, array) else f.default_factory)
        else:
            default = ...
        fields[f.name] = (kind, default)
    return pydantic.create_model(name, __config__=_READ, **fields)


RequestJson = _model_of(RequestResult, "RequestJson", {})
ModelJson = _model_of(ModelResult, "ModelJson", {"summary": dict[str, Stats], "spec": dict[str, object]})


class RunJson(BaseModel):
    """The top level; `schema` itself is checked before (load_run says "not an fl-tui run" for a wrong one)."""

    model_config = _READ

    run_id: str
    started_at: str | None = None
    finished_at: str | None = None
    interrupted: bool = False
    endpoint: str | None = None
    backend: str | None = None
    environment: dict[str, object] | None = None  # absent before environment.py; compare notes its absence
    endpoints: list[dict[str, object]] | None = None  # a run against several: each one's backend, environment
    settings: dict[str, object] = {}
    percentile_method: str | None = None
    prompts: list[dict[str, object]] = []
    warnings: list[str] = []
    models: list[ModelJson] = []  # type: ignore[valid-type]
    requests: list[RequestJson] = []  # type: ignore[valid-type]


RUN_ADAPTER = pydantic.TypeAdapter(RunJson)
