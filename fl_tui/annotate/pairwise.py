"""Pairwise judging: two models' answers to the same prompt and round side by side, blind, one verdict a pair.

One JSON file per run and rater in the run folder, `pairwise.<rater>.json`, schema `fl-tui/pairwise/1`:

    {"schema", "run_id", "rater", "seed", "sampled", "revealed",
     "pairs": [{"prompt_id", "round", "a": {"request_id", "model"}, "b": {...}, "verdict": V | null, "judged_at"}],
     "history": [{"pair": i, "before": V | null, "after": V | null}]}

V is one of VERDICTS. `pairs` is in judging order and each pair's sides are as shown (left A, right B): both are
shuffled with `seed`, so the same run and seed give the same pairs. `history` holds every change in order, so undo
goes back any number of steps, after a restart too. Every change is saved atomically (fl_tui.core.fileio) before
the call returns, as the rubric scores are (store.py); a file that does not load is a FileProblem and is not
overwritten.
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from fl_tui.annotate.session import NothingToScore, measured_answers
from fl_tui.annotate.store import check_rater, is_judge, slug
from fl_tui.bench.runfiles import read_run, run_dir_of
from fl_tui.bench.runschema import RequestJson, RunJson
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fields import NonBlank
from fl_tui.core.fileio import atomic_write_bytes, remove_stale_temps
from fl_tui.core.jsonfile import problem_at, read_json, validate
from fl_tui.core.limits import RUN_FILE_MAX

PAIRWISE_SCHEMA = "fl-tui/pairwise/1"
FILE_GLOB = "pairwise.*.json"
VERDICTS = ("a", "b", "tie", "both_bad", "skipped")  # skipped: looked at, no verdict (left out of the results)
JUDGED = VERDICTS[:4]
ALL_PAIRS_UP_TO = 5  # models in a prompt and round: up to this many, every pair of them; more, a balanced sample

Verdict = Literal["a", "b", "tie", "both_bad", "skipped"]


class Side(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: NonBlank
    model: str


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt_id: str
    round: Annotated[int, Field(ge=1)]
    a: Side
    b: Side
    verdict: Verdict | None = None
    judged_at: str | None = None

    def key(self) -> tuple[str, int, frozenset[str]]:
        """The same two answers whatever their sides: how two raters' pairs are matched."""
        return self.prompt_id, self.round, frozenset((self.a.request_id, self.b.request_id))


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    pair: Annotated[int, Field(ge=0)]
    before: Verdict | None
    after: Verdict | None


class PairwiseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_by_name=True, validate_by_alias=True)

    schema_: str = Field(PAIRWISE_SCHEMA, alias="schema")
    run_id: str
    rater: NonBlank
    seed: int
    sampled: bool = False
    revealed: bool = False
    pairs: list[Pair]
    history: list[Change] = []


_FILE = pydantic.TypeAdapter(PairwiseFile)


def pairwise_path(run_dir: Path | str, rater: str) -> Path:
    return Path(run_dir) / f"pairwise.{slug(rater)}.json"


def list_pairwise_files(run_dir: Path | str) -> list[Path]:
    """Every pairwise file of a run folder, by name (temporary files of a save in progress are not listed)."""
    run_dir = Path(run_dir)
    return sorted(p for p in run_dir.glob(FILE_GLOB) if p.is_file()) if run_dir.is_dir() else []


def pairwise_files(run_dir: Path | str, run: RunJson) -> tuple[list[PairwiseFile], list[FileProblem]]:
    """Every pairwise file of the run that loads, and the problems of those that do not."""
    files, problems = [], []
    for path in list_pairwise_files(run_dir):
        try:
            files.append(load_pairwise(path, run))
        except FileProblem as exc:
            problems.append(exc)
    return files, problems


# -- building the pairs ----------------------------------------------------------------------------------------


def build_pairs(run: RunJson, seed: int) -> tuple[list[Pair], bool]:
    """(pairs in judging order, whether sampled). Per prompt and round, the first answer of each model (in run
    order); every two of them when there are up to ALL_PAIRS_UP_TO models, else a balanced sample: the models in
    a shuffled circle, each paired with its neighbour, so each is in two pairs of that prompt and round. Then the
    order of the pairs and the sides of each are shuffled. The same run and seed always give the same pairs."""
    rng = random.Random(seed)
    groups: dict[tuple[str, int], dict[str, RequestJson]] = {}
    for r in measured_answers(run):
        group = groups.setdefault((r.prompt_id, r.round), {})
        group.setdefault(r.model, r)
    pairs: list[Pair] = []
    sampled = False
    for (prompt_id, round_), by_model in groups.items():
        names = sorted(by_model)
        if len(names) <= ALL_PAIRS_UP_TO:
            chosen = list(itertools.combinations(names, 2))
        else:
            sampled = True
            rng.shuffle(names)
            chosen = [(names[i], names[(i + 1) % len(names)]) for i in range(len(names))]
        for first, second in chosen:
            if rng.random() < 0.5:
                first, second = second, first
            pairs.append(Pair(prompt_id=prompt_id, round=round_,
                              a=Side(request_id=by_model[first].id, model=first),
                              b=Side(request_id=by_model[second].id, model=second)))
    rng.shuffle(pairs)
    return pairs, sampled


