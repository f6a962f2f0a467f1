"""A queue of model downloads, one at a time, each cancellable. Headless: the app draws it on a timer."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

from fl_tui.connection.base import Backend, BackendError, ModelEntry
from fl_tui.progress import progress_line

_ids = itertools.count(1)


@dataclass
class DownloadJob:
    entry: ModelEntry
    id: int = field(default_factory=lambda: next(_ids))
    state: str = "queued"  # queued, downloading, done, failed, cancelled
    pct: float = 0.0
    started: float | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def line(self, now: float | None = None) -> str:
        if self.state == "downloading" and self.started is not None:
            return progress_line(self.entry.id, self.pct, (now or time.monotonic()) - self.started, self.entry.size_mb)
        return f"{self.entry.id}: {self.state}" + (f" ({self.error})" if self.error else "")


class DownloadQueue:
    """Jobs run in order on one thread; `jobs` is read by the UI, written only by this class."""

    def __init__(self, backend: Backend, on_change=None):
        self.backend = backend
        self.jobs: list[DownloadJob] = []
        self.on_change = on_change or (lambda job: None)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return any(j.state in ("queued", "downloading") for j in self.jobs)

    def enqueue(self, entry: ModelEntry) -> DownloadJob:
        with self._lock:
            for job in self.jobs:
                if job.entry.id == entry.id and job.state in ("queued", "downloading"):
                    return job
            job = DownloadJob(entry)
            self.jobs.append(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="downloads", daemon=True)
                self._thread.start()
        return job

    def cancel(self, job: DownloadJob) -> None:
        job.cancel.set()
        if job.state == "queued":
            job.state = "cancelled"
            self.on_change(job)

    def _next(self) -> DownloadJob | None:
        with self._lock:
            return next((j for j in self.jobs if j.state == "queued"), None)

    def _run(self) -> None:
        while (job := self._next()) is not None:
            job.state, job.started = "downloading", time.monotonic()
            self.on_change(job)
            try:
                self.backend.download(job.entry.id, self._progress(job), job.cancel)
                job.state, job.pct = "done", 100.0
            except BackendError as exc:
                job.state = "cancelled" if job.cancel.is_set() else "failed"
                job.error = None if job.cancel.is_set() else str(exc)
            self.on_change(job)

    @staticmethod
    def _progress(job: DownloadJob):
        def update(pct: float) -> None:
            job.pct = max(0.0, min(100.0, pct))

        return update
