"""The Models tab: the table of models, a details pane, the filter, downloads, and the actions on a selection.

Thin by design: rows come from `fl_tui.models.modelview`, every backend call runs in a thread worker, and the table is
redrawn only when the app's poll brings data that differs from what is shown.
"""

from __future__ import annotations

from functools import partial

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable

from fl_tui.connection.base import (
    Backend,
    BackendError,
    ModelEntry,
    Status,
)
from fl_tui.core.textsafe import plain
from fl_tui.models import modelview
from fl_tui.models.downloads import PENDING, DownloadQueue, DownloadState
from fl_tui.models.last_list import LastList
from fl_tui.ui.messages import OperationDone
from fl_tui.ui.refusals import ExplainsRefusals
from fl_tui.ui.screens.confirm import ConfirmScreen
from fl_tui.ui.screens.path_prompt import PathPromptScreen
from fl_tui.ui.widgets.models.banner import CatalogBanner
from fl_tui.ui.widgets.models.details import ModelDetails
from fl_tui.ui.widgets.models.download_lines import DownloadLines
from fl_tui.ui.widgets.models.filter_box import ModelsFilter
from fl_tui.ui.widgets.models.table import ModelsTable

WAITING_FOR_LIST = "the list shown is the last one seen: keys act once the backend's own is here"
LIST_ONLY = frozenset({"filter", "sort", "reverse", "refresh"})  # what acts on the rows shown, not on models
STACK_BELOW = 100  # narrower than this, the details pane goes under the table, which keeps the whole width


