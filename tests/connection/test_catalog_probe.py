"""The catalog probe decides between the online catalog and cache-only mode; tried on loopback, not the internet."""

import http.server
import json
import socket
import threading
import time

import pytest
from conftest import run_cli

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


class SlowEmptyCatalog(http.server.BaseHTTPRequestHandler):
    """Answers every catalog request late and with no models: a catalog that is reachable but yields nothing."""

    def do_POST(self):
        time.sleep(0.5)  # the answer is slow, so a status taken at once would still see the fetch running
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.mark.native  # the CLI opens the embedded runtime
def test_status_waits_for_the_catalog_fetch_and_reports_its_outcome(tmp_path):
    """`fl-tui status` reports what the app's header settles on ("unreachable"), not "unknown" mid-fetch, and the
    fetch still running when the command closes the runtime prints nothing."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowEmptyCatalog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "config.toml"
        url = f"http://127.0.0.1:{server.server_address[1]}/asset-gallery/v1.0/models"
        config.write_text(f'catalog = "online"\ncatalog_url = "{url}"\n')
        result = run_cli("--config", str(config), "status", "--json", env={"FL_TUI_CATALOG": ""})
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["catalog"] == "unreachable"
    assert result.stderr == ""
