"""The live answer pane at a level above 1 (headless LiveState): chunks name their request, so two streams in flight
at once each keep their own text, and the pane follows one of them to its end."""

import json
from pathlib import Path

from fl_tui.bench.events import Chunk, LiveRequest, RequestFinished, RequestStarted, RunStarted
from fl_tui.bench.live import LiveState
from fl_tui.bench.records import RequestResult
from fl_tui.connection.sse import SSEEvent


def token(text: str, t_ns: int) -> SSEEvent:
    return SSEEvent(t_ns, json.dumps({"choices": [{"delta": {"content": text}}]}).encode())


def finished(key: str) -> RequestFinished:
    return RequestFinished("m", RequestResult(id=key, model="m", prompt_id="p", round=1, warmup=False, status="ok"))


def test_two_streams_in_flight_keep_their_own_text_and_the_pane_follows_the_oldest():
    state = LiveState(((2, None),))
    state.apply(RunStarted("id", Path("/runs/id"), ("m",), 3))
    first, second = (LiveRequest("m", p, f"prompt {p}", 1, False, key=f"m|{p}|r1|c2") for p in ("p1", "p2"))
    state.apply(RequestStarted(first))
    state.apply(RequestStarted(second))
    for k, (a, b) in enumerate(zip("Model size drives ", "Offline use keeps ", strict=True)):
        state.apply(Chunk(first.key, token(a, 10_000_000 * k)))  # interleaved, a character each
        state.apply(Chunk(second.key, token(b, 10_000_000 * k + 5_000_000)))
        if k % 5 == 0:
            state.tick()
    state.tick()
    assert state.inflight.live is first
    assert state.flights[first.key].text == "Model size drives "
    assert state.flights[second.key].text == "Offline use keeps "
    assert state.flights[first.key].gaps == [10.0] * 17  # its own chunks' gaps, not the other's 5 ms in between

    state.observe(Chunk(second.key, token("data", 200_000_000)))
    state.observe(finished(first.key))  # the one shown ended: the pane moves to the other
    assert state.drain()  # as the view's clock does: apply what came, then read the chunks
    assert state.inflight.live is second and state.inflight.text == "Offline use keeps data"
    third = LiveRequest("m", "p3", "prompt p3", 1, False, key="m|p3|r1|c2")
    state.apply(RequestStarted(third))  # a newer one does not take the pane from the one still streaming
    assert state.inflight.live is second
    state.apply(finished(second.key))
    assert state.inflight.live is third
    state.apply(Chunk("not-in-flight", token("stray", 300_000_000)))  # a chunk of a request already finished is dropped
    assert set(state.flights) == {third.key}
