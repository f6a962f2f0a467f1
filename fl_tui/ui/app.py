"""The Textual app: a header with live status, the Models / Benchmark / Annotate tabs, help and palette.

The UI never calls the core on its event loop: the backend opens in a thread worker, and one poll loop (status
always, the model list while the Models or the Benchmark tab is shown) re-arms itself after each answer, so polls never
pile up and an offline catalog never freezes a key press.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import actions, events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.theme import Theme
from textual.widgets import TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from fl_tui.connection.base import Backend, BackendError
from fl_tui.core.config import Settings, save_settings
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain
from fl_tui.ui.commands import ActionsProvider
from fl_tui.ui.later_panes import PanesImported, PaneSlot, import_panes
from fl_tui.ui.messages import (
    BackendFailed,
    BackendReady,
    ListNotKept,
    SettingsNotSaved,
    StateUpdated,
)
from fl_tui.ui.screens.confirm import ConfirmScreen
from fl_tui.ui.screens.help import HelpScreen
from fl_tui.ui.widgets.kept_footer import KeptFooter
from fl_tui.ui.widgets.models.pane import ModelsPane
from fl_tui.ui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from fl_tui.connection.base import ModelEntry
    from fl_tui.models.last_list import LastList, LastModels
    from fl_tui.ui.widgets.annotate.pane import AnnotatePane
    from fl_tui.ui.widgets.bench import BenchPane

QUIT_WAIT_S = 30  # for a benchmark process to write what finished
QUIT_SAY_S = 1.0  # after this, the shell is told what the quit waits for
POLL_S = 1.0  # no faster: over SSH every redraw costs bandwidth
DEFAULT_THEME = "fl-dark"
WIDE_FOOTER = 100  # columns from which the footer also shows the palette's key
ON_ANNOTATE = "{} tab (on Annotate, 1-5 score: [ and ] there)"  # the help's line for a tab's digit
HELP = "help"  # the installed help screen's name
PANES_AFTER_S = 1.5  # the other tabs load by then even if the models are slow to come (a remote endpoint)


class FlTuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "fl-tui"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    AUTO_FOCUS = None  # set in on_mount, before any key: a later automatic focus could pull back a hidden tab
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit_app", "Quit", id="app.quit"),
        Binding("1", "show_tab('models')", "Models tab", id="app.tab_models", show=False,
                tooltip=ON_ANNOTATE.format("Models")),
        Binding("2", "show_tab('benchmark')", "Benchmark tab", id="app.tab_benchmark", show=False,
                tooltip=ON_ANNOTATE.format("Benchmark")),
        Binding("3", "show_tab('annotate')", "Annotate tab", id="app.tab_annotate", show=False,
                tooltip=ON_ANNOTATE.format("Annotate")),
        Binding("left_square_bracket", "cycle_tab(-1)", "Previous tab", id="app.tab_prev", show=False),
        Binding("right_square_bracket", "cycle_tab(1)", "Next tab", id="app.tab_next", show=False),
        Binding("ctrl+t", "next_theme", "Next theme", id="app.next_theme", show=False),
    ]

    def __init__(
        self,
        open_backend: Callable[[], Backend],
        *,
        settings: Settings | None = None,
        settings_path: Path | None = None,
        specs: dict | None = None,
        startup_problems: list[str] | None = None,
        withheld: dict | None = None,
        last_models: LastModels | None = None,
        last_list: LastList | None = None,
        after_first_frame: Callable[[], None] | None = None,
    ):
        """`last_models` keeps every listing for the next start, which shows it (`last_list`) until the backend's
        own comes: the backend is then asked for only after the first frame (fl_tui.connection.opening).
        `after_first_frame` is called once that frame is out."""
        super().__init__()
        self.after_first_frame = after_first_frame
        self.open_backend = open_backend
        self.last_models = last_models
        self.last_list = last_list
        self._keep_failed = False
        self.settings = settings or Settings()
        self.settings_path = settings_path
        self.specs = specs or {}
        self.startup_problems = list(startup_problems or [])
        self.withheld = dict(withheld or {})  # capabilities this person may not use (connection.roles), with why
        self.backend: Backend | None = None
        self._polling = False
        self._poll_timer = None
        self._theme_ready = False  # until mounted, a theme is the start's (a fallback too), not a choice to save
        self.bench_pane: BenchPane | None = None  # mounted after the first screen: fl_tui/ui/later_panes.py
        self.annotate_pane: AnnotatePane | None = None
        self._panes_asked = False
        self._models: list[ModelEntry] | None = None  # the last listing, for a Benchmark pane mounted after it
        from fl_tui.ui.themes import load_themes

        # Read and chosen here, before the app runs: never a file read on the UI loop, and the stylesheet is
        # parsed once, with the person's theme (`_use_theme`).
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.startup_problems += [str(p) for p in problems]
        wanted = self.settings.theme if self.settings.theme in self.available_themes else DEFAULT_THEME
        if wanted != self.settings.theme:
            known = ", ".join(sorted(n for n in self.available_themes if n.startswith("fl-")))
            self.startup_problems.append(f"theme {self.settings.theme!r} is not known; using {wanted} (fl-tui's "
                                         f"own: {known}; Ctrl+T lists every one)")
        if wanted in self.available_themes:
            self._use_theme(wanted)

    @property
    def current_theme(self) -> Theme:
        """Textual's copies the dict of every registered theme twice per call, and it is called for each line
        drawn (App.ansi_theme): about a tenth of the first frame. A name not registered is left to it."""
        return self._registered_themes.get(self.theme) or super().current_theme

    def _use_theme(self, name: str) -> None:
        """The theme the app starts with, set without `App._watch_theme`: that one parses the whole stylesheet again
        once the app runs (about 35 ms before the first frame), when its first parse reads this theme already.
        The rest of what it does is done here (tests/app/test_app_start.py compares the two)."""
        self.set_reactive(App.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())  # taken from the default theme in App.__init__
        dark = self.current_theme.dark
        self.set_class(True, f"-theme-{name}", update=False)  # no styles to update yet, as in App.__init__
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status-header")
        with TabbedContent(initial="models", id="tabs"):
            with TabPane("Models", id="models"):
                yield ModelsPane(self.specs, id="models-pane")
            with TabPane("Benchmark", id="benchmark"):
                yield PaneSlot("loading the Benchmark tab…", id="bench-slot")
            with TabPane("Annotate", id="annotate"):
                yield PaneSlot("loading the Annotate tab…", id="annotate-slot")
        self.footer = KeptFooter(compact=True)
        yield self.footer

    def on_mount(self) -> None:
        # Kept, not queried later: polls and messages can arrive while the app tears its widgets down.
        self.tabs = self.query_one("#tabs", TabbedContent)
        self.header = self.query_one(StatusHeader)
        self.models_pane = self.query_one(ModelsPane)
        # The strip is not a stop for Tab: focused, it would take the tab's keys away while the footer still
        # showed them. Tabs change with 1/2/3, [ and ], or the mouse.
        self.tabs.query_one(Tabs).can_focus = False
        self.models_pane.focus_main()
        self._theme_ready = True
        if self.settings.keys:
            self.set_keymap(self.settings.keys)
        for problem in self.startup_problems:
            self.notify(plain(problem), title="configuration", severity="warning", markup=False, timeout=10)
        self.header.show(None)
        if self.last_list is not None:
            self.models_pane.show_last(self.last_list)
        else:
            self.connect_backend()
        self.call_after_refresh(self._first_frame_out)
        self.set_timer(PANES_AFTER_S, self.load_panes)

    def _first_frame_out(self) -> None:
        if self.after_first_frame is not None:
            self.after_first_frame()
        if self.last_list is not None:
            self.connect_backend()

    def on_resize(self, event: events.Resize) -> None:
        """Below 100 columns the footer keeps its width for the tab's keys and Help/Quit; the palette is on
        Ctrl+P all the same, and the help screen says so. Hidden by a class (app.tcss), not by the Footer's
        show_command_palette: that one takes effect only when the Footer builds its keys again, which it does when
        the bindings change, so a key docked on the right at 120 columns stayed there at 80, over the tab's keys."""
        self.footer.set_class(event.size.width < WIDE_FOOTER, "-narrow")

    # -- backend and polling -------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="connect")
    def connect_backend(self) -> None:
        try:
            backend = self.open_backend()
        except BackendError as exc:
            self.post_message(BackendFailed(str(exc)))
            return
        except Exception as exc:  # a bug or an SDK failure: the header says so, not "connecting" forever
            self.post_message(BackendFailed(f"unexpected error: {type(exc).__name__}: {exc}"))
            raise  # and the worker handler reports it with its type
        self.post_message(BackendReady(backend))

    @on(BackendReady)
    def handle_backend_ready(self, message: BackendReady) -> None:
        if not self.is_running:  # shutting down: a worker's late answer finds the widgets gone
            return
        self.backend = message.backend
        self.models_pane.attach(message.backend)
        if self.bench_pane is not None:
            self.bench_pane.attach(message.backend)
        self.poll_now()

    @on(BackendFailed)
    def handle_backend_failed(self, message: BackendFailed) -> None:
        if not self.is_running:
            return
        self.header.show(None, message.error)
        self.models_pane.forget_last()
        self.notify(plain(message.error), title="cannot connect", severity="error", markup=False, timeout=15)
        self.load_panes()

    def poll_now(self) -> None:
        """Poll at once (after an action), unless a poll is in flight: its answer re-arms the loop anyway."""
        if self.backend is None or self._polling:
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
        self._polling = True
        self.poll_worker(self.tabs.active in ("models", "benchmark"))

    @work(thread=True, exit_on_error=False, group="poll")
    def poll_worker(self, with_models: bool) -> None:
        try:
            status = self.backend.status()
            models = self.backend.list_models() if with_models else None
        except BackendError as exc:
            self.post_message(StateUpdated(None, None, str(exc)))
            return
        self.post_message(StateUpdated(status, models))
        if models is not None and self.last_models is not None:
            self._keep_list(models)

    def _keep_list(self, models: list[ModelEntry]) -> None:
        """On the poll's thread. A list that cannot be written is said once: the next start then waits for the
        backend's list, as the first one did."""
        try:
            self.last_models.keep(models)
        except OSError as exc:
            if not self._keep_failed:
                self._keep_failed = True
                self.post_message(ListNotKept(str(exc)))

    @on(ListNotKept)
    def tell_not_kept(self, message: ListNotKept) -> None:
        self.notify(plain(f"the model list is not kept for the next start: {message.error}"), severity="warning",
                    markup=False, timeout=10)

    @on(StateUpdated)
    def handle_state(self, message: StateUpdated) -> None:
        self._polling = False
        if not self.is_running:
            return
        self.header.show(message.status, message.error)
        if message.error is not None:
            self.models_pane.forget_last()
        else:
            self.models_pane.show_state(message.status, message.models)
            if message.models is not None:
                self._models = message.models
                if self.bench_pane is not None:
                    self.bench_pane.offer_models(message.models)
                self.call_after_refresh(self.load_panes)  # the models are on screen: now the other tabs
        self._poll_timer = self.set_timer(POLL_S, self.poll_now)

    # -- the tabs that come after the first screen ---------------------------------------------------------

    def load_panes(self) -> None:
        """Import the Benchmark and Annotate panes in a thread, once; they are mounted when they arrive."""
        if not self._panes_asked and self.is_running:
            self._panes_asked = True
            self.import_panes_worker()

    @work(thread=True, exit_on_error=False, group="panes")
    def import_panes_worker(self) -> None:
        self.post_message(import_panes())

    @on(PanesImported)
    async def mount_panes(self, message: PanesImported) -> None:
        if not self.is_running:
            return
        bench = message.bench(self.settings, self.specs, id="bench-pane")
        annotate = message.annotate(self.settings.rater, auto_advance=self.settings.auto_advance, id="annotate-pane")
        try:
            for tab, slot, pane, name in (("benchmark", "#bench-slot", bench, "bench_pane"),
                                          ("annotate", "#annotate-slot", annotate, "annotate_pane")):
                await self.tabs.get_pane(tab).mount(pane, before=0)
                setattr(self, name, pane)  # before the slot goes: help and the palette name one or the other
                if self.tabs.active == tab:  # and the focus too: one the slot left behind could pull Models back
                    pane.focus_main()
                await self.query_one(slot).remove()
        except NoMatches:  # the app closed (a quit as the panes came): its tabs are gone, nothing to mount in
            return
        if self.backend is not None:
            bench.attach(self.backend)
        if self._models is not None:
            bench.offer_models(self._models)

    @on(TabbedContent.TabActivated)
    def handle_tab_changed(self, event: TabbedContent.TabActivated) -> None:
        """Focus moves into the shown tab: left in a hidden pane, it would pull that pane's tab back. Only for
        the tab that is active now, and only when the focus is not already in it: a late activation message would
        otherwise focus its old tab, which activates that tab again, and the tabs would switch back and forth."""
        pane = event.pane
        if pane.id != "models":
            self.load_panes()
        if pane.id == self.tabs.active and pane.children:
            focused = self.focused
            if focused is None or pane not in focused.ancestors_with_self:
                pane.children[0].focus_main()  # every tab's pane has one
        self.poll_now()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's unexpected failure becomes visible, instead of killing the app."""
        if event.state is WorkerState.ERROR:
            if event.worker.group == "poll":
                self._polling = False
                self._poll_timer = self.set_timer(POLL_S, self.poll_now)
            error = event.worker.error
            self.notify(plain(f"{type(error).__name__}: {error}"), title="unexpected error", severity="error",
                        markup=False, timeout=15)

    # -- themes, keys, help, palette ---------------------------------------------------------------------

    def watch_theme(self, theme: str) -> None:
        if self._theme_ready and theme != self.settings.theme:
            self.settings = replace(self.settings, theme=theme)
            self.save_settings_worker({"theme": theme})

    @work(thread=True, exit_on_error=False, group="settings")
    def save_settings_worker(self, changes: dict) -> None:
        """Only the keys that changed are written, so what the file held otherwise stays as it was."""
        try:
            save_settings(changes, self.settings_path)
        except UserError as exc:
            self.post_message(SettingsNotSaved(str(exc)))

    @on(SettingsNotSaved)
    def tell_not_saved(self, message: SettingsNotSaved) -> None:
        self.notify(plain(message.error), title="configuration", severity="warning", markup=False, timeout=10)

    def action_next_theme(self) -> None:
        names = sorted(n for n in self.available_themes if n.startswith("fl-")) or sorted(self.available_themes)
        self.theme = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.notify(f"theme {self.theme} (Ctrl+T for the next)", markup=False, timeout=3)

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:
        """A key whose action is unavailable says why in one line instead of doing nothing: a pane that refuses an
        action names the reason in `why_not(action, parameters)` (fl_tui/ui/refusals.py)."""
        if await super().run_action(action, default_namespace, namespaces):
            return True
        destination, name, parameters = actions.parse(action) if isinstance(action, str) else action
        why_not = getattr(default_namespace, "why_not", None)
        reason = why_not(name, parameters) if why_not is not None and not destination else None
        if reason is None:
            return False
        self.notify(plain(reason, keep_newlines=False), severity="warning", markup=False, timeout=4)
        return True

    def action_show_tab(self, tab: str) -> None:
        """Switch, and move the focus into the new tab at once: while the focus stays on the old tab's widget,
        the Hide event that widget gets hands the focus to one of its siblings, which brings the old tab back."""
        self.tabs.active = tab
        pane = self.tabs.get_pane(tab)
        if pane.children:
            pane.children[0].focus_main()

    def action_cycle_tab(self, step: int) -> None:
        order = ["models", "benchmark", "annotate"]
        self.action_show_tab(order[(order.index(self.tabs.active) + step) % len(order)])

    def remember_rater(self, rater: str) -> None:
        self.settings = replace(self.settings, rater=rater)
        self.save_settings_worker({"rater": rater})

    def action_groups(self) -> list[tuple[str, object, list[Binding]]]:
        """Help and the palette list every tab's keys, loaded or not; a key for a tab still loading acts on
        its slot, which has no actions, and so does nothing."""
        self.load_panes()  # asked for: mounted soon, as the module docstring of later_panes says
        panes = import_panes()  # at once if loaded; help pressed in the first second waits for the import
        return [
            ("App", self, [b for b in self.BINDINGS if isinstance(b, Binding)]),
            ("Models", self.models_pane, ModelsPane.BINDINGS),
            ("Benchmark", self.bench_pane or self.query_one("#bench-slot"), panes.bench.BINDINGS),
            ("Annotate", self.annotate_pane or self.query_one("#annotate-slot"), panes.annotate.BINDINGS),
        ]

    def keymap_for(self, binding: Binding) -> str:
        """The key as shown to a person (`?`, not `question_mark`), with the user's keymap applied."""
        keys = self.settings.keys.get(binding.id or "", binding.key)
        return ", ".join(self.get_key_display(Binding(k.strip(), binding.action)) for k in keys.split(","))

    def run_action_on(self, target, action: str) -> None:
        self.call_later(target.run_action, action)

    def action_help(self) -> None:
        """One help screen, built at the first `?` and shown again after: its text (every tab's keys, which do not
        change while the app runs, and how each figure is defined) is laid out once, not at every `?`."""
        if not self.is_screen_installed(HELP):
            groups = {name: bindings for name, _target, bindings in self.action_groups()}
            self.install_screen(HelpScreen(groups, self.keymap_for), HELP)
        if self.get_screen(HELP) not in self.screen_stack:  # the palette's "Help" over the help: it is there
            self.push_screen(HELP)

    def left_nothing_running(self) -> bool:
        """Once the app has ended: no download thread and no benchmark process still at work, so nothing would be
        cut short if the process ended at once. Thread workers (settings saves) ended with the app's loop, and the
        Annotate pane's saves when it was unmounted."""
        downloads = self.models_pane.downloads
        if downloads is not None and downloads.running():
            return False
        child = self.bench_pane.runner.child if self.bench_pane is not None else None
        return child is None or child.proc.poll() is not None

    @work(exclusive=True, group="quit")
    async def action_quit_app(self) -> None:
        pane = self.models_pane
        running = []
        if pane.downloads is not None and pane.downloads.active:
            running.append("downloads are running and will be cancelled")
        bench = self.bench_pane
        if bench is not None and bench.runner.running:
            running.append("a benchmark is running: it will stop, keeping what finished")
        if running and not await self.push_screen_wait(ConfirmScreen("Quit while work is running?", running, "Quit")):
            return
        await self._settings_saved()
        if pane.downloads is not None:
            for job in pane.downloads.jobs:
                job.cancel.set()
        self._stop_benchmark()
        self.exit(0)  # a benchmark process still writing what finished is waited for after: finish_work

    def _stop_benchmark(self) -> None:
        if self.bench_pane is not None:
            self.bench_pane.stop_for_quit(runtime_goes=self.backend is not None and self.backend.in_process)

    async def _settings_saved(self) -> None:
        """A setting changed just before `q` (Ctrl+T, then q at once) is on disk before the app goes: its save is a
        thread worker, which the app's exit cancels if it has not started yet."""
        saves = [w for w in self.workers if w.group == "settings" and not w.is_finished]
        if saves:  # (an empty list would wait for every worker, this one too)
            await self.workers.wait_for_complete(saves)

    def finish_work(self) -> None:
        """Once the app has ended (the terminal is back): a benchmark process, stopped by the quit or now, writes
        what finished before the process and its runtime go; one stuck for QUIT_WAIT_S is killed (what it wrote
        so far stays on disk). Its stop and the app's own teardown (~0.2 s) so run at the same time."""
        child = self.bench_pane.runner.child if self.bench_pane is not None else None
        if child is None:
            return
        self._stop_benchmark()  # the app ended otherwise than by `q` (a signal); after `q`, nothing more
        try:
            try:
                child.wait(QUIT_SAY_S)
            except subprocess.TimeoutExpired:
                print(f"fl-tui: waiting for the benchmark process to write what finished (at most {QUIT_WAIT_S} s)",
                      file=sys.stderr, flush=True)
                child.wait(QUIT_WAIT_S)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.wait(QUIT_WAIT_S)

