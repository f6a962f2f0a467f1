"""Scoring one recorded stream: hand-made event timelines with chosen stamps, and the figures metrics.md defines."""

import hashlib
import json

import pytest

from fl_tui.bench.metrics import request_result
from fl_tui.connection.chat import StreamRecord
from fl_tui.connection.sse import SSEEvent

RUN_START = 7_000_000_000
T0 = RUN_START + 250_000_000  # the request is written 250 ms into the run
MS = 1_000_000


def at(ms: float) -> int:
    return T0 + round(ms * MS)


def chunk(delta: dict | None = None, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": delta if delta is not None else {}, "finish_reason": finish}],
    }


def usage(completion: int, prompt: int = 11) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def ev(ms: float, payload: dict | str | bytes, event: str | None = None) -> SSEEvent:
    if isinstance(payload, dict):
        data = json.dumps(payload).encode()
    elif isinstance(payload, str):
        data = payload.encode()
    else:
        data = payload
    return SSEEvent(at(ms), data, event)


def done(ms: float) -> SSEEvent:
    return ev(ms, "[DONE]")


ROLE = {"role": "assistant", "content": ""}


def record(events: list[SSEEvent], **kw) -> StreamRecord:
    values = {"scheduled_ns": T0 - 3 * MS, "t0_ns": T0, "headers_ns": at(4), "end_ns": at(1000), "status_code": 200}
    values.update(kw)
    return StreamRecord(events=events, **values)


def score(rec: StreamRecord, **kw):
    args = {"id": "r1", "model": "m", "prompt_id": "p1", "round": 1, "warmup": False, "run_start_ns": RUN_START}
    args.update(kw)
    return request_result(rec, **args)


def normal_stream() -> list[SSEEvent]:
    return [
        ev(10, chunk(ROLE)),
        ev(30, chunk({"content": "Hello"})),
        ev(45, chunk({"content": " world"})),
        ev(70, chunk({"content": "!"})),
        ev(71, chunk({}, finish="stop")),
        ev(72, usage(4)),
        done(73),
    ]


def test_role_only_first_chunk_is_not_the_first_token():
    r = score(record(normal_stream()))
    assert r.status == "ok" and r.error is None
    assert r.ttft_ms == pytest.approx(30.0)  # not 10: the role-only chunk carries no token
    assert r.ttfot_ms == pytest.approx(30.0)
    assert r.headers_ms == pytest.approx(4.0)
    assert r.start_ms == pytest.approx(250.0)
    assert r.chunk_offsets_ms == pytest.approx([30.0, 45.0, 70.0])
    assert r.text == "Hello world!"
    assert r.text_sha256 == hashlib.sha256(b"Hello world!").hexdigest()
    assert r.finish_reason == "stop"
    assert r.prompt_tokens == 11


def test_e2e_ends_at_the_last_token_chunk_not_at_usage_or_done():
    events = normal_stream()
    events[-2] = ev(500, usage(4))  # usage and [DONE] come much later
    events[-1] = done(900)
    r = score(record(events))
    assert r.e2e_ms == pytest.approx(70.0)


def test_usage_gives_the_token_count_not_the_chunks():
    r = score(record(normal_stream()))  # 3 text chunks, 4 tokens by usage
    assert (r.output_tokens, r.token_count_source) == (4, "usage")


def test_without_usage_token_bearing_chunks_are_counted_and_the_source_says_so():
    events = [e for e in normal_stream() if b'"usage"' not in e.data]
    r = score(record(events))
    assert (r.output_tokens, r.token_count_source) == (3, "chunks")  # role-only and finish chunks are not counted
    assert r.prompt_tokens is None


def test_reasoning_counts_for_ttft_but_not_for_ttfot_or_text():
    events = [
        ev(5, chunk(ROLE)),
        ev(20, chunk({"reasoning_content": "Let me think"})),
        ev(35, chunk({"reasoning": " more"})),
        ev(50, chunk({"content": "Answer"})),
        ev(51, chunk({}, finish="stop")),
        done(52),
    ]
    r = score(record(events))
    assert r.ttft_ms == pytest.approx(20.0)
    assert r.ttfot_ms == pytest.approx(50.0)
    assert r.text == "Answer"
    assert r.chunk_offsets_ms == pytest.approx([20.0, 35.0, 50.0])
    assert r.e2e_ms == pytest.approx(50.0)


