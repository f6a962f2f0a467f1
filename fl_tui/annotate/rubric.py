"""The rubric answers are scored against: a 1–5 scale with one line per level, and per prompt the aspects its answer
should cover (the prompt's `expected_aspects`).

The scale comes from `prompts/_scale.json` (found like the prompt sets: current folder, config dir, the shipped
one), else from the built-in copy below; a prompt set may override levels with `"rubric": {"scale": {"1": "...", ...}}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict

from fl_tui.bench.runschema import RunJson
from fl_tui.core import resources
from fl_tui.core.errors import UserError
from fl_tui.core.fields import OneLine, one_line
from fl_tui.core.jsonfile import ProblemAt, load_validated, read_json, validate
from fl_tui.core.prompts import PromptSet, load_prompt_set

LEVELS = (1, 2, 3, 4, 5)
SCALE_FILE = "_scale.json"

# Identical to the shipped prompts/_scale.json: used when no scale file is found.
BUILTIN_SCALE: dict[int, str] = {
    1: "wrong or off-topic: does not answer the question, or is mostly false",
    2: "poor: on topic but with major errors or most expected aspects missing",
    3: "partial: roughly right, but misses important aspects or has a notable error",
    4: "good: correct and covers most aspects; minor gaps, padding or format slips",
    5: "excellent: correct, complete and concise; covers every expected aspect",
}


Level = Literal["1", "2", "3", "4", "5"]


def _all_levels(scale: dict[str, str]) -> dict[str, str]:
    missing = [str(n) for n in LEVELS if str(n) not in scale]
    if missing:
        raise ValueError(f"missing level {', '.join(missing)}: the scale needs one line for each of 1 to 5")
    return scale


Scale = Annotated[dict[Level, OneLine], AfterValidator(_all_levels)]  # one line for each level 1..5


class ScaleFile(BaseModel):
    """`prompts/_scale.json`: every level 1..5 described."""

    model_config = ConfigDict(extra="forbid", strict=True)

    scale: Scale


def _scale_override(value: object) -> dict[str, str] | list[int] | None:
    """Level descriptions to replace (`{"5": "..."}`, any of 1..5), or the range `[1, 5]` (nothing replaced)."""
    if value is None or value == [1, 5]:
        return value
    if not isinstance(value, dict):
        raise ValueError('expected an object of level descriptions like {"5": "..."}, or [1, 5]: the scale is 1 to 5')
    for level, text in value.items():
        if level not in {str(n) for n in LEVELS}:
            raise ProblemAt(f"unknown level {json.dumps(level)[:20]}: the levels are 1 to 5", level)
        if not isinstance(text, str):
            raise ProblemAt("expected a one-line description", level)
        try:
            one_line(text)
        except ValueError as exc:
            raise ProblemAt(str(exc), level) from exc
    return value


class RubricOverride(BaseModel):
    """A prompt set's `rubric`: level descriptions to replace (any of 1..5), or just the range `[1, 5]`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    scale: Annotated[object, AfterValidator(_scale_override)] = None


class _SetWithRubric(BaseModel):
    """The part of a prompt set file this module reads (the rest is prompts.py's business)."""

    model_config = ConfigDict(extra="allow", strict=True)

    rubric: RubricOverride | None = None


_SCALE_FILE = pydantic.TypeAdapter(ScaleFile)
_SET_RUBRIC = pydantic.TypeAdapter(_SetWithRubric)
_OVERRIDE = pydantic.TypeAdapter(RubricOverride)


