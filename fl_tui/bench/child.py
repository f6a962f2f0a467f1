"""Run `fl-tui bench --events` in a process of its own and hand its decoded events to an observer.

The app watches benchmarks this way so that no render or garbage collection in its process can delay a
timestamp (see fl_tui.bench.wire). Stop is Ctrl-C for the child (SIGINT; CTRL_BREAK_EVENT to its own process
group on Windows, see fl_tui.core.platform): it writes what finished. A Windows app without a console cannot send
that and terminates the child: its requests so far are in the run folder, and the run is reported as stopped so.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from fl_tui.bench.engine import BenchSettings
from fl_tui.bench.events import Event, Observer, RunFailed, RunFinished
from fl_tui.bench.runfiles import read_run
from fl_tui.bench.wire import decode
from fl_tui.core import platform
from fl_tui.core.endpoint_lock import HELD_ENV, lock_key
from fl_tui.core.errors import FileProblem

QUIT_MARK_ENV = "FL_TUI_QUIT_MARK"
MARK_NAME = "app-quitting"


def app_quitting() -> bool:
    """In the child: the app that started it stopped it because it is quitting, and the runtime it benchmarks goes
    with the app (ChildRun.stop), so unloading the model it loaded would only make the quit wait (~0.3 s)."""
    mark = os.environ.get(QUIT_MARK_ENV)
    return bool(mark) and Path(mark).exists()


def bench_command(args: list[str]) -> list[str]:
    """`fl-tui bench … --events`, with this interpreter; the endpoint comes from `bench_env`."""
    return [sys.executable, "-m", "fl_tui", "bench", *args, "--events"]


def bench_env(endpoint: str, more: Sequence[str] = ()) -> dict[str, str]:
    """The endpoint goes in the environment, not on the command line: it may hold credentials, and any local
    user can read a command line (ps), while /proc/<pid>/environ is the owner's only. `more`: endpoints to run
    after it (comma-separated there, which only `bench` reads as several). The app holds the first one's lock for
the child (core.endpoint_lock), so the child does not take it again."""
    return {**os.environ, "FOUNDRY_LOCAL_ENDPOINT": ",".join([endpoint, *more]), HELD_ENV: lock_key(endpoint)}


def bench_args(models: list[str], prompts: Path, settings: BenchSettings, out: Path | None = None) -> list[str]:
    """`out` None: the child picks `runs/<its run id>`, and says where in its first event."""
    args = [
        "--models", ",".join(models), "--prompts", str(prompts), "--rounds", str(settings.rounds),
        "--warmup", str(settings.warmup), "--max-tokens", str(settings.max_tokens),
        "--concurrency", ",".join(map(str, settings.levels or (settings.concurrency,))),
        "--timeout", f"{settings.timeout_s:g}",
    ]
    if settings.rate is not None:
        args += ["--rate", settings.rate]
    if settings.duration_s is not None:
        args += ["--duration", f"{settings.duration_s:g}"]
    if settings.prompt_tokens:
        args += ["--prompt-tokens", ",".join(map(str, settings.prompt_tokens))]
    if settings.slo:
        args += ["--slo", ",".join(f"{k}={v:g}" for k, v in settings.slo.items())]
    if out is not None:
        args += ["--out", str(out)]
    if settings.temperature is not None:
        args += ["--temperature", f"{settings.temperature:g}"]
    if settings.seed is not None:
        args += ["--seed", str(settings.seed)]
    if settings.watts is not None:
        args += ["--watts", f"{settings.watts:g}"]
    if settings.keep_alive:
        args.append("--keep-alive")
    return args


class ChildRun:
    """A benchmark process and the threads that read it. Whatever goes wrong (a line that is not the wire, a
    run.json that cannot be read, the process dying before its end) reaches the observer as one RunFailed, and
    a run that went wrong is stopped, so a watcher never waits on a run that is not coming."""

    def __init__(self, command: list[str], observer: Observer, env: dict[str, str] | None = None):
        self.observer = observer
        self.ended = False  # the run ended: finished, or reported failed
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=5)
        self.terminated = False  # stopped without a chance to write what finished (platform.interrupt)
        self.stop_sent = False
        # The mark `stop(leave_loaded=True)` makes: a file, there before the stop's signal, so the child cannot
        # see the stop without it. Its folder is this run's own and goes when the process has ended. Without a
        # temporary folder there is no mark, and a quit waits for the unload, as it did before marks.
        env = dict(os.environ if env is None else env)
        try:
            self._mark_dir: Path | None = Path(tempfile.mkdtemp(prefix="fl-tui-bench-"))
        except OSError:
            self._mark_dir = None
        else:
            env[QUIT_MARK_ENV] = str(self._mark_dir / MARK_NAME)
        try:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, **platform.child_group_options())
        except OSError:
            self._remove_mark()
            raise
        self._reader = threading.Thread(target=self._read, name="bench-child-events", daemon=True)
        self._errors = threading.Thread(target=self._read_stderr, name="bench-child-stderr", daemon=True)
        self._reader.start()
        self._errors.start()

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, *, leave_loaded: bool = False) -> None:
        """`leave_loaded`: the app is quitting and the runtime at its endpoint is in its process, so the child
        need not unload the model it loaded there (app_quitting); other endpoints' models are unloaded as ever."""
        if not self.running:
            return
        if leave_loaded and self._mark_dir is not None:  # also after a stop sent before: read at the unload
            # No mark (the folder taken by a temp reaper): the child unloads first, and the quit waits (~0.3 s).
            with contextlib.suppress(OSError):
                (self._mark_dir / MARK_NAME).touch()
        if not self.stop_sent:  # once: a second Ctrl-C could cut short the writing of what finished
            self.stop_sent = True
            self.terminated = not platform.interrupt(self.proc)

    def _remove_mark(self) -> None:
        """Called once the process has ended, by its reader and by `wait` (whichever comes first; both may)."""
        if self._mark_dir is not None:
            shutil.rmtree(self._mark_dir, ignore_errors=True)  # ours alone; a temp reaper may have taken it

    def wait(self, timeout: float | None = None) -> int:
        code = self.proc.wait(timeout)
        self._remove_mark()  # here too: the process may end (os._exit) before the reader gets to it
        self._reader.join(timeout)
        return code

    def _read(self) -> None:
        for raw in self.proc.stdout:
            if self.ended:
                continue  # after the end or a failure, only drain the pipe so that the process can exit
            try:
                self._forward(decode(raw.decode("utf-8")))
            except (ValueError, FileProblem) as exc:  # UnicodeDecodeError and the wire's errors are ValueErrors
                self._fail(f"unreadable event from the benchmark process: {exc}: {raw[:120]!r}")
                self.stop()
        code = self.proc.wait()
        self._remove_mark()
        self._errors.join(5)
        if self.ended:
            return
        if self.terminated:
            self._fail("stopped: the benchmark process was terminated (no console to send it Ctrl-Break through); "
                       "the requests it finished are in its run folder's requests.jsonl")
        else:
            self._fail(f"the benchmark process exited with code {code}: {' '.join(self.stderr_tail) or 'no message'}")

    def _forward(self, event: Event) -> None:
        match event:
            case RunFinished(run_dir=folder):
                event = dataclasses.replace(event, run=read_run(folder))
                self.ended = True
        self.observer(event)

    def _fail(self, message: str) -> None:
        self.ended = True
        self.observer(RunFailed(message))

    def _read_stderr(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            if line.strip() and not line.startswith("  "):  # keep messages, not per-request progress lines
                self.stderr_tail.append(line.strip())
