"""The Models tab's download queue: one at a time, in order, deduplicated, each cancellable.

No model can be downloaded on this offline machine (the catalog is unreachable, so the runtime has nothing to
fetch), so the queue is driven by a backend whose `download` reports progress and honours the cancel flag the
way the SDK's does. What the SDK does with the bytes is not tested here.
"""

import threading

from waiting import until_sync

from fl_tui.connection.base import Backend, BackendError, Capability, ModelEntry
from fl_tui.models.downloads import DownloadQueue


class SteppedDownloads(Backend):
    kind = "test"

    def __init__(self, fail: set[str] = frozenset()):
        self.order: list[str] = []
        self.fail = fail
        self.release = threading.Event()  # a download waits for this before finishing

    @property
    def capabilities(self):
        return {c: None for c in Capability}

    @property
    def inference_url(self):
        return "http://127.0.0.1:9/v1"

    @property
    def endpoint(self):
        return "http://127.0.0.1:9"

    def status(self):
        raise NotImplementedError

    def list_models(self):
        return []

    def download(self, name, progress=None, cancel=None):
        self.order.append(name)
        for pct in (10.0, 50.0):
            progress(pct)
        while not self.release.wait(0.01):
            if cancel.is_set():
                raise BackendError("download cancelled")
        if name in self.fail:
            raise BackendError(f"{name}: disk full")
        progress(100.0)


def entry(name):
    return ModelEntry(id=f"{name}:1", alias=name, size_mb=100.0)


def test_jobs_run_in_order_one_at_a_time_with_progress():
    backend = SteppedDownloads()
    queue = DownloadQueue(backend)
    first, second = queue.enqueue(entry("a")), queue.enqueue(entry("b"))
    until_sync(lambda: first.pct == 50.0, "the first job at 50%", seen=lambda: first.pct)
    assert (first.state, second.state) == ("downloading", "queued")
    assert "a:1 [" in first.line() and "50.0%" in first.line() and "MB/s" in first.line()
    assert queue.enqueue(entry("a")) is first  # asking again does not queue it twice
    backend.release.set()
    until_sync(lambda: not queue.active, "the queue to empty", seen=lambda: [j.state for j in queue.jobs])
    assert backend.order == ["a:1", "b:1"] and (first.state, second.state) == ("done", "done")


def test_cancel_a_running_and_a_queued_download():
    backend = SteppedDownloads()
    queue = DownloadQueue(backend)
    running, waiting = queue.enqueue(entry("a")), queue.enqueue(entry("b"))
    until_sync(lambda: running.state == "downloading", "the job to start", seen=lambda: running.state)
    queue.cancel(waiting)
    assert waiting.state == "cancelled"
    queue.cancel(running)
    until_sync(lambda: not queue.active, "the queue to empty", seen=lambda: [j.state for j in queue.jobs])
    assert running.state == "cancelled" and running.error is None
    assert backend.order == ["a:1"]  # the cancelled queued job never started


def test_a_failure_is_kept_with_its_reason_and_the_queue_goes_on():
    backend = SteppedDownloads(fail={"a:1"})
    backend.release.set()
    queue = DownloadQueue(backend)
    failed, fine = queue.enqueue(entry("a")), queue.enqueue(entry("b"))
    until_sync(lambda: not queue.active, "the queue to empty", seen=lambda: [j.state for j in queue.jobs])
    assert (failed.state, failed.error) == ("failed", "a:1: disk full")
    assert fine.state == "done"
    assert failed.line() == "a:1: failed (a:1: disk full)"


class SlowToLeave(DownloadQueue):
    """Holds the worker thread between finding the queue empty and ending, where a new job used to be lost."""

    def __init__(self, backend):
        super().__init__(backend)
        self.leaving, self.let_go = threading.Event(), threading.Event()

    def _next(self):
        job = super()._next()
        if job is None and not self.leaving.is_set():
            self.leaving.set()
            self.let_go.wait(60)
        return job


def test_a_job_enqueued_while_the_worker_leaves_still_runs():
    backend = SteppedDownloads()
    backend.release.set()
    queue = SlowToLeave(backend)
    first = queue.enqueue(entry("a"))
    until_sync(queue.leaving.is_set, "the worker to find the queue empty", seen=lambda: first.state)
    second = queue.enqueue(entry("b"))  # the first worker is still alive, on its way out
    until_sync(lambda: second.state == "done", "the late job to run", seen=lambda: second.state)
    queue.let_go.set()
    assert backend.order == ["a:1", "b:1"]


class Broken(SteppedDownloads):
    def download(self, name, progress=None, cancel=None):
        if name == "a:1":
            raise OSError("disk gone")
        super().download(name, progress, cancel)


def test_an_unexpected_error_fails_that_job_and_the_queue_goes_on():
    backend = Broken()
    backend.release.set()
    queue = DownloadQueue(backend)
    broken, fine = queue.enqueue(entry("a")), queue.enqueue(entry("b"))
    until_sync(lambda: not queue.active, "the queue to empty", seen=lambda: [j.state for j in queue.jobs])
    assert (broken.state, broken.error) == ("failed", "unexpected error: OSError: disk gone")
    assert fine.state == "done"
    third = queue.enqueue(entry("c"))  # the worker did not die with the error
    until_sync(lambda: third.state == "done", "a later job to run", seen=lambda: third.state)
