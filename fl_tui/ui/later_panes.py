"""The Benchmark and Annotate tabs arrive after the Models tab is on screen.

Their code imports numpy, httpx and plotext (about 0.6 s on a 2-core machine) and mounting them costs about 0.25 s;
the first screen needs none of it. The app imports them in a thread worker once the models are shown (or a tab,
help or the palette asks for them), then mounts them in place of a `PaneSlot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.widgets import Static

if TYPE_CHECKING:
    from fl_tui.ui.widgets.annotate.pane import AnnotatePane
    from fl_tui.ui.widgets.bench import BenchPane


class PaneSlot(Static, can_focus=True):
    """Holds a tab's place until its pane is mounted, and takes the focus as a pane would."""

    def focus_main(self) -> None:
        self.screen.set_focus(self)


@dataclass
class PanesImported(Message):
    bench: type[BenchPane]
    annotate: type[AnnotatePane]


def import_panes() -> PanesImported:
    """The pane classes, imported (Python keeps them: a second call costs nothing)."""
    from fl_tui.ui.widgets.annotate.pane import AnnotatePane
    from fl_tui.ui.widgets.bench import BenchPane

    return PanesImported(BenchPane, AnnotatePane)