# -- the file ----------------------------------------------------------------------------------------------------


def load_pairwise(path: Path | str, run: RunJson | None = None) -> PairwiseFile:
    """A pairwise file, checked: JSON and every field (FileProblem with line and column), each pair two different
    models, each change a pair of the file; and against `run` when given: its run_id, every side a measured answer
    of the run to that prompt and round, by that model. Nothing is written."""
    path = Path(path)
    text, data = read_json(path, RUN_FILE_MAX)
    if not isinstance(data, dict) or data.get("schema") != PAIRWISE_SCHEMA:
        loc = ("schema",) if isinstance(data, dict) and "schema" in data else ()
        raise problem_at(path, text, loc, f"not an fl-tui pairwise file: expected schema {PAIRWISE_SCHEMA!r}")
    file = validate(path, text, data, _FILE)
    seen: dict[tuple, int] = {}
    for i, pair in enumerate(file.pairs):
        if pair.a.model == pair.b.model or pair.a.request_id == pair.b.request_id:
            raise problem_at(path, text, ("pairs", i, "b"), f"pairs.{i}: both sides are the same model")
        if pair.key() in seen:
            raise problem_at(path, text, ("pairs", i), f"pairs.{i}: the same two answers as pairs.{seen[pair.key()]}")
        seen[pair.key()] = i
    for i, change in enumerate(file.history):
        if change.pair >= len(file.pairs):
            raise problem_at(path, text, ("history", i, "pair"), f"history.{i}.pair: no pair {change.pair}")
    if run is not None:
        _check_run(path, text, file, run)
    return file


def _check_run(path: Path, text: str, file: PairwiseFile, run: RunJson) -> None:
    if file.run_id != run.run_id:
        raise problem_at(path, text, ("run_id",), f"from another run: run_id {json.dumps(file.run_id)[:80]}, "
                         f"this run is {json.dumps(run.run_id)}")
    answers = {r.id: r for r in measured_answers(run)}
    for i, pair in enumerate(file.pairs):
        for name in ("a", "b"):
            side = getattr(pair, name)
            r = answers.get(side.request_id)
            if r is None or (r.model, r.prompt_id, r.round) != (side.model, pair.prompt_id, pair.round):
                raise problem_at(path, text, ("pairs", i, name, "request_id"),
                                 f"pairs.{i}.{name}: {json.dumps(side.request_id)[:120]} is not {side.model!r}'s "
                                 f"measured answer to {pair.prompt_id!r}, round {pair.round} in this run")


def dumps(file: PairwiseFile) -> bytes:
    return (json.dumps(file.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False) + "\n").encode()


def save(path: Path, file: PairwiseFile) -> None:
    """Atomically replace `path` with `file` (temporary file in the same folder, fsync, rename, folder fsync)."""
    atomic_write_bytes(path, dumps(file))


# -- judging -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairView:
    """One pair as the screen shows it; `model_a` and `model_b` are None while hidden. The prompt and answers are
    untrusted text: render them plain."""

    index: int
    total: int
    judged: int  # pairs with a verdict (skipped ones not counted)
    skipped: int
    prompt_id: str
    round: int
    prompt: str
    answer_a: str
    answer_b: str
    model_a: str | None
    model_b: str | None
    verdict: str | None


