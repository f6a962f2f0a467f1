"""What the Annotate tab draws, and the state its keys change: a scoring session plus the focused row.

Headless, so the tab's worker thread owns it and the screen only ever sees the immutable `ScoringView` each
change returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from fl_tui.annotate.rubric import LEVELS, scale_text
from fl_tui.annotate.session import OVERALL, ItemView, ScoringSession


@dataclass(frozen=True)
class ScoringView:
    """What the pane draws: a snapshot taken on the worker thread after a call."""

    run_id: str
    rater: str
    total: int
    progress: tuple[int, int]
    blind: bool
    resumed: bool
    item: ItemView
    rows: tuple[str, ...]  # the item's scored aspects, then the overall score
    row: int  # the focused row
    levels: dict[int, str]  # score -> the rubric's words for it
    scale: str  # the whole scale, for `?`


class ScoringCursor:
    """A scoring session and the focused row (the aspect a score key applies to). Not thread-safe, like the
    session: the Annotate tab keeps it on one worker thread."""

    def __init__(self, session: ScoringSession):
        self.session, self.row = session, 0

    def rows(self) -> tuple[str, ...]:
        """The current answer's rows; the focused one is kept within them (answers have different aspects)."""
        rows = (*self.session.current.scored_aspects, OVERALL)
        self.row = max(0, min(len(rows) - 1, self.row))
        return rows

    def view(self) -> ScoringView:
        s = self.session
        rows = self.rows()
        return ScoringView(run_id=s.run_id, rater=s.rater, total=s.total, progress=s.progress, blind=s.blind,
                           resumed=s.resumed, item=s.current, rows=rows, row=self.row,
                           levels={n: s.rubric.describe(n) for n in LEVELS}, scale=scale_text(s.rubric))

    def score(self, value: int) -> None:
        self.session.set_score(self.rows()[self.row], value)

    def step_row(self, step: int) -> None:
        self.row += step
        self.rows()

    def move(self, step: int) -> None:
        self.session.next() if step > 0 else self.session.prev()
