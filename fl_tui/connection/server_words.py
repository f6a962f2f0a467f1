"""What a server says when something failed, found in the shapes servers use; one reading for HTTP error
bodies and SSE error events alike. The words are untrusted: callers make them inert (textsafe) before use."""

from __future__ import annotations

import json
import re

# The native runtime opens a message with where in its C++ it was raised, e.g. `search_options.cc:108 int
# fl::ValidateGeneratorRequestBudget(int64_t, int, int) request requires 2041 total tokens (41 input + 2000
# output), which exceeds the model's maximum context`: a person acts on what follows the place.
SOURCE_PLACE = re.compile(r"[\w./\\-]+\.(?:cc|cpp|cxx|c|h|hpp):\d+\s+(?:[^()]{1,200}\([^()]{0,200}\)\s+)?")


def payload_message(payload: object) -> str | None:
    """The message of an OpenAI-style error (`{"error": {"message": ...}}`, `{"error": "..."}`), if it is one,
    without a source place at its start; an error object without a message is given as its JSON."""
    if not isinstance(payload, dict) or "error" not in payload:
        return None
    err = payload["error"]
    if isinstance(err, dict):
        message = err.get("message")
        if isinstance(message, str) and message.strip():
            return without_source_place(message)
    elif isinstance(err, str) and err.strip():
        return without_source_place(err)
    return json.dumps(err, ensure_ascii=False)


def without_source_place(message: str) -> str:
    place = SOURCE_PLACE.match(message.lstrip())
    rest = message.lstrip()[place.end():] if place else message
    return rest if rest.strip() else message
