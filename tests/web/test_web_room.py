"""`fl-tui web` as a room: closed to other web pages (Host, Origin, framing, referrer, a bounded terminal) and a
person per session (a name, one live session per name, their own settings and state, the host's config untouched).
The checks of fl_tui.ui.web.guard first on their own, then through a real server and the websocket protocol."""

from __future__ import annotations

import asyncio
import json
import random
import shutil

import aiohttp
import pytest
from conftest import http_get, run_cli
from test_web import APP_MARK, _session, read_until, web  # noqa: F401 - the web server fixture
from waiting import until_sync

from fl_tui.ui.web.guard import MAX_COLUMNS, MAX_ROWS, host_allowed, host_name, origin_allowed, terminal_size

SERVED = frozenset({"10.1.2.3", "box"})
ANSWERS = 6  # scored by each person, of the 8 in the session's bench run


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:8000", "127.0.0.1"), ("LOCALHOST:80", "localhost"), ("[::1]:8000", "::1"), ("box", "box"),
    ("[::1", ""), ("", ""),
])
def test_host_name_drops_the_port(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize(("header", "allowed"), [
    ("127.0.0.1:8000", True), ("127.9.9.9:1", True), ("localhost:8000", True), ("[::1]:8000", True),
    ("10.1.2.3:8000", True), ("box:8000", True),
    ("rebind.evil.example:8000", False), ("10.1.2.4:8000", False), ("", False), ("localhost.evil.example", False),
])
def test_only_loopback_names_and_served_addresses_pass(header, allowed):
    assert host_allowed(header, SERVED) is allowed


def test_a_websocket_must_come_from_the_page_itself():
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", secure=False)
    assert origin_allowed(None, "127.0.0.1:8000", secure=False)  # not a browser: no page behind it
    assert not origin_allowed("http://evil.example", "127.0.0.1:8000", secure=False)
    assert not origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000", secure=False)
    assert not origin_allowed("https://127.0.0.1:8000", "127.0.0.1:8000", secure=False)
    assert not origin_allowed("null", "127.0.0.1:8000", secure=False)  # a sandboxed frame or a file


def test_a_terminal_size_is_clamped():
    assert terminal_size(8000, 8000) == (MAX_COLUMNS, MAX_ROWS)
    assert terminal_size("120", "40") == (120, 40)
    assert terminal_size(-5, 0) == (1, 1)
    assert terminal_size("wide", None) == (80, 24)
    assert terminal_size(10**400, 1e400) == (MAX_COLUMNS, 24)  # an int too large for a float, an infinite float


async def _handshake(url: str, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession(trust_env=False) as client:
        try:
            ws = await client.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        await ws.close()
        return 101


def test_a_foreign_host_or_origin_is_refused_and_nothing_frames_the_page(web):  # noqa: F811
    server = web()
    page = http_get(server.page())
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert http_get(server.base + "/static/css/xterm.css").headers["X-Frame-Options"] == "DENY"

    import httpx

    rebound = httpx.get(server.page(), headers={"Host": "rebind.evil.example"}, trust_env=False, timeout=60)
    assert rebound.status_code == 403 and "Host" in rebound.text
    evil = {"Origin": "http://evil.example"}
    assert asyncio.run(_handshake(server.ws(), evil)) == 403
    assert asyncio.run(_handshake(server.ws(), {"Host": f"rebind.evil.example:{server.port}"})) == 403
    assert server.apps() == []  # neither started an app
    assert asyncio.run(_handshake(server.ws(), {"Origin": f"http://127.0.0.1:{server.port}"})) == 101


def test_a_giant_terminal_is_clamped(web):  # noqa: F811
    server = web()

    async def go():
        client = aiohttp.ClientSession(trust_env=False)
        ws = await client.ws_connect(server.ws() + "&width=8000&height=8000")
        await ws.receive(timeout=60)  # the app has started and drawn
        (app,) = server.apps()
        env = app.environ()
        await client.close()
        return env

    env = asyncio.run(go())
    assert (env["COLUMNS"], env["ROWS"]) == (str(MAX_COLUMNS), str(MAX_ROWS))


def test_each_person_is_one_session_with_files_of_their_own(web, tmp_path):  # noqa: F811
    home = tmp_path / "home"
    server = web(env={"FL_TUI_HOME": str(home)})

    async def go():
        ann = await _session(server.ws("Ann"))
        again_client, _ws, said = await _session(server.ws("ann"), until_text="already open")
        assert "already open in another tab" in said  # the same person (one annotation file): refused
        await again_client.close()
        bo = await _session(server.ws("Bo"))
        environments = {a.environ()["FL_TUI_PERSON_STATE"] for a in server.apps()}
        assert {a.environ().get("FL_TUI_ROOM") for a in server.apps()} == {"participant"}  # connection.roles
        await ann[0].close()  # a reload: the tab goes, and comes back as the same person
        back = await _session(server.ws("Ann"))
        assert APP_MARK in back[2]
        for client, _ws, _seen in (bo, back):
            await client.close()
        return environments

    environments = asyncio.run(go())
    room = home / "state" / "web-room"
    assert environments == {str(room / "ann" / "state"), str(room / "bo" / "state")}
    assert 'rater = "Ann"' in (room / "ann" / "config.toml").read_text(encoding="utf-8")
    assert 'rater = "Bo"' in (room / "bo" / "config.toml").read_text(encoding="utf-8")
    assert not (home / "config" / "config.toml").exists()  # the host user's config is never written


def test_a_bad_name_is_said_on_the_form(web):  # noqa: F811
    server = web()
    form = http_get(f"{server.base}/?token={server.token}&name=model:judge&start=1")
    assert form.status_code == 200 and "kept for model judges" in form.text and 'name="name"' in form.text

    async def blank() -> str:
        client, _ws, said = await _session(server.ws("%20"), until_text="give your name")
        await client.close()
        return said

    assert "a rater name is needed" in asyncio.run(blank())
    assert server.apps() == []


def _scored(path) -> list[list[int]]:
    """Each item's scores as given (aspects and overall), in the order the person saw them."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))["items"]
    except (FileNotFoundError, ValueError):  # not written yet (it is replaced whole, never half-written)
        return []
    return [[v for v in (*item["scores"].values(), item["overall"]) if v is not None] for item in items]


def test_four_people_score_at_once_and_nothing_is_lost(web, bench_run, tmp_path):  # noqa: F811
    """Four sessions through the websocket protocol, each a person scoring the same run with random keys and
    pauses: every score lands in that person's own file, none is lost or mixed, and a reload resumes."""
    home = tmp_path / "home"
    run = home / "data" / "runs" / "room-run"
    shutil.copytree(bench_run, run, ignore=shutil.ignore_patterns("annotations.*", "pairwise.*"))
    server = web("--max-sessions", "5", env={"FL_TUI_HOME": str(home)})
    people = ["Ann", "Bo", "Cy", "Dee"]
    keys = {name: [random.Random(name).randint(1, 5) for _ in range(ANSWERS)] for name in people}

    async def person(name: str) -> tuple[aiohttp.ClientSession, object]:
        pace = random.Random(f"{name}-pace")
        client = aiohttp.ClientSession(trust_env=False)
        ws = await client.ws_connect(server.ws(name) + "&width=100&height=32")
        await read_until(ws, APP_MARK)
        await ws.send_json(["stdin", "3"])
        await read_until(ws, f"rater {name}")
        for digit in keys[name]:  # the first row's score, then the next answer
            await ws.send_json(["stdin", str(digit)])
            await asyncio.sleep(pace.uniform(0, 0.05))  # a person's pace, not a wait for state
            await ws.send_json(["stdin", "n"])
        return client, ws

    async def go() -> None:
        sessions = await asyncio.gather(*(person(name) for name in people))
        for name in people:
            path = run / f"annotations.{name.lower()}.json"
            await asyncio.to_thread(until_sync, lambda path=path: len([s for s in _scored(path) if s]) >= ANSWERS,
                                    f"{name}'s {ANSWERS} scores in their file", seen=lambda path=path: _scored(path))
        await sessions[0][0].close()  # Ann reloads: the same person, with every score kept
        client = aiohttp.ClientSession(trust_env=False)
        ws = await client.ws_connect(server.ws("Ann") + "&width=100&height=32")
        await read_until(ws, APP_MARK)
        await ws.send_json(["stdin", "3"])
        await read_until(ws, f"scored {ANSWERS}/")
        await client.close()
        for other, _ws in sessions[1:]:
            await other.close()

    asyncio.run(go())
    for name in people:
        scored = _scored(run / f"annotations.{name.lower()}.json")
        assert [s for s in scored if s] == [[digit] for digit in keys[name]], name
    assert sorted(p.name for p in run.glob("annotations.*.json")) == [f"annotations.{n.lower()}.json" for n in
                                                                       sorted(people, key=str.lower)]
    room = run_cli("room", str(run))  # the instructor's view of the room (README, Workshop)
    assert room.returncode == 0, room.stderr
    for name in people:
        assert f"  {name}: {ANSWERS}/" in room.stdout
    assert "4 people scoring" in room.stdout and "Krippendorff's alpha" in room.stdout
    assert "needs two people" not in room.stdout  # 4 people, 6 of the same 8 answers each: some overlap
    report = run_cli("report", str(run))
    assert report.returncode == 0 and "## Raters" in report.stdout
    assert all(f"- {name}: {ANSWERS} of " in report.stdout for name in people)
