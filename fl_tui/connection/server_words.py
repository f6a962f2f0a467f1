"""What a server says when something failed, found in the shapes servers use; one reading for HTTP error
bodies and SSE error events alike. The words are untrusted: callers make them inert (textsafe) before use."""

from __future__ import annotations

import json


def payload_message(payload: object) -> str | None:
    """The message of an OpenAI-style error (`{"error": {"message": ...}}`, `{"error": "..."}`), if it is one;
    an error object without a message is given as its JSON."""
    if not isinstance(payload, dict) or "error" not in payload:
        return None
    err = payload["error"]
    if isinstance(err, dict):
        message = err.get("message")
        if isinstance(message, str) and message.strip():
            return message
    elif isinstance(err, str) and err.strip():
        return err
    return json.dumps(err, ensure_ascii=False)
