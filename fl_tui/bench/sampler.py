"""Samples the resident memory and CPU of the process hosting the model, in a thread, while a model runs."""

from __future__ import annotations

import threading

import psutil

MB = 2**20


class ResourceSampler:
    """Peak RSS and mean CPU% of one process, sampled every `interval_s` until stopped."""

    def __init__(self, pid: int, interval_s: float = 0.1):
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak_rss = 0
        self.cpu_samples: list[float] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="resource-sampler", daemon=True)

    def rss(self) -> int:
        return self.process.memory_info().rss

    def start(self) -> ResourceSampler:
        self.process.cpu_percent(None)  # the first call only sets the baseline
        self.peak_rss = self.rss()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.peak_rss = max(self.peak_rss, self.rss())
                self.cpu_samples.append(self.process.cpu_percent(None))
            except (psutil.NoSuchProcess, psutil.AccessDenied) as exc:
                self.error = f"cannot sample pid {self.process.pid}: {type(exc).__name__}"
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_rss_mb(self) -> float | None:
        return self.peak_rss / MB if self.peak_rss else None

    @property
    def cpu_mean(self) -> float | None:
        return sum(self.cpu_samples) / len(self.cpu_samples) if self.cpu_samples else None
