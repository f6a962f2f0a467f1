"""Say what a 2xx answer was when it was not an event stream, instead of "stream ended early after 0 chunks".

An HTML login page, a non-streamed JSON completion (the server ignored `stream: true`), a gzip body, a redirect
or an empty body each need a different fix, so the reason names the status, content type, encoding, size and
first bytes.
"""

from __future__ import annotations

from fl_tui.connection.chat import StreamRecord
from fl_tui.core.textsafe import plain

_EVENT_STREAM = "text/event-stream"


def _preview(head: bytes) -> str:
    text = plain(head.decode("utf-8", "replace"), keep_newlines=False)
    return " ".join(text.split())


def not_a_stream(rec: StreamRecord, chunks: int) -> str | None:
    """A description of a 2xx/3xx answer that carried no event, or None when it was (or tried to be) a stream."""
    if rec.status_code is None or rec.status_code >= 400 or chunks > 0:
        return None
    kind = (rec.content_type or "").split(",")[0].strip().lower()
    facts = [f"HTTP {rec.status_code}", f"content-type {plain(kind, keep_newlines=False) or 'none'}"]
    if rec.content_encoding:
        facts.append(f"Content-Encoding {plain(rec.content_encoding, keep_newlines=False)}")
    if 300 <= rec.status_code < 400:
        where = plain(rec.location, keep_newlines=False) if rec.location else "nowhere"
        return f"redirect ({', '.join(facts)}) to {where}; redirects are not followed, use the final URL"
    facts.append(f"{rec.body_bytes} bytes")
    if rec.body_bytes == 0:
        return f"empty answer, not an event stream ({', '.join(facts)})"
    encoded = (rec.content_encoding or "identity").strip().lower() != "identity"
    if encoded:  # the request asked for identity: compressed bytes cannot be split into events
        return f"a compressed answer, not a readable event stream ({', '.join(facts)}); Accept-Encoding was identity"
    if kind == _EVENT_STREAM:
        return None  # an event stream without a complete event: "ended early" says it
    what = "a JSON answer, not an event stream (was stream: true ignored?)" if "json" in kind else "not an event stream"
    return f"{what} ({', '.join(facts)}), starting {_preview(rec.head)!r}"
