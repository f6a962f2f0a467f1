"""Waiting in UI tests: on a condition, never for a fixed time.

`until` polls a condition with a deadline and, if it never holds, fails saying what it waited for and what it
saw. The short pause inside only paces the polling; the deadline is generous because a busy 2-core CI machine
can be many times slower than a laptop, and a test that waits on a condition costs nothing extra when it is fast.
`settled` waits for the app to have nothing left to do: workers finished and every queued message handled.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable

POLL_S = 0.02  # paces the polling loop only
DEADLINE_S = 60.0


async def until(pilot, condition: Callable[[], object], what: str, *, seen: Callable[[], object] | None = None,
                timeout: float = DEADLINE_S) -> None:
    """Return once `condition()` is true; fail after `timeout` with `what` and the last value of `seen()`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            shown = f"; saw {seen()!r}" if seen is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{shown}")
        await pilot.pause(POLL_S)


def until_sync(condition: Callable[[], object], what: str, *, seen: Callable[[], object] | None = None,
               timeout: float = DEADLINE_S) -> None:
    """`until` for code without an event loop (threads, subprocesses)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            shown = f"; saw {seen()!r}" if seen is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{shown}")
        time.sleep(POLL_S)


class ThreadLog:
    """Records, for each call of the functions it wraps, whether it ran on the UI loop's (main) thread: a blocking
    call there would hold every key press while it runs. Checks which thread, not how long, so any machine agrees."""

    def __init__(self, monkeypatch):
        self.monkeypatch, self.calls = monkeypatch, []

    def wrap(self, module, name: str) -> None:
        real = getattr(module, name)

        def call(*args, **kwargs):
            self.note(name)
            return real(*args, **kwargs)

        self.monkeypatch.setattr(module, name, call)

    def note(self, name: str) -> None:
        self.calls.append((name, threading.current_thread() is threading.main_thread()))

    def names(self) -> set[str]:
        return {name for name, _on_loop in self.calls}

    def on_the_loop(self) -> list[str]:
        return [name for name, on_loop in self.calls if on_loop]


def stopped_midway(command: list[str], out, stop: Callable[[subprocess.Popen], None], **popen) -> tuple[int, str, str]:
    """Start a benchmark `command` writing into `out`, call `stop(proc)` once two requests are written, and give
    its exit code, stdout and stderr; a process that has not ended after 30 s fails the test and is killed."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    try:
        until_sync(lambda: written_lines(out) >= 2 or proc.poll() is not None, "two requests written",
                   seen=lambda: written_lines(out))
        assert proc.poll() is None, proc.communicate()
        stop(proc)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, stdout, stderr


def written_lines(run_dir) -> int:
    """How many requests a running benchmark has written to its requests.jsonl so far."""
    path = run_dir / "requests.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else 0


async def settled(pilot, timeout: float = DEADLINE_S) -> None:
    """Every worker has finished and every message already queued has been handled."""
    try:
        await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout)
    except TimeoutError:
        running = [w.name for w in pilot.app.workers if not w.is_finished]
        raise AssertionError(f"workers still running after {timeout:.0f} s: {running}") from None
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def mounted(pilot, selector: str):
    """The widget `selector` once it is mounted: the Benchmark and Annotate panes come after the first screen."""
    app = pilot.app
    await until(pilot, lambda: app.query(selector), f"{selector} mounted",
                seen=lambda: [w.id for w in app.query("PaneSlot")])
    return app.query_one(selector)


def unload_when_idle(backend, model_id: str) -> None:
    """Unload once the runtime has let go of the session that served the last answer: it may still hold it for a
    moment after the stream's [DONE] ("1 session(s) still using it"), longer on a busy machine."""
    from fl_tui.connection.base import BackendError

    def unloaded() -> bool:
        try:
            backend.unload(model_id)
        except BackendError as exc:
            if "still using it" not in str(exc):
                raise
            return False
        return True

    until_sync(unloaded, f"{model_id} unloaded once its last session ended")
