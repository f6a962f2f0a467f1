"""The default backend: Foundry Local's own runtime in this process (foundry-local-sdk 2.x).

Management goes through the SDK; inference through the runtime's built-in web service on a loopback port, so a
measurement takes the same HTTP path as against a remote box. Facts this relies on (measured on foundry-local-sdk
2.2; docs/models.md, "Offline", says what a user sees): offline, the first public-catalog access costs ~4.5 s and
unknown-id lookups as much again, so when the catalog is unreachable the runtime is pointed at its own port (an
instant 404 makes it fall back to its cache file); models loaded through the LOCAL catalog are invisible to the web
service, so every operation prefers the public-catalog object of a model; names are resolved against listings, never
by asking the runtime about an unknown id."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

from foundry_local_sdk import (
    CatalogType,
    Configuration,
    FoundryLocalException,
    FoundryLocalManager,
    LogLevel,
    ModelInfoBuilder,
)
from foundry_local_sdk import __version__ as sdk_version

from fl_tui.connection import servable
from fl_tui.connection.base import (
    CATALOG_UNREACHABLE_MESSAGE,
    Backend,
    BackendError,
    Capability,
    CatalogState,
    ModelEntry,
    ModelSource,
    ProgressCallback,
    Status,
)
from fl_tui.connection.catalog_probe import DEFAULT_CATALOG_URL, catalog_reachable
from fl_tui.connection.disk import dir_bytes
from fl_tui.connection.model_folder import folder_problem
from fl_tui.connection.process import Listener

CATALOG_WAIT_S = 0.25  # how long a listing waits for an online catalog fetch before showing what it has


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "model"


class EmbeddedBackend(Backend):
    kind = "embedded"
    in_process = True

    def __init__(
        self,
        *,
        cache_dir: Path,
        runtime_dir: Path,
        catalog: str = "auto",
        catalog_url: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        demo_models_dir: Path | None = None,
        debug: bool = False,
        web: bool = True,
    ) -> None:
        """`web=False` runs management only, for one-shot commands: no web service to start and stop (its
        native shutdown alone costs a second), and offline the catalog is read in cache-only mode."""
        if FoundryLocalManager.instance is not None:
            raise BackendError("the embedded runtime is already running in this process (one per process)")
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.notes: list[str] = []
        self._lock = threading.RLock()
        self._objects: dict[str, object] = {}
        self._catalog_done = threading.Event()
        self._stages: dict[str, float] = {}
        self._web = web
        port = port or free_port(host if host not in ("0.0.0.0", "::") else "127.0.0.1")
        online = self._probe_catalog(catalog, catalog_url or DEFAULT_CATALOG_URL)
        config = self._configuration(Path(runtime_dir), catalog_url or DEFAULT_CATALOG_URL, online, host, port,
                                     debug)
        self._start(config, demo_models_dir)
        if online:
            threading.Thread(target=self._fetch_catalog, name="catalog-fetch", daemon=True).start()
        else:
            self._catalog_done.set()

    def _probe_catalog(self, catalog: str, url: str) -> bool:
        """Whether the public catalog is used: as the settings say, or as a quick probe of `url` finds."""
        started = time.perf_counter()
        if catalog == "offline":
            online, why = False, "offline mode (settings)"
        elif catalog == "online":
            online, why = True, "online mode (settings)"
        else:
            online, why = catalog_reachable(url)
        self._stages["probe"] = time.perf_counter() - started
        self.catalog_reason = why
        self._catalog_state = CatalogState.UNKNOWN if online else CatalogState.UNREACHABLE
        return online

    def _configuration(self, runtime_dir: Path, url: str, online: bool, host: str, port: int,
                       debug: bool) -> Configuration:
        """The runtime's configuration. Offline, the catalog is the runtime's own web service's gallery route
        (fl-tui publishes the local models there), or none at all without the web service."""
        self_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        catalog_urls = [(url, None)] if online else [(f"http://{self_host}:{port}/asset-gallery/v1.0/models", None)]
        if self._web:
            web_config = Configuration.WebService(urls=f"http://{host}:{port}")
        else:
            web_config = Configuration.WebService(external_url="http://127.0.0.1:9") if not online else None
            catalog_urls = [(url, None)] if online else None
        return Configuration(
            app_name="fl-tui",
            app_data_dir=str(runtime_dir / "app"),
            model_cache_dir=str(self.cache_dir),
            logs_dir=str(runtime_dir / "logs"),
            log_level=LogLevel.WARNING if debug else LogLevel.FATAL,  # the native side writes to the terminal
            web=web_config,
            catalog_urls=catalog_urls,
            disable_nonessential_telemetry=True,
        )

    def _start(self, config: Configuration, demo_models_dir: Path | None) -> None:
        """The runtime, its catalogs, the local models published, and its web service; closed again if any of it
        fails, so a failed start leaves no runtime behind."""
        started = time.perf_counter()
        FoundryLocalManager.initialize(config)
        self._mgr = FoundryLocalManager.instance
        try:
            self._public = self._mgr.catalog
            self._local = self._mgr.get_catalog(CatalogType.LOCAL)
            self._stages["runtime"] = time.perf_counter() - started
            started = time.perf_counter()
            if demo_models_dir is not None:
                self._install_demo_models(Path(demo_models_dir))
            self._publish_local_models()  # before the first public-catalog access: it reads the cache index once
            self._served_ids = servable.published_ids(self.cache_dir)
            self._stages["local models"] = time.perf_counter() - started
            self._url = None
            if self._web:
                started = time.perf_counter()
                self._mgr.start_web_service()
                self._url = self._mgr.urls[0].replace("0.0.0.0", "127.0.0.1").rstrip("/")
                self._stages["web service"] = time.perf_counter() - started
        except BaseException:
            self._mgr.close()
            raise

    # -- start-up -----------------------------------------------------------------------------------------

    def _install_demo_models(self, root: Path) -> None:
        from fl_tui.demo.install import ensure_demo_models
        from fl_tui.demo.smollm2.convert import ensure_smollm2

        registered = {m.id for m in self._local.list_models()}
        for spec, folder in [*ensure_demo_models(root), *ensure_smollm2(root, self.notes)]:
            if spec.model_id not in registered:
                self._register_local(folder, spec.model_id, spec.alias, spec.description)

    def _register_local(self, folder: Path, model_id: str, alias: str, display_name: str | None = None):
        with ModelInfoBuilder() as md:
            md.set_string_property("task", "chat-completion")
            md.set_string_property("alias", alias)
            md.set_string_property("publisher", "local folder")
            md.set_string_property("display_name", display_name or alias)
            return self._local.register_model(str(folder), model_id, md)

    def _publish_local_models(self) -> None:
        for model in self._local.list_models():
            self._publish(model)

    def _publish(self, model) -> None:
        info, folder = model.info, Path(model.get_path())
        metadata = {
            "displayName": info.display_name,
            "publisher": info.publisher,
            "license": info.license,
            "fileSizeMb": round(dir_bytes(folder) / 2**20, 1),
        }
        try:
            servable.publish(
                self.cache_dir, folder, model.id, model.alias, info.task or "chat-completion",
                {k: v for k, v in metadata.items() if v is not None},
            )
        except (ValueError, OSError) as exc:
            self.notes.append(f"{model.id} is not servable over HTTP: {exc}")

    def _fetch_catalog(self) -> None:
        try:
            ids = {v.id for m in self._public.list_models() for v in m.variants}
        except FoundryLocalException as exc:
            self.notes.append(f"catalog fetch failed: {exc}")
            ids = set()
        except RuntimeError:
            if self._mgr is None:  # closed while fetching (a one-shot command that is done): nobody asks any more
                self._catalog_done.set()
                return
            raise
        # A failed fetch falls back to the cache index: only what we published is then visible.
        real = ids - servable.published_ids(self.cache_dir)
        self._catalog_state = CatalogState.OK if real else CatalogState.UNREACHABLE
        if self._catalog_state is CatalogState.UNREACHABLE:
            self.catalog_reason = "the catalog fetch failed"
        self._catalog_done.set()

    # -- Backend ------------------------------------------------------------------------------------------

    @property
    def capabilities(self) -> dict[Capability, str | None]:
        caps: dict[Capability, str | None] = {c: None for c in Capability}
        caps[Capability.LOAD_TTL] = "the in-process runtime keeps a model until it is unloaded"
        if self._catalog_state is CatalogState.UNREACHABLE:
            caps[Capability.DOWNLOAD] = CATALOG_UNREACHABLE_MESSAGE
        if not self._web:
            caps[Capability.CHAT] = "started without its web service (management only)"
        return caps

    @property
    def inference_url(self) -> str:
        self.require(Capability.CHAT)
        return f"{self._url}/v1"

    @property
    def endpoint(self) -> str:
        return self._url or "in-process (no web service)"

    def status(self) -> Status:
        detail = self.catalog_reason if self._catalog_state is not CatalogState.OK else ""
        return Status(
            endpoint=self.endpoint,
            backend=self.kind,
            generation=f"sdk-{sdk_version}",
            cache_path=str(self.cache_dir),
            loaded=sorted(self._loaded_ids()),
            catalog=self._catalog_state,
            detail="; ".join([detail, *self.notes]).strip("; "),
        )

    def settle(self, timeout_s: float) -> None:
        self._catalog_done.wait(timeout_s)

    def host(self) -> Listener:
        return Listener(os.getpid())

    def _public_ready(self) -> bool:
        return self._catalog_done.wait(CATALOG_WAIT_S)

    def _loaded_ids(self, public_ready: bool | None = None) -> set[str]:
        """`public_ready`: the caller's answer from _public_ready(), so one listing waits for the catalog once."""
        ids = {m.id for m in self._local.get_loaded_models()}
        if self._public_ready() if public_ready is None else public_ready:
            ids |= {m.id for m in self._public.get_loaded_models()}
        return ids

    def list_models(self) -> list[ModelEntry]:
        with self._lock:
            try:
                return self._list_models()
            except FoundryLocalException as exc:
                raise BackendError(f"runtime: {exc}") from exc

    def _list_models(self) -> list[ModelEntry]:
        objects: dict[str, object] = {}
        public_ready = self._public_ready()
        if public_ready:
            for model in self._public.list_models():
                for variant in model.variants:
                    objects.setdefault(variant.id, variant)
            for variant in self._public.get_cached_models():
                objects.setdefault(variant.id, variant)
        local_ids = set()
        for variant in self._local.list_models():
            local_ids.add(variant.id)
            objects.setdefault(variant.id, variant)  # the public object, when there is one, wins
        loaded = self._loaded_ids(public_ready)
        self._objects = objects
        return [self._entry(obj, loaded, local_ids) for obj in objects.values()]

    def _entry(self, v, loaded: set[str], local_ids: set[str]) -> ModelEntry:
        info = v.info
        runtime = info.runtime
        cached = bool(v.is_cached)
        path = v.get_path() if cached else None
        local = v.id in local_ids
        return ModelEntry(
            id=v.id,
            alias=v.alias,
            device=(runtime.device_type.value if runtime and runtime.device_type else None),
            execution_provider=(runtime.execution_provider or None) if runtime else None,
            task=info.task,
            size_mb=info.file_size_mb,
            license=info.license,
            tool_calling=info.supports_tool_calling,
            cached=cached,
            loaded=v.id in loaded,
            source=ModelSource.LOCAL if local else ModelSource.CATALOG,
            display_name=info.display_name,
            publisher=info.publisher,
            path=path,
            disk_bytes=dir_bytes(path) if path and os.path.isdir(path) else None,
            # The runtime reads its cache index once: a folder registered since start is served after a restart.
            extra={"served_over_http": (v.id in self._served_ids) if local else True, "version": info.version},
        )

    def _object(self, name: str):
        entry = self.resolve(name)
        with self._lock:
            return entry, self._objects[entry.id]

    def context_length(self, entry: ModelEntry) -> int | None:
        """What the model's folder says (what ONNX Runtime GenAI enforces), else the catalog's figure."""
        with self._lock:
            obj = self._objects.get(entry.id)
        return super().context_length(entry) or (obj.info.context_length if obj is not None else None) or None

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FoundryLocalException as exc:
            raise BackendError(f"{what}: {exc}") from exc

    def download(
        self, name: str, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> None:
        self.require(Capability.DOWNLOAD)
        entry, obj = self._object(name)
        if entry.cached:
            return
        cancel = cancel or threading.Event()
        try:
            obj.download(progress_callback=progress, cancel_event=cancel)
        except FoundryLocalException as exc:
            if obj.is_cached:  # never leave a half model marked as cached
                obj.remove_from_cache()
            raise BackendError("download cancelled" if cancel.is_set() else f"download {entry.id}: {exc}") from exc

    def load(self, name: str, ttl_s: int | None = None) -> None:
        if ttl_s is not None:
            self.require(Capability.LOAD_TTL)
        entry, obj = self._object(name)
        if not entry.cached:
            raise BackendError(f"{entry.id} is not downloaded; download it first")
        self._call(f"load {entry.id}", obj.load)

    def unload(self, name: str) -> None:
        entry, obj = self._object(name)
        self._call(f"unload {entry.id}", obj.unload)

    def remove(self, name: str) -> None:
        """A registered folder is unregistered (its files stay); a downloaded model is deleted from the cache."""
        entry, obj = self._object(name)
        if entry.loaded:
            self.unload(entry.id)
        if entry.source is ModelSource.LOCAL:
            local_obj = self._local.get_model_variant(entry.id)
            if local_obj is not None and local_obj.is_loaded:
                self._call(f"unload {entry.id}", local_obj.unload)
            self._call(f"unregister {entry.id}", self._local.unregister_model, entry.id)
            servable.unpublish(self.cache_dir, entry.id)
        elif entry.cached:
            self._call(f"remove {entry.id}", obj.remove_from_cache)
        else:
            raise BackendError(f"{entry.id} is not in the cache: nothing to remove")

    def register(self, folder: Path, model_id: str | None = None, alias: str | None = None) -> ModelEntry:
        folder = Path(folder).expanduser()
        problem = folder_problem(folder)
        if problem is not None:
            raise BackendError(problem)
        alias = alias or _slug(folder.name)
        model_id = model_id or f"{alias}:1"
        if not re.fullmatch(r"[^:\s]+:\d+", model_id):
            raise BackendError(f"model id must look like <name>:<version>, got {model_id!r}")
        if any(m.id == model_id for m in self._local.list_models()):
            raise BackendError(f"{model_id} is already registered")
        model = self._call(f"register {folder}", self._register_local, folder.resolve(), model_id, alias)
        self._publish(model)
        return self.resolve(model_id)

    def start_stages(self) -> dict[str, float]:
        return dict(self._stages)

    def close(self) -> None:
        mgr, self._mgr = getattr(self, "_mgr", None), None
        if mgr is not None:
            mgr.close()  # also stops the web service; a separate stop would cost another second natively

    def close_for_exit(self) -> bool:
        """Nothing: the process ends next with os._exit, and what the runtime's shutdown and release would do
        goes with it. Its shutdown drains sessions and unloads models (about 0.7 s with the web service), all of
        it memory and threads of this process; its release tears down its telemetry client (1DS), which spends
        about a second flushing and trying to upload its events (offline too) and writes nothing of ours. The
        cache index and registrations are written when they change, never at close; sockets and file locks go
        with the process. The caller asks only when nothing of its own is running (no download, no benchmark
        process using the web service). The process must end with os._exit: the SDK's atexit hook would
        otherwise do the release, and skipping it while the interpreter finalizes risks the native destructors'
        abort that the hook is there to prevent."""
        mgr, self._mgr = getattr(self, "_mgr", None), None
        return mgr is not None
