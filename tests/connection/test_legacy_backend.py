"""The legacy Foundry Local service and endpoint probing, against replayed wire formats.

The legacy service (`foundry service`, CLI <= 0.8) is Windows-only and cannot run on this Linux machine, so its
documented wire format (the legacy routes docs/models.md lists) is replayed here with `httpx.MockTransport`.
The current generation is tested against the real runtime elsewhere.
"""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest

from fl_tui.connection.base import CATALOG_UNREACHABLE_MESSAGE, BackendError, Capability, CatalogState
from fl_tui.connection.endpoint import normalize_endpoint
from fl_tui.connection.legacy import LegacyServiceBackend
from fl_tui.connection.probe import connect, detect

BASE = "http://127.0.0.1:5273"
CACHE_DIR = r"C:\Users\me\.foundry\cache\models"

PROMPT = {
    "system": "<|system|>{Content}<|end|>",
    "user": "<|user|>{Content}<|end|>",
    "assistant": "<|assistant|>{Content}<|end|>",
    "prompt": "<|user|>{Content}<|end|><|assistant|>",
}


def _full(name: str, device: str, ep: str, size: int, version: str) -> dict:
    return {
        "name": f"{name}:{version}",
        "displayName": name,
        "alias": "phi-4-mini",
        "modelType": "ONNX",
        "providerType": "AzureFoundry",
        "uri": f"azureml://registries/azureml/models/{name}/versions/{version}",
        "version": version,
        "promptTemplate": PROMPT,
        "publisher": "Microsoft",
        "task": "chat-completion",
        "runtime": {"deviceType": device, "executionProvider": ep},
        "fileSizeMb": size,
        "modelSettings": {"parameters": []},
        "supportsToolCalling": True,
        "license": "MIT",
        "licenseDescription": "This model is provided under the License Terms available at ...",
        "parentModelUri": "azureml://registries/azureml/models/Phi-4-mini-instruct/versions/1",
        "maxOutputTokens": 1024,
        "minFLVersion": "0.5.100",
    }


# Sorted NPU -> GPU -> CPU like the real list; the last entry has almost nothing (parse leniently).
CATALOG = [
    _full("Phi-4-mini-instruct-generic-gpu", "GPU", "WebGpuExecutionProvider", 3808, "5"),
    _full("Phi-4-mini-instruct-generic-cpu", "CPU", "CPUExecutionProvider", 4915, "4"),
    {"name": "qwen2.5-0.5b-instruct-generic-cpu:3", "alias": "qwen2.5-0.5b"},
    {"displayName": "an entry without a name is skipped"},
]
CPU_ID = "Phi-4-mini-instruct-generic-cpu:4"
GPU_ID = "Phi-4-mini-instruct-generic-gpu:5"
QWEN_ID = "qwen2.5-0.5b-instruct-generic-cpu:3"


class FakeLegacyService:
    """Answers the legacy routes; records every request."""

    def __init__(self, download_lines: list[str] | None = None):
        self.requests: list[httpx.Request] = []
        self.catalog: list | None = CATALOG
        self.cached = ["Phi-4-mini-instruct-generic-cpu", "my-own-model"]  # the service lists ids without version
        self.loaded = ["Phi-4-mini-instruct-generic-cpu"]
        self.download_lines = download_lines or []
        self.lines_sent: list[str] = []

    def _stream(self):
        for line in self.download_lines:
            self.lines_sent.append(line)
            yield (line + "\r\n").encode()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/openai/status":
            status = {"endpoints": [BASE], "modelDirPath": CACHE_DIR, "pipeName": "inference_agent"}
            return httpx.Response(200, json=status)
        if path == "/foundry/list":
            if self.catalog is None:
                return httpx.Response(500, text="Failed to fetch the catalog: No such host is known.")
            return httpx.Response(200, json=self.catalog)
        if path == "/openai/models":
            return httpx.Response(200, json=self.cached)
        if path == "/openai/loadedmodels":
            return httpx.Response(200, json=self.loaded)
        if path == "/foundry/cache":
            return httpx.Response(200, json={"location": CACHE_DIR})
        if path.startswith("/openai/load/"):
            name = path.removeprefix("/openai/load/")
            if name.split(":")[0] not in self.cached:
                return httpx.Response(500, text=f"No OpenAIService provider found for modelName {name}")
            return httpx.Response(200)
        if path.startswith("/openai/unload/") or path == "/openai/unloadall":
            return httpx.Response(200)
        if path == "/openai/download" and request.method == "POST":
            return httpx.Response(200, headers={"Content-Type": "text/plain"}, content=self._stream())
        return httpx.Response(404, text=f"No mapping for HTTP-method {request.method} {path}")


def backend(service: FakeLegacyService) -> LegacyServiceBackend:
    client = httpx.Client(transport=httpx.MockTransport(service))
    return LegacyServiceBackend(BASE, client=client, detect_cli=False)


