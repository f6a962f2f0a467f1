"""`fl-tui serve`: a real current-generation Foundry Local endpoint in its own process, and the HTTP backends
that talk to it."""

import asyncio
import json
import signal

import httpx
from conftest import http_get
from waiting import unload_when_idle

from fl_tui.connection.chat import chat_body, stream_chat
from fl_tui.connection.probe import connect, detect
from fl_tui.demo.build import FAST, SLOW


def test_serves_the_demo_models(served):
    body = http_get(served.url + "/v1/models").json()
    assert {FAST.model_id, SLOW.model_id} <= {m["id"] for m in body["data"]}
    status = http_get(served.url + "/status").json()
    assert status["endpoints"] and "modelCachePath" in status


def test_detected_as_the_current_generation(served):
    assert detect(served.url) == "current"


def test_service_backend_load_stream_unload(served):
    backend = connect(served.url)
    try:
        assert backend.kind == "foundry-service"
        ids = {m.id for m in backend.list_models()}
        assert FAST.model_id in ids
        backend.unload_all()  # the session's server may still hold a model an earlier test loaded
        backend.load(FAST.model_id)  # an id: the backend maps it to the alias the route needs
        assert backend.status().loaded == [FAST.model_id]

        async def go():
            async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
                return await stream_chat(client, backend.inference_url, chat_body(FAST.model_id, "hi", max_tokens=8))

        rec = asyncio.run(go())
        assert rec.status_code == 200
        assert json.loads(rec.events[-2].data)["usage"]["completion_tokens"] == 8
        unload_when_idle(backend, "fl-demo-fast")
        assert backend.status().loaded == []
    finally:
        backend.close()


def test_openai_backend_lists_and_streams(served):
    from fl_tui.connection.openai_compat import OpenAICompatBackend

    backend = OpenAICompatBackend(served.url)
    try:
        assert FAST.model_id in {m.id for m in backend.list_models()}
        assert backend.inference_url == served.url + "/v1"
    finally:
        backend.close()


def test_sigterm_stops_cleanly(tmp_path):
    from conftest import Served

    server = Served(tmp_path / "home")
    assert http_get(server.url + "/v1/models").status_code == 200
    assert server.stop(signal.SIGTERM) == 0
    assert "stopped" in server.proc.stderr.read()
