"""Where Foundry Local put its service, asked of the `foundry` CLI: the port is dynamic unless pinned.

Output formats, from public programs that parse them (the CLI's source is not public):
- current CLI (0.10+): `foundry server status -o json` -> `{"running": true, "webUrls": ["http://127.0.0.1:53494"],
  …}`, possibly after status lines; its text form has a `Web URLs  http://…` line. A legacy CLI answers
  `Unknown command 'server'` (and a non-zero exit).
- legacy CLI (<= 0.8): `foundry service status` -> `🟢 Model management service is running on
  http://127.0.0.1:51995/openai/status`, or `🔴 Model management service is not running!`.
`foundry status` is not asked: its public examples show a system overview (devices), no service URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fl_tui.connection.base import BackendError
from fl_tui.connection.foundry_cli import FoundryCli, json_document

STATUS_TIMEOUT_S = 10.0
_WEB_URLS = re.compile(r"Web URLs?\s*:?\s+(https?://\S+)", re.I)
_LEGACY_RUNNING = re.compile(r"service is running on (https?://[^\s/]+)", re.I)


@dataclass(frozen=True)
class Discovered:
    url: str
    how: str  # the command that said so, for `fl-tui status`


def _current(out: str) -> str | None:
    try:
        doc = json_document(out)
    except ValueError:  # an older 0.10 build, or text mode: read the text line
        match = _WEB_URLS.search(out)
        return match.group(1).rstrip("/") if match else None
    if not isinstance(doc, dict) or doc.get("running") is False:
        return None
    urls = doc.get("webUrls") or doc.get("endpoints") or []
    first = urls[0] if isinstance(urls, list) and urls else None
    return first.rstrip("/") if isinstance(first, str) and first.startswith(("http://", "https://")) else None


def _legacy(out: str) -> str | None:
    match = _LEGACY_RUNNING.search(out)
    return match.group(1) if match else None


def _ask(cli: FoundryCli, *args: str) -> str:
    """The command's output; "" when it failed: a legacy CLI has no `server` command, and a stopped service
    exits non-zero on some versions. Either way that command found nothing."""
    try:
        return cli.run(*args, timeout=STATUS_TIMEOUT_S)
    except BackendError:
        return ""


def discover(cli: FoundryCli | None) -> Discovered | None:
    """The running service's URL by the CLI's own account, or None (no CLI, not running, or unreadable)."""
    if cli is None:
        return None
    url = _current(_ask(cli, "server", "status", "-o", "json"))
    if url:
        return Discovered(url, "foundry server status")
    url = _legacy(_ask(cli, "service", "status"))
    return Discovered(url, "foundry service status") if url else None
