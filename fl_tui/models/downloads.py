"""A queue of model downloads, one at a time, each cancellable. Headless: the app draws it on a timer."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

from fl_tui.connection.base import Backend, BackendError, ModelEntry
from fl_tui.core.progress import progress_line

_ids = itertools.count(1)


class DownloadState(StrEnum):
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


PENDING = (DownloadState.QUEUED, DownloadState.DOWNLOADING)


@dataclass
class DownloadJob:
    entry: ModelEntry
    id: int = field(default_factory=lambda: next(_ids))
    state: DownloadState = DownloadState.QUEUED
    pct: float = 0.0
    started: float | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def line(self, now: float | None = None) -> str:
        if self.state is DownloadState.DOWNLOADING and self.started is not None:
            return progress_line(self.entry.id, self.pct, (now or time.monotonic()) - self.started, self.entry.size_mb)
        return f"{self.entry.id}: {self.state}" + (f" ({self.error})" if self.error else "")


class DownloadQueue:
    """Jobs run in order on one thread; `jobs` is read by the UI, written only by this class.

    The thread is started by `enqueue` when none runs, and ends when it finds the queue empty. Both happen under
    one lock, and the thread forgets itself before it lets go of it: a job enqueued while the thread is on its
    way out starts a new one instead of waiting for nobody."""

    def __init__(self, backend: Backend, on_change=None):
        self.backend = backend
        self.jobs: list[DownloadJob] = []
        self.on_change = on_change or (lambda job: None)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return any(j.state in PENDING for j in self.jobs)

    def running(self) -> bool:
        """The download thread is still at work (a cancelled download may be cleaning up)."""
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def enqueue(self, entry: ModelEntry) -> DownloadJob:
        with self._lock:
            for job in self.jobs:
                if job.entry.id == entry.id and job.state in PENDING:
                    return job
            job = DownloadJob(entry)
            self.jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="downloads", daemon=True)
                self._thread.start()
        return job

    def cancel(self, job: DownloadJob) -> None:
        job.cancel.set()
        with self._lock:  # not between the thread's pick of this job and its start
            dropped = job.state is DownloadState.QUEUED
            if dropped:
                job.state = DownloadState.CANCELLED
        if dropped:
            self.on_change(job)

    def _next(self) -> DownloadJob | None:
        """The next queued job, marked as downloading; None (and the thread forgotten) when there is none."""
        with self._lock:
            job = next((j for j in self.jobs if j.state is DownloadState.QUEUED), None)
            if job is None:
                self._thread = None
            else:
                job.state, job.started = DownloadState.DOWNLOADING, time.monotonic()
            return job

    def _run(self) -> None:
        while (job := self._next()) is not None:
            self.on_change(job)
            try:
                self.backend.download(job.entry.id, self._progress(job), job.cancel)
                job.state, job.pct = DownloadState.DONE, 100.0
            except BackendError as exc:
                job.state = DownloadState.CANCELLED if job.cancel.is_set() else DownloadState.FAILED
                job.error = None if job.cancel.is_set() else str(exc)
            except Exception as exc:  # not a failure the backend described: kept on the job, and the queue goes on
                job.state, job.error = DownloadState.FAILED, f"unexpected error: {type(exc).__name__}: {exc}"
            self.on_change(job)

    @staticmethod
    def _progress(job: DownloadJob):
        def update(pct: float) -> None:
            job.pct = max(0.0, min(100.0, pct))

        return update
