"""The Models tab's download lines: the last few jobs of the queue with %, speed and ETA, redrawn on a clock."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from fl_tui.core.textsafe import plain
from fl_tui.models.downloads import DownloadQueue

TICK_S = 0.25
SHOWN = 4


class DownloadLines(Static):
    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self.queue: DownloadQueue | None = None

    def on_mount(self) -> None:
        self.display = False
        self.set_interval(TICK_S, self.draw)

    def draw(self) -> None:
        jobs = self.queue.jobs[-SHOWN:] if self.queue else []
        self.display = bool(jobs)
        if jobs:
            self.update(Text("\n".join(plain(job.line(), keep_newlines=False) for job in jobs)))