class PairwiseSession:
    """A rater's pairwise judging of one run, each change on disk before the call returns. Not thread-safe: the
    Annotate tab keeps it on its one worker thread."""

    def __init__(self, path: Path, run: RunJson, file: PairwiseFile, *, resumed: bool):
        self.path, self.run, self.resumed, self._file = path, run, resumed, file
        self._texts = {r.id: r.text for r in run.requests}
        self._prompts = {p.get("id"): str(p.get("prompt", "")) for p in run.prompts}
        self._shown: bool | None = None  # the rater's last show/hide this session
        self.index = self._first_open()

    @classmethod
    def open(cls, run_dir: Path | str, rater: str, *, seed: int | None = None) -> PairwiseSession:
        """Resume the rater's pairwise file of a run, or make it (saved at once, so the seed and order are fixed);
        `seed` applies to a new file only (default: a random one, stored)."""
        run_dir = run_dir_of(run_dir)
        run = read_run(run_dir)
        rater = check_rater(rater)
        if is_judge(rater):
            raise UserError(f"rater names starting with 'model:' are for judge models, not {rater!r}")
        path = pairwise_path(run_dir, rater)
        remove_stale_temps(path)
        if path.exists():
            file = load_pairwise(path, run)
            if file.rater != rater:
                raise FileProblem(path, f"belongs to rater {file.rater!r}, not {rater!r}; choose another rater name")
            session = cls(path, run, file, resumed=True)
            session._add_new_pairs()
            return session
        seed = secrets.randbelow(2**31) if seed is None else seed
        pairs, sampled = build_pairs(run, seed)
        if not pairs:
            raise NothingToScore(f"{run_dir}: run {run.run_id} has no pairs to judge (it needs answers of two "
                                 "models to the same prompt and round)")
        file = PairwiseFile(schema=PAIRWISE_SCHEMA, run_id=run.run_id, rater=rater, seed=seed,
                            sampled=sampled, pairs=pairs)
        save(path, file)
        return cls(path, run, file, resumed=False)

    def _add_new_pairs(self) -> None:
        """Pairs the run gained after the file was made (its run.json rewritten by a run that went on) are added at
        the end, from the file's seed; the pairs judged so far stay as they are."""
        known = {p.key() for p in self._file.pairs}
        added = [p for p in build_pairs(self.run, self._file.seed)[0] if p.key() not in known]
        if added:
            self._file.pairs.extend(added)
            self._save()

    @property
    def rater(self) -> str:
        return self._file.rater

    @property
    def total(self) -> int:
        return len(self._file.pairs)

    @property
    def revealed(self) -> bool:
        """As the rater last set it this session, else once shown before (saved) or every pair has a verdict."""
        if self._shown is not None:
            return self._shown
        return self._file.revealed or all(p.verdict is not None for p in self._file.pairs)

    def file(self) -> PairwiseFile:
        """A copy of what is on disk."""
        return self._file.model_copy(deep=True)

    def view(self) -> PairView:
        pair = self._file.pairs[self.index]
        shown = self.revealed
        return PairView(
            index=self.index, total=self.total,
            judged=sum(p.verdict in JUDGED for p in self._file.pairs),
            skipped=sum(p.verdict == "skipped" for p in self._file.pairs),
            prompt_id=pair.prompt_id, round=pair.round, prompt=self._prompts.get(pair.prompt_id, ""),
            answer_a=self._texts.get(pair.a.request_id, ""), answer_b=self._texts.get(pair.b.request_id, ""),
            model_a=pair.a.model if shown else None, model_b=pair.b.model if shown else None,
            verdict=pair.verdict,
        )

    def judge(self, verdict: str) -> None:
        """Give the current pair `verdict` (one of VERDICTS; "skipped" marks it looked at and passed over), then
        go to the next pair without one. Saved before it returns."""
        if verdict not in VERDICTS:
            raise UserError(f"a verdict is one of {', '.join(VERDICTS)}, not {verdict!r}")
        pair = self._file.pairs[self.index]
        self._file.history.append(Change(pair=self.index, before=pair.verdict, after=verdict))
        self._set(pair, verdict)
        self._save()
        self.index = self._next_open()

    def undo(self) -> bool:
        """Take back the last change (any number of times, across restarts) and show its pair; False when there
        is none."""
        if not self._file.history:
            return False
        change = self._file.history.pop()
        self._set(self._file.pairs[change.pair], change.before)
        self._save()
        self.index = change.pair
        return True

    def move(self, step: int) -> bool:
        """To the next or previous pair; False at either end."""
        if not 0 <= self.index + step < self.total:
            return False
        self.index += step
        return True

    def show_models(self, shown: bool) -> None:
        """Show or hide the model names; having shown them is recorded in the file (later verdicts are not blind)."""
        if shown and not self._file.revealed:
            self._file.revealed = True
            self._save()
        self._shown = shown

    def _set(self, pair: Pair, verdict: str | None) -> None:
        pair.verdict = verdict
        pair.judged_at = datetime.now(UTC).isoformat(timespec="seconds") if verdict is not None else None

    def _first_open(self) -> int:
        return next((i for i, p in enumerate(self._file.pairs) if p.verdict is None), 0)

    def _next_open(self) -> int:
        """The next pair without a verdict after the current one, wrapping round; else the current one."""
        for step in range(1, self.total + 1):
            candidate = (self.index + step) % self.total
            if self._file.pairs[candidate].verdict is None:
                return candidate
        return self.index

    def _save(self) -> None:
        save(self.path, self._file)
