"""Prompt sets for benchmark runs: the workshop's plain list of strings, or an object with ids, aspects and a rubric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

from fl_tui.core.checks import Check
from fl_tui.core.fields import NonBlank
from fl_tui.core.jsonfile import ProblemAt, read_json, validate

Text = NonBlank


class Prompt(BaseModel):
    """Unknown keys are refused: a misspelt `max_token` would otherwise be silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Text
    prompt: Text
    expected_aspects: list[str] = []
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    checks: list[Check] = []  # automatic checks of the answer (fl_tui.core.checks)

    @model_serializer(mode="wrap")
    def _checks_when_given(self, handler) -> dict[str, Any]:
        """A prompt without checks dumps as before they existed: `--resume` compares the prompts of a run."""
        out = handler(self)
        if not out.get("checks"):
            out.pop("checks", None)
        return out


class PromptSet(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Text
    prompts: Annotated[list[Prompt], Field(min_length=1)]
    rubric: dict[str, Any] | None = None

    @field_validator("prompts")
    @classmethod
    def _unique_ids(cls, prompts: list[Prompt]) -> list[Prompt]:
        """Results are keyed by prompt id; two equal ids would overwrite each other."""
        first: dict[str, int] = {}
        for index, prompt in enumerate(prompts):
            if prompt.id in first:
                where = f"prompt {first[prompt.id] + 1}"
                raise ProblemAt(f"duplicate id {json.dumps(prompt.id)}, already used by {where}", index, "id")
            first[prompt.id] = index
        return prompts


_LIST_FORM = pydantic.TypeAdapter(Annotated[list[Text], Field(min_length=1)], config=ConfigDict(strict=True))
_OBJECT_FORM = pydantic.TypeAdapter(PromptSet)


def load_prompt_set(path: Path) -> PromptSet:
    """A list of strings gets ids p1, p2, ... and the file's stem as its name."""
    path = Path(path)
    text, data = read_json(path)
    if not isinstance(data, list):
        return validate(path, text, data, _OBJECT_FORM)
    prompts = validate(path, text, data, _LIST_FORM)
    return PromptSet(name=path.stem, prompts=[Prompt(id=f"p{i}", prompt=p) for i, p in enumerate(prompts, 1)])


def list_prompt_sets(folder: Path) -> list[Path]:
    """Files whose name starts with `_` (the rubric's `_scale.json`) are not prompt sets."""
    return sorted(p for p in Path(folder).glob("*.json") if p.is_file() and not p.name.startswith("_"))
