"""The web server behind `fl-tui web`: textual-serve's session handling (one app process per browser websocket),
with fl-tui's own page (nothing loaded from outside the box), a token, the checks of `guard` (Host, Origin, no
framing, a bounded terminal), a cap on sessions, and every session's app process ended when the server stops.

Each session is a person: the page asks a name first, and that person's app runs with a settings file and a state
folder of their own under the room folder (`people`), so their scores, theme and last set-up are theirs and the
host user's config.toml is never written. One name is one live session: a second tab of it is refused."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import jinja2
import textual_serve
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain
from fl_tui.ui.web.guard import SECURITY_HEADERS, clamped, host_allowed, origin_allowed, terminal_size
from fl_tui.ui.web.people import People

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(textual_serve.__file__).parent / "static"  # textual.js, xterm.css and the Roboto Mono it asks for
QUIT_GRACE_S = 5.0  # an app told to quit gets this long before it is killed
TITLE = "fl-tui"
MAX_FONT_SIZE = 64  # ?fontsize= in pixels


def app_command(*extra: str) -> str:
    """The app itself, as textual-serve runs it (through a shell): this Python, this fl-tui."""
    parts = [sys.executable, "-m", "fl_tui", *extra]
    if os.name == "nt":
        return subprocess.list2cmdline(parts)
    return "exec " + shlex.join(parts)  # exec: the app is the shell's process, so ending it ends the app


def full_message(limit: int) -> str:
    return f"fl-tui web: all {limit} sessions are in use; close one (or ask for --max-sessions) and reload"


class PersonSession(AppService):
    """textual-serve's session, its app given the person's own state folder through the environment."""

    def __init__(self, *args, extra_env: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.extra_env = extra_env

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width=width, height=height), **self.extra_env}


@dataclass
class WebServer:
    host: str
    port: int
    max_sessions: int
    token: str | None  # None: no token asked for (only when the instructor says --no-token)
    people: People
    served: frozenset[str] = frozenset()  # the names besides loopback ones this server answers to (guard)
    sessions: set[AppService] = field(default_factory=set)

    def __post_init__(self) -> None:
        templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        self.page = templates.get_template("index.html")
        self.name_page = templates.get_template("name.html")
        self.downloads = DownloadManager()

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.check_host, self.check_token])
        app.on_response_prepare.append(_secure_headers)
        app.add_routes([
            web.get("/", self.handle_index),
            web.get("/ws" if self.token is None else "/ws/{token}", self.handle_websocket),
            web.static("/static", STATIC),
        ])
        return app

    @web.middleware
    async def check_host(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """A Host this server does not go by (DNS rebinding), or a websocket from another page, is refused."""
        if not host_allowed(request.headers.get("Host", ""), self.served):
            return web.Response(status=403, text="fl-tui web: refused: the Host header does not name this server\n")
        if request.path.startswith("/ws") and not origin_allowed(request.headers.get("Origin"), request.host,
                                                                 request.secure):
            return web.Response(status=403, text="fl-tui web: refused: a websocket from another page (Origin)\n")
        return await handler(request)

    @web.middleware
    async def check_token(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """The page and the websocket need the token; textual-serve's static files (public code) do not."""
        if self.token is None or request.path.startswith("/static/"):
            return await handler(request)
        given = request.match_info.get("token") or request.query.get("token")
        if not given:
            return web.Response(status=401, text="fl-tui web: this server needs its token: open the URL it printed "
                                                 "(…/?token=…)\n")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.Response(status=403, text="fl-tui web: wrong token\n")
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.Response:
        """The name form first (prefilled from `?name=`, so a link can carry it), then the person's terminal."""
        if len(self.sessions) >= self.max_sessions:
            return web.Response(status=503, text=full_message(self.max_sessions) + "\n")
        given = request.query.get("name", "")
        problem = self.people.problem(given) if given else None
        if not given or problem or "start" not in request.query:
            html = self.name_page.render(title=TITLE, static="/static/", name=given, token=self.token or "",
                                         problem=problem if given and "start" in request.query else None)
            return web.Response(text=html, content_type="text/html")
        scheme = "wss" if request.secure else "ws"
        path = "/ws" if self.token is None else f"/ws/{self.token}"
        font_size = clamped(request.query.get("fontsize"), 16, MAX_FONT_SIZE)
        html = self.page.render(title=TITLE, static="/static/", font_size=font_size,
                                websocket_url=f"{scheme}://{request.host}{path}?{urlencode({'name': given})}")
        return web.Response(text=html, content_type="text/html")

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        if len(self.sessions) >= self.max_sessions:  # said in the page's terminal, where the person looks
            return await _refuse(websocket, full_message(self.max_sessions))
        name = request.query.get("name", "")
        if problem := self.people.problem(name):
            return await _refuse(websocket, f"fl-tui web: {problem}: open the page again and give your name")
        try:
            person = self.people.enter(name)
        except (UserError, OSError) as exc:  # their settings file cannot be written (FileProblem is a UserError)
            return await _refuse(websocket, f"fl-tui web: {plain(exc, keep_newlines=False)}")
        if person is None:
            return await _refuse(websocket, f"fl-tui web: {name} is already open in another tab or browser: "
                                            "close that one (or give another name), then reload")
        width, height = terminal_size(request.query.get("width"), request.query.get("height"))
        service = PersonSession(app_command(*person.app_args()), write_bytes=websocket.send_bytes,
                                write_str=websocket.send_str, close=websocket.close, download_manager=self.downloads,
                                debug=False, extra_env=person.environment())
        self.sessions.add(service)
        try:
            await service.start(width, height)
            await _relay(websocket, service)
        except asyncio.CancelledError:
            pass
        finally:
            self.people.leave(person)  # a reload comes back as the same person at once
            await end_session(service)
            self.sessions.discard(service)
            await websocket.close()
        return websocket

    async def end_all(self) -> None:
        await asyncio.gather(*(end_session(service) for service in list(self.sessions)))


