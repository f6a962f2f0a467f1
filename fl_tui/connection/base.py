"""The one interface every backend implements, and the plain data it returns.

Backends differ a lot (an in-process runtime, two generations of the Foundry Local service, any
OpenAI-compatible server), so each says which capabilities it has and why it lacks the others; the UI
greys out what is missing instead of failing late. Methods block: the UI calls them from thread workers.
"""

from __future__ import annotations

import difflib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from fl_tui.connection.model_folder import folder_context
from fl_tui.connection.process import Listener
from fl_tui.core.redact import redact_url


class Capability(StrEnum):
    STATUS = "status"
    CATALOG = "catalog"
    CACHED = "cached"
    LOADED = "loaded"
    DOWNLOAD = "download"
    LOAD = "load"
    LOAD_TTL = "load_ttl"
    UNLOAD = "unload"
    REMOVE = "remove"
    REGISTER = "register"
    CHAT = "chat"


class CatalogState(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"
    NONE = "none"  # the backend has no catalog at all


class ModelSource(StrEnum):
    CATALOG = "catalog"  # the public catalog
    LOCAL = "local"  # a registered folder
    SERVER = "server"  # listed by an endpoint


CATALOG_UNREACHABLE_MESSAGE = "catalog unreachable: showing cached and local models"


class BackendError(Exception):
    """A failure the user can act on (unreachable endpoint, unknown model, refused operation)."""


class Unsupported(BackendError):
    """The backend cannot do this; the message says why."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model variant as the UI and the reports see it, whatever backend it came from (slots: a catalog of
    300,000 entries costs a third of the memory)."""

    id: str
    alias: str
    device: str | None = None
    execution_provider: str | None = None
    task: str | None = None
    size_mb: float | None = None
    license: str | None = None
    tool_calling: bool | None = None
    cached: bool = False
    loaded: bool = False
    source: ModelSource = ModelSource.CATALOG
    display_name: str | None = None
    publisher: str | None = None
    path: str | None = None
    disk_bytes: int | None = None
    ttl_s: int | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Status:
    endpoint: str | None
    backend: str  # "embedded", "foundry-service", "openai"
    generation: str | None  # "sdk-2.x", "current", "legacy", None
    cache_path: str | None
    loaded: list[str]
    catalog: CatalogState
    detail: str = ""


ProgressCallback = Callable[[float], None]  # percent 0..100


class Backend(ABC):
    """A connection to something that runs models. Unsupported operations raise `Unsupported`."""

    kind: str = "?"
    in_process = False  # the models run in this process, and stop with it

    @property
    @abstractmethod
    def capabilities(self) -> dict[Capability, str | None]:
        """Every capability mapped to None when available, or to the reason it is not."""

    def supports(self, cap: Capability) -> bool:
        return self.capabilities.get(cap, "not supported") is None

    def require(self, cap: Capability) -> None:
        reason = self.capabilities.get(cap, "not supported")
        if reason is not None:
            raise Unsupported(f"{self.kind}: cannot {cap.value}: {reason}")

    @property
    @abstractmethod
    def inference_url(self) -> str:
        """Base URL of the OpenAI-compatible API, ending in /v1."""

    @abstractmethod
    def status(self) -> Status: ...

    def settle(self, timeout_s: float) -> None:
        """Wait, at most `timeout_s`, for facts still being fetched in the background (a catalog), so that a
        one-shot command reports what the app's header settles on, not a passing "unknown". Most backends
        fetch nothing in the background: they return at once."""
        return

    @abstractmethod
    def list_models(self) -> list[ModelEntry]:
        """Everything known: catalog variants (when reachable), cached, local and loaded models, merged by id."""

    def list_cached(self) -> list[ModelEntry]:
        self.require(Capability.CACHED)
        return [m for m in self.list_models() if m.cached]

    def list_loaded(self) -> list[ModelEntry]:
        self.require(Capability.LOADED)
        return [m for m in self.list_models() if m.loaded]

    def download(
        self, name: str, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> None:
        self.require(Capability.DOWNLOAD)
        raise NotImplementedError

    def load(self, name: str, ttl_s: int | None = None) -> None:
        self.require(Capability.LOAD)
        raise NotImplementedError

    def unload(self, name: str) -> None:
        self.require(Capability.UNLOAD)
        raise NotImplementedError

    def unload_all(self) -> list[str]:
        """Unload every loaded model; returns their ids."""
        ids = [m.id for m in self.list_loaded()]
        for model_id in ids:
            self.unload(model_id)
        return ids

    def remove(self, name: str) -> None:
        self.require(Capability.REMOVE)
        raise NotImplementedError

    def register(self, folder: Path, model_id: str | None = None, alias: str | None = None) -> ModelEntry:
        self.require(Capability.REGISTER)
        raise NotImplementedError

    def context_length(self, entry: ModelEntry) -> int | None:
        """The model's context in tokens, which a request's prompt and answer share: what its folder's
        genai_config.json says, where the backend knows the folder on this machine (the embedded runtime, a
        service on loopback, as `fl-tui bench` from the app reaches the app's runtime); else None, and the server
        decides."""
        return folder_context(Path(entry.path)) if entry.path else None

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """What this backend talks to, as a URL with any credentials in it: print `shown_endpoint` instead."""

    @property
    def shown_endpoint(self) -> str:
        return redact_url(self.endpoint) or self.endpoint

    def host(self) -> Listener:
        """The local process that runs the models (for memory and CPU figures), or why it cannot be known."""
        return Listener(None, "unknown for this kind of server")

    def host_pid(self) -> int | None:
        return self.host().pid

    def resolve(self, name: str) -> ModelEntry:
        """An alias or a full id to one known variant; unknown names raise with the closest names."""
        return resolve_name(name, self.list_models())

    def close(self) -> None:  # noqa: B027 - most backends hold nothing that needs releasing
        """Release connections and stop anything this backend started."""

    def close_for_exit(self) -> bool:
        """Close when the process ends right after: True if something was left for the process's end to drop,
        which it must then do with os._exit (see fl_tui.cli.main.entry). Most backends just close."""
        self.close()
        return False

    def start_stages(self) -> dict[str, float]:
        """Seconds the steps of opening this backend took, for `--debug`; most have no steps worth naming."""
        return {}


class UnknownModel(BackendError):
    def __init__(self, name: str, known: list[str]):
        close = difflib.get_close_matches(name, known, n=4, cutoff=0.4)
        hint = ""
        if close:
            hint = f"; close names: {', '.join(close)}"
        elif known:
            hint = f"; known: {', '.join(known[:6])}"
        super().__init__(f"unknown model '{name}'{hint}")
        self.name = name
        self.close = close


def resolve_name(name: str, models: list[ModelEntry]) -> ModelEntry:
    """Exact id, then alias (preferring a loaded, then a cached variant, then catalog order); then ignoring case."""
    for match in (lambda s: s, str.casefold):
        wanted = match(name)
        by_id = [m for m in models if match(m.id) == wanted]
        if by_id:
            return by_id[0]
        by_alias = [m for m in models if match(m.alias) == wanted]
        if by_alias:
            return sorted(by_alias, key=lambda m: (not m.loaded, not m.cached))[0]
    known = sorted({m.alias for m in models} | {m.id for m in models})
    raise UnknownModel(name, known)
