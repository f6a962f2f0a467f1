"""Turn one recorded stream into a `RequestResult`, after the stream has ended (the stamps were taken on arrival).

The definitions are those of fl_tui/bench/definitions.py, stated in every report:
- t0: the request's last bytes handed to the socket (stamped just before that write); every interval below is
  measured from it.
- headers latency = response headers - t0 (kept apart from TTFT).
- TTFT = first event whose delta has non-empty `content`, `reasoning_content`/`reasoning` or `tool_calls`, minus t0.
  A role-only first chunk (`{"role": "assistant", "content": ""}`) is not a token.
- TTFOT = first non-empty `content`, minus t0.
- E2E = last token-bearing event - t0 (not the usage chunk, not `[DONE]`).
- N (output tokens) = `usage.completion_tokens` when it is a non-negative integer, else the number of token-bearing
  chunks; the source is recorded, and a usage value that was refused is named in the request's warning.
- TPOT = (E2E - TTFT) / (N - 1) for N >= 2; decode tokens/s = 1000 / TPOT; E2E tokens/s = N / (E2E / 1000).
- prefill tokens/s = `usage.prompt_tokens` / (TTFT / 1000).
"""

from __future__ import annotations

import hashlib
import json
from array import array
from dataclasses import dataclass, field

from fl_tui.bench.nonstream import not_a_stream
from fl_tui.bench.prefill import prefill_tps
from fl_tui.bench.records import RequestResult
from fl_tui.connection.chat import StreamRecord
from fl_tui.connection.server_words import payload_message
from fl_tui.core.textsafe import plain, whole_unicode

_DONE = b"[DONE]"
_MAX_ERROR = 300  # characters of a server's message kept in the record
FINISH_REASONS = ("stop", "length", "tool_calls")  # anything else is recorded with a warning; "error" fails


def _ms(ns: int) -> float:
    return ns / 1e6