@dataclass(frozen=True)
class Rubric:
    """`scale`: level -> one-line description; `aspects`: prompt id -> the aspects its answer should cover.

    With `overall_only` only the overall score is asked for; the aspects are still there to be read."""

    scale: Mapping[int, str]
    aspects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    overall_only: bool = False

    def aspects_for(self, prompt_id: str) -> tuple[str, ...]:
        """The expected aspects of a prompt (shown even in overall-only mode)."""
        return tuple(self.aspects.get(prompt_id, ()))

    def scored_aspects(self, prompt_id: str) -> tuple[str, ...]:
        """The aspects that get a score of their own: none in overall-only mode."""
        return () if self.overall_only else self.aspects_for(prompt_id)

    def describe(self, level: int) -> str:
        return self.scale[level]

    def to_json(self) -> dict:
        return {
            "scale": {str(n): self.scale[n] for n in LEVELS},
            "aspects": {pid: list(a) for pid, a in self.aspects.items()},
            "overall_only": self.overall_only,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Rubric:
        """From an annotation file's (already validated) `rubric` object."""
        return cls(
            scale={n: data["scale"][str(n)] for n in LEVELS},
            aspects={pid: tuple(a) for pid, a in (data.get("aspects") or {}).items()},
            overall_only=bool(data.get("overall_only", False)),
        )


def scale_file() -> Path | None:
    """The first `prompts/_scale.json` in the search roots, if any."""
    for folder in resources.prompt_dirs():
        if (folder / SCALE_FILE).is_file():
            return folder / SCALE_FILE
    return None


def default_scale(path: Path | None = None) -> dict[int, str]:
    """The scale of `path` (default: the first `prompts/_scale.json` found), else the built-in one.

    A scale file that exists but is broken is a FileProblem, not a silent fallback."""
    path = path or scale_file()
    if path is None:
        return dict(BUILTIN_SCALE)
    loaded = load_validated(path, _SCALE_FILE)
    return {n: loaded.scale[str(n)] for n in LEVELS}


def apply_override(scale: Mapping[int, str], override: RubricOverride | None) -> dict[int, str]:
    out = dict(scale)
    if override is not None and isinstance(override.scale, dict):
        out.update({int(level): text for level, text in override.scale.items()})
    return out


def prompt_set_override(prompt_set: PromptSet) -> RubricOverride | None:
    """A PromptSet's `rubric` checked; problems name the set (there is no file position to give)."""
    if prompt_set.rubric is None:
        return None
    try:
        return _OVERRIDE.validate_python(prompt_set.rubric)
    except pydantic.ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc, message = tuple(error["loc"]), error["msg"]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ValueError):
            message = str(cause)
        if isinstance(cause, ProblemAt):
            loc += cause.path
        where = ".".join(str(s) for s in ("rubric", *loc))
        raise UserError(f"prompt set {prompt_set.name!r}: {where}: {message}") from exc


def file_override(path: Path) -> RubricOverride | None:
    """The `rubric` of a prompt set file, with `path:line:col` on a problem."""
    text, data = read_json(path)
    if not isinstance(data, dict):  # the list form has no rubric
        return None
    return validate(path, text, data, _SET_RUBRIC).rubric


def run_prompts(run: RunJson) -> list[dict]:
    return [p for p in run.prompts if isinstance(p.get("id"), str)]


def find_run_prompt_set(run: RunJson) -> Path | None:
    """The prompt set file a run was made from, when it is still in a prompt folder and still holds the run's prompts
    (same ids, same texts): its rubric applies. An edited or missing set gives None (the default scale)."""
    name = run.settings.get("prompt_set")
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    for folder in resources.prompt_dirs():
        candidate = folder / f"{name}.json"
        if candidate.is_file():
            prompt_set = load_prompt_set(candidate)
            texts = {p.id: p.prompt for p in prompt_set.prompts}
            if all(texts.get(p["id"]) == p.get("prompt") for p in run_prompts(run)):
                return candidate
            return None
    return None


def rubric_for_run(
    run: RunJson, *, prompt_set: PromptSet | Path | None = None, overall_only: bool = False
) -> Rubric:
    """The rubric of a run: the default scale with the prompt set's overrides, and each prompt's expected aspects.

    `prompt_set` (a PromptSet or a prompt set file) gives the override; without it the run's own set is looked up
    by name (see find_run_prompt_set)."""
    scale = default_scale()
    if isinstance(prompt_set, PromptSet):
        scale = apply_override(scale, prompt_set_override(prompt_set))
    else:
        path = prompt_set if prompt_set is not None else find_run_prompt_set(run)
        if path is not None:
            scale = apply_override(scale, file_override(Path(path)))
    aspects = {}
    for p in run_prompts(run):
        found = p.get("expected_aspects") or []
        if not isinstance(found, list):
            found = []
        aspects[p["id"]] = tuple(dict.fromkeys(a for a in found if isinstance(a, str) and a.strip()))
    return Rubric(scale=scale, aspects=aspects, overall_only=overall_only)


def scale_text(rubric: Rubric) -> str:
    """The scale as lines `n: description`, for prompts and help screens."""
    return "\n".join(f"{n}: {rubric.scale[n]}" for n in LEVELS)


def quoted(text: str) -> str:
    """An aspect as a JSON string: exactly what a judge must copy as a key."""
    return json.dumps(text, ensure_ascii=False)
