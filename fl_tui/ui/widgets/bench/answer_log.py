"""The streamed answer of the request in flight: soft-wrapped, and written only as it grows."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Log

from fl_tui.bench.events import LiveRequest
from fl_tui.bench.live import InFlight


class AnswerLog(Log):
    """A Log does not wrap and a RichLog renders every write again, so this one wraps the new text itself and
    appends it; the text is already plain (fl_tui.bench.live strips it).

    Its box is sized by the screen's layout (`1fr`), never by its text, and its scrollbar is always there, so a
    new line changes only what it scrolls over: the screen is not laid out again for it. A Log's default lays out
    the whole screen on every line (about 40 ms at 120x40, several times a second while
    an answer streams, and a key pressed meanwhile waits for it)."""

    DEFAULT_CSS = "AnswerLog { overflow-y: scroll; overflow-x: hidden; }"

    virtual_size = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self.vertical_scrollbar.window_virtual_size = size.height

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._request: LiveRequest | None = None
        self._length = 0  # characters of the answer already written
        self._column = 0  # where the current line has reached

    def reset(self) -> None:
        self.clear()
        self._request, self._length = None, 0

    def follow(self, flight: InFlight) -> bool:
        """Write what the answer gained; True when it is the answer of another request (the caller relabels)."""
        new = flight.live is not self._request or len(flight.text) < self._length
        if new:
            self._request, self._length, self._column = flight.live, 0, 0
            self.clear()
        if len(flight.text) > self._length:
            width = max(20, self.scrollable_content_region.width - 14)  # a word of slack: wrap at a space
            self.write(self._wrapped(flight.text[self._length:], width))
            self._length = len(flight.text)
        return new

    def _wrapped(self, text: str, width: int) -> str:
        """Break at the first space past `width`, continuing the line the last write left."""
        out = []
        for char in text:
            if char == "\n":
                self._column = 0
            elif char == " " and self._column >= width:
                char, self._column = "\n", 0
            else:
                self._column += 1
            out.append(char)
        return "".join(out)
