"""The live view's answer box follows a streamed answer without laying the screen out again for each line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static
from waiting import settled, until

from fl_tui.ui.widgets.bench.answer_log import AnswerLog


@dataclass
class Flight:
    """What AnswerLog.follow reads of a request in flight: which request, and its answer so far."""

    live: object
    text: str


class LogApp(App):
    CSS = "AnswerLog { height: 6; }"

    def compose(self) -> ComposeResult:
        yield Static("above")
        yield AnswerLog(max_lines=200, auto_scroll=True)


async def test_a_growing_answer_scrolls_to_its_end_without_a_layout_per_line(monkeypatch):
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(AnswerLog)
        await until(pilot, lambda: log.size.height == 6, "the answer box laid out")
        await settled(pilot)
        layouts: list[object] = []
        real = Screen._refresh_layout

        def counted(screen, *args, **kwargs):
            layouts.append(screen)
            return real(screen, *args, **kwargs)

        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        request, text = object(), ""
        for n in range(30):  # thirty lines, each drawn before the next comes, as the live view's clock does
            text += f"line {n}\n"
            log.follow(Flight(request, text))
            await pilot.pause()
        await settled(pilot)
        assert log.line_count == 30
        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y  # the newest line is in view
        assert log.vertical_scrollbar.window_virtual_size == log.line_count  # the scrollbar's thumb is true
        assert layouts == []


async def test_long_words_and_text_without_spaces_wrap_inside_the_box():
    """A URL, a long word and CJK text (two cells a character) are broken at the box's width: nothing is cut off
    on the right, since the box never scrolls sideways."""
    app = LogApp()
    async with app.run_test(size=(40, 12)) as pilot:
        log = app.query_one(AnswerLog)
        await until(pilot, lambda: log.size.height == 6, "the answer box laid out")
        width = log.scrollable_content_region.width
        text = ("see https://example.com/" + "a" * 70 + " then " + "超长的中文句子没有空格" * 6 + " end")
        log.follow(Flight(object(), text))
        await settled(pilot)
        assert log.line_count > 3
        assert all(cell_len(line) <= width for line in log.lines), [cell_len(line) for line in log.lines]
        assert "".join(log.lines).replace(" ", "") == text.replace(" ", "")


async def test_an_answer_longer_than_the_box_keeps_its_newest_line_at_the_bottom():
    """Past max_lines the oldest lines go, and the box still ends at the newest line (no blank rows under it)."""
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(AnswerLog)
        await until(pilot, lambda: log.size.height == 6, "the answer box laid out")
        text = "".join(f"line {n}\n" for n in range(250)) + "last"
        log.follow(Flight(object(), text))
        await settled(pilot)
        assert log.line_count == 200 and log.virtual_size.height == 200
        assert log.scroll_y == log.max_scroll_y == 200 - log.scrollable_content_region.height
        assert log.lines[-1] == "last"


async def test_an_answer_that_comes_before_the_box_is_laid_out_is_wrapped_to_its_width_once_it_is():
    """A fast model's whole answer can arrive in the first draw, before the box has a width: it is written at the
    next draw, wrapped to the box, not to a guess."""
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(AnswerLog)
        log.display = False
        await settled(pilot)
        flight = Flight(object(), "lorem ipsum dolor sit amet " * 20)
        log.follow(flight)
        assert log.line_count == 0
        log.display = True
        await until(pilot, lambda: log.scrollable_content_region.width > 0, "the answer box laid out")
        log.follow(flight)
        await settled(pilot)
        width = log.scrollable_content_region.width
        assert log.line_count > 2
        assert all(width - 14 <= cell_len(line) <= width for line in log.lines[:-1]), list(log.lines)