def one_line(text: object, limit: int = _MAX_ERROR) -> str:
    """A server's words as one inert line: escapes removed, whitespace collapsed, long messages cut."""
    line = " ".join(plain(text, keep_newlines=False).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_message(payload: object) -> str | None:
    """The message of an OpenAI-style error as one inert line, if the payload is one."""
    message = payload_message(payload)
    return one_line(message) if message is not None else None


def http_error(status_code: int, body: str | None) -> str:
    """`HTTP 400: Model not loaded: ...` from a JSON error body, or the first non-blank line of a text body."""
    message = None
    text = (body or "").strip()
    if text:
        try:
            message = error_message(json.loads(text))
        except (ValueError, RecursionError):  # not JSON (JSONDecodeError is a ValueError), or nested too deep
            message = None
        if message is None:
            message = one_line(next(line for line in text.splitlines() if line.strip()))
    return f"HTTP {status_code}: {message}" if message else f"HTTP {status_code}"


@dataclass
class Parsed:
    """What the events said, with the arrival stamps (ns) of the events that matter."""

    first_token_ns: int | None = None
    first_answer_ns: int | None = None
    last_token_ns: int | None = None
    token_stamps: list[int] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    finish_reason: str | None = None
    chunks: int = 0  # data events before [DONE], token-bearing or not
    done: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def _loads(data: bytes) -> object:
    """The JSON value of an event, or None for anything that is not JSON (bad UTF-8, nesting deeper than the
    interpreter's recursion limit)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _count(value: object) -> int | None:
    """A token count a server gave: a non-negative int (bool is an int in Python, and is refused)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _read_usage(usage: dict, out: Parsed) -> None:
    for key in ("completion_tokens", "prompt_tokens"):
        if key not in usage:
            continue
        value = _count(usage[key])
        if value is None:
            shown = one_line(json.dumps(usage[key], ensure_ascii=False)[:40], 40)
            out.warnings.append(f"usage.{key} ignored: {shown} is not a non-negative integer")
        else:
            setattr(out, key, value)


def _read_finish(reason: str, out: Parsed) -> None:
    out.finish_reason = one_line(reason, 40)
    if reason == "error":
        out.error = out.error or "the server ended the answer with finish_reason \"error\""
    elif reason not in FINISH_REASONS:
        out.warnings.append(f"unusual finish_reason {out.finish_reason!r}")


def _nonempty(value: object) -> bool:
    return isinstance(value, str | list | dict) and len(value) > 0


def parse_events(events) -> Parsed:
    """What a list of stamped events says; the live view calls it on each new slice of the request in flight."""
    out = Parsed()
    for ev in events:
        if ev.event == "error":
            text = ev.data.decode("utf-8", "replace").strip()
            message = error_message(_loads(ev.data)) if text else None  # plain text: that text is the message
            out.error = message or one_line(text) or "server sent an error event without a message"
            return out
        data = ev.data.strip()
        if not data:  # an event with no data (a named keep-alive): nothing to score
            continue
        if data == _DONE:
            out.done = True
            return out
        out.chunks += 1
        obj = _loads(data)
        if not isinstance(obj, dict):
            out.error = f"malformed event: {one_line(data.decode('utf-8', 'replace')[:80])}"
            return out
        message = error_message(obj)
        if message is not None:
            out.error = message
            return out
        usage = obj.get("usage")
        if isinstance(usage, dict):
            _read_usage(usage, out)
        choices = obj.get("choices")
        bearing = False
        for choice in choices if isinstance(choices, list) else []:
            if not isinstance(choice, dict):
                continue
            if isinstance(choice.get("finish_reason"), str):
                _read_finish(choice["finish_reason"], out)
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            content = delta.get("content")
            answer = isinstance(content, str) and content != ""
            thinking = _nonempty(delta.get("reasoning_content")) or _nonempty(delta.get("reasoning"))
            if answer:
                out.answer.append(content)  # joined, then made whole: a pair split across two events rejoins
                if out.first_answer_ns is None:
                    out.first_answer_ns = ev.t_ns
            bearing = bearing or answer or thinking or _nonempty(delta.get("tool_calls"))
        if bearing:
            if out.first_token_ns is None:
                out.first_token_ns = ev.t_ns
            out.last_token_ns = ev.t_ns
            out.token_stamps.append(ev.t_ns)
    return out


def request_result(
    rec: StreamRecord,
    *,
    id: str,
    model: str,
    prompt_id: str,
    round: int,
    warmup: bool,
    run_start_ns: int,
    queue_ms: float | None = None,
    started_at: str | None = None,
) -> RequestResult:
    """Score one request. Never raises for what the server or the network did: that becomes `status="failed"` with a
    one-line `error`, and a failed request keeps whatever timings it got."""
    parsed = parse_events(rec.events)
    result = RequestResult(
        id=id, model=model, prompt_id=prompt_id, round=round, warmup=warmup, status="ok",
        queue_ms=queue_ms, started_at=started_at, finish_reason=parsed.finish_reason,
        prompt_tokens=parsed.prompt_tokens,
    )
    result.text = whole_unicode("".join(parsed.answer))
    if rec.events:
        result.text_sha256 = hashlib.sha256(result.text.encode("utf-8")).hexdigest()

    token_chunks = len(parsed.token_stamps)
    if parsed.completion_tokens is not None:
        result.output_tokens, result.token_count_source = parsed.completion_tokens, "usage"
    elif rec.events:
        result.output_tokens, result.token_count_source = token_chunks, "chunks"

    t0 = rec.t0_ns
    if t0 is not None:
        result.start_ms = _ms(t0 - run_start_ns)
        if rec.headers_ns is not None:
            result.headers_ms = _ms(rec.headers_ns - t0)
        if parsed.first_token_ns is not None:
            result.ttft_ms = _ms(parsed.first_token_ns - t0)
        if parsed.first_answer_ns is not None:
            result.ttfot_ms = _ms(parsed.first_answer_ns - t0)
        if parsed.last_token_ns is not None:
            result.e2e_ms = _ms(parsed.last_token_ns - t0)
        result.chunk_offsets_ms = array("d", [_ms(t - t0) for t in parsed.token_stamps])
        n = result.output_tokens
        if n is not None and n >= 2 and result.ttft_ms is not None and result.e2e_ms is not None:
            result.tpot_ms = (result.e2e_ms - result.ttft_ms) / (n - 1)
            if result.tpot_ms > 0:
                result.decode_tps = 1000.0 / result.tpot_ms
        if n is not None and result.e2e_ms is not None and result.e2e_ms > 0:
            result.e2e_tps = n / (result.e2e_ms / 1000.0)
        result.prefill_tps = prefill_tps(result.prompt_tokens, result.ttft_ms)

    result.error = _failure(rec, parsed)
    if result.error is not None:
        result.status = "failed"
    if parsed.warnings:
        result.warning = "; ".join(dict.fromkeys(parsed.warnings))
    return result


def _failure(rec: StreamRecord, parsed: Parsed) -> str | None:
    """The first thing that went wrong, as one line; None for a complete answer."""
    if rec.timed_out:
        if rec.transport_error and "timed out" in rec.transport_error:
            return one_line(rec.transport_error)
        if rec.end_ns is not None:
            return f"timed out after {(rec.end_ns - rec.scheduled_ns) / 1e9:.0f} s"
        return "timed out"
    if rec.transport_error:
        return one_line(rec.transport_error)
    if rec.status_code is not None and rec.status_code >= 400:
        return http_error(rec.status_code, rec.error_body)
    if rec.t0_ns is None and rec.status_code is None:
        return "request was never sent"
    if parsed.error is not None:
        return parsed.error
    if rec.cut is not None:
        return rec.cut
    described = not_a_stream(rec, parsed.chunks)
    if described is not None:
        return described
    if not parsed.done and parsed.finish_reason is None:
        return f"stream ended early after {parsed.chunks} chunks"
    return None
