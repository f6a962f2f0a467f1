"""Annotation files: one JSON file per run and rater in the run folder, schema `fl-tui/annotations/1`.

    {"schema", "run_id", "rater", "rubric": {"scale", "aspects", "overall_only"}, "seed", "blind", "one_round",
     "revealed", "judge"?, "items": [{"request_id", "model", "prompt_id", "round", "scores": {aspect: n},
     "overall": n | null, "note", "scored_at", "seconds_spent", "attempts"?}]}

`items` is in scoring order (shuffled with `seed` when blind). Files of judge models have the rater `model:<id>`, a
`judge` object with the totals, and `attempts` per item. Every save writes a temporary file in the same folder,
fsyncs it and renames it over the old one (fl_tui.core.fileio): a kill at any moment leaves the old or the new file.
A file that does not load (corrupt, another run's, an unknown schema) is a FileProblem naming it; nothing here
overwrites it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from fl_tui.annotate.rubric import Rubric, Scale
from fl_tui.bench.runschema import RunJson
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fields import NonBlank
from fl_tui.core.fileio import atomic_write_bytes
from fl_tui.core.jsonfile import problem_at, read_json, validate
from fl_tui.core.limits import RUN_FILE_MAX

ANNOTATIONS_SCHEMA = "fl-tui/annotations/1"
JUDGE_PREFIX = "model:"
FILE_GLOB = "annotations.*.json"
MAX_RATER = 100


Score = Annotated[int, Field(ge=1, le=5)]


class RubricModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    scale: Scale
    aspects: dict[str, list[str]] = {}
    overall_only: bool = False


class AnnotationItem(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: NonBlank
    model: str
    prompt_id: str
    round: Annotated[int, Field(ge=1)]
    scores: dict[str, Score] = {}
    overall: Score | None = None
    note: str = ""
    scored_at: str | None = None
    seconds_spent: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    attempts: Annotated[int, Field(ge=0)] | None = None  # judge files: replies asked for this item
    skipped: bool = False  # passed over on purpose (x): not unscored, so "next unscored" does not come back to it


UNDO_MAX = 1000  # undo steps a file keeps (the oldest go): the whole file is rewritten at every key


class Change(BaseModel):
    """One undoable change to an item: the item as it was before it, which undo (z) puts back."""

    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: NonBlank
    scores: dict[str, Score] = {}
    overall: Score | None = None
    note: str = ""
    skipped: bool = False
    scored_at: str | None = None


class JudgeInfo(BaseModel):
    """Totals of a judge model's file, over every `fl-tui judge` run that wrote to it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: NonBlank
    attempts: Annotated[int, Field(ge=0)] = 0
    retries: Annotated[int, Field(ge=0)] = 0
    unparseable: Annotated[int, Field(ge=0)] = 0  # replies that were not the demanded JSON object
    request_errors: Annotated[int, Field(ge=0)] = 0  # requests that failed (HTTP, transport, timeout)


class Completion(StrEnum):
    """How far an answer is scored. The one definition behind the ✓, the "scored" counter, "next unscored" and the
    quality figures: an answer is scored when it has its overall score and a score for every aspect it is scored on;
    partly when it has some of them."""

    UNSCORED = "unscored"
    PARTLY = "partly"
    SKIPPED = "skipped"  # passed over on purpose and not scored completely: left out of the figures, as partly
    SCORED = "scored"


def completion(item: AnnotationItem, aspects: tuple[str, ...]) -> Completion:
    """`item`'s Completion, `aspects` being the ones it is scored on (none in overall-only mode)."""
    if item.overall is not None and all(a in item.scores for a in aspects):
        return Completion.SCORED
    if item.skipped:
        return Completion.SKIPPED
    return Completion.PARTLY if item.overall is not None or item.scores else Completion.UNSCORED


def is_scored(item: AnnotationItem, aspects: tuple[str, ...]) -> bool:
    return completion(item, aspects) is Completion.SCORED


class AnnotationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_by_name=True, validate_by_alias=True)

    schema_: str = Field(ANNOTATIONS_SCHEMA, alias="schema")
    run_id: str
    rater: NonBlank
    rubric: RubricModel
    seed: int | None = None
    blind: bool = True
    one_round: bool = False
    revealed: bool = False
    judge: JudgeInfo | None = None
    items: list[AnnotationItem]
    undo: list[Change] = []  # the changes undo can take back, oldest first (at most UNDO_MAX)

    @property
    def judged(self) -> bool:
        """Written by a judge model (rater `model:<id>`), not a person."""
        return is_judge(self.rater)

    def rubric_obj(self) -> Rubric:
        return Rubric.from_json(self.rubric.model_dump())

    def completion(self, item: AnnotationItem) -> Completion:
        """`item`'s Completion under this file's rubric."""
        aspects = () if self.rubric.overall_only else tuple(self.rubric.aspects.get(item.prompt_id, ()))
        return completion(item, aspects)


_FILE = pydantic.TypeAdapter(AnnotationFile)


def is_judge(rater: str) -> bool:
    return rater.startswith(JUDGE_PREFIX)


def slug(rater: str) -> str:
    """A rater name as a file name part: ASCII lower case, runs of anything else as one `-`.

    `model:phi-4:1` -> `model-phi-4-1`; `Zoë B.` -> `zoe-b`."""
    text = unicodedata.normalize("NFKD", rater).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9_]+", "-", text).strip("-_")
    if not text:
        raise UserError(f"rater name {rater!r} has no letters or digits to name its file by")
    return text[:80]


