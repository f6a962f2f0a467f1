"""What the Models table shows: rows from model entries, filtered, sorted, and grouped by alias. Headless."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fl_tui.connection.base import Capability, ModelEntry, ModelSource
from fl_tui.core.fit import fit_widths
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
    """One table column; `shrink` says its text may be cut with an ellipsis (the details pane shows it whole)."""

    key: str
    label: str
    text: Callable[[ModelEntry, dict], str]
    sort: Callable[[ModelEntry, dict], object]
    shrink: bool = False


def _tools(e: ModelEntry) -> str:
    return {True: "yes", False: "no", None: "-"}[e.tool_calling]


# In the order of their priority, which is also the order shown: a narrow table keeps the first ones that fit.
COLUMNS = (
    Column("alias", "Alias", lambda e, s: e.alias, lambda e, s: (e.alias.casefold(), DEVICE_ORDER.get(e.device, 3)),
           shrink=True),
    Column("id", "Variant", lambda e, s: e.id, lambda e, s: e.id.casefold(), shrink=True),
    Column("device", "Dev", lambda e, s: e.device or "-", lambda e, s: DEVICE_ORDER.get(e.device, 3)),
    Column("cached", "Cached", lambda e, s: "✓" if e.cached else "", lambda e, s: not e.cached),
    Column("loaded", "Loaded", lambda e, s: loaded_text(e), lambda e, s: not e.loaded),
    Column("size", "Size", lambda e, s: size_text(e), lambda e, s: e.disk_bytes or (e.size_mb or 0) * 2**20),
    Column("caps", "Capabilities", lambda e, s: ",".join(capabilities(e, s)), lambda e, s: capabilities(e, s),
           shrink=True),
    Column("task", "Task", lambda e, s: e.task or "-", lambda e, s: e.task or "", shrink=True),
    Column("tools", "Tools", lambda e, s: _tools(e), lambda e, s: _tools(e)),
    Column("ep", "Provider", lambda e, s: e.execution_provider or "-", lambda e, s: e.execution_provider or "",
           shrink=True),
    Column("license", "License", lambda e, s: e.license or "-", lambda e, s: (e.license or "").casefold(),
           shrink=True),
)
ESSENTIAL = 6  # alias to size: fitted, and widened, before any of the others


@dataclass(frozen=True)
class Fitted:
    """A column as the table shows it at one width: its header (with the sort mark) and its width in cells."""

    key: str
    header: str
    width: int


def header(column: Column, sort_key: str, reverse: bool) -> str:
    """The label, and on the sorted column the direction: "Size ▼" is descending."""
    return f"{column.label} {'▼' if reverse else '▲'}" if column.key == sort_key else column.label


def fit_columns(width: int, cells: list[list[str]], *, sort_key: str = "alias",
                reverse: bool = False) -> list[Fitted]:
    """The columns that fit in `width` cells, by priority (COLUMNS' order), for rows of `cells` (one text per
    column of COLUMNS); see fit.fit_widths."""
    headers = [header(c, sort_key, reverse) for c in COLUMNS]
    widths = fit_widths(width, headers, cells, shrink=[c.shrink for c in COLUMNS], essential=ESSENTIAL)
    return [Fitted(COLUMNS[i].key, headers[i], w) for i, w in widths.items()]


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
        extra = {k: v for k, v in spec.fields().items() if k != "capabilities" and v is not None}
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
VERBS = {"load": "load", "unload": "unload", "unload_all": "unload", "download": "download", "remove": "remove",
         "register": "register a folder"}


@dataclass(frozen=True)
class Situation:
    """What decides whether a Models-tab action can run now. `caps` is None until the backend is connected."""

    caps: dict[Capability, str | None] | None
    entry: ModelEntry | None = None
    loaded: int = 0  # how many models the list shows loaded
    downloading: frozenset[str] = frozenset()  # the ids queued or downloading


def refusal(action: str, now: Situation) -> str | None:
    """Why `action` cannot run now, in one line for a notification; None when it can. A key that cannot act says
    this instead of doing nothing, and one that would change nothing (unloading what is not loaded) says so too."""
    if action == "cancel_download":
        return None if now.downloading else "no download to cancel"
    if action in ACTION_CAPS:
        if now.caps is None:
            return "not connected to Foundry Local yet"
        reason = now.caps.get(ACTION_CAPS[action], "not supported")
        if reason is not None:
            return f"cannot {VERBS[action]}: {reason}"
    knows_loaded = now.caps is not None and now.caps.get(Capability.LOADED, "not supported") is None
    if action == "unload_all" and knows_loaded and not now.loaded:
        return "no model is loaded"
    if action not in NEEDS_SELECTION:
        return None
    entry = now.entry
    if entry is None:
        return "no model selected"
    if action == "load" and entry.loaded:
        return f"{plain(entry.id)} is already loaded"
    if action == "unload" and knows_loaded and not entry.loaded:
        return f"{plain(entry.id)} is not loaded"
    if action == "download" and entry.cached:
        return f"{plain(entry.id)} is already in the cache"
    if action == "download" and entry.id in now.downloading:
        return f"{plain(entry.id)} is already queued"
    if action == "remove" and entry.source is ModelSource.CATALOG and not entry.cached:
        return f"{plain(entry.id)} is not in the cache: nothing to remove"
    return None


def unavailable(caps: dict[Capability, str | None]) -> dict[str, str]:
    """Each Models-tab action this backend cannot do, with its reason (the details pane lists them)."""
    shown = {a: c for a, c in ACTION_CAPS.items() if a != "cancel_download"}
    return {action: caps[cap] for action, cap in shown.items() if caps.get(cap)}
