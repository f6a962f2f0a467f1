"""A backend opened on a thread of its own; whoever needs the backend waits for `result()`.

Started at once, the embedded runtime starts while the UI is still importing and drawing its first screen. When
the app has a last model list to show (fl_tui.models.last_list), it starts the opening after its first frame
instead (`start`): the two share two cores and one GIL, and the screen is then the thing to be quick."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from fl_tui.connection.base import Backend


class Opening:
    def __init__(self, open_it: Callable[[], Backend], *, start: bool = True):
        self._future: Future[Backend] = Future()
        self._thread = threading.Thread(target=self._open, args=(open_it,), name="open-backend", daemon=True)
        self._lock = threading.Lock()
        self._started = False
        if start:
            self.start()

    def start(self) -> None:
        """Begin opening, once (later calls do nothing)."""
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def _open(self, open_it: Callable[[], Backend]) -> None:
        try:
            self._future.set_result(open_it())
        except BaseException as exc:  # handed to result(), which raises it where the backend is wanted
            self._future.set_exception(exc)

    def result(self) -> Backend:
        self.start()
        return self._future.result()

    def close(self, *, for_exit: bool = False) -> bool:
        """Wait for an opening under way to end (a quit in the first instant must not leave a runtime behind),
        then close; one never started has nothing to close.

        `for_exit`: the process ends next with os._exit, so the runtime's native release may be left to it
        (Backend.close_for_exit); True when it was."""
        with self._lock:
            if not self._started:
                self._started = True  # and never will: a late result() would open what nobody closes
                self._future.set_exception(RuntimeError("closed before it was opened"))
                return False
        self._thread.join()
        if self._future.exception() is not None:
            return False
        backend = self._future.result()
        if for_exit:
            return backend.close_for_exit()
        backend.close()
        return False
