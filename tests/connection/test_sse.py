"""The SSE splitter: exact events whatever the network split, and stamps from the read that completed them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fl_tui.connection.sse import SSEParser

STREAM = (
    b'data: {"a":1}\n\n'
    b": keep-alive comment\n\n"
    b"event: error\ndata: boom\n\n"
    b"data: line1\r\ndata: line2\r\n\r\n"
    b"data:nospace\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [(b'{"a":1}', None), (b"boom", "error"), (b"line1\nline2", None), (b"nospace", None), (b"[DONE]", None)]


def feed_all(parts: list[bytes]) -> list:
    parser = SSEParser()
    out = []
    for i, part in enumerate(parts):
        out += parser.feed(part, i)
    return out + parser.finish(len(parts))


def test_one_read_gives_every_event_in_order():
    events = feed_all([STREAM])
    assert [(e.data, e.event) for e in events] == EXPECTED
    assert {e.t_ns for e in events} == {0}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts):
    cuts = sorted(set(cuts))
    parts = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    assert [(e.data, e.event) for e in feed_all(parts)] == EXPECTED


def test_stamp_is_that_of_the_read_completing_the_event():
    parser = SSEParser()
    assert parser.feed(b"data: tok", 100) == []
    (event,) = parser.feed(b"en\n\n", 250)
    assert (event.data, event.t_ns) == (b"token", 250)


def test_unterminated_last_event_is_flushed_on_finish():
    parser = SSEParser()
    assert parser.feed(b"data: partial", 1) == []
    (event,) = parser.finish(9)
    assert (event.data, event.t_ns) == (b"partial", 9)
    assert parser.finish(10) == []
