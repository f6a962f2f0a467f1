"""Which backend to talk to. First hit wins: --endpoint, FOUNDRY_LOCAL_ENDPOINT, the config file (or
FL_TUI_ENDPOINT), a service already listening on 127.0.0.1:5273, the service the `foundry` CLI says is running
(its port is dynamic unless pinned), else the embedded runtime. The word `embedded` at any of the first three
asks for the embedded runtime outright, whatever else is running."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from fl_tui.connection.base import Backend
from fl_tui.core import locations
from fl_tui.core.config import Settings
from fl_tui.core.defaults import DEFAULT_SERVICE


@dataclass(frozen=True)
class Choice:
    endpoint: str | None  # None: the embedded runtime
    source: str  # where the choice came from, for `fl-tui status`


def listening(host: str, port: int, timeout_s: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


EMBEDDED = "embedded"


def given_endpoint(cli_endpoint: str | None, settings: Settings,
                   env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(the endpoint a person named, where) from the first three places, or None: then one is looked for."""
    env = os.environ if env is None else env
    from_file = "FL_TUI_ENDPOINT" if env.get("FL_TUI_ENDPOINT") == settings.endpoint else "config file"
    for given, source in ((cli_endpoint, "--endpoint"), (env.get("FOUNDRY_LOCAL_ENDPOINT"), "FOUNDRY_LOCAL_ENDPOINT"),
                          (settings.endpoint, from_file)):
        if given:
            return given, source
    return None


def choose_endpoint(cli_endpoint: str | None, settings: Settings, env: dict[str, str] | None = None) -> Choice:
    named = given_endpoint(cli_endpoint, settings, env)
    if named is not None:
        given, source = named
        return Choice(None if given.strip() == EMBEDDED else given, source)
    # Imported here: looking is rarer than naming, and the app imports this module before its first frame.
    from fl_tui.connection.discover import discover
    from fl_tui.connection.foundry_cli import FoundryCli

    if listening(*DEFAULT_SERVICE):
        host, port = DEFAULT_SERVICE
        return Choice(f"http://{host}:{port}", "service on the default port")
    found = discover(FoundryCli.find())
    if found is not None:
        return Choice(found.url, f"found by `{found.how}`")
    return Choice(None, "embedded runtime (default)")


def open_backend(choice: Choice, settings: Settings, *, debug: bool = False, host: str = "127.0.0.1",
                 port: int | None = None, web: bool = True, deadline_s: float | None = None) -> Backend:
    """Connect to the chosen endpoint, or start the embedded runtime (host, port and web only apply to it).
    `deadline_s`: a command's --timeout, which bounds its control requests too (connection.probe.connect)."""
    if choice.endpoint is not None:
        from fl_tui.connection.probe import connect, normalize_endpoint

        return connect(normalize_endpoint(choice.endpoint), deadline_s=deadline_s)
    from fl_tui.connection.embedded import EmbeddedBackend

    return EmbeddedBackend(
        cache_dir=settings.model_cache_dir or locations.default_model_cache(),
        runtime_dir=locations.runtime_dir(),
        catalog=settings.catalog,
        catalog_url=settings.catalog_url,
        host=host,
        port=port,
        demo_models_dir=locations.demo_models_dir() if settings.demo_models else None,
        debug=debug,
        web=web,
    )
