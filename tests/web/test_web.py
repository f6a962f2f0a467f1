"""`fl-tui web` in a subprocess against the session's `fl-tui serve`: the page (fl-tui, nothing from outside), an
app process per websocket session, the token, the session cap, and no app left after SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil
import pytest

from tests.conftest import FL_TUI, REPO, http_get
from tests.waiting import until_sync

APP_MARK = "Models"  # the first tab's name, in what the app draws
DEADLINE_S = 60.0


class Web:
    def __init__(self, endpoint: str | None, *args: str, env: dict | None = None):
        given = ["--endpoint", endpoint] if endpoint else []
        self.proc = subprocess.Popen(
            [*FL_TUI, *given, "web", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, **(env or {})},
        )
        self.first_line = self.proc.stdout.readline().strip()
        found = re.match(r"http://[^/]+:(\d+)/(\?token=(\S+))?", self.first_line)
        if not found:
            self.proc.kill()
            raise AssertionError(f"fl-tui web did not print its URL: {self.first_line!r} {self.proc.stderr.read()}")
        self.port = int(found.group(1))
        self.token = found.group(3)
        self.base = f"http://127.0.0.1:{self.port}"

    def ws(self, name: str = "ann") -> str:
        """A person's websocket URL, as the page gives it."""
        return f"ws://127.0.0.1:{self.port}/ws" + (f"/{self.token}" if self.token else "") + f"?name={name}"

    def page(self, name: str = "ann") -> str:
        """A person's link to the app (the name form skipped)."""
        return f"{self.base}/?token={self.token}&name={name}&start=1"

    def apps(self) -> list[psutil.Process]:
        """The session app processes: the server's children (each the shell's exec of `python -m fl_tui`)."""
        try:
            return [p for p in psutil.Process(self.proc.pid).children(recursive=True) if p.is_running()
                    and p.status() != psutil.STATUS_ZOMBIE]
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(DEADLINE_S)


