"""The backend opens on its own thread from the start: its answer or its error reaches whoever waits, and closing
waits for an opening still under way, so a quit in the first instant leaves no runtime behind."""

import threading

import pytest

from fl_tui.connection.base import BackendError
from fl_tui.connection.opening import Opening


class Closable:
    closed = False

    def close(self):
        self.closed = True


def test_the_backend_opened_is_the_one_waited_for_and_closing_waits_for_it():
    release, backend = threading.Event(), Closable()

    def slow_open():
        release.wait(60)
        return backend

    opening = Opening(slow_open)
    closer = threading.Thread(target=opening.close)
    closer.start()
    assert closer.is_alive() and not backend.closed  # still opening: close waits
    release.set()
    closer.join(60)
    assert opening.result() is backend and backend.closed


def test_a_failed_opening_raises_where_the_backend_is_wanted_and_closes_quietly():
    def failing_open():
        raise BackendError("nothing listening")

    opening = Opening(failing_open)
    with pytest.raises(BackendError, match="nothing listening"):
        opening.result()
    opening.close()


def test_an_opening_held_back_starts_at_the_first_wait_and_one_never_started_opens_nothing():
    calls = []

    def open_it():
        calls.append(threading.current_thread().name)
        return Closable()

    held = Opening(open_it, start=False)
    assert calls == []  # nothing opened until someone waits for it (the app, after its first frame)
    backend = held.result()
    assert calls == ["open-backend"] and isinstance(backend, Closable)
    held.close()
    assert backend.closed

    never = Opening(open_it, start=False)
    never.close()  # a quit before the first frame: nothing to wait for, nothing to close
    never.start()
    assert calls == ["open-backend"]  # and a late start after the close opens nothing either
