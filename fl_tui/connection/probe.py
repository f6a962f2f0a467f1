"""Find out what answers at an endpoint, and connect the matching backend.

Three kinds of server speak HTTP here (see docs/models.md, "Which endpoint fl-tui talks to"): the legacy Foundry
Local service (`GET /openai/status`), the current web service (`GET /status` with `modelCachePath`), and any other
OpenAI-compatible server (`GET /v1/models` only). Probing uses short timeouts, stops at the first transport
error, reads each answer up to a cap, and the whole detection has one deadline (limits.DETECT_DEADLINE_S), so a
server that drips its answer a byte at a time costs that deadline, not one timeout per byte.
"""

from __future__ import annotations

import httpx

from fl_tui.connection.base import Backend, BackendError
from fl_tui.connection.bounded import Deadline, request_bounded
from fl_tui.connection.endpoint import normalize_endpoint, unreachable
from fl_tui.connection.legacy import LegacyServiceBackend
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.connection.service import FoundryServiceBackend
from fl_tui.core.limits import CONTROL_ANSWER_MAX, DETECT_DEADLINE_S
from fl_tui.core.redact import redact_url

LEGACY, CURRENT, OPENAI = "legacy", "current", "openai"

def detect(
    base_url: str, client: httpx.Client | None = None, timeout: float = 2.0, deadline_s: float = DETECT_DEADLINE_S
) -> str:
    """"legacy", "current" or "openai" for the server at `base_url`; BackendError when none of them answers."""
    base = normalize_endpoint(base_url)
    own = client is None
    # No keep-alive: each probe opens its own connection, which the deadline's watchdog can then shut down.
    limits = httpx.Limits(max_keepalive_connections=0)
    http = client if client is not None else httpx.Client(timeout=timeout, trust_env=False, limits=limits)
    deadline = Deadline(deadline_s)
    try:
        def get(path: str) -> httpx.Response:
            try:
                return request_bounded(
                    http, "GET", base + path, what=f"GET {path}", cap=CONTROL_ANSWER_MAX, deadline=deadline,
                    timeout=min(timeout, max(deadline.remaining(), 0.001)),
                )
            except httpx.TransportError as exc:
                raise unreachable(base, exc, timeout) from exc

        if get("/openai/status").status_code == 200:
            return LEGACY
        status = get("/status")
        if status.status_code == 200 and _has_cache_path(status):
            return CURRENT
        models = get("/v1/models")
        if models.status_code == 200:
            return OPENAI
        raise BackendError(
            f"{redact_url(base)} answers HTTP but is not an OpenAI-compatible server "
            f"(GET /v1/models gave HTTP {models.status_code})"
        )
    finally:
        if own:
            http.close()


def _has_cache_path(resp: httpx.Response) -> bool:
    try:
        body = resp.json()
    except (ValueError, RecursionError):  # not JSON (or not UTF-8, or nested too deep): another server's page
        return False
    return isinstance(body, dict) and "modelCachePath" in body


def connect(base_url: str, client: httpx.Client | None = None, timeout: float = 10.0,
            deadline_s: float | None = None) -> Backend:
    """Detect the server generation and return the backend for it. `deadline_s` (a command's --timeout) shortens
    the detection's deadline and each later control request's, where it is the shorter."""
    kind = detect(base_url, client, deadline_s=min(DETECT_DEADLINE_S, deadline_s or DETECT_DEADLINE_S))
    classes = {LEGACY: LegacyServiceBackend, CURRENT: FoundryServiceBackend, OPENAI: OpenAICompatBackend}
    backend = classes[kind](base_url, client=client, timeout=timeout)
    if deadline_s is not None:
        backend.control_deadline_s = min(backend.control_deadline_s, deadline_s)
    return backend
