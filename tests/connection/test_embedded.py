"""The embedded backend against the real in-process Foundry Local runtime, offline, with the demo models."""

import asyncio
import json
import shutil

import httpx
import pytest
from waiting import unload_when_idle

from fl_tui.connection.base import BackendError, Capability, CatalogState, UnknownModel
from fl_tui.connection.chat import chat_body, stream_chat
from fl_tui.demo.build import FAST, SLOW


def test_lists_the_demo_models_cached_and_local(embedded):
    models = {m.id: m for m in embedded.list_models()}
    for spec in (FAST, SLOW):
        entry = models[spec.model_id]
        assert (entry.alias, entry.cached, entry.source, entry.device) == (spec.alias, True, "local", "CPU")
        assert entry.disk_bytes and entry.disk_bytes > 100_000
        assert entry.extra["served_over_http"] is True


def test_offline_catalog_is_reported_and_unknown_names_are_answered(embedded):
    """Offline the runtime would spend ~4.5 s per catalog lookup; the backend answers from what it listed
    (the time it takes is measured by benchmarks/startup.py, not asserted here)."""
    status = embedded.status()
    assert status.catalog is CatalogState.UNREACHABLE
    assert embedded.capabilities[Capability.DOWNLOAD] == "catalog unreachable: showing cached and local models"
    with pytest.raises(UnknownModel):
        embedded.resolve("no-such-model:1")


def test_load_unload_round_trip(embedded):
    embedded.load("fl-demo-fast")
    assert [m.id for m in embedded.list_loaded()] == [FAST.model_id]
    assert embedded.status().loaded == [FAST.model_id]
    embedded.unload(FAST.model_id)
    assert embedded.list_loaded() == []


def test_ttl_is_refused_with_its_reason(embedded):
    with pytest.raises(BackendError, match="keeps a model until it is unloaded"):
        embedded.load("fl-demo-fast", ttl_s=60)


def test_unknown_model_names_the_close_ones(embedded):
    with pytest.raises(UnknownModel) as err:
        embedded.resolve("fl-demo-fsat")
    assert "fl-demo-fast" in err.value.close


def stream(url, model, max_tokens=16):
    async def go():
        async with httpx.AsyncClient() as client:
            return await stream_chat(client, url, chat_body(model, "Why does size matter?", max_tokens=max_tokens))

    return asyncio.run(go())


def test_streams_over_the_embedded_web_service(embedded):
    embedded.load(SLOW.model_id)
    try:
        rec = stream(embedded.inference_url, SLOW.model_id)
    finally:
        unload_when_idle(embedded, SLOW.model_id)
    assert rec.status_code == 200 and rec.transport_error is None
    payloads = [e.data for e in rec.events]
    assert payloads[-1] == b"[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"content": "", "role": "assistant"}  # role-only, not a token
    assert chunks[-1]["usage"]["completion_tokens"] == 16
    stamps = [e.t_ns for e in rec.events]
    assert rec.t0_ns <= rec.headers_ns <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= rec.end_ns
    assert stamps[-2] - stamps[1] > 5 * 1_000_000  # the slow model's tokens arrive spread over time


def test_a_model_must_be_loaded_before_inference(embedded):
    rec = stream(embedded.inference_url, FAST.model_id)
    assert rec.status_code == 400 and "must be loaded" in rec.error_body


def test_register_and_remove_a_local_folder(embedded, tmp_path):
    folder = tmp_path / "My Model"
    shutil.copytree(next(m for m in embedded.list_models() if m.id == FAST.model_id).path, folder, symlinks=False)
    entry = embedded.register(folder)
    assert (entry.id, entry.alias, entry.source, entry.cached) == ("my-model:1", "my-model", "local", True)
    assert entry.extra["served_over_http"] is False  # the runtime reads its index once: next start
    with pytest.raises(BackendError, match="already registered"):
        embedded.register(folder)
    embedded.load("my-model")
    embedded.remove("my-model")  # unloads, unregisters, keeps the files
    assert "my-model:1" not in {m.id for m in embedded.list_models()}
    assert (folder / "model.onnx").exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: p, "genai_config.json is missing"),
    ],
)
def test_register_rejects_bad_folders(embedded, tmp_path, make, message):
    with pytest.raises(BackendError, match=message):
        embedded.register(make(tmp_path))
