"""`fl-tui serve`: the embedded runtime's web service as a standalone Foundry Local endpoint."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from fl_tui.cli.context import settings_for
from fl_tui.connection.resolve import DEFAULT_SERVICE, Choice, listening, open_backend
from fl_tui.core import locations, platform
from fl_tui.core.textsafe import plain


def run(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, *platform.stop_signals()):
        signal.signal(sig, lambda *_: stop.set())
    port = args.port
    if port is None:
        port = 0 if listening(*DEFAULT_SERVICE) else DEFAULT_SERVICE[1]
    backend = open_backend(Choice(None, "serve"), settings, debug=args.debug, host=args.host, port=port or None)
    try:
        print(backend.endpoint, flush=True)  # first line of stdout: scripts and tests read it
        models = [m for m in backend.list_models() if m.extra.get("served_over_http") and m.cached]
        print(f"serving {', '.join(plain(m.id) for m in models) or 'no models'}; cache {backend.cache_dir}",
              file=sys.stderr, flush=True)
        print(f"data dir {locations.data_dir()}; stop with Ctrl-C", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        backend.close()
    print("stopped", file=sys.stderr)
    return 0