def check_rater(rater: str) -> str:
    """A rater name: one line of printable text, at most 100 characters."""
    if not isinstance(rater, str) or not rater.strip():
        raise UserError("a rater name is needed (it goes into the annotation file)")
    rater = rater.strip()
    if len(rater) > MAX_RATER or any(not ch.isprintable() for ch in rater):
        raise UserError(f"rater name {rater[:MAX_RATER]!r}: one line of printable text, at most {MAX_RATER} characters")
    slug(rater)
    return rater


def annotation_path(run_dir: Path | str, rater: str) -> Path:
    return Path(run_dir) / f"annotations.{slug(rater)}.json"


def list_annotation_files(run_dir: Path | str) -> list[Path]:
    """Every annotation file of a run folder, by name (temporary files of a save in progress are not listed)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    return sorted(p for p in run_dir.glob(FILE_GLOB) if p.is_file())


def load_annotations(path: Path | str, run: RunJson | None = None) -> AnnotationFile:
    """An annotation file, checked: JSON (FileProblem with line and column), the schema, every field, and against
    `run` (when given): the same run_id, every item one of its measured requests, every score
    for an aspect of the item's prompt. Nothing is written."""
    path = Path(path)
    text, data = read_json(path, RUN_FILE_MAX, lone_surrogates=True)  # see dumps()
    if not isinstance(data, dict):
        raise FileProblem(path, f"not an fl-tui annotation file: expected a JSON object with schema "
                          f"{ANNOTATIONS_SCHEMA!r}", 1, 1)
    if data.get("schema") != ANNOTATIONS_SCHEMA:
        found = "no schema" if "schema" not in data else f"schema {json.dumps(data['schema'])[:60]}"
        loc = ("schema",) if "schema" in data else ()
        raise problem_at(path, text, loc, f"unknown annotation file: {found}, expected {ANNOTATIONS_SCHEMA!r}")
    file = validate(path, text, data, _FILE)
    _check_items(path, text, file)
    if run is not None:
        _check_run(path, text, file, run)
    return file


def _check_items(path: Path, text: str, file: AnnotationFile) -> None:
    rubric = file.rubric
    seen: dict[str, int] = {}
    for i, item in enumerate(file.items):
        if item.request_id in seen:
            where = ("items", i, "request_id")
            first = seen[item.request_id]
            message = f"items.{i}.request_id: {json.dumps(item.request_id)[:120]} is already item {first}"
            raise problem_at(path, text, where, message)
        seen[item.request_id] = i
        allowed = [] if rubric.overall_only else rubric.aspects.get(item.prompt_id, [])
        for aspect in item.scores:
            if aspect not in allowed:
                why = "the rubric is overall-only" if rubric.overall_only else \
                    f"not an aspect of prompt {json.dumps(item.prompt_id)} in the file's rubric"
                raise problem_at(path, text, ("items", i, "scores", aspect),
                               f"items.{i}.scores: {json.dumps(aspect)[:80]}: {why}", at_key=True)


def _check_run(path: Path, text: str, file: AnnotationFile, run: RunJson) -> None:
    run_id = run.run_id
    if file.run_id != run_id:
        raise problem_at(path, text, ("run_id",),
                       f"from another run: run_id {json.dumps(file.run_id)[:80]}, this run is {json.dumps(run_id)}")
    requests = {r.id: r for r in run.requests}
    for i, item in enumerate(file.items):
        request = requests.get(item.request_id)
        if request is None or request.warmup or request.status != "ok":
            raise problem_at(path, text, ("items", i, "request_id"),
                           f"items.{i}.request_id: {json.dumps(item.request_id)[:120]} is not a measured answer of "
                           f"run {run_id}")
        for key in ("model", "prompt_id", "round"):
            if getattr(item, key) != getattr(request, key):
                raise problem_at(path, text, ("items", i, key),
                               f"items.{i}.{key}: {json.dumps(getattr(item, key))[:80]}, but the run's request "
                               f"says {json.dumps(getattr(request, key))[:80]}")


def dumps(file: AnnotationFile) -> bytes:
    """The file's bytes: indented UTF-8 JSON; the judge-only keys are left out of a person's file, and undo steps
    and skip marks while there are none (so a file that uses neither reads in versions without them)."""
    data = file.model_dump(mode="json", by_alias=True)
    if data.get("judge") is None:
        data.pop("judge", None)
    if not data.get("undo"):
        data.pop("undo", None)
    for item in data["items"]:
        if item.get("attempts") is None:
            item.pop("attempts", None)
        if not item.get("skipped"):
            item.pop("skipped", None)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (json.loads lets "\ud800" through): keep it as an escape
        return (json.dumps(data, indent=2, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def save(path: Path | str, file: AnnotationFile) -> None:
    """Atomically replace `path` with `file` (temporary file in the same folder, fsync, rename, folder fsync)."""
    atomic_write_bytes(Path(path), dumps(file))


def new_file(run_id: str, rater: str, rubric: Rubric, items: list[AnnotationItem], *, seed: int | None = None,
             blind: bool = True, one_round: bool = False, judge: JudgeInfo | None = None) -> AnnotationFile:
    return AnnotationFile(
        schema=ANNOTATIONS_SCHEMA, run_id=run_id, rater=rater, rubric=RubricModel(**rubric.to_json()), seed=seed,
        blind=blind, one_round=one_round, revealed=False, judge=judge, items=items,
    )