@pytest.fixture
def web(served):
    servers: list[Web] = []

    def start(*args: str, endpoint: str | None = served.url, env: dict | None = None) -> Web:
        servers.append(Web(endpoint, *args, env=env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop(signal.SIGTERM)  # which ends any session a failed test left open


async def read_until(ws, text: str) -> str:
    """Read what the app draws (escape sequences and all) until `text` shows; fail on the deadline, or when the
    session closes first."""
    seen = ""
    deadline = time.monotonic() + DEADLINE_S
    while text not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {text!r} from the session; saw {seen[-300:]!r}")
        message = await ws.receive(timeout=left)
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += message.data.decode("utf-8", "replace")
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            raise AssertionError(f"the session closed before {text!r} showed; saw {seen[-300:]!r}")
    return seen


async def _session(url: str, until_text: str | None = APP_MARK) -> tuple[aiohttp.ClientSession, object, str]:
    """Open a websocket session; read what the app draws until `until_text` shows."""
    client = aiohttp.ClientSession(trust_env=False)
    ws = await client.ws_connect(url + ("&" if "?" in url else "?") + "width=100&height=30")
    return client, ws, "" if until_text is None else await read_until(ws, until_text)


def test_page_is_fl_tui_and_loads_nothing_from_outside(web):
    server = web()
    assert server.token and "token required" in server.first_line  # on loopback too (README, Workshop)
    form = http_get(f"{server.base}/?token={server.token}")
    assert form.status_code == 200 and 'name="name"' in form.text and server.token in form.text
    page = http_get(server.page())
    assert page.status_code == 200
    assert re.search(r"<title>fl-tui</title>", page.text) and f"/ws/{server.token}?name=ann" in page.text
    for html in (form.text, page.text):
        external = [u for u in re.findall(r"""(?:https?:)?//[^\s"')]+""", html) if "127.0.0.1" not in u]
        assert external == [], external
        for asset in re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", html) + re.findall(
                r'url\("(/static/[^"]+)"\)', html):
            assert http_get(server.base + asset).status_code == 200, asset
    assert "googleapis" not in http_get(server.base + "/static/css/xterm.css").text


def test_a_size_sent_as_the_session_opens_is_drawn_at(web):
    """A browser sends its terminal's size as soon as the socket opens, before the app's first frame, and the app
    draws (a footer rebuilt for the new width once stopped the first frame for good)."""
    server = web()

    async def go():
        client = aiohttp.ClientSession(trust_env=False)
        ws = await client.ws_connect(server.ws() + "&width=80&height=24")
        await ws.send_json(["resize", {"width": 120, "height": 40}])
        return client, await read_until(ws, APP_MARK)

    client, _seen = asyncio.run(go())
    try:
        assert server.stop(signal.SIGTERM) == 0
    finally:
        asyncio.run(client.close())


def test_a_session_runs_an_app_against_the_endpoint_and_sigterm_ends_it(web, served):
    server = web()

    async def go():
        client, _ws, seen = await _session(server.ws())
        assert APP_MARK in seen
        apps = server.apps()
        assert len(apps) == 1
        assert apps[0].environ().get("FOUNDRY_LOCAL_ENDPOINT") == served.url
        return client, apps

    client, apps = asyncio.run(go())
    try:
        assert server.stop(signal.SIGTERM) == 0
        _gone, alive = psutil.wait_procs(apps, timeout=DEADLINE_S)
        assert alive == []
    finally:
        asyncio.run(client.close())


def test_the_embedded_runtime_is_started_once_and_every_session_uses_it(web, tmp_path):
    server = web(endpoint=None, env={"FL_TUI_HOME": str(tmp_path / "home")})  # the suite's FL_TUI_ENDPOINT=embedded
    endpoint = re.search(r"endpoint (http://\S+);", server.proc.stderr.readline()).group(1)
    assert http_get(endpoint + "/v1/models").status_code == 200  # the runtime's web service, in the web process
    async def go():
        sessions = [await _session(server.ws("ann")), await _session(server.ws("bo"))]
        apps = server.apps()
        assert len(apps) == 2
        assert [a.environ().get("FOUNDRY_LOCAL_ENDPOINT") for a in apps] == [endpoint, endpoint]
        return sessions, apps

    sessions, apps = asyncio.run(go())
    try:
        assert server.stop(signal.SIGINT) == 0  # Ctrl-C, as SIGTERM: the apps end with the server
        _gone, alive = psutil.wait_procs(apps, timeout=DEADLINE_S)
        assert alive == []
    finally:
        for client, _ws, _seen in sessions:
            asyncio.run(client.close())


def test_the_token_is_required(web):
    server = web("--host", "0.0.0.0")
    assert server.token and "token required" in server.first_line
    assert http_get(server.base + "/").status_code == 401
    assert http_get(server.base + "/?token=wrong").status_code == 403
    page = http_get(server.page())
    assert page.status_code == 200 and f"/ws/{server.token}" in page.text

    async def websocket_refused(url: str) -> int:
        async with aiohttp.ClientSession(trust_env=False) as client:
            try:
                await client.ws_connect(url)
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
            return 101

    assert asyncio.run(websocket_refused(f"ws://127.0.0.1:{server.port}/ws")) == 401
    assert asyncio.run(websocket_refused(f"ws://127.0.0.1:{server.port}/ws/wrong")) == 403
    assert server.apps() == []


def test_a_given_token_and_the_session_cap(web):
    server = web("--token", "room-42", "--max-sessions", "1")
    assert server.token == "room-42"
    async def go():
        first = await _session(server.ws("ann"))
        second_client, _ws, said = await _session(server.ws("bo"), until_text="sessions are in use")
        assert "all 1 sessions are in use" in said
        assert len(server.apps()) == 1
        assert http_get(f"{server.base}/?token=room-42").status_code == 503
        await second_client.close()
        await first[0].close()

    asyncio.run(go())
    until_sync(lambda: server.apps() == [], "the app to end with its session", seen=server.apps)


def test_bad_max_sessions_is_one_line_exit_2():
    result = subprocess.run([*FL_TUI, "web", "--max-sessions", "0"], capture_output=True, text=True, timeout=60,
                            cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.strip() == "fl-tui: --max-sessions: at least 1"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (`make test` installs it where apt can)")
def test_a_real_browser_drives_the_app(web):
    """Chromium headless over the DevTools protocol: the page draws the Models tab, `2` shows the Benchmark tab."""
    server = web()
    profile = Path(tempfile.mkdtemp(prefix="fl-tui-chromium-"))
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1400,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        until_sync(port_file.exists, "Chromium's DevTools port")
        until_sync(lambda: len(port_file.read_text().split()) >= 2, "Chromium's DevTools port")
        devtools = int(port_file.read_text().split()[0])
        asyncio.run(_drive(devtools, f"{server.base}/?token={server.token}&name=ann"))
    finally:
        browser.terminate()
        browser.wait(DEADLINE_S)
        shutil.rmtree(profile, ignore_errors=True)


# Keeps, in the page, the text of every frame the app sends to the page's terminal
RECORD_TERMINAL = """
(() => {
  const decoder = new TextDecoder();
  window.__flTuiDrawn = "";
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__flTuiDrawn += decoder.decode(e.data, {stream: true});
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""


async def _drive(devtools: int, url: str) -> None:
    async with aiohttp.ClientSession(trust_env=False) as client:
        async with client.get(f"http://127.0.0.1:{devtools}/json/list") as response:
            page = next(t for t in await response.json() if t["type"] == "page")
        async with client.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as cdp:
            ids = iter(range(1, 10_000))

            async def call(method: str, **params):
                number = next(ids)
                await cdp.send_json({"id": number, "method": method, "params": params})
                while True:
                    reply = await cdp.receive_json(timeout=DEADLINE_S)
                    if reply.get("id") == number:
                        return reply.get("result", {})

            async def screen() -> str:
                """What the page's terminal was sent to draw (xterm draws on a canvas: no text in the DOM)."""
                got = await call("Runtime.evaluate", expression="window.__flTuiDrawn || ''", returnByValue=True)
                return got.get("result", {}).get("value", "")

            async def wait_for(text: str) -> None:
                deadline = time.monotonic() + DEADLINE_S
                shown = ""
                while text not in shown:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"the browser never showed {text!r}; it showed {shown[-500:]!r}")
                    shown = await screen()
                    await asyncio.sleep(0.1)  # paces the polling only

            await call("Page.enable")
            await call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_TERMINAL)
            await call("Page.navigate", url=url)
            # the name form, prefilled from the link: the person presses Enter on it
            deadline = time.monotonic() + DEADLINE_S
            name = "document.getElementById('name')?.value || ''"
            while (await call("Runtime.evaluate", expression=name, returnByValue=True)).get("result", {}).get(
                    "value") != "ann":
                assert time.monotonic() < deadline, "the name form never showed the name from the link"
                await asyncio.sleep(0.1)  # paces the polling only
            await call("Runtime.evaluate", expression="document.querySelector('form').requestSubmit()")
            await wait_for("Models")
            title = await call("Runtime.evaluate", expression="document.title", returnByValue=True)
            assert (await call("Runtime.evaluate", expression="document.title", returnByValue=True))["result"][
                "value"] == "fl-tui", title
            await call("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
            await call("Input.dispatchKeyEvent", type="keyDown", key="2", code="Digit2", text="2",
                       windowsVirtualKeyCode=50)
            await call("Input.dispatchKeyEvent", type="keyUp", key="2", code="Digit2", windowsVirtualKeyCode=50)
            await call("Runtime.evaluate", expression="window.__flTuiDrawn = ''")
            await wait_for("Start")  # the Benchmark tab's set-up form, drawn after the key
            shot = await call("Page.captureScreenshot", format="png")
            assert len(shot["data"]) > 1000

