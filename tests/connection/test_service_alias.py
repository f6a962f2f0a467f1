"""Variant id -> alias for the current Foundry Local service, which loads and unloads by alias only.

The mapping is a heuristic (strip `:version` and the device suffix) checked against `/models/loaded` after loading;
when the `foundry` CLI is available its catalog's alias wins. The routes are replayed with `httpx.MockTransport`
in the shapes the current service answers with; the real service is exercised by other tests.
"""

from __future__ import annotations

import httpx
import pytest

from fl_tui.connection.base import BackendError, Capability, ModelEntry, Unsupported
from fl_tui.connection.ids import device_from_id, strip_version
from fl_tui.connection.service import (
    NO_ROUTE,
    FoundryServiceBackend,
    alias_candidates,
    alias_for_id,
)

BASE = "http://127.0.0.1:5273"


@pytest.mark.parametrize(
    ("model_id", "alias"),
    [
        ("fl-demo-fast-generic-cpu:1", "fl-demo-fast"),
        ("tiny-chat-generic-cpu:1", "tiny-chat"),
        ("qwen2.5-0.5b-instruct-generic-gpu:3", "qwen2.5-0.5b-instruct"),
        ("qwen2.5-coder-7b-instruct-cuda-gpu:2", "qwen2.5-coder-7b-instruct"),
        ("Phi-4-mini-instruct-openvino-gpu:1", "Phi-4-mini-instruct"),
        ("phi-3.5-mini-instruct-qnn-npu:1", "phi-3.5-mini-instruct"),
        ("deepseek-r1-distill-qwen-7b-npu:1", "deepseek-r1-distill-qwen-7b"),
        ("qwen2.5-7b-instruct-trtrtx-gpu:1", "qwen2.5-7b-instruct"),
        ("whisper-small-generic-cpu", "whisper-small"),  # no version
        ("phi-4-mini", "phi-4-mini"),  # already an alias
        ("gpt-oss-20b-cuda-gpu:1", "gpt-oss-20b"),
    ],
)
def test_alias_for_id(model_id, alias):
    assert alias_for_id(model_id) == alias


def test_candidates_go_from_the_literal_guess_to_the_catalog_style_alias():
    assert alias_candidates("Phi-4-mini-instruct-generic-cpu:4") == [
        "Phi-4-mini-instruct",
        "phi-4-mini-instruct",
        "phi-4-mini",
        "Phi-4-mini-instruct-generic-cpu",
    ]
    assert alias_candidates("fl-demo-fast-generic-cpu:1") == ["fl-demo-fast", "fl-demo-fast-generic-cpu"]
    assert alias_candidates("phi-4-mini") == ["phi-4-mini"]


def test_version_and_device_helpers():
    assert strip_version("tiny-chat-generic-cpu:1") == "tiny-chat-generic-cpu"
    assert strip_version("tiny-chat") == "tiny-chat"
    assert device_from_id("Phi-4-mini-instruct-qnn-npu:2") == "NPU"
    assert device_from_id("phi-4-mini") is None


# -- the mapping in use, against the current service's routes --------------------------------------------------------

VARIANTS = ["fl-demo-fast-generic-cpu:1", "Phi-4-mini-instruct-generic-gpu:5", "Phi-4-mini-instruct-generic-cpu:4"]
# The variant the service picks for an alias (here the CPU one for phi-4-mini, e.g. on a box without a GPU).
PICKS = {"fl-demo-fast": VARIANTS[0], "phi-4-mini": VARIANTS[2], "mistral-7b-v0.2": "mistralai-Mistral-7B-v0-2-cpu:2"}


class FakeCurrentService:
    def __init__(self):
        self.loaded: list[str] = []
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path == "/status":
            return httpx.Response(200, json={"endpoints": [BASE], "modelCachePath": "/cache", "pid": 4242})
        if path == "/models/loaded":
            return httpx.Response(200, json=self.loaded)
        if path == "/v1/models":
            data = [{"id": v, "object": "model", "created": 0, "owned_by": "Microsoft"} for v in VARIANTS]
            return httpx.Response(200, json={"object": "list", "data": data})
        for route in ("/models/load/", "/models/unload/"):
            if path.startswith(route):
                alias = path.removeprefix(route)
                if alias not in PICKS:
                    err = {"code": None, "message": f"Model not found: No model matching '{alias}'", "param": None}
                    return httpx.Response(404, json={"error": {**err, "type": "invalid_request_error"}})
                variant = PICKS[alias]
                if route == "/models/load/":
                    state = "already_loaded" if variant in self.loaded else "loaded"
                    self.loaded = [*dict.fromkeys([*self.loaded, variant])]
                else:
                    state = "unloaded" if variant in self.loaded else "not_loaded"
                    self.loaded = [v for v in self.loaded if v != variant]
                return httpx.Response(200, json={"status": state})
        # The real answer of the service's web server (oatpp) for an unknown route.
        text = "server=oatpp/1.3.0\ncode=404\ndescription=Not Found\n"
        text += f"message=No mapping for HTTP-method: 'GET', URL: '{path}'"
        return httpx.Response(404, text=text)


