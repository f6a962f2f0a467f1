"""The Models tab: the table of models, a details pane, the filter, downloads, and the actions on a selection.

Thin by design: rows come from `fl_tui.ui.modelview`, every backend call runs in a thread worker, and the table is
redrawn only when the app's poll brings data that differs from what is shown.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from fl_tui.connection.base import (
    CATALOG_UNREACHABLE_MESSAGE,
    Backend,
    BackendError,
    Capability,
    CatalogState,
    ModelEntry,
    ModelSource,
    Status,
)
from fl_tui.core.textsafe import plain
from fl_tui.ui import modelview
from fl_tui.ui.downloads import PENDING, DownloadQueue
from fl_tui.ui.screens.confirm import ConfirmScreen
from fl_tui.ui.screens.path_prompt import PathPromptScreen

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


def removal_lines(entry: ModelEntry) -> list[str]:
    if entry.source is ModelSource.LOCAL:
        lines = [f"unregister {entry.id}", f"its folder stays on disk: {entry.path or '?'}"]
    else:
        size = f" ({entry.disk_bytes / 2**20:,.1f} MB)" if entry.disk_bytes else ""
        lines = [f"delete {entry.id} from the cache{size}", f"files under {entry.path or '?'}"]
    return lines + (["it is loaded: it will be unloaded first"] if entry.loaded else [])


class ModelsPane(Vertical):
    BINDINGS = [
        Binding("l", "load", "Load", id="models.load"),
        Binding("u", "unload", "Unload", id="models.unload"),
        Binding("U", "unload_all", "Unload all", id="models.unload_all", show=False),
        Binding("d", "download", "Download", id="models.download"),
        Binding("c", "cancel_download", "Cancel download", id="models.cancel_download", show=False),
        Binding("x", "remove", "Remove", id="models.remove"),
        Binding("a", "register", "Register folder", id="models.register"),
        Binding("slash", "filter", "Filter", id="models.filter"),
        Binding("s", "sort", "Sort", id="models.sort"),
        Binding("S", "reverse", "Reverse sort", id="models.reverse", show=False),
        Binding("r", "refresh", "Refresh", id="models.refresh", show=False),
    ]

    def __init__(self, specs: dict, **kwargs):
        super().__init__(**kwargs)
        self.specs = specs
        self.backend: Backend | None = None
        self.downloads: DownloadQueue | None = None
        self.models: dict[str, ModelEntry] = {}
        self.status: Status | None = None
        self.sort_key = "alias"
        self.reverse = False
        self.query_text = ""
        self._shown: list[tuple[str, list[str]]] | None = None
        self._details: Text | None = None
        self._banner = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="models-banner")
        yield Input(placeholder="filter: words to match (alias, device, capability…); Esc clears", id="models-filter")
        with Horizontal(id="models-body"):
            table = DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
            for column in modelview.COLUMNS:
                table.add_column(column.label, key=column.key)
            yield table
            with VerticalScroll(id="models-details-box"):
                yield Static(Text("connecting…"), id="models-details")
        yield Static("", id="models-downloads")

    def on_mount(self) -> None:
        self.query_one("#models-filter").display = False
        self.query_one("#models-banner").display = False
        self.query_one("#models-downloads").display = False
        self.set_interval(0.25, self._draw_downloads)

    def focus_main(self) -> None:
        self.screen.set_focus(self.query_one("#models-table"))  # at once: see FlTuiApp.action_show_tab

    # -- data in -----------------------------------------------------------------------------------------

    def attach(self, backend: Backend) -> None:
        self.backend = backend
        self.downloads = DownloadQueue(backend)
        self.refresh_bindings()

    def show_state(self, status: Status | None, models: list[ModelEntry] | None) -> None:
        self.status = status
        banner = self.query_one("#models-banner", Static)
        offline = status is not None and status.catalog is CatalogState.UNREACHABLE
        banner.display = offline
        text = f"{CATALOG_UNREACHABLE_MESSAGE} ({plain(status.detail, keep_newlines=False)})" if offline else ""
        if offline and text != self._banner:
            self._banner = text
            banner.update(Text(text))
        if models is not None:
            self.models = {m.id: m for m in models}
            self._redraw()

    def _redraw(self, force: bool = False) -> None:
        shown = modelview.rows(
            list(self.models.values()), self.specs, sort_key=self.sort_key, reverse=self.reverse, query=self.query_text
        )
        if shown != self._shown or force:
            table = self.query_one("#models-table", DataTable)
            keep = self.selected()
            table.clear()
            for model_id, cells in shown:
                table.add_row(*(Text(c) for c in cells), key=model_id)
            self._shown = shown
            ids = [model_id for model_id, _ in shown]
            if keep is not None and keep.id in ids:
                table.move_cursor(row=ids.index(keep.id))
            self.refresh_bindings()  # what is enabled depends on the rows; refreshing rebuilds the footer
        self._draw_details()

    def selected(self) -> ModelEntry | None:
        table = self.query_one("#models-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.models.get(key)

    @on(DataTable.RowHighlighted)
    def handle_highlighted(self) -> None:
        self._draw_details()
        self.refresh_bindings()

    def _draw_details(self) -> None:
        text = Text()
        entry = self.selected()
        if entry is None:
            text.append("no model selected" if self.models or self.backend else "connecting…")
        else:
            width = max(len(k) for k, _ in modelview.details(entry, self.specs))
            for key, value in modelview.details(entry, self.specs):
                text.append(f"{key:<{width}}  ", "bold")
                text.append(f"{value}\n")
        missing = self.unavailable()
        if missing:
            text.append("\nnot available here\n", "bold")
            for action, reason in missing.items():
                text.append(f"{action}: {reason}\n", "dim")
        if text != self._details:  # redrawn after every poll: repaint (and re-layout) only on change
            self._details = text
            self.query_one("#models-details", Static).update(text)

    def unavailable(self) -> dict[str, str]:
        if self.backend is None:
            return {}
        caps = self.backend.capabilities
        shown = {a: c for a, c in ACTION_CAPS.items() if a != "cancel_download"}
        return {action: caps[cap] for action, cap in shown.items() if caps.get(cap)}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTION_CAPS:
            if self.backend is None or not self.backend.supports(ACTION_CAPS[action]):
                return None  # shown disabled; the details pane says why
            if action in NEEDS_SELECTION and self.selected() is None:
                return None
        return True

    # -- actions ----------------------------------------------------------------------------------------

    def _op(self, label: str, fn, *args) -> None:
        """Run one backend call in a thread; a BackendError becomes a notification, then the app polls."""
        self.run_worker(partial(self._op_thread, label, fn, *args), thread=True, group="models", exit_on_error=False)

    def _op_thread(self, label: str, fn, *args) -> None:
        try:
            fn(*args)
        except BackendError as exc:
            self.app.call_from_thread(self.notify, plain(str(exc)), title=label, severity="error", markup=False)
        else:
            self.app.call_from_thread(self.notify, f"{label}: done", markup=False, timeout=3)
        self.app.call_from_thread(self.app.poll_now)

    def action_load(self) -> None:
        entry = self.selected()
        self._op(f"load {entry.id}", self.backend.load, entry.id)

    def action_unload(self) -> None:
        entry = self.selected()
        self._op(f"unload {entry.id}", self.backend.unload, entry.id)

    def action_unload_all(self) -> None:
        self._op("unload all", self.backend.unload_all)

    def action_download(self) -> None:
        entry = self.selected()
        if entry.cached:
            self.notify(f"{plain(entry.id)} is already in the cache", markup=False)
            return
        self.downloads.enqueue(entry)
        self._draw_downloads()

    def action_cancel_download(self) -> None:
        live = [j for j in self.downloads.jobs if j.state in PENDING]
        if not live:
            self.notify("no download to cancel")
            return
        entry = self.selected()
        job = next((j for j in live if entry is not None and j.entry.id == entry.id), live[0])
        self.downloads.cancel(job)

    @work(exclusive=True, group="models-remove")
    async def action_remove(self) -> None:
        entry = self.selected()
        if await self.app.push_screen_wait(ConfirmScreen(f"Remove {entry.id}?", removal_lines(entry), "Remove")):
            self._op(f"remove {entry.id}", self.backend.remove, entry.id)

    @work(exclusive=True, group="models-register")
    async def action_register(self) -> None:
        folder = await self.app.push_screen_wait(PathPromptScreen())
        if folder is not None:
            self._op(f"register {folder}", self.backend.register, folder)

    def action_filter(self) -> None:
        box = self.query_one("#models-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#models-filter")
    def handle_filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._redraw()

    @on(Input.Submitted, "#models-filter")
    def handle_filter_done(self) -> None:
        self.query_one("#models-table").focus()

    def key_escape(self) -> None:
        box = self.query_one("#models-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one("#models-table").focus()

    def action_sort(self) -> None:
        keys = [c.key for c in modelview.COLUMNS]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.notify(f"sorted by {next(c.label for c in modelview.COLUMNS if c.key == self.sort_key)}", timeout=2)
        self._redraw()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self._redraw()

    def action_refresh(self) -> None:
        self.app.poll_now()

    def _draw_downloads(self) -> None:
        box = self.query_one("#models-downloads", Static)
        jobs = self.downloads.jobs[-4:] if self.downloads else []
        box.display = bool(jobs)
        if jobs:
            box.update(Text("\n".join(plain(job.line(), keep_newlines=False) for job in jobs)))
