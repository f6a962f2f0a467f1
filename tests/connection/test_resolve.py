"""Endpoint resolution: --endpoint, FOUNDRY_LOCAL_ENDPOINT, the config file, a service on :5273, else embedded."""

import socket

import pytest

from fl_tui.connection import resolve
from fl_tui.connection.foundry_cli import FoundryCli
from fl_tui.connection.resolve import choose_endpoint
from fl_tui.core.config import Settings


@pytest.fixture
def nothing_on_5273(monkeypatch):
    """Nothing on the default port, and no `foundry` CLI to ask, whatever this machine has."""
    monkeypatch.setattr(resolve, "DEFAULT_SERVICE", ("127.0.0.1", _closed_port()))
    monkeypatch.setattr(FoundryCli, "find", classmethod(lambda cls, timeout=0: None))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_order_first_hit_wins(nothing_on_5273):
    config = Settings(endpoint="http://config:1")
    env = {"FOUNDRY_LOCAL_ENDPOINT": "http://env:2/v1"}
    assert choose_endpoint("http://cli:3", config, env) == resolve.Choice("http://cli:3", "--endpoint")
    assert choose_endpoint(None, config, env) == resolve.Choice("http://env:2/v1", "FOUNDRY_LOCAL_ENDPOINT")
    assert choose_endpoint(None, config, {}) == resolve.Choice("http://config:1", "config file")
    assert choose_endpoint(None, Settings(), {}).endpoint is None  # the embedded runtime


def test_a_service_listening_on_the_default_port_is_used(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setattr(resolve, "DEFAULT_SERVICE", ("127.0.0.1", port))
        choice = choose_endpoint(None, Settings(), {})
    assert choice == resolve.Choice(f"http://127.0.0.1:{port}", "service on the default port")


def test_the_config_file_beats_the_default_port(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setattr(resolve, "DEFAULT_SERVICE", ("127.0.0.1", listener.getsockname()[1]))
        assert choose_endpoint(None, Settings(endpoint="http://cfg:9"), {}).source == "config file"


def test_the_word_embedded_asks_for_the_runtime_whatever_listens_on_5273(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setattr(resolve, "DEFAULT_SERVICE", ("127.0.0.1", listener.getsockname()[1]))
        assert choose_endpoint("embedded", Settings(), {}) == resolve.Choice(None, "--endpoint")
        env = {"FOUNDRY_LOCAL_ENDPOINT": "embedded"}
        assert choose_endpoint(None, Settings(), env) == resolve.Choice(None, "FOUNDRY_LOCAL_ENDPOINT")
        assert choose_endpoint(None, Settings(endpoint="embedded"), {}) == resolve.Choice(None, "config file")
        env = {"FL_TUI_ENDPOINT": "http://shell:7"}  # the settings carry what the environment gave them
        assert choose_endpoint(None, Settings(endpoint="http://shell:7"), env).source == "FL_TUI_ENDPOINT"
