"""What keeps `fl-tui web` closed to other web pages, after Jupyter's server: the Host header must name this server
(a loopback name, or an address it serves), so a page on a DNS-rebinding name cannot reach it; a websocket must
come from the page's own origin; no page may frame it, nothing it serves sends a referrer (the token travels in the
URL), and a terminal size from the browser is clamped, so one session's memory stays bounded."""

from __future__ import annotations

import contextlib
import socket

from fl_tui.connection.process import is_loopback_host

SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
EVERY_ADDRESS = ("0.0.0.0", "::", "")
# A terminal this size is larger than any screen shows, and keeps an app near 100 MB (8000x8000 drove one to 1 GB)
MAX_COLUMNS = 400
MAX_ROWS = 150


def host_name(header: str) -> str:
    """The host of a Host header, without its port and lower-cased: `[::1]:8000` -> `::1`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def served_names(bound: str) -> frozenset[str]:
    """The names a browser may call this server by besides loopback ones: the address it is bound to; bound to
    every address, this box's host names and the addresses they resolve to."""
    if bound not in EVERY_ADDRESS:
        return frozenset({host_name(bound) if ":" not in bound else bound.lower()})
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    with contextlib.suppress(OSError):  # a host name that does not resolve: the names still stand
        names |= {str(info[4][0]).lower() for info in socket.getaddrinfo(socket.gethostname(), None)}
    return frozenset(names)


def host_allowed(header: str, served: frozenset[str]) -> bool:
    name = host_name(header)
    return bool(name) and (name in LOOPBACK_NAMES or name in served or is_loopback_host(name))


def origin_allowed(origin: str | None, host_header: str, secure: bool) -> bool:
    """A websocket from the page this server sent: its Origin is that page's scheme and Host. None: no browser
    sent it (a browser always sends Origin on a websocket), so no other page is behind it."""
    if origin is None:
        return True
    return origin.strip().lower() == f"{'https' if secure else 'http'}://{host_header.strip().lower()}"


def terminal_size(width: object, height: object) -> tuple[int, int]:
    """A size asked for by a browser, each side between 1 and its maximum; what is not a number is 80x24's."""
    return clamped(width, 80, MAX_COLUMNS), clamped(height, 24, MAX_ROWS)


def clamped(value: object, default: int, most: int) -> int:
    """A whole number from a browser, between 1 and `most`; `default` where it is not one."""
    try:
        return min(most, max(1, int(value)))  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
