"""Find the process that hosts the models, so memory and CPU can be measured where inference happens."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

import psutil


def is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pid_listening_on(url: str) -> int | None:
    """The pid listening on the URL's port on this machine, or None (remote, a tunnel's ssh, or not permitted)."""
    if not is_loopback(url):
        return None
    port = urlparse(url).port or 80
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None
