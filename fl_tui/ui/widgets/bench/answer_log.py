"""The streamed answer of the request in flight: soft-wrapped, and written only as it grows."""

from __future__ import annotations

from rich.cells import get_character_cell_size
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
        self._column = 0  # the cells the current line has reached

    def reset(self) -> None:
        self.clear()
        self._request, self._length = None, 0

    def follow(self, flight: InFlight) -> bool:
        """Write what the answer gained; True when it is the answer of another request (the caller relabels)."""
        new = flight.live is not self._request or len(flight.text) < self._length
        if new:
            self._request, self._length, self._column = flight.live, 0, 0
            self.clear()
        width = self.scrollable_content_region.width
        if len(flight.text) > self._length and width > 0:  # not laid out yet: all of it at the next draw, to its width
            self.write(self._wrapped(flight.text[self._length:], max(width // 2, width - 14), width))
            self._length = len(flight.text)
            if self.virtual_size.height != self.line_count:  # Log.write sizes it before cutting to max_lines
                self.virtual_size = Size(self.virtual_size.width, self.line_count)
        return new

    def _wrapped(self, text: str, soft: int, hard: int) -> str:
        """Break at the first space past `soft` cells (a word of slack), and anywhere at `hard` (a URL, a long
        word, text without spaces), continuing the line the last write left: the box never scrolls sideways."""
        out = []
        for char in text:
            if char == "\n":
                self._column = 0
            elif char == " " and self._column >= soft:
                char, self._column = "\n", 0
            else:
                cells = get_character_cell_size(char)  # two for a CJK character
                if self._column + cells > hard:
                    out.append("\n")
                    self._column = 0
                self._column += cells
            out.append(char)
        return "".join(out)
