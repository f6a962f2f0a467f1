"""The legacy Foundry Local service (`foundry service …`, CLI <= 0.8, Windows only).

Everything goes over HTTP (the routes are listed in docs/models.md, "Which endpoint fl-tui talks to"): status `GET
/openai/status`, catalog `GET /foundry/list`, cached `GET /openai/models`, loaded `GET /openai/loadedmodels`, load
and unload `GET /openai/load|unload/{name}`, cache folder `GET /foundry/cache`, and a streamed `POST
/openai/download`. Removing a model has no route (the `foundry` CLI does it when it is on PATH); registering a
folder is not possible."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

import httpx

from fl_tui.connection.base import (
    CATALOG_UNREACHABLE_MESSAGE,
    BackendError,
    Capability,
    CatalogState,
    ModelEntry,
    ModelSource,
    ProgressCallback,
    Status,
)
from fl_tui.connection.bounded import lines_capped, read_capped
from fl_tui.connection.endpoint import unreachable
from fl_tui.connection.foundry_cli import PERCENT, FoundryCli
from fl_tui.connection.http import FoundryHttpBackend, error_message, first_line, id_list
from fl_tui.connection.ids import strip_version
from fl_tui.core.limits import ERROR_BODY_MAX, LINE_MAX
from fl_tui.core.textsafe import whole_unicode

NOT_DOWNLOADED = "No OpenAIService provider found for modelName"
NO_REMOVE = "the legacy service has no route to remove a model; install the foundry CLI"
NO_REGISTER = "the legacy service cannot register folders"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return whole_unicode(value) if isinstance(value, str) and value else None


def catalog_entry(raw: dict, *, cached: bool = False, loaded: bool = False) -> ModelEntry | None:
    """One `/foundry/list` entry; every field but `name` may be missing. None when there is no name."""
    name = _text(raw.get("name"))
    if name is None:
        return None
    runtime = raw.get("runtime") if isinstance(raw.get("runtime"), dict) else {}
    tools = raw.get("supportsToolCalling")
    device = _text(runtime.get("deviceType"))
    return ModelEntry(
        id=name,
        alias=_text(raw.get("alias")) or name,
        device=device.upper() if device else None,
        execution_provider=_text(runtime.get("executionProvider")),
        task=_text(raw.get("task")),
        size_mb=_number(raw.get("fileSizeMb")),
        license=_text(raw.get("license")),
        tool_calling=tools if isinstance(tools, bool) else None,
        cached=cached,
        loaded=loaded,
        source=ModelSource.CATALOG,
        display_name=_text(raw.get("displayName")),
        publisher=_text(raw.get("publisher")),
        extra={"catalog": raw},
    )


class _Ids:
    """Ids as the service lists them, matched with or without the `:version` suffix."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        self._names = {strip_version(i) for i in ids}

    def __contains__(self, model_id: str) -> bool:
        return model_id in self.ids or strip_version(model_id) in self._names


