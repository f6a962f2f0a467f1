"""Find the process that hosts the models, so memory and CPU can be measured where inference happens."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlparse


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1); a name other than localhost is not assumed to be."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlparse(url).hostname or "")


@dataclass(frozen=True)
class Listener:
    """The process listening on an endpoint's port, or why it is unknown."""

    pid: int | None
    reason: str | None = None  # set when pid is None


def find_listener(url: str) -> Listener:
    if not is_loopback(url):
        return Listener(None, "the server is on another machine")
    import psutil  # here: the app's first screen needs no psutil (tests/app/test_app_start.py)

    port = urlparse(url).port or 80
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied as exc:  # macOS always, Windows without elevation
        return Listener(None, f"unknown: listing the listening sockets needs administrator rights here ({exc})")
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return Listener(conn.pid)
    return Listener(None, f"unknown: no process of this user listens on port {port} (a tunnel, or another user's)")

