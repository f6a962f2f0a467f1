"""What the Models table shows: rows from model entries, filtered, sorted, and grouped by alias. Headless."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fl_tui.connection.base import Capability, ModelEntry, ModelSource
from fl_tui.core.textsafe import plain

DEVICE_ORDER = {"NPU": 0, "GPU": 1, "CPU": 2}  # the catalog's preference order for the variants of an alias


def size_text(entry: ModelEntry) -> str:
    if entry.disk_bytes is not None:
        return f"{entry.disk_bytes / 2**20:,.1f} MB"
    return f"{entry.size_mb:,.0f} MB" if entry.size_mb is not None else "-"


def capabilities(entry: ModelEntry, specs: dict) -> list[str]:
    spec = specs.get(entry.id) or specs.get(entry.alias)
    return list(getattr(spec, "capabilities", []) or []) if spec else []


def loaded_text(entry: ModelEntry) -> str:
    if not entry.loaded:
        return ""
    return f"● {entry.ttl_s}s" if entry.ttl_s is not None else "●"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    text: Callable[[ModelEntry, dict], str]
    sort: Callable[[ModelEntry, dict], object]


def _tools(e: ModelEntry) -> str:
    return {True: "yes", False: "no", None: "-"}[e.tool_calling]


COLUMNS = (
    Column("alias", "Alias", lambda e, s: e.alias, lambda e, s: (e.alias.casefold(), DEVICE_ORDER.get(e.device, 3))),
    Column("id", "Variant", lambda e, s: e.id, lambda e, s: e.id.casefold()),
    Column("device", "Dev", lambda e, s: e.device or "-", lambda e, s: DEVICE_ORDER.get(e.device, 3)),
    Column("ep", "Provider", lambda e, s: e.execution_provider or "-", lambda e, s: e.execution_provider or ""),
    Column("task", "Task", lambda e, s: e.task or "-", lambda e, s: e.task or ""),
    Column("size", "Size", lambda e, s: size_text(e), lambda e, s: e.disk_bytes or (e.size_mb or 0) * 2**20),
    Column("license", "License", lambda e, s: e.license or "-", lambda e, s: (e.license or "").casefold()),
    Column("tools", "Tools", lambda e, s: _tools(e), lambda e, s: _tools(e)),
    Column("cached", "Cached", lambda e, s: "✓" if e.cached else "", lambda e, s: not e.cached),
    Column("loaded", "Loaded", lambda e, s: loaded_text(e), lambda e, s: not e.loaded),
    Column("caps", "Capabilities", lambda e, s: ",".join(capabilities(e, s)), lambda e, s: capabilities(e, s)),
)


def matches(entry: ModelEntry, specs: dict, query: str) -> bool:
    if not query:
        return True
    words = [entry.alias, entry.id, entry.device, entry.execution_provider, entry.task, entry.license,
             *capabilities(entry, specs), "cached" if entry.cached else "", "loaded" if entry.loaded else ""]
    hay = " ".join(w for w in words if w).casefold()
    return all(word in hay for word in query.casefold().split())


def rows(entries: list[ModelEntry], specs: dict, *, sort_key: str = "alias", reverse: bool = False,
         query: str = "") -> list[tuple[str, list[str]]]:
    """(model id, cell texts) for each shown model. Sorted by alias, the variants of one alias are grouped:
    the alias is shown on the first and a tree mark on the others."""
    column = next(c for c in COLUMNS if c.key == sort_key)
    shown = [e for e in entries if matches(e, specs, query)]
    shown.sort(key=lambda e: column.sort(e, specs), reverse=reverse)
    out, previous = [], None
    for e in shown:
        cells = [plain(c.text(e, specs), keep_newlines=False) for c in COLUMNS]
        if sort_key == "alias" and e.alias == previous:
            cells[0] = "  └"
        previous = e.alias
        out.append((e.id, cells))
    return out


def details(entry: ModelEntry, specs: dict) -> list[tuple[str, str]]:
    """Every known fact about one model, as label/value pairs, for the details pane."""
    spec = specs.get(entry.id) or specs.get(entry.alias)
    pairs = [
        ("alias", entry.alias), ("variant", entry.id), ("display name", entry.display_name),
        ("publisher", entry.publisher), ("device", entry.device), ("execution provider", entry.execution_provider),
        ("task", entry.task), ("catalog size", f"{entry.size_mb:g} MB" if entry.size_mb is not None else None),
        ("on disk", f"{entry.disk_bytes / 2**20:,.1f} MB" if entry.disk_bytes is not None else None),
        ("cache path", entry.path), ("license", entry.license), ("tool calling", _tools(entry)),
        ("cached", "yes" if entry.cached else "no"), ("loaded", "yes" if entry.loaded else "no"),
        ("source", {ModelSource.LOCAL: "registered local folder", ModelSource.CATALOG: "catalog",
                    ModelSource.SERVER: "listed by the server"}.get(
            entry.source, entry.source)),
        ("capabilities", ", ".join(capabilities(entry, specs)) or None),
    ]
    if entry.source is ModelSource.LOCAL:
        served = entry.extra.get("served_over_http")
        pairs.append(("served over HTTP", "yes" if served else "from the next start"))
    if spec is not None:
        extra = {k: v for k, v in spec.model_dump().items() if k != "capabilities" and v is not None}
        pairs += [(f"models.json {k}", str(v)) for k, v in extra.items()]
    return [(k, plain(v)) for k, v in pairs if v not in (None, "")]


def removal_lines(entry: ModelEntry) -> list[str]:
    """What removing `entry` does, for the confirmation."""
    if entry.source is ModelSource.LOCAL:
        lines = [f"unregister {entry.id}", f"its folder stays on disk: {entry.path or '?'}"]
    else:
        size = f" ({entry.disk_bytes / 2**20:,.1f} MB)" if entry.disk_bytes else ""
        lines = [f"delete {entry.id} from the cache{size}", f"files under {entry.path or '?'}"]
    return lines + (["it is loaded: it will be unloaded first"] if entry.loaded else [])


ACTION_CAPS = {
    "load": Capability.LOAD,
    "unload": Capability.UNLOAD,
    "unload_all": Capability.UNLOAD,
    "download": Capability.DOWNLOAD,
    "cancel_download": Capability.DOWNLOAD,
    "remove": Capability.REMOVE,
    "register": Capability.REGISTER,
}
NEEDS_SELECTION = {"load", "unload", "download", "remove"}


def unavailable(caps: dict[Capability, str | None]) -> dict[str, str]:
    """Each Models-tab action this backend cannot do, with its reason (the details pane lists them)."""
    shown = {a: c for a, c in ACTION_CAPS.items() if a != "cancel_download"}
    return {action: caps[cap] for action, cap in shown.items() if caps.get(cap)}