class LegacyServiceBackend(FoundryHttpBackend):
    def __init__(
        self,
        base_url: str,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        cli: FoundryCli | None = None,
        *,
        detect_cli: bool = True,
        download_read_timeout: float = 300.0,
    ):
        super().__init__(base_url, client, timeout, cli, detect_cli=detect_cli)
        self.download_read_timeout = download_read_timeout

    @property
    def capabilities(self) -> dict[Capability, str | None]:
        caps: dict[Capability, str | None] = {c: None for c in Capability}
        caps[Capability.REMOVE] = None if self.cli is not None else NO_REMOVE
        caps[Capability.REGISTER] = NO_REGISTER
        if self._catalog_state is CatalogState.UNREACHABLE:
            caps[Capability.DOWNLOAD] = CATALOG_UNREACHABLE_MESSAGE
        return caps

    # -- status and lists ---------------------------------------------------------------------------------------

    def cache_location(self) -> str | None:
        body = self._get_json("/foundry/cache")
        location = body.get("location") if isinstance(body, dict) else None
        return location if isinstance(location, str) else None

    def _cached_ids(self) -> list[str]:
        return id_list(self._get_json("/openai/models"), "GET /openai/models")

    def _loaded_ids(self) -> list[str]:
        return id_list(self._get_json("/openai/loadedmodels"), "GET /openai/loadedmodels")

    def status(self) -> Status:
        body = self._get_json("/openai/status")
        if not isinstance(body, dict):
            raise BackendError(f"GET /openai/status: expected a JSON object, got {type(body).__name__}")
        cache = _text(body.get("modelDirPath")) or self.cache_location()
        endpoints = body.get("endpoints") if isinstance(body.get("endpoints"), list) else []
        details = [f"serving {', '.join(str(e) for e in endpoints)}"] if endpoints else []
        details += [self._catalog_note] if self._catalog_note else []
        return Status(
            endpoint=self.shown_endpoint,
            backend=self.kind,
            generation="legacy",
            cache_path=cache,
            loaded=sorted(self._loaded_ids()),
            catalog=self._catalog_state,
            detail="; ".join(details),
        )

    def _catalog(self) -> list[dict]:
        """The raw catalog; an HTTP error or an empty list marks it unreachable (cached and loaded still show)."""
        resp = self._request("GET", "/foundry/list")
        if resp.is_error:
            self._catalog_state = CatalogState.UNREACHABLE
            self._catalog_note = f"{CATALOG_UNREACHABLE_MESSAGE} (GET /foundry/list: {error_message(resp)})"
            return []
        body = self._json(resp, "GET /foundry/list")
        if not isinstance(body, list):
            raise BackendError(f"GET /foundry/list: expected a JSON array, got {type(body).__name__}")
        raws = [r for r in body if isinstance(r, dict)]
        self._catalog_state = CatalogState.OK if raws else CatalogState.UNREACHABLE
        self._catalog_note = "" if raws else CATALOG_UNREACHABLE_MESSAGE
        return raws

    def list_models(self) -> list[ModelEntry]:
        raws = self._catalog()
        cached = _Ids(self._cached_ids())
        loaded = _Ids(self._loaded_ids())
        out: list[ModelEntry] = []
        for raw in raws:
            name = _text(raw.get("name")) or ""
            entry = catalog_entry(raw, cached=name in cached, loaded=name in loaded)
            if entry is not None:
                out.append(entry)
        known = _Ids([m.id for m in out])
        for model_id in dict.fromkeys([*cached.ids, *loaded.ids]):
            if model_id not in known:
                flags = {"cached": model_id in cached, "loaded": model_id in loaded}
                out.append(ModelEntry(id=model_id, alias=model_id, source=ModelSource.SERVER, **flags))
        return out

    # -- load / unload --------------------------------------------------------------------------------------------

    def _variant(self, name: str) -> ModelEntry:
        """An alias or an id to the catalog variant (or the cached/loaded id) the service knows it by."""
        return self.resolve(name)

    def load(self, name: str, ttl_s: int | None = None) -> None:
        self.require(Capability.LOAD)
        model_id = self._variant(name).id
        params = {"ttl": str(ttl_s)} if ttl_s is not None else {}
        resp = self._request("GET", f"/openai/load/{quote(model_id, safe=':')}", params=params)
        if NOT_DOWNLOADED in resp.text:
            raise BackendError(f"{model_id} is not downloaded; download it first")
        self._check(resp, f"load {model_id}")

    def unload(self, name: str) -> None:
        self.require(Capability.UNLOAD)
        model_id = self._variant(name).id
        resp = self._request("GET", f"/openai/unload/{quote(model_id, safe=':')}", params={"force": "true"})
        self._check(resp, f"unload {model_id}")

    def unload_all(self) -> list[str]:
        self.require(Capability.UNLOAD)
        ids = self._loaded_ids()
        self._check(self._request("GET", "/openai/unloadall"), "unload all")
        return ids

    # -- download / remove ------------------------------------------------------------------------------------------

    def download(
        self, name: str, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> None:
        """Stream `POST /openai/download`, reporting each percentage; `cancel` is honoured at the next line."""
        self.require(Capability.DOWNLOAD)
        entry = self._variant(name)
        raw = entry.extra.get("catalog")
        if not isinstance(raw, dict):
            raise BackendError(f"download {entry.id}: it is not in the catalog, so there is nothing to download from")
        if not _text(raw.get("uri")) or not _text(raw.get("providerType")):
            raise BackendError(f"download {entry.id}: its catalog entry has no uri or providerType")
        body = {
            "model": {
                "Name": raw["name"],
                "Uri": raw["uri"],
                "ProviderType": f"{raw['providerType']}Local",
                "Publisher": raw.get("publisher"),
                "PromptTemplate": raw.get("promptTemplate") if isinstance(raw.get("promptTemplate"), dict) else {},
            },
            "token": None,
            "IgnorePipeReport": True,
        }
        timeout = httpx.Timeout(self.timeout, read=self.download_read_timeout)
        try:
            with self._client.stream("POST", self.base_url + "/openai/download", json=body, timeout=timeout) as resp:
                if resp.is_error:
                    body, _more = read_capped(resp, ERROR_BODY_MAX)
                    read = httpx.Response(resp.status_code, content=body, request=resp.request)
                    raise BackendError(f"download {entry.id}: HTTP {resp.status_code}: {error_message(read)}")
                result = self._read_download(resp, entry.id, progress, cancel)
        except httpx.TransportError as exc:
            raise unreachable(self.base_url, exc, self.timeout) from exc
        if result.get("success") is not True:
            message = result.get("errorMessage")
            raise BackendError(message if isinstance(message, str) and message else f"download {entry.id} failed")

    @staticmethod
    def _read_download(
        resp: httpx.Response, model_id: str, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> dict:
        result: dict | None = None
        last = -1.0
        for raw_line in lines_capped(resp, LINE_MAX, f"download {model_id}"):
            if cancel is not None and cancel.is_set():
                resp.close()
                raise BackendError("download cancelled")
            line = raw_line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    parsed = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BackendError(f"download {model_id}: unreadable result line {first_line(line, 80)!r}") from exc
                if isinstance(parsed, dict) and "success" in parsed:
                    result = parsed
                continue
            for match in PERCENT.finditer(line):
                last = float(match.group(1))
                if progress is not None:
                    progress(last)
        if cancel is not None and cancel.is_set():
            raise BackendError("download cancelled")
        if result is None:
            raise BackendError(f"download {model_id}: the service closed the stream without a result")
        if result.get("success") is True and last < 100.0 and progress is not None:
            progress(100.0)
        return result

    def remove(self, name: str) -> None:
        self.require(Capability.REMOVE)
        assert self.cli is not None  # guaranteed by the capability check
        self.cli.remove(self._variant(name).id)