def test_tool_calls_count_as_tokens():
    call = [{"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}]
    events = [ev(5, chunk(ROLE)), ev(25, chunk({"tool_calls": call})), ev(26, chunk({}, finish="tool_calls")), done(27)]
    r = score(record(events))
    assert r.ttft_ms == pytest.approx(25.0)
    assert r.ttfot_ms is None
    assert r.status == "ok" and r.finish_reason == "tool_calls"


def test_tpot_and_rates_hand_computed():
    # TTFT 100 ms, last token at 400 ms, 7 tokens by usage (in 4 chunks):
    # TPOT = (400 - 100) / (7 - 1) = 50 ms; decode = 1000 / 50 = 20 tok/s; E2E tok/s = 7 / 0.4 = 17.5
    events = [
        ev(20, chunk(ROLE)),
        ev(100, chunk({"content": "a"})),
        ev(200, chunk({"content": "bb"})),
        ev(300, chunk({"content": "cc"})),
        ev(400, chunk({"content": "dd"})),
        ev(401, chunk({}, finish="length")),
        ev(402, usage(7)),
        done(403),
    ]
    r = score(record(events), queue_ms=12.5, started_at="2025-01-01T00:00:00Z")
    assert r.tpot_ms == pytest.approx(50.0)
    assert r.decode_tps == pytest.approx(20.0)
    assert r.e2e_tps == pytest.approx(17.5)
    assert r.finish_reason == "length"
    assert (r.queue_ms, r.started_at) == (12.5, "2025-01-01T00:00:00Z")


def test_one_token_has_no_tpot():
    events = [ev(5, chunk(ROLE)), ev(40, chunk({"content": "x"})), ev(41, chunk({}, finish="stop")), ev(42, usage(1))]
    r = score(record(events))
    assert r.output_tokens == 1
    assert r.tpot_ms is None and r.decode_tps is None
    assert r.e2e_tps == pytest.approx(1 / 0.040)


def test_finish_reason_without_done_is_complete():
    events = normal_stream()[:-1]
    assert score(record(events)).status == "ok"


def test_done_without_finish_reason_is_complete():
    events = [e for e in normal_stream() if b"finish_reason\": \"stop" not in e.data]
    r = score(record(events))
    assert r.status == "ok" and r.finish_reason is None


def test_timings_are_unrounded_milliseconds():
    events = [SSEEvent(T0 + 1_234_567, json.dumps(chunk({"content": "x"})).encode()), done(5)]
    r = score(record(events))
    assert r.ttft_ms == 1.234567


# ---- failures -------------------------------------------------------------------------------------------------


def test_transport_error_fails_and_keeps_the_timings_it_got():
    events = normal_stream()[:3]
    r = score(record(events, transport_error="RemoteProtocolError: peer closed connection"))
    assert r.status == "failed"
    assert r.error == "RemoteProtocolError: peer closed connection"
    assert r.ttft_ms == pytest.approx(30.0)
    assert r.e2e_ms == pytest.approx(45.0)
    assert r.text == "Hello world"


def test_timeout_says_after_how_long():
    r = score(record(normal_stream()[:2], timed_out=True, transport_error="timed out after 30 s"))
    assert (r.status, r.error) == ("failed", "timed out after 30 s")
    assert r.ttft_ms == pytest.approx(30.0)


def test_timeout_without_a_message_is_measured_from_the_record():
    rec = record([], timed_out=True, scheduled_ns=T0, end_ns=T0 + 12 * 1_000_000_000)
    assert score(rec).error == "timed out after 12 s"


def test_http_400_with_a_json_body_gives_status_and_message():
    body = json.dumps({"error": {"code": None, "message": "Model not loaded: phi-4", "param": None,
                                 "type": "invalid_request_error"}})
    r = score(record([], status_code=400, error_body=body))
    assert r.status == "failed"
    assert r.error == "HTTP 400: Model not loaded: phi-4"
    assert r.headers_ms == pytest.approx(4.0)
    assert r.ttft_ms is None and r.output_tokens is None


def test_http_error_with_a_text_body_gives_its_first_line():
    r = score(record([], status_code=404, error_body="\nNo mapping for HTTP-method POST\nmore detail\n"))
    assert r.error == "HTTP 404: No mapping for HTTP-method POST"


def test_http_error_without_a_body():
    assert score(record([], status_code=503, error_body="")).error == "HTTP 503"


def test_sse_error_event_fails_the_request():
    events = [*normal_stream()[:3], ev(50, {"error": {"message": "out of memory"}}, event="error")]
    r = score(record(events))
    assert (r.status, r.error) == ("failed", "out of memory")
    assert r.e2e_ms == pytest.approx(45.0)  # keeps what it got


def test_sse_error_event_with_text_data():
    r = score(record([*normal_stream()[:2], ev(50, "backend crashed", event="error")]))
    assert (r.status, r.error) == ("failed", "backend crashed")


def test_mid_stream_error_object_is_not_a_success():
    events = [*normal_stream()[:3], ev(50, {"error": {"message": "generation failed", "type": "server_error"}}),
              done(51)]
    r = score(record(events))
    assert (r.status, r.error) == ("failed", "generation failed")


def test_malformed_event_names_its_first_80_characters():
    garbage = "{not json " + "x" * 200
    r = score(record([*normal_stream()[:2], ev(40, garbage), done(41)]))
    assert r.status == "failed"
    assert r.error == "malformed event: " + garbage[:80]


def test_stream_that_ends_without_done_or_finish_reason_failed():
    r = score(record(normal_stream()[:4]))  # role + 3 text chunks, then the connection closed cleanly
    assert (r.status, r.error) == ("failed", "stream ended early after 4 chunks")
    assert r.ttft_ms == pytest.approx(30.0) and r.output_tokens == 3


def test_never_sent_has_no_timings():
    rec = StreamRecord(scheduled_ns=T0, end_ns=at(5), transport_error="ConnectError: connection refused")
    r = score(rec)
    assert (r.status, r.error) == ("failed", "ConnectError: connection refused")
    timings = (r.start_ms, r.headers_ms, r.ttft_ms, r.ttfot_ms, r.e2e_ms, r.tpot_ms, r.decode_tps, r.e2e_tps)
    assert timings == (None,) * 8
    assert list(r.chunk_offsets_ms) == []


def test_unsent_request_without_a_transport_message_still_fails():
    r = score(StreamRecord(scheduled_ns=T0))
    assert r.status == "failed" and r.error


def test_error_text_is_one_inert_line():
    body = json.dumps({"error": {"message": "bad\x1b[31m red\nsecond line"}})
    r = score(record([], status_code=500, error_body=body))
    assert "\x1b" not in r.error and "\n" not in r.error
    assert r.error.startswith("HTTP 500: bad")


def test_warmup_and_ids_are_carried():
    r = score(record(normal_stream()), id="x-7", model="phi", prompt_id="rag", round=2, warmup=True)
    assert (r.id, r.model, r.prompt_id, r.round, r.warmup) == ("x-7", "phi", "rag", 2, True)
