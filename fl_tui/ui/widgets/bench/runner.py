"""The run in progress: starts the benchmark process, folds its events into a LiveState on a 10 Hz clock, draws
the live view while it is shown, and says when the run ended or failed.

A run is `fl-tui bench --events` in a process of its own (fl_tui.bench.child), against this app's endpoint (for
the embedded runtime, its loopback web service): the same engine as headless, and no render or garbage collection
here can delay its timestamps. Stop is SIGINT to the child, which still writes everything that finished. Checking
the prompt set, starting the process and finding the server's process (for the RSS reading) run in threads.
"""

from __future__ import annotations

import gc
from pathlib import Path

import psutil
from textual import on, work
from textual.widget import Widget
from textual.widgets import TabPane

from fl_tui.bench.child import ChildRun, bench_args, bench_command, bench_env
from fl_tui.bench.engine import BenchSettings
from fl_tui.bench.live import LiveState, sweep_plan
from fl_tui.connection.base import Backend
from fl_tui.core.endpoint_lock import EndpointBusy, EndpointLock
from fl_tui.core.errors import FileProblem
from fl_tui.core.prompts import load_prompt_set
from fl_tui.ui.widgets.bench.live_view import LiveView
from fl_tui.ui.widgets.bench.messages import HostFound, RunBroke, RunEnded, RunLaunched

TICK_S = 0.1


def tab_shown(widget: Widget) -> bool:
    """Whether the tab holding `widget` is the one shown. No query, so safe while the app tears widgets down."""
    return widget.is_mounted and all(node.display for node in widget.ancestors if isinstance(node, TabPane))


class BenchRunner(Widget):
    """No area of its own; `live` is the view it draws."""

    DEFAULT_CSS = "BenchRunner { display: none; }"

    def __init__(self, live: LiveView, **kwargs):
        super().__init__(**kwargs)
        self.live = live
        self.host: psutil.Process | None = None  # the server's process, for the live RSS reading
        self.state = LiveState()
        self.running = False  # from the start until the run ends, fails or cannot start
        self.child: ChildRun | None = None
        self.lock: EndpointLock | None = None  # held while a run is on: one run per endpoint, across app processes

    def on_mount(self) -> None:
        self.set_interval(TICK_S, self.tick)

    @work(thread=True, exclusive=True, group="bench-host", exit_on_error=False)
    def find_host(self, backend: Backend) -> None:
        """host_pid may scan every socket of the machine (psutil.net_connections): not on the UI loop."""
        pid = backend.host_pid()
        self.post_message(HostFound(psutil.Process(pid) if pid else None))

    @on(HostFound)
    def handle_host(self, message: HostFound) -> None:
        self.host = message.process

    def start(self, endpoint: str, models: list[str], prompts: Path, settings: BenchSettings,
              more: tuple[str, ...] = ()) -> None:
        """`more`: endpoints to run the same matrix against after `endpoint`, each in turn (bench_env)."""
        self.state = LiveState(sweep_plan(settings), settings.slo, (endpoint, *more))
        self.live.reset(self.state)
        self.running = True
        self.lock = EndpointLock(endpoint)  # the app's own endpoint: the one a workshop room shares
        self.launch(bench_command(bench_args(models, prompts, settings)), bench_env(endpoint, more), prompts,
                    self.state, self.lock)

    @work(thread=True, exclusive=True, group="bench-launch", exit_on_error=False)
    def launch(self, command: list[str], env: dict[str, str] | None, prompts: Path, state: LiveState,
               lock: EndpointLock) -> None:
        """A bad prompt set is reported here, by the tab, rather than by the child."""
        try:
            load_prompt_set(prompts)
            lock.acquire()
            child = ChildRun(command, state.observe, env)
        except (FileProblem, EndpointBusy, OSError) as exc:  # OSError: the process could not be started
            self.post_message(RunBroke("cannot start", str(exc)))
            return
        self.post_message(RunLaunched(child))

    @on(RunLaunched)
    def handle_launched(self, message: RunLaunched) -> None:
        gc.freeze()  # what exists now lives on; full collections during the run then scan only what the run adds
        self.child = message.child

    @on(RunBroke)
    def handle_broke(self) -> None:
        self.running = False
        self.release()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def stop(self, *, leave_loaded: bool = False) -> bool:
        """SIGINT to the child (`leave_loaded`: see ChildRun.stop); False when there is no run to stop."""
        if self.child is None or not self.child.running:
            return False
        self.child.stop(leave_loaded=leave_loaded)
        return True

    def tick(self) -> None:
        state = self.state
        finished_before = state.finished
        changed = state.drain()
        if state.finished != finished_before:
            # What a finished request leaves (its figures, rows, sparkline points) lives on: frozen, it is no
            # longer scanned by full collections, which otherwise grow with the run and pause keys and drawing.
            gc.freeze()
        if self.running and state.failure is not None:
            self.running = False
            gc.unfreeze()  # the run is over: what it left may be collected again
            self.post_message(RunBroke("benchmark failed", state.failure))
        elif self.running and state.run is not None:
            self.running = False
            gc.unfreeze()
            self.release()
            self.post_message(RunEnded(state.run, state.run_dir))
        elif changed and tab_shown(self):
            self.draw()

    def draw(self) -> None:
        self.live.draw(self.state, self.host)
