"""The run.json schema for reading back, derived from the very dataclasses that write it (records.py), and the
typed read model of a run: `runfiles.read_run` returns the validated `RunJson` itself, frozen, so readers use
attributes (`run.models[0].summary`) named and typed as the writer's records, at no cost beyond the validation
every read already did. Values are kept as written (an int stays an int), so what is read back renders as before.

A hand-edited or foreign run.json with a wrong type (`models: ["x"]`, `summary: "x"`, `chunk_offsets_ms: "abc"`)
must be a `path:line:col` problem when it is read, not a crash in whatever reads that field later. Unknown keys
are kept (a newer writer may add some); the types of the known ones are checked strictly, as they were written.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Mapping
from typing import get_type_hints

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from fl_tui.bench.records import ModelResult, RequestResult

_READ = ConfigDict(extra="allow", strict=True, frozen=True)
Number = float | int
Stats = dict[str, Number | None]


def _model_of(cls: type, name: str, overrides: dict[str, object]) -> type[BaseModel]:
    """A pydantic model with one field per dataclass field; `array` fields are read as lists of numbers, and a
    float field keeps an int as an int (strict pydantic would make it a float: `1` would be written back `1.0`)."""
    hints = get_type_hints(cls)
    fields: dict[str, tuple[object, object]] = {}
    for f in dataclasses.fields(cls):
        kind = overrides.get(f.name, hints[f.name])
        if kind is array:
            kind = list[Number]
        elif kind == float | None:
            kind = Number | None
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
ModelJson = _model_of(ModelResult, "ModelJson", {"summary": dict[str, Stats], "spec": dict[str, object],
                                                 "checks": dict[str, Number] | None})


class RunJson(BaseModel):
    """The top level; `schema` itself is checked before (read_run says "not an fl-tui run" for a wrong one).
    `settings`, `prompts` and `endpoints` stay mappings: the reports show every setting in the file's order, a
    prompt with a check kind this version cannot read must not make the run unreadable (bench.checks says so when
    it is used), and an endpoint entry is one of two shapes."""

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


def as_written(record: BaseModel, name: str) -> object:
    """A field as the file holds it: None where the file has no such key (not the default read in its place)."""
    return getattr(record, name) if name in record.model_fields_set else None


def as_run(run: RunJson | Mapping[str, object]) -> RunJson:
    """The typed record of a run: one read back (read_run), or a run.json dict, such as the engine holds in memory
    for the reports it writes at the end of a run, validated into one. Both kinds of run meet here."""
    return run if isinstance(run, RunJson) else RUN_ADAPTER.validate_python(run)