# -- probing ---------------------------------------------------------------------------------------------------------


def _answering(routes: dict[str, httpx.Response]):
    def handler(request: httpx.Request) -> httpx.Response:
        return routes.get(request.url.path) or httpx.Response(404, text="Not Found")

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_detects_the_legacy_service():
    client = _answering({"/openai/status": httpx.Response(200, json={"endpoints": [BASE], "modelDirPath": "x"})})
    assert detect(BASE, client=client) == "legacy"


def test_detects_the_current_service():
    status = {"endpoints": [BASE], "modelCachePath": "/home/me/.foundry/cache", "pid": 1234}
    client = _answering({"/status": httpx.Response(200, json=status), "/v1/models": httpx.Response(200, json={})})
    assert detect(BASE + "/v1/", client=client) == "current"


def test_detects_a_plain_openai_server():
    models = {"object": "list", "data": [{"id": "llama", "object": "model", "created": 0, "owned_by": "me"}]}
    # A /status page without modelCachePath (some other server's) must not be taken for Foundry Local.
    routes = {"/status": httpx.Response(200, json={"ok": True}), "/v1/models": httpx.Response(200, json=models)}
    client = _answering(routes)
    assert detect(BASE, client=client) == "openai"


def test_a_server_without_v1_models_is_rejected():
    with pytest.raises(BackendError, match="not an OpenAI-compatible server"):
        detect(BASE, client=_answering({}))


def test_an_unreachable_port_fails_fast_with_the_tunnel_hint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(BackendError) as err:
        detect(url)
    assert url in str(err.value)
    assert "ssh -L" in str(err.value)


def test_connect_builds_the_legacy_backend():
    service = FakeLegacyService()
    client = httpx.Client(transport=httpx.MockTransport(service))
    made = connect(BASE, client=client)
    assert isinstance(made, LegacyServiceBackend)
    assert made.inference_url == BASE + "/v1"


@pytest.mark.parametrize(
    "typed",
    [
        "http://127.0.0.1:5273",
        "http://127.0.0.1:5273/",
        "http://127.0.0.1:5273/v1",
        "http://127.0.0.1:5273/v1/",
        "127.0.0.1:5273",
        "127.0.0.1:5273/v1",
        "  http://127.0.0.1:5273/v1  ",
    ],
)
def test_normalize_endpoint_accepts_both_forms(typed):
    assert normalize_endpoint(typed) == "http://127.0.0.1:5273"


def test_normalize_endpoint_keeps_https_and_a_path_prefix():
    assert normalize_endpoint("https://box.example/foundry/v1/") == "https://box.example/foundry"


@pytest.mark.parametrize("garbage", ["", "not a url", "ftp://127.0.0.1:5273", "http://", "http://host:99999", "http://h/?q=1"])
def test_normalize_endpoint_rejects_garbage(garbage):
    with pytest.raises(ValueError, match="expected an endpoint like http://"):
        normalize_endpoint(garbage)


# -- status and model lists --------------------------------------------------------------------------------


def test_every_capability_is_mapped():
    caps = backend(FakeLegacyService()).capabilities
    assert set(caps) == set(Capability)
    assert caps[Capability.LOAD_TTL] is None
    assert caps[Capability.REGISTER] == "the legacy service cannot register folders"
    assert "foundry CLI" in caps[Capability.REMOVE]  # no CLI given: removing is impossible, and says why


def test_status():
    status = backend(FakeLegacyService()).status()
    assert status.generation == "legacy"
    assert status.backend == "foundry-service"
    assert status.cache_path == CACHE_DIR
    assert status.loaded == ["Phi-4-mini-instruct-generic-cpu"]


def test_catalog_entries_are_parsed_leniently():
    models = {m.id: m for m in backend(FakeLegacyService()).list_models()}
    gpu = models[GPU_ID]
    assert (gpu.alias, gpu.device, gpu.execution_provider) == ("phi-4-mini", "GPU", "WebGpuExecutionProvider")
    assert (gpu.task, gpu.size_mb, gpu.license, gpu.tool_calling) == ("chat-completion", 3808.0, "MIT", True)
    assert (gpu.display_name, gpu.publisher, gpu.source) == ("Phi-4-mini-instruct-generic-gpu", "Microsoft", "catalog")
    qwen = models[QWEN_ID]
    assert qwen.alias == "qwen2.5-0.5b"
    assert (qwen.device, qwen.size_mb, qwen.tool_calling, qwen.license) == (None, None, None, None)


def test_cached_and_loaded_flags_match_ids_with_or_without_version():
    models = {m.id: m for m in backend(FakeLegacyService()).list_models()}
    assert (models[CPU_ID].cached, models[CPU_ID].loaded) == (True, True)
    assert (models[GPU_ID].cached, models[GPU_ID].loaded) == (False, False)
    own = models["my-own-model"]  # cached but not in the catalog: still listed
    assert (own.cached, own.loaded, own.source) == (True, False, "server")
    assert len(models) == 4


