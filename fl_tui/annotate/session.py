"""Scoring a run's answers, one at a time, with every change on disk before the call returns.

`ScoringSession.open(run_dir, rater)` makes (or resumes) the rater's annotation file for a run: one item per
measured, successful request (or one round per model and prompt), shuffled with a stored seed and with the model
names hidden when blind. The screen drives it with `next()`, `prev()`, `set_score()`, `set_note()`; each mutation
saves atomically, so a crash loses nothing older than the last call. Time is counted per item while it is current
(time.monotonic) and saved with the next change.

Not thread-safe: call it from one thread (a save is an fsync, a few milliseconds).
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fl_tui.annotate.rubric import LEVELS, Rubric, rubric_for_run
from fl_tui.annotate.store import (
    UNDO_MAX,
    AnnotationFile,
    AnnotationItem,
    Change,
    Completion,
    annotation_path,
    check_rater,
    completion,
    is_judge,
    load_annotations,
    new_file,
    save,
)
from fl_tui.bench.load import level_label
from fl_tui.bench.runfiles import read_run, run_dir_of
from fl_tui.bench.runschema import RequestJson, RunJson
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.fileio import remove_stale_temps
from fl_tui.core.prompts import PromptSet

OVERALL = "overall"


class NothingToScore(UserError):
    """The run has no answer to score: no measured request finished ok."""


def time_now() -> float:
    """The clock the time per item is measured with (monotonic; tests may replace it)."""
    return time.monotonic()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def measured_answers(run: RunJson, *, one_round: bool = False) -> list[RequestJson]:
    """The run's measured requests that finished ok, in run order; with `one_round`, the lowest round of each model
    and prompt."""
    answers = [r for r in run.requests if not r.warmup and r.status == "ok" and r.id]
    if not one_round:
        return answers
    first: dict[tuple, RequestJson] = {}
    for r in answers:
        key = (r.model, r.prompt_id)
        if key not in first or r.round < first[key].round:
            first[key] = r
    keep = {id(r) for r in first.values()}
    return [r for r in answers if id(r) in keep]


def newest_to_score(runs: list[Path]) -> Path | None:
    """The first of `runs` (newest first, as runfiles.list_runs gives them) with an answer to score, for the
    Annotate tab to open by itself; a folder whose run.json does not load (a run still starting, a broken file)
    is passed over here, and reported when opened by name."""
    for folder in runs:
        try:
            run = read_run(folder)
        except FileProblem:
            continue
        if measured_answers(run):
            return folder
    return None


def build_items(run: RunJson, *, one_round: bool = False, seed: int | None = None) -> list[AnnotationItem]:
    """The items to score, in scoring order: run order, or shuffled by `random.Random(seed)` when a seed is given.
    The same run and seed always give the same order."""
    items = [
        AnnotationItem(request_id=r.id, model=r.model, prompt_id=r.prompt_id, round=r.round)
        for r in measured_answers(run, one_round=one_round)
    ]
    if seed is not None:
        random.Random(seed).shuffle(items)
    return items


@dataclass(frozen=True)
class ItemView:
    """One item as the screen shows it. `model` and `request_id` (which names the model) are None while blind.

    `prompt` and `answer` are untrusted text (from a prompt file and a model): render them plain, never as markup."""

    index: int  # 0-based position in the scoring order
    model: str | None
    request_id: str | None
    prompt_id: str
    round: int
    prompt: str
    answer: str
    aspects: tuple[str, ...]  # the prompt's expected aspects (shown in overall-only mode too)
    scored_aspects: tuple[str, ...]  # the aspects that take a score: `aspects`, or () in overall-only mode
    scores: dict[str, int]  # aspect -> 1..5, only those set
    overall: int | None
    note: str
    seconds_spent: float
    scored: bool
    skipped: bool  # passed over on purpose and not scored since


class ScoringSession:
    """A rater's scoring of one run. Make it with `ScoringSession.open(...)`."""

    def __init__(self, path: Path, run: RunJson, file: AnnotationFile, *, resumed: bool):
        self.path = path
        self.run = run
        self.resumed = resumed  # True when an existing file was opened
        self._file = file
        self._rubric = file.rubric_obj()
        self._requests = {r.id: r for r in run.requests}
        self._prompts = {p.get("id"): p.get("prompt", "") for p in run.prompts}
        self._index = self._first_unscored()
        self._entered = time_now()
        self._names_shown: bool | None = None  # the rater's last show/hide this session (None: the default rule)

    # -- opening ------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        run_dir: Path | str,
        rater: str,
        *,
        overall_only: bool = False,
        one_round: bool = False,
        blind: bool = True,
        seed: int | None = None,
        prompt_set: PromptSet | Path | None = None,
    ) -> ScoringSession:
        """Open the rater's file of a run, or create it (saved at once, so the seed and order are fixed).

        The keyword settings apply to a new file only: an existing file keeps its own rubric, seed, order, blindness
        and overall-only setting, and the session starts at its first unscored item. A file that does not load is a
        FileProblem and is left as it is. `seed` fixes the blind order (default: a random one, stored); it is not
        used when not blind. `prompt_set` overrides the prompt set whose rubric applies (default: the run's own set,
        when still present and unchanged)."""
        run_dir = run_dir_of(run_dir)
        run = read_run(run_dir)
        rater = check_rater(rater)
        if is_judge(rater):
            raise UserError(f"rater names starting with 'model:' are for judge models (fl-tui judge), not {rater!r}")
        path = annotation_path(run_dir, rater)
        remove_stale_temps(path)  # a kill mid-save leaves one; the file itself is always whole
        if path.exists():
            file = load_annotations(path, run)
            if file.rater != rater:
                raise FileProblem(path, f"belongs to rater {file.rater!r}, not {rater!r} (the names give the same "
                                  "file name); choose another rater name")
            session = cls(path, run, file, resumed=True)
            session._add_new_answers()
            return session
        if blind and seed is None:
            seed = secrets.randbelow(2**31)
        items = build_items(run, one_round=one_round, seed=seed if blind else None)
        if not items:
            raise NothingToScore(f"{run_dir}: run {run.run_id} has no answers to score "
                                 "(no measured request finished ok)")
        rubric = rubric_for_run(run, prompt_set=prompt_set, overall_only=overall_only)
        file = new_file(run.run_id, rater, rubric, items, seed=seed if blind else None, blind=blind,
                        one_round=one_round)
        if path.exists():  # made by someone else since the check above: never overwrite it
            raise FileProblem(path, "appeared while the session was opening; open it again")
        save(path, file)
        return cls(path, run, file, resumed=False)

    def _add_new_answers(self) -> None:
        """Answers the run gained after the file was made (a run.json rewritten by a run that went on) are added at
        the end, in the file's seeded order."""
        known = {item.request_id for item in self._file.items}
        fresh = build_items(self.run, one_round=self._file.one_round,
                            seed=self._file.seed if self._file.blind else None)
        added = [item for item in fresh if item.request_id not in known]
        if added:
            self._file.items.extend(added)
            self._save()

    # -- reading ------------------------------------------------------------------------------------------

    @property
    def rater(self) -> str:
        return self._file.rater

    @property
    def run_id(self) -> str:
        return self._file.run_id

    @property
    def rubric(self) -> Rubric:
        return self._rubric

    @property
    def scale(self) -> dict[int, str]:
        """Level 1..5 -> its one-line description."""
        return {n: self._rubric.scale[n] for n in LEVELS}

    @property
    def overall_only(self) -> bool:
        return self._rubric.overall_only

    @property
    def blind(self) -> bool:
        return self._file.blind

    @property
    def one_round(self) -> bool:
        return self._file.one_round

    @property
    def seed(self) -> int | None:
        return self._file.seed

    @property
    def total(self) -> int:
        return len(self._file.items)

    @property
    def index(self) -> int:
        return self._index

    @property
    def progress(self) -> tuple[int, int]:
        """(items scored, items in all); scored means complete (store.Completion)."""
        return sum(1 for i in range(self.total) if self._scored(i)), self.total

    @property
    def partly(self) -> int:
        """Items with some scores but not all (not counted in `progress`, nor in the quality figures)."""
        return sum(1 for i in range(self.total) if self._completion(i) is Completion.PARTLY)

    @property
    def skipped(self) -> int:
        """Items passed over on purpose (skip), not scored since."""
        return sum(1 for i in range(self.total) if self._completion(i) is Completion.SKIPPED)

    @property
    def can_undo(self) -> bool:
        return bool(self._file.undo)

    @property
    def all_scored(self) -> bool:
        scored, total = self.progress
        return scored == total

    @property
    def revealed(self) -> bool:
        """Model names are shown: as the rater last set them this session (`show_models`), else when not blind,
        every item is scored, or they were shown before (that is saved)."""
        if self._names_shown is not None:
            return self._names_shown
        return not self._file.blind or self._file.revealed or self.all_scored

    @property
    def current(self) -> ItemView:
        return self.item(self._index)

    def item(self, index: int) -> ItemView:
        item = self._file.items[index]
        shown = self.revealed
        request = self._requests.get(item.request_id)
        entry = request.model_copy(update={"model": item.model}) if request is not None else {"model": item.model}
        return ItemView(
            index=index,
            model=level_label(entry) if shown else None,  # its level too, in a sweep
            request_id=item.request_id if shown else None,
            prompt_id=item.prompt_id,
            round=item.round,
            prompt=str(self._prompts.get(item.prompt_id, "")),
            answer=request.text if request is not None else "",
            aspects=self._rubric.aspects_for(item.prompt_id),
            scored_aspects=self._rubric.scored_aspects(item.prompt_id),
            scores=dict(item.scores),
            overall=item.overall,
            note=item.note,
            seconds_spent=item.seconds_spent + (time_now() - self._entered if index == self._index else 0.0),
            scored=self._scored(index),
            skipped=self._completion(index) is Completion.SKIPPED,
        )

    def items(self) -> list[ItemView]:
        return [self.item(i) for i in range(self.total)]

    def file(self) -> AnnotationFile:
        """A copy of what is on disk (after the last change)."""
        return self._file.model_copy(deep=True)

    # -- moving -------------------------------------------------------------------------------------------

    def goto(self, index: int) -> None:
        if not 0 <= index < self.total:
            raise IndexError(f"item {index} out of range 0..{self.total - 1}")
        if index != self._index:
            self._tick()
            self._index = index
            self._save()

    def next(self) -> bool:
        """To the next item; False (and no move) at the last one."""
        if self._index + 1 >= self.total:
            return False
        self.goto(self._index + 1)
        return True

    def prev(self) -> bool:
        """To the previous item; False (and no move) at the first one."""
        if self._index == 0:
            return False
        self.goto(self._index - 1)
        return True

    def next_unscored(self) -> bool:
        """To the first unscored (or partly scored) item after the current one, wrapping round (the current one
        last), passing over skipped ones; False, without moving, when there is none."""
        for step in range(1, self.total + 1):
            candidate = (self._index + step) % self.total
            if self._completion(candidate) in (Completion.UNSCORED, Completion.PARTLY):
                self.goto(candidate)
                return True
        return False

    # -- scoring ------------------------------------------------------------------------------------------

    def set_score(self, aspect: str | int, value: int) -> int | None:
        """Score the current item's `aspect` (an aspect name, its index in `current.scored_aspects`, or OVERALL)
        with 1..5; giving the value it already has clears it. Returns the new value (None when cleared).
        Saved before it returns."""
        if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
            raise UserError(f"a score is a whole number from 1 to 5, not {value!r}")
        item = self._file.items[self._index]
        key = self._aspect_key(item, aspect)
        self._tick()
        self._remember(item)
        item.skipped = False  # scoring it is coming back to it
        if key == OVERALL:
            item.overall = None if item.overall == value else value
            new = item.overall
        else:
            if item.scores.get(key) == value:
                del item.scores[key]
            else:
                item.scores[key] = value
            new = item.scores.get(key)
        item.scored_at = now_iso() if (item.overall is not None or item.scores) else None
        self._save()
        return new

    def _aspect_key(self, item: AnnotationItem, aspect: str | int) -> str:
        scored = self._rubric.scored_aspects(item.prompt_id)
        if isinstance(aspect, bool):
            raise UserError(f"not an aspect: {aspect!r}")
        if isinstance(aspect, int):
            if not 0 <= aspect < len(scored):
                raise UserError(f"aspect {aspect + 1} does not exist: this item has {len(scored)} to score")
            return scored[aspect]
        if aspect == OVERALL:
            return OVERALL
        if aspect in scored:
            return aspect
        if self.overall_only:
            raise UserError("this session scores the overall quality only")
        raise UserError(f"not an aspect of prompt {item.prompt_id!r}: {aspect!r}")

    def set_note(self, text: str) -> None:
        """Replace the current item's note (saved at once; an unchanged note writes nothing)."""
        text = str(text).rstrip()
        item = self._file.items[self._index]
        if text != item.note:
            self._tick()
            self._remember(item)
            item.note = text
            self._save()

    def skip(self) -> bool:
        """Mark the current item skipped, saved, and go on to the next unscored one (if any); on an item already
        skipped, take the mark off. Returns whether it is marked now."""
        item = self._file.items[self._index]
        self._tick()
        self._remember(item)
        item.skipped = not item.skipped
        self._save()
        if item.skipped:
            self.next_unscored()
        return item.skipped

    def undo(self) -> bool:
        """Take back the last score, note or skip (any number of steps, across restarts: the steps are in the
        file), showing the item it changed; False when there is nothing to undo."""
        if not self._file.undo:
            return False
        change = self._file.undo.pop()
        index = next((i for i, it in enumerate(self._file.items) if it.request_id == change.request_id), None)
        if index is None:  # not an item of this file (edited by hand): nothing to put back
            self._save()
            return True
        self._tick()
        item = self._file.items[index]
        item.scores, item.overall, item.note = dict(change.scores), change.overall, change.note
        item.skipped, item.scored_at = change.skipped, change.scored_at
        self._index, self._entered = index, time_now()
        self._save()
        return True

    def reveal(self) -> None:
        """Show the model names now (recorded in the file: later scores are not blind)."""
        self.show_models(True)

    def show_models(self, shown: bool) -> None:
        """Show the model names or hide them again. Showing them is recorded in the file (`revealed`: the rater
        has seen them, so later scores are not blind) and stays recorded when they are hidden again; hiding lasts
        for this session."""
        if shown and not self._file.revealed:
            self._tick()
            self._file.revealed = True
            self._save()
        self._names_shown = shown

    def close(self) -> None:
        """Save the time spent on the current item. The session stays usable."""
        self._tick()
        self._save()

    def __enter__(self) -> ScoringSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------------

    def _completion(self, index: int) -> Completion:
        item = self._file.items[index]
        return completion(item, self._rubric.scored_aspects(item.prompt_id))

    def _scored(self, index: int) -> bool:
        return self._completion(index) is Completion.SCORED

    def _first_unscored(self) -> int:
        return next((i for i in range(self.total) if not self._scored(i)), 0)

    def _tick(self) -> None:
        """Move the time since the current item was entered (or last ticked) into its seconds_spent."""
        now = time_now()
        item = self._file.items[self._index]
        item.seconds_spent = round(item.seconds_spent + max(0.0, now - self._entered), 3)
        self._entered = now

    def _remember(self, item: AnnotationItem) -> None:
        """Before a change to `item`: keep how it was, for undo (saved with the change itself)."""
        self._file.undo.append(Change(request_id=item.request_id, scores=dict(item.scores), overall=item.overall,
                                      note=item.note, skipped=item.skipped, scored_at=item.scored_at))
        del self._file.undo[:-UNDO_MAX]

    def _save(self) -> None:
        save(self.path, self._file)