class StubCli:
    """Stands in for FoundryCli: a catalog whose alias the heuristic could never guess."""

    def list_models(self) -> list[ModelEntry]:
        return [ModelEntry(id="mistralai-Mistral-7B-v0-2-cpu:2", alias="mistral-7b-v0.2")]

    def list_cached(self) -> list[ModelEntry]:
        return []


def service_backend(fake: FakeCurrentService, cli=None) -> FoundryServiceBackend:
    client = httpx.Client(transport=httpx.MockTransport(fake))
    return FoundryServiceBackend(BASE, client=client, cli=cli, detect_cli=False)


def test_load_maps_an_id_to_its_alias():
    fake = FakeCurrentService()
    service_backend(fake).load("fl-demo-fast-generic-cpu:1")
    assert "/models/load/fl-demo-fast" in fake.paths
    assert fake.loaded == ["fl-demo-fast-generic-cpu:1"]


def test_load_tries_the_next_guess_after_a_404():
    fake = FakeCurrentService()
    fl = service_backend(fake)
    fl.load("Phi-4-mini-instruct-generic-cpu:4")
    loads = [p for p in fake.paths if p.startswith("/models/load/")]
    assert loads == ["/models/load/Phi-4-mini-instruct", "/models/load/phi-4-mini-instruct", "/models/load/phi-4-mini"]
    assert fake.loaded == ["Phi-4-mini-instruct-generic-cpu:4"]
    assert fl.resolve("phi-4-mini").id == "Phi-4-mini-instruct-generic-cpu:4"  # the alias that worked is remembered


def test_load_checks_that_the_requested_variant_is_the_one_loaded():
    with pytest.raises(BackendError, match="picks the variant of an alias itself"):
        service_backend(FakeCurrentService()).load("Phi-4-mini-instruct-generic-gpu:5")


def test_an_unknown_model_surfaces_the_service_message():
    with pytest.raises(BackendError, match="Model not found: No model matching 'nothing-here-generic-cpu'"):
        service_backend(FakeCurrentService()).load("nothing-here-generic-cpu:1")


def test_the_cli_catalog_alias_wins_over_the_heuristic():
    fake = FakeCurrentService()
    service_backend(fake, cli=StubCli()).load("mistralai-Mistral-7B-v0-2-cpu:2")
    assert [p for p in fake.paths if p.startswith("/models/load/")] == ["/models/load/mistral-7b-v0.2"]


def test_unload_maps_the_id_too():
    fake = FakeCurrentService()
    fl = service_backend(fake)
    fl.load("fl-demo-fast")
    assert fl.unload_all() == ["fl-demo-fast-generic-cpu:1"]
    assert "/models/unload/fl-demo-fast" in fake.paths
    assert fake.loaded == []


def test_a_missing_route_is_reported_without_trying_other_aliases():
    fake = FakeCurrentService()
    fl = service_backend(fake)
    fl.base_url += "/no-such-prefix"  # every route now misses
    with pytest.raises(BackendError, match="HTTP 404: No mapping for HTTP-method: 'GET', URL: '/no-such-prefix/models"):
        fl.load("Phi-4-mini-instruct-generic-cpu:4")
    assert len(fake.paths) == 1


def test_no_ttl_and_no_cli_routes_are_reported():
    fl = service_backend(FakeCurrentService())
    caps = fl.capabilities
    assert set(caps) == set(Capability)
    assert caps[Capability.CATALOG] == caps[Capability.DOWNLOAD] == NO_ROUTE
    with pytest.raises(Unsupported):
        fl.load("fl-demo-fast", ttl_s=600)


def test_status_and_model_list():
    fake = FakeCurrentService()
    fl = service_backend(fake)
    fl.load("fl-demo-fast")
    status = fl.status()
    assert (status.generation, status.cache_path) == ("current", "/cache")
    assert status.loaded == ["fl-demo-fast-generic-cpu:1"]
    models = {m.id: m for m in fl.list_models()}
    assert list(models) == VARIANTS
    assert models["fl-demo-fast-generic-cpu:1"].loaded is True
    assert models["Phi-4-mini-instruct-generic-gpu:5"].alias == "Phi-4-mini-instruct"  # heuristic without a CLI
    assert models["Phi-4-mini-instruct-generic-gpu:5"].device == "GPU"
