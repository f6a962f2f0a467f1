"""What the Annotate tab draws, and the state its keys change: a scoring session plus the focused row.

Headless, so the tab's worker thread owns it and the screen only ever sees the immutable `ScoringView` each
change returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fl_tui.annotate.rubric import LEVELS, scale_text
from fl_tui.annotate.session import OVERALL, ItemView, ScoringSession


@dataclass(frozen=True)
class ScoringView:
    """What the pane draws: a snapshot taken on the worker thread after a call."""

    run_id: str
    run_models: int  # how many models the run measured
    run_started: str | None  # when it started, "2026-12-02 07:36 UTC" (from run.json's started_at)
    rater: str
    total: int
    progress: tuple[int, int]  # (scored completely, answers)
    partly: int  # answers with some scores but not all
    skipped: int  # answers passed over on purpose (x)
    blind: bool
    resumed: bool
    item: ItemView
    rows: tuple[str, ...]  # the item's scored aspects, then the overall score
    row: int  # the focused row
    levels: dict[int, str]  # score -> the rubric's words for it
    scale: str  # the whole scale, for `?`


def when(started: object) -> str | None:
    """run.json's `started_at` to the minute, for the head line; None when it is not an ISO date and time."""
    if not isinstance(started, str):
        return None
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return None
    zone = " UTC" if moment.utcoffset() == timedelta(0) else moment.strftime(" %z") if moment.tzinfo else ""
    return moment.strftime("%Y-%m-%d %H:%M") + zone


class ScoringCursor:
    """A scoring session and the focused row (the aspect a score key applies to). Not thread-safe, like the
    session: the Annotate tab keeps it on one worker thread."""

    def __init__(self, session: ScoringSession, *, auto_advance: bool = False):
        self.session, self.row, self.auto_advance = session, 0, auto_advance

    def rows(self) -> tuple[str, ...]:
        """The current answer's rows; the focused one is kept within them (answers have different aspects)."""
        rows = (*self.session.current.scored_aspects, OVERALL)
        self.row = max(0, min(len(rows) - 1, self.row))
        return rows

    def view(self) -> ScoringView:
        s = self.session
        rows = self.rows()
        # entries are per model and level (and endpoint): the head counts models
        measured = {(m.model, m.endpoint) for m in s.run.models}
        return ScoringView(run_id=s.run_id, run_models=len(measured),
                           run_started=when(s.run.started_at), rater=s.rater,
                           total=s.total, progress=s.progress, partly=s.partly, skipped=s.skipped, blind=s.blind,
                           resumed=s.resumed, item=s.current, rows=rows, row=self.row,
                           levels={n: s.rubric.describe(n) for n in LEVELS}, scale=scale_text(s.rubric))

    def score(self, value: int) -> str | None:
        """Score the focused row; with auto-advance, an overall score that completes the answer moves on to the
        next unscored one (the focus on its first unscored row). A score that replaces another is said, with how
        to undo it: a digit pressed to change tabs (1-3 elsewhere) must not change a score unnoticed."""
        row = self.rows()[self.row]
        before = _value(self.session.current, row)
        given = self.session.set_score(row, value)
        complete = given is not None and self.session.current.scored
        if self.auto_advance and row == OVERALL and complete and self.session.next_unscored():
            self._first_unscored_row()
        if before is None:
            return None
        change = "cleared" if given is None else f"-> {given}"  # the same key again clears it
        return f"{row}: {before} {change} (z undoes; [ and ] switch tabs here)"

    def skip(self) -> str:
        before = self.session.index
        if not self.session.skip():
            return "no longer skipped"
        if self.session.index == before:
            return "skipped; no unscored answer is left (s: results)"
        return "skipped (z undoes)"

    def undo(self) -> str | None:
        return None if self.session.undo() else "nothing to undo"

    def step_row(self, step: int) -> None:
        self.row += step
        self.rows()

    def move(self, step: int) -> str | None:
        """To the next (step > 0) or previous answer, the focus on its first unscored row; a one-line reason when
        there is none."""
        moved = self.session.next() if step > 0 else self.session.prev()
        if not moved:
            return "this is the last answer" if step > 0 else "this is the first answer"
        self._first_unscored_row()
        return None

    def next_unscored(self) -> str | None:
        if not self.session.next_unscored():
            return "every answer is scored (s: results)"
        self._first_unscored_row()
        return None

    def _first_unscored_row(self) -> None:
        """A new answer's focus: the first row without a score (the first row when all have one), so the next
        digit scores its first aspect, not the overall row the last answer ended on."""
        item = self.session.current
        unscored = [i for i, row in enumerate(self.rows()) if _value(item, row) is None]
        self.row = unscored[0] if unscored else 0

    def toggle_models(self) -> str:
        """Show or hide the model names; says which (showing them is recorded: see ScoringSession.show_models)."""
        shown = not self.session.revealed
        self.session.show_models(shown)
        return "model names shown (r hides them)" if shown else "model names hidden (r shows them)"


def _value(item: ItemView, row: str) -> int | None:
    """The score a row of `item` holds (None: unscored)."""
    return item.overall if row == OVERALL else item.scores.get(row)