class ModelsPane(ExplainsRefusals, Vertical):
    BINDINGS = [
        Binding("l", "load", "Load", id="models.load"),
        Binding("u", "unload", "Unload", id="models.unload"),
        Binding("U", "unload_all", "Unload all", id="models.unload_all", show=False),
        Binding("d", "download", "Download", id="models.download"),
        Binding("c", "cancel_download", "Cancel download", id="models.cancel_download", show=False),
        Binding("x", "remove", "Remove", id="models.remove"),
        Binding("a", "register", "Register", id="models.register", tooltip="Register a local model folder"),
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
        self.refresh_asked = False  # `r` was pressed: the next model list says how many it found
        self.showing_last = False  # the rows are the last list seen (show_last), not the backend's yet

    def compose(self) -> ComposeResult:
        yield CatalogBanner(id="models-banner")
        yield ModelsFilter(id="models-filter")
        with Horizontal(id="models-body"):
            yield ModelsTable(id="models-table")
            yield ModelDetails(id="models-details-box")
        yield DownloadLines(id="models-downloads")

    def focus_main(self) -> None:
        self.screen.set_focus(self.query_one("#models-table"))  # at once: see FlTuiApp.action_show_tab

    # -- data in -----------------------------------------------------------------------------------------

    def attach(self, backend: Backend) -> None:
        self.backend = backend
        self.downloads = self.query_one(DownloadLines).queue = DownloadQueue(backend)
        self.refresh_bindings()

    def show_last(self, last: LastList) -> None:
        """The last list seen, until the backend's first: no action runs on it (why_not), the backend up or not."""
        self.query_one(CatalogBanner).show_last(last.saved)
        self.models = {m.id: m for m in last.models}
        self.showing_last = True
        table = self.query_one(ModelsTable)
        if not table.size.width:  # shown at mount: the width the table will get, from the screen's and the CSS's
            stacked = self.app.size.width < STACK_BELOW
            self.set_class(stacked, "-stacked")
            beside = None if stacked else self.query_one(ModelDetails).styles.width
            table.expect_width(self.app.size.width - (beside.cells or 0 if beside is not None else 0))
        self._redraw()

    def forget_last(self) -> None:
        """The backend failed before its first list: the last one, if shown, is not this backend's now."""
        if self.showing_last:
            self.show_state(None, [])

    def show_state(self, status: Status | None, models: list[ModelEntry] | None) -> None:
        self.status = status
        if models is not None:
            self.showing_last = False
        if not self.showing_last:  # a status without models (another tab is shown) leaves the last list's banner
            self.query_one(CatalogBanner).show(status)
        if models is not None:
            self.models = {m.id: m for m in models}
            self._redraw()
            if self.refresh_asked:
                self.refresh_asked = False
                self.notify(f"model list refreshed: {len(models)} models", timeout=3)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < STACK_BELOW, "-stacked")

    def _redraw(self) -> None:
        self.query_one(ModelsTable).show(self.models, self.specs, sort_key=self.sort_key, reverse=self.reverse,
                                         query=self.query_text)
        self._draw_details()

    @on(ModelsTable.Redrawn)
    def handle_redrawn(self) -> None:
        self._draw_details()
        self.refresh_bindings()  # what is enabled depends on the rows; refreshing rebuilds the footer

    def selected(self) -> ModelEntry | None:
        model_id = self.query_one(ModelsTable).selected_id()
        return self.models.get(model_id) if model_id is not None else None

    @on(DataTable.RowHighlighted)
    def handle_highlighted(self) -> None:
        self._draw_details()
        self.refresh_bindings()

    def _draw_details(self) -> None:
        self.query_one(ModelDetails).show(self.selected(), self.specs, self.unavailable(),
                                          connected=bool(self.models or self.backend))

    def capabilities(self) -> dict | None:
        """The backend's, less what this app's person may not use (a workshop participant: connection.roles)."""
        return {**self.backend.capabilities, **self.app.withheld} if self.backend is not None else None

    def unavailable(self) -> dict[str, str]:
        caps = self.capabilities()
        return modelview.unavailable(caps) if caps is not None else {}

    def situation(self) -> modelview.Situation:
        return modelview.Situation(
            caps=self.capabilities(),
            entry=self.selected(),
            loaded=sum(m.loaded for m in self.models.values()),
            downloading=frozenset(j.entry.id for j in self.downloads.jobs if j.state in PENDING)
            if self.downloads is not None else frozenset(),
        )

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if self.showing_last and action not in LIST_ONLY:  # its rows are not the backend's yet
            return WAITING_FOR_LIST
        return modelview.refusal(action, self.situation())

    # -- actions ----------------------------------------------------------------------------------------

    def _op(self, label: str, fn, *args) -> None:
        """Run one backend call in a thread; a BackendError becomes a notification, then the app polls."""
        self.run_worker(partial(self._op_thread, label, fn, *args), thread=True, group="models", exit_on_error=False)

    def _op_thread(self, label: str, fn, *args) -> None:
        try:
            fn(*args)
        except BackendError as exc:
            self.post_message(OperationDone(label, str(exc)))
        else:
            self.post_message(OperationDone(label))

    @on(OperationDone)
    def tell_done(self, message: OperationDone) -> None:
        if message.error is None:
            self.notify(f"{message.label}: done", markup=False, timeout=3)
        else:
            self.notify(plain(message.error), title=message.label, severity="error", markup=False)
        self.app.poll_now()

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
        self.downloads.enqueue(entry)
        self.query_one(DownloadLines).draw()
        self.notify(f"download queued: {plain(entry.id)} (c cancels)", markup=False, timeout=3)

    def action_cancel_download(self) -> None:
        live = [j for j in self.downloads.jobs if j.state in PENDING]
        entry = self.selected()
        job = next((j for j in live if entry is not None and j.entry.id == entry.id), live[0])
        self.downloads.cancel(job)
        done = job.state is DownloadState.CANCELLED  # a queued one is dropped at once; a running one stops soon
        self.notify(f"{'download cancelled' if done else 'cancelling the download of'} {plain(job.entry.id)}",
                    markup=False, timeout=3)

    @work(exclusive=True, group="models-remove")
    async def action_remove(self) -> None:
        entry = self.selected()
        confirm = ConfirmScreen(f"Remove {entry.id}?", modelview.removal_lines(entry), "Remove")
        if await self.app.push_screen_wait(confirm):
            self._op(f"remove {entry.id}", self.backend.remove, entry.id)

    @work(exclusive=True, group="models-register")
    async def action_register(self) -> None:
        folder = await self.app.push_screen_wait(PathPromptScreen())
        if folder is not None:
            self._op(f"register {folder}", self.backend.register, folder)

    def action_filter(self) -> None:
        self.query_one(ModelsFilter).open()

    @on(ModelsFilter.Changed)
    def handle_filter_changed(self, event: ModelsFilter.Changed) -> None:
        self.query_text = event.value
        self._redraw()

    @on(ModelsFilter.Submitted)
    def handle_filter_done(self) -> None:
        self.query_one(ModelsTable).focus()

    def key_escape(self) -> None:
        if self.query_one(ModelsFilter).close():
            self.query_one(ModelsTable).focus()

    def action_sort(self) -> None:
        keys = [c.key for c in modelview.COLUMNS]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self._sorted()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self._sorted()

    def _sorted(self) -> None:
        """The header marks the sorted column; the notification also names a column the table has no room for."""
        label = next(c.label for c in modelview.COLUMNS if c.key == self.sort_key)
        self.notify(f"sorted by {label}, {'descending' if self.reverse else 'ascending'}", timeout=2)
        self._redraw()

    def action_refresh(self) -> None:
        if self.backend is None:
            self.notify("not connected to Foundry Local yet", severity="warning", timeout=4)
            return
        self.refresh_asked = True
        self.notify("refreshing the model list…", timeout=2)
        self.app.poll_now()
