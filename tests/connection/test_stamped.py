"""Chunks are stamped with the kernel's receive time, so a chunk that waited for a busy event loop is not late.

A stamp taken when the loop got to the read (the path before connection.stamped) is never earlier than the moment
the loop was free again; the kernel's receive stamp of bytes that arrived while the loop was blocked is.
"""

from __future__ import annotations

import sys
import time
from itertools import pairwise

import httpx
import pytest
from loopback_module import loopback

from fl_tui.connection.chat import chat_body, stream_chat, stream_client
from fl_tui.connection.sse import SSEEvent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_TIMESTAMPNS is Linux's")


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=3600)
    yield handle
    handle.stop()


async def blocked_stream(client: httpx.AsyncClient, url: str) -> tuple[list[SSEEvent], int]:
    """Stream `slow-20` (three tokens 20 ms apart, then the end) and block the loop for 150 ms at the first event:
    the rest of the stream has arrived by then. Returns the events and when the loop was free again."""
    resumed: list[int] = []

    def on_event(ev: SSEEvent) -> None:
        if not resumed:
            time.sleep(0.15)  # the busy loop under test, not a wait for state
            resumed.append(time.perf_counter_ns())

    rec = await stream_chat(client, url + "/v1", chat_body("slow-20", "x", max_tokens=3), timeout_s=30,
                            on_event=on_event)
    assert rec.status_code == 200 and rec.transport_error is None, rec
    assert rec.events[-1].data == b"[DONE]"  # sent 40 ms or more after the first event: from a later read
    return rec.events, resumed[0]


async def test_bytes_that_waited_for_the_loop_keep_their_arrival_time(server):
    async with stream_client() as client:
        events, resumed = await blocked_stream(client, server.url)
    assert events[-1].t_ns < resumed, (events[-1].t_ns - resumed) / 1e6
    assert all(a.t_ns <= b.t_ns for a, b in pairwise(events))  # still in arrival order


async def test_a_plain_client_stamps_when_the_loop_reads(server):
    """The same stream through a client without the stamped backend: the stamp waits for the loop (the contrast
    that makes the test above mean something)."""
    async with httpx.AsyncClient(timeout=None, trust_env=False) as client:
        events, resumed = await blocked_stream(client, server.url)
    assert events[-1].t_ns >= resumed
