"""An endpoint as a person types it, and what to tell them when it cannot be reached.

Kept apart from the probing and the backends so that every HTTP backend can use it without importing them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from fl_tui.connection.base import BackendError
from fl_tui.connection.bounded import DeadlineExceeded
from fl_tui.core.errors import NOTHING_LISTENING_HINT, SILENT_HINT, TUNNEL_HINT
from fl_tui.core.redact import redact_url

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