def test_an_alias_resolves_to_the_loaded_variant():
    assert backend(FakeLegacyService()).resolve("phi-4-mini").id == CPU_ID


def test_an_unreachable_catalog_still_lists_cached_and_loaded_models():
    service = FakeLegacyService()
    service.catalog = None
    fl = backend(service)
    ids = {m.id for m in fl.list_models()}
    assert ids == {"Phi-4-mini-instruct-generic-cpu", "my-own-model"}
    assert fl.status().catalog is CatalogState.UNREACHABLE
    assert fl.capabilities[Capability.DOWNLOAD] == CATALOG_UNREACHABLE_MESSAGE


# -- load / unload -----------------------------------------------------------------------------------------------------


def test_load_with_ttl_hits_the_load_route():
    service = FakeLegacyService()
    backend(service).load(CPU_ID, ttl_s=600)
    assert str(service.requests[-1].url) == f"{BASE}/openai/load/{CPU_ID}?ttl=600"


def test_loading_a_model_that_is_not_downloaded_says_so():
    with pytest.raises(BackendError) as err:
        backend(FakeLegacyService()).load(QWEN_ID)
    assert str(err.value) == f"{QWEN_ID} is not downloaded; download it first"


def test_unload_forces_and_unload_all_uses_its_route():
    service = FakeLegacyService()
    fl = backend(service)
    fl.unload(CPU_ID)
    assert str(service.requests[-1].url) == f"{BASE}/openai/unload/{CPU_ID}?force=true"
    assert fl.unload_all() == ["Phi-4-mini-instruct-generic-cpu"]
    assert service.requests[-1].url.path == "/openai/unloadall"


def test_an_unknown_model_names_the_close_ones():
    with pytest.raises(BackendError, match="phi-4-mini"):
        backend(FakeLegacyService()).load("phi-4-mni")


# -- download ----------------------------------------------------------------------------------------------

PROGRESS = [
    "Total 0.00% Downloading inference_model.json",
    "Total 12.50% Downloading model.onnx",
    "Total 45.67% Downloading model.onnx.data",
    "Total 100.00% Downloading model.onnx.data",
    "[DONE]",
    "All Completed",
]


def test_download_reports_progress_in_order_and_sends_the_documented_body():
    service = FakeLegacyService([*PROGRESS, json.dumps({"success": True, "errorMessage": None})])
    seen: list[float] = []
    backend(service).download(GPU_ID, progress=seen.append)
    assert seen == [0.0, 12.5, 45.67, 100.0]
    body = json.loads(service.requests[-1].content)
    assert body == {
        "model": {
            "Name": GPU_ID,
            "Uri": "azureml://registries/azureml/models/Phi-4-mini-instruct-generic-gpu/versions/5",
            "ProviderType": "AzureFoundryLocal",
            "Publisher": "Microsoft",
            "PromptTemplate": PROMPT,
        },
        "token": None,
        "IgnorePipeReport": True,
    }


def test_download_by_alias_picks_a_catalog_variant():
    service = FakeLegacyService([json.dumps({"success": True, "errorMessage": None})])
    seen: list[float] = []
    backend(service).download("phi-4-mini", progress=seen.append)
    assert json.loads(service.requests[-1].content)["model"]["Name"] == CPU_ID
    assert seen == [100.0]  # no percentage printed: success still ends at 100


def test_a_catalog_entry_without_uri_cannot_be_downloaded():
    with pytest.raises(BackendError, match="no uri or providerType"):
        backend(FakeLegacyService()).download(QWEN_ID)


def test_download_failure_raises_the_error_message():
    service = FakeLegacyService([PROGRESS[1], "[DONE]", json.dumps({"success": False, "errorMessage": "Disk full"})])
    with pytest.raises(BackendError) as err:
        backend(service).download(GPU_ID)
    assert str(err.value) == "Disk full"


def test_download_without_a_result_line_is_an_error():
    with pytest.raises(BackendError, match="without a result"):
        backend(FakeLegacyService(PROGRESS[:3])).download(GPU_ID)


def test_download_can_be_cancelled_mid_stream():
    service = FakeLegacyService([*PROGRESS, json.dumps({"success": True, "errorMessage": None})])
    cancel = threading.Event()
    seen: list[float] = []

    def progress(pct: float) -> None:
        seen.append(pct)
        if pct >= 12.5:
            cancel.set()

    with pytest.raises(BackendError) as err:
        backend(service).download(GPU_ID, progress=progress, cancel=cancel)
    assert str(err.value) == "download cancelled"
    assert seen == [0.0, 12.5]
    assert len(service.lines_sent) < len(service.download_lines)  # the stream was closed, not read to the end


def test_a_model_outside_the_catalog_cannot_be_downloaded():
    with pytest.raises(BackendError, match="not in the catalog"):
        backend(FakeLegacyService()).download("my-own-model")
