"""The current Foundry Local web service (`foundry server …`, CLI >= 0.10, and the SDK 2.x web service).

Over HTTP it offers status (`GET /status`), the loaded models (`GET /models/loaded`), every catalog variant the
runtime can see (`GET /v1/models`), and load/unload by ALIAS (`GET /models/load/{alias}`, `/models/unload/{alias}`;
a full variant id answers 404). It has no route for the catalog, the cache, downloads or removal: those go through
the `foundry` CLI when it is on PATH, and are reported missing otherwise.

Mind that the CLI manages the Foundry Local install of THIS machine: through an ssh tunnel the service is remote,
and the CLI's catalog and cache are not the service's.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from urllib.parse import quote

import httpx

from fl_tui.connection.base import (
    BackendError,
    Capability,
    CatalogState,
    ModelEntry,
    ModelSource,
    ProgressCallback,
    Status,
)
from fl_tui.connection.disk import with_cache_facts
from fl_tui.connection.http import FoundryHttpBackend, error_message, id_list
from fl_tui.connection.ids import device_from_id, strip_version
from fl_tui.connection.process import is_loopback

NO_ROUTE = "the current Foundry Local service has no HTTP route for this; install the foundry CLI"
NO_TTL = "the current Foundry Local service loads a model without a time-to-live"
NO_REGISTER = "neither the current Foundry Local service nor its CLI can register a folder"

# The device part Foundry puts at the end of a variant name: -generic-cpu, -cuda-gpu, -qnn-npu, -openvino-gpu, -npu...
_DEVICE_SUFFIX = re.compile(
    r"-(?:(?:generic|cuda|trt-?rtx|tensorrt|nvtensorrtrtx|openvino|qnn|vitis(?:ai)?|webgpu|dml|directml|rocm"
    r"|migraphx|coreml|metal)-)?(?:cpu|gpu|npu)$",
    re.IGNORECASE,
)


def alias_candidates(model_id: str) -> list[str]:
    """Aliases to try for a variant id, best guess first, for a service that loads by alias only.

    `Phi-4-mini-instruct-generic-cpu:1` -> `Phi-4-mini-instruct`, `phi-4-mini-instruct`, `phi-4-mini`,
    then the bare name itself (in case it was an alias that happens to end like a device). An alias maps to itself.
    The guesses are verified against `/models/loaded` after loading.
    """
    name = strip_version(model_id.strip())
    base = _DEVICE_SUFFIX.sub("", name) or name
    short = re.sub(r"-instruct$", "", base, flags=re.IGNORECASE)
    return list(dict.fromkeys([base, base.lower(), short.lower(), name]))


def alias_for_id(model_id: str) -> str:
    return alias_candidates(model_id)[0]


def _is_model_not_found(resp: httpx.Response) -> bool:
    """A 404 from the load route for an unknown alias is JSON; an unknown ROUTE is plain text ("No mapping…")."""
    if resp.status_code != 404:
        return False
    try:
        body = resp.json()
    except (ValueError, RecursionError):  # plain text: the route itself is missing, which other aliases won't fix
        return False
    return isinstance(body, dict) and "error" in body


class FoundryServiceBackend(FoundryHttpBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._aliases: dict[str, str] = {}  # variant id (and id without version) -> alias, from the CLI catalog

    @property
    def capabilities(self) -> dict[Capability, str | None]:
        caps: dict[Capability, str | None] = {c: None for c in Capability}
        caps[Capability.LOAD_TTL] = NO_TTL
        caps[Capability.REGISTER] = NO_REGISTER if self.cli is not None else NO_ROUTE
        if self.cli is None:
            for cap in (Capability.CATALOG, Capability.CACHED, Capability.DOWNLOAD, Capability.REMOVE):
                caps[cap] = NO_ROUTE
        return caps

    # -- status and lists -----------------------------------------------------------------------------------

    def _loaded_ids(self) -> list[str]:
        return id_list(self._get_json("/models/loaded"), "GET /models/loaded")

    def status(self) -> Status:
        body = self._get_json("/status")
        if not isinstance(body, dict):
            raise BackendError(f"GET /status: expected a JSON object, got {type(body).__name__}")
        loaded = self._loaded_ids()
        endpoints = body.get("endpoints") if isinstance(body.get("endpoints"), list) else []
        details = [f"pid {body['pid']}"] if body.get("pid") is not None else []
        details += [f"serving {', '.join(str(e) for e in endpoints)}"] if endpoints else []
        details += [self._catalog_note] if self._catalog_note else []
        cache = body.get("modelCachePath")
        return Status(
            endpoint=self.shown_endpoint,
            backend=self.kind,
            generation="current",
            cache_path=cache if isinstance(cache, str) else None,
            loaded=sorted(loaded),
            catalog=self._catalog_state,
            detail="; ".join(details),
        )

    def _cli_catalog(self) -> tuple[list[ModelEntry], set[str]]:
        """The CLI's catalog and cached ids; a CLI failure is recorded for status() and leaves both empty."""
        if self.cli is None:
            return [], set()
        try:
            catalog = self.cli.list_models()
            cached = {e.id for e in self.cli.list_cached()}
        except BackendError as exc:
            self._catalog_state = CatalogState.UNREACHABLE
            self._catalog_note = f"foundry CLI: {exc}"
            return [], set()
        self._catalog_state = CatalogState.OK if catalog else CatalogState.UNKNOWN
        self._catalog_note = ""
        for entry in catalog:
            self._aliases[entry.id] = self._aliases[strip_version(entry.id)] = entry.alias
        return catalog, cached

    def list_models(self) -> list[ModelEntry]:
        entries = self._list_models()
        if is_loopback(self.base_url):  # the service's cache folder is on this machine: read it
            cache = self._get_json("/status").get("modelCachePath")
            entries = with_cache_facts(entries, cache if isinstance(cache, str) else None)
        return entries

    def _list_models(self) -> list[ModelEntry]:
        server_ids = list(dict.fromkeys(self._server_model_ids()))
        loaded = set(self._loaded_ids())
        catalog, cached = self._cli_catalog()
        if self.cli is None:
            self._catalog_state = CatalogState.OK if server_ids else CatalogState.UNKNOWN
        loaded_names = {strip_version(i) for i in loaded}
        cached_names = {strip_version(i) for i in cached}
        by_id = {e.id: e for e in catalog} | {strip_version(e.id): e for e in catalog}

        def flags(model_id: str) -> dict:
            return {
                "loaded": model_id in loaded or strip_version(model_id) in loaded_names,
                "cached": model_id in cached or strip_version(model_id) in cached_names,
            }

        out: list[ModelEntry] = []
        seen: set[str] = set()
        for model_id in [*server_ids, *sorted(loaded)]:
            if model_id in seen:
                continue
            seen.add(model_id)
            known = by_id.get(model_id) or by_id.get(strip_version(model_id))
            if known is not None:
                seen.add(known.id)
                out.append(dataclasses.replace(known, id=model_id, **flags(model_id)))
            else:
                alias = self._aliases.get(model_id) or alias_for_id(model_id)
                device = device_from_id(model_id)
                out.append(ModelEntry(id=model_id, alias=alias, device=device, source=ModelSource.SERVER,
                                      **flags(model_id)))
        served = {strip_version(i) for i in seen}
        for entry in catalog:
            if entry.id not in seen and strip_version(entry.id) not in served:
                out.append(dataclasses.replace(entry, **flags(entry.id)))
        if self.cli is not None and self._catalog_state is not CatalogState.OK:
            # Keep cached models visible when the CLI catalog failed but its cache answered.
            extra = sorted(cached - seen)
            out += [ModelEntry(id=i, alias=alias_for_id(i), cached=True, source=ModelSource.CATALOG) for i in extra]
        return out

    # -- load / unload ----------------------------------------------------------------------------------------

    def _aliases_for(self, name: str) -> list[str]:
        known = self._aliases.get(name) or self._aliases.get(strip_version(name))
        if known is None and self.cli is not None and not self._aliases and alias_for_id(name) != name:
            self._cli_catalog()
            known = self._aliases.get(name) or self._aliases.get(strip_version(name))
        guesses = alias_candidates(name)
        return list(dict.fromkeys([known, *guesses] if known else guesses))

    def _by_alias(self, name: str, route: str, accepted: tuple[str, ...]) -> str:
        """GET /models/{route}/{alias} for the first alias the service knows; returns that alias."""
        tried: list[str] = []
        last = ""
        for alias in self._aliases_for(name):
            resp = self._request("GET", f"/models/{route}/{quote(alias, safe='')}")
            if _is_model_not_found(resp):
                tried.append(alias)
                last = error_message(resp)
                continue
            what = f"{route} {alias}"
            body = self._json(self._check(resp, what), what)
            state = body.get("status") if isinstance(body, dict) else None
            if state not in accepted:
                raise BackendError(f"{what}: unexpected answer {str(body)[:120]!r}")
            return alias
        raise BackendError(f"{route} {name}: {last or 'model not found'} (tried alias {', '.join(tried)})")

    def load(self, name: str, ttl_s: int | None = None) -> None:
        self.require(Capability.LOAD)
        if ttl_s is not None:
            self.require(Capability.LOAD_TTL)
        alias = self._by_alias(name, "load", ("loaded", "already_loaded"))
        loaded = self._loaded_ids()
        if alias_for_id(name) != name:  # a full variant id: that very variant must now be loaded
            if name in loaded or strip_version(name) in {strip_version(i) for i in loaded}:
                self._aliases[name] = self._aliases[strip_version(name)] = alias  # remember the guess that worked
                return
            raise BackendError(
                f"load {name}: the service loaded alias '{alias}', but /models/loaded lists "
                f"{', '.join(loaded) or 'nothing'}; the current service picks the variant of an alias itself"
            )
        if not any(alias in self._aliases_for(i) for i in loaded):
            raise BackendError(f"load {alias}: the service said loaded, but /models/loaded does not list it")

    def unload(self, name: str) -> None:
        self.require(Capability.UNLOAD)
        self._by_alias(name, "unload", ("unloaded", "not_loaded"))
        if alias_for_id(name) != name and name in self._loaded_ids():
            raise BackendError(f"unload {name}: it is still listed by /models/loaded")

    def unload_all(self) -> list[str]:
        self.require(Capability.UNLOAD)
        ids = self._loaded_ids()
        for model_id in ids:
            self.unload(model_id)
        return ids

    # -- through the CLI ----------------------------------------------------------------------------------------

    def download(
        self, name: str, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> None:
        self.require(Capability.DOWNLOAD)
        assert self.cli is not None  # guaranteed by the capability check
        self.cli.download(name, progress, cancel)

    def remove(self, name: str) -> None:
        self.require(Capability.REMOVE)
        assert self.cli is not None
        self.cli.remove(name)
