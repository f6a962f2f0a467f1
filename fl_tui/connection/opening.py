"""A backend opened on a thread started at once, so the embedded runtime starts while the UI is still importing
and drawing its first screen; whoever needs the backend waits for `result()`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from fl_tui.connection.base import Backend


class Opening:
    def __init__(self, open_it: Callable[[], Backend]):
        self._future: Future[Backend] = Future()
        self._thread = threading.Thread(target=self._open, args=(open_it,), name="open-backend", daemon=True)
        self._thread.start()

    def _open(self, open_it: Callable[[], Backend]) -> None:
        try:
            self._future.set_result(open_it())
        except BaseException as exc:  # handed to result(), which raises it where the backend is wanted
            self._future.set_exception(exc)

    def result(self) -> Backend:
        return self._future.result()

    def close(self, *, for_exit: bool = False) -> bool:
        """Wait for the opening to end (a quit in the first instant must not leave a runtime behind), then close.

        `for_exit`: the process ends next with os._exit, so the runtime's native release may be left to it
        (Backend.close_for_exit); True when it was."""
        self._thread.join()
        if self._future.exception() is not None:
            return False
        backend = self._future.result()
        if for_exit:
            return backend.close_for_exit()
        backend.close()
        return False