async def _refuse(websocket: web.WebSocketResponse, line: str) -> web.WebSocketResponse:
    await websocket.send_bytes(f"\r\n{line}\r\n".encode())
    await websocket.close()
    return websocket


async def _secure_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """On every response, the page, its files and the websocket's handshake alike."""
    response.headers.update(SECURITY_HEADERS)


async def end_session(service: AppService) -> None:
    """Ask the app to quit and wait for it to exit; kill it if it has not after QUIT_GRACE_S. Never leaves the
    process behind. Only a process still running is killed: Popen.kill polls first, and a poll that reaps a child
    which has just exited takes it from asyncio's child watcher ("Unknown child process pid N, will report
    returncode 255" in the log). stop() returns once the app has closed its output, before it has exited, so the
    exit is waited for apart (stop() swallows its own cancellation: one wait_for round both would never end)."""
    process = service._process  # textual-serve keeps no public handle on it
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIT_GRACE_S
    with contextlib.suppress(Exception):  # a timeout included: the kill below follows
        await asyncio.wait_for(service.stop(), QUIT_GRACE_S)
        if process is not None:
            await asyncio.wait_for(process.wait(), deadline - loop.time())
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _relay(websocket: web.WebSocketResponse, service: AppService) -> None:
    """The browser's keys, size and focus to the app (textual-serve's envelope format)."""
    async for message in websocket:
        if message.type != web.WSMsgType.TEXT:
            continue
        try:
            kind, data = message.json()
        except (ValueError, TypeError):  # not textual-serve's [kind, data]
            continue
        if kind == "stdin":
            await service.send_bytes(str(data).encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            await service.set_terminal_size(*terminal_size(data.get("width"), data.get("height")))
        elif kind == "ping":
            await websocket.send_json(["pong", data])
        elif kind == "blur":
            await service.blur()
        elif kind == "focus":
            await service.focus()


async def serve(server: WebServer, stop: asyncio.Event, ready: Callable[[int], None]) -> None:
    """Serve until `stop` is set; `ready` gets the bound port. Ends every session before returning."""
    runner = web.AppRunner(server.make_app(), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, server.host, server.port)
        await site.start()
        ready(runner.addresses[0][1])
        await stop.wait()
        await server.end_all()
    finally:
        await runner.cleanup()
