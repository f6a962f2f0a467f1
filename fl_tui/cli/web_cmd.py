"""`fl-tui web`: the app in a browser, one app process per session, every one against the same endpoint."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import sys

from fl_tui.cli.context import settings_for
from fl_tui.connection.process import is_loopback_host
from fl_tui.connection.resolve import choose_endpoint, open_backend
from fl_tui.core import locations, platform
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain


def run(args: argparse.Namespace) -> int:
    # textual-serve: the UI's libraries, loaded here only
    from fl_tui.ui.web.guard import EVERY_ADDRESS, served_names
    from fl_tui.ui.web.people import People
    from fl_tui.ui.web.server import WebServer

    if args.max_sessions < 1:
        raise UserError("--max-sessions: at least 1")
    if args.no_token and not is_loopback_host(args.host):
        raise UserError("--no-token: only with a loopback --host (anyone who can reach the address would be you)")
    token = None if args.no_token else (args.token or secrets.token_urlsafe(16))
    settings = settings_for(args)
    choice = choose_endpoint(args.endpoint, settings)
    # One endpoint for the room: an embedded runtime is started once, here, with its web service, and every
    # session's app is sent to it, so the tabs share Foundry Local's one-request-at-a-time service
    backend = open_backend(choice, settings, debug=args.debug, port=0)
    try:
        os.environ["FOUNDRY_LOCAL_ENDPOINT"] = backend.endpoint  # what each session's app process inherits
        people = People(locations.state_dir() / "web-room")
        served = served_names(args.host) | ({_this_box()} if args.host in EVERY_ADDRESS else set())
        server = WebServer(args.host, args.port, args.max_sessions, token, people, served)

        def ready(port: int) -> None:
            shown = _this_box() if args.host in EVERY_ADDRESS else args.host
            url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
            needs = "token required (in the URL); add &name=… to hand out a person's link" if token else "no token"
            print(f"{url}  {needs}", flush=True)  # first line: the URL to open
            print(f"sessions: at most {args.max_sessions}; endpoint {plain(backend.endpoint)}; stop with Ctrl-C",
                  file=sys.stderr, flush=True)

        asyncio.run(_serve_until_signal(server, ready))
    finally:
        backend.close()
    print("stopped", file=sys.stderr)
    return 0


def _this_box() -> str:
    """The address others reach this box by, for a server on every address: the one the default route leaves
    from (a UDP connect sends nothing), else the host name."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never reached
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()


async def _serve_until_signal(server, ready) -> None:
    from fl_tui.ui.web.server import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, *platform.stop_signals()):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await serve(server, stop, ready)
