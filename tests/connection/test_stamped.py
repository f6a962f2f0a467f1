"""Chunks are stamped with the kernel's receive time, so a chunk that waited for a busy event loop is not late.

A stamp taken when the loop got to the read (a plain client's) is never earlier than the moment the loop was free
again; the stamp of bytes read by the stream's own thread (connection.stamped), less their wait in the kernel, is.
That thread's blocking reads still end when their caller is cancelled.
"""

from __future__ import annotations

import asyncio
import sys
import threading
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


async def test_events_reach_on_event_on_the_loop_in_order_before_stream_chat_returns(server):
    seen: list[tuple[SSEEvent, bool]] = []

    def on_event(ev: SSEEvent) -> None:
        seen.append((ev, threading.current_thread() is threading.main_thread()))

    async with stream_client() as client:
        rec = await stream_chat(client, server.url + "/v1", chat_body("sched-2000", "x", max_tokens=500), timeout_s=60,
                                on_event=on_event)
    assert rec.status_code == 200 and rec.events[-1].data == b"[DONE]", rec
    assert [ev for ev, _ in seen] == rec.events
    assert all(on_loop for _, on_loop in seen)


@pytest.mark.parametrize("keep_alive", [False, True])
async def test_a_cancel_wakes_the_blocked_read_and_its_thread_ends(server, keep_alive):
    """`fault-stall` goes silent after a few tokens until the client hangs up (or 30 s). With no timeout, only the
    cancel can end the thread's blocked read before the server gives up: the server must see the hang-up first,
    and the thread must have ended when the cancelled stream_chat returns. With keep-alive, a first request leaves
    its connection to the stalled one, whose thread is another: the cancel still reaches the reused socket."""
    server.clear()
    arrived = asyncio.Event()
    async with stream_client(keep_alive=keep_alive) as client:
        if keep_alive:
            first = await stream_chat(client, server.url + "/v1", chat_body("sched-2000", "x", max_tokens=3))
            assert first.status_code == 200 and first.transport_error is None, first
        task = asyncio.create_task(stream_chat(client, server.url + "/v1", chat_body("fault-stall", "x", max_tokens=8),
                                               on_event=lambda ev: arrived.set()))
        await arrived.wait()  # the thread has read the first bytes; the server stalls from its few tokens on
        (reader,) = [t for t in threading.enumerate() if t.name == "fl-tui-stream"]
        if keep_alive:  # the first request's connection serves this one: the pool holds one, not two
            assert len(client.threaded._transport._pool.connections) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    reader.join(30)  # only a wait: the thread has handed over its end, what is left is returning
    assert not reader.is_alive()
    (record,) = server.records("fault-stall")
    assert record["end_ns"] - record["received_ns"] < loopback.STALL_LIMIT_S * 1e9, record  # the hang-up ended it
