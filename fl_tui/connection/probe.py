"""Find out what answers at an endpoint, and connect the matching backend.

Three kinds of server speak HTTP here (see notes/foundry-local.md section 1): the legacy Foundry Local service
(`GET /openai/status`), the current web service (`GET /status` with `modelCachePath`), and any other
OpenAI-compatible server (`GET /v1/models` only). Probing uses short timeouts, stops at the first transport
error, reads each answer up to a cap, and the whole detection has one deadline (limits.DETECT_DEADLINE_S), so a
server that drips its answer a byte at a time costs that deadline, not one timeout per byte.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from fl_tui.connection.base import Backend, BackendError
from fl_tui.connection.bounded import Deadline, DeadlineExceeded, request_bounded
from fl_tui.errors import NOTHING_LISTENING_HINT, SILENT_HINT, TUNNEL_HINT
from fl_tui.limits import CONTROL_ANSWER_MAX, DETECT_DEADLINE_S
from fl_tui.redact import redact_url

LEGACY, CURRENT, OPENAI = "legacy", "current", "openai"

_EXPECTED = "expected an endpoint like http://127.0.0.1:5273 (optionally ending in /v1)"
_HOST = re.compile(r"^[A-Za-z0-9._~-]+$")


def normalize_endpoint(url: str) -> str:
    """The service root for what a person typed: scheme added, trailing slash and trailing /v1 removed."""
    text = (url or "").strip()
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(f"{_EXPECTED}, got {url!r}")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{_EXPECTED}: the scheme must be http or https, got {url!r}")
    host = parts.hostname or ""
    if not host or not (_HOST.match(host) or ":" in host):  # ":" in host: a bracketed IPv6 address
        raise ValueError(f"{_EXPECTED}: no host name in {url!r}")
    try:
        _ = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"{_EXPECTED}: bad port in {url!r}") from exc
    if parts.query or parts.fragment:
        raise ValueError(f"{_EXPECTED}: no query or fragment, got {url!r}")
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v1"):
        path = path[:-3].rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc}{path}"


def _refused(exc: httpx.TransportError) -> bool:
    return isinstance(exc, httpx.ConnectError) and "refused" in str(exc).lower()


def _silent(exc: httpx.TransportError) -> bool:
    """The connection was accepted, then no HTTP came back: what an SSH tunnel with nothing behind it does."""
    return isinstance(exc, httpx.ReadTimeout | httpx.RemoteProtocolError | httpx.ReadError)


def transport_reason(exc: httpx.TransportError, timeout: float | None = None) -> str:
    """One short phrase for a connection-level failure."""
    if isinstance(exc, DeadlineExceeded):
        return str(exc)
    if _refused(exc):
        return "nothing is listening there (connection refused)"
    if _silent(exc):
        within = f" within {timeout:g} s" if timeout and isinstance(exc, httpx.ReadTimeout) else ""
        return f"something is listening but sent no HTTP answer{within}"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s" if timeout else "timed out"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unreachable(url: str, exc: httpx.TransportError, timeout: float | None = None) -> BackendError:
    hint = NOTHING_LISTENING_HINT if _refused(exc) else SILENT_HINT if _silent(exc) else TUNNEL_HINT
    return BackendError(f"cannot reach {redact_url(url)}: {transport_reason(exc, timeout)}; {hint}")


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
    except ValueError:  # not JSON (or not UTF-8): some other server's /status page
        return False
    return isinstance(body, dict) and "modelCachePath" in body


def connect(base_url: str, client: httpx.Client | None = None, timeout: float = 10.0) -> Backend:
    """Detect the server generation and return the backend for it."""
    from fl_tui.connection.legacy import LegacyServiceBackend
    from fl_tui.connection.openai_compat import OpenAICompatBackend
    from fl_tui.connection.service import FoundryServiceBackend

    kind = detect(base_url, client)
    classes = {LEGACY: LegacyServiceBackend, CURRENT: FoundryServiceBackend, OPENAI: OpenAICompatBackend}
    return classes[kind](base_url, client=client, timeout=timeout)
