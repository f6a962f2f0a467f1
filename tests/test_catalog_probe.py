"""The catalog probe decides between the online catalog and cache-only mode; tried on loopback, not the internet."""

import socket

from fl_tui.connection.catalog_probe import catalog_reachable


def test_a_listening_catalog_host_is_reachable():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        url = f"http://127.0.0.1:{port}/asset-gallery/v1.0/models"
        assert catalog_reachable(url, timeout_s=30) == (True, "reachable")


def test_a_closed_port_is_unreachable_with_the_reason():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reachable, why = catalog_reachable(f"http://127.0.0.1:{port}/models", timeout_s=30)
    assert reachable is False and why.startswith("127.0.0.1: ") and "refused" in why.lower()


def test_not_a_url_is_unreachable():
    assert catalog_reachable("nonsense") == (False, "not a URL: nonsense")
