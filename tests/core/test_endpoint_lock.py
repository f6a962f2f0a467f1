"""One benchmark per endpoint across processes: a second is refused naming the holder; the lock goes with its
holder, however that ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_engine_faults import server  # noqa: F401 - the loopback server fixture

from fl_tui.core.endpoint_lock import HELD_ENV, EndpointBusy, EndpointLock, lock_key, lock_path

ENDPOINT = "http://127.0.0.1:5273"


def test_a_second_holder_is_refused_until_the_first_releases():
    first, second = EndpointLock(ENDPOINT), EndpointLock(ENDPOINT + "/")
    first.acquire()
    with pytest.raises(EndpointBusy, match=rf"another session's benchmark is running on .*pid {os.getpid()}"):
        second.acquire()
    assert not second.held
    EndpointLock("http://127.0.0.1:9999").acquire()  # another endpoint is not held up
    first.release()
    second.acquire()
    assert second.held
    second.release()


def test_another_process_holds_it_until_it_ends(fresh_state):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, fl_tui.core.locations as l, pathlib;"
         f"l.state_dir = lambda: pathlib.Path({str(fresh_state)!r});"
         "from fl_tui.core.endpoint_lock import EndpointLock;"
         f"EndpointLock({ENDPOINT!r}).acquire(); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(EndpointBusy, match=f"pid {holder.pid}"):
            EndpointLock(ENDPOINT).acquire()
    finally:
        holder.kill()  # no release: the OS drops the lock with the process
        holder.wait(60)
    lock = EndpointLock(ENDPOINT)
    lock.acquire()
    assert lock.held and lock_path(ENDPOINT).is_file()
    lock.release()


async def test_the_benchmark_tab_refuses_a_run_while_another_holds_the_endpoint(embedded):
    """Another app process's run is held here by a lock of this process's own (a separate open file)."""
    from test_app_bench import SIZE, make_app, set_up, summary_of, view
    from waiting import until

    app = make_app(embedded)
    other = EndpointLock(embedded.endpoint)
    other.acquire()
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["fl-demo-fast"])
        await pilot.press("ctrl+r")

        def notices() -> list[str]:
            return [n.message for n in app._notifications]

        await until(pilot, lambda: any("another session's benchmark is running" in m for m in notices()),
                    "the notice naming the other run", seen=notices)
        assert any(f"pid {os.getpid()}" in m for m in notices())
        assert not pane.runner.running and view(pane) == "bench-setup"
        other.release()
        await pilot.press("ctrl+r")  # the endpoint free again: the run goes ahead, and lets go when it ends
        await summary_of(pilot, pane)
        assert not pane.runner.lock.held
        other.acquire()
        other.release()


@pytest.mark.parametrize(("one", "other"), [
    ("http://127.0.0.1:5273", "http://localhost:5273/v1"),
    ("http://127.0.0.1:5273/", "http://[::1]:5273"),
    ("HTTP://LOCALHOST:5273", "http://127.0.0.2:5273/openai/v1"),
    ("http://127.0.0.1", "http://localhost:80"),
    ("https://127.0.0.1", "https://localhost:443/"),
])
def test_one_endpoint_is_one_key_however_it_is_spelt(one, other):
    assert lock_key(one) == lock_key(other) and lock_path(one) == lock_path(other)


@pytest.mark.parametrize(("one", "other"), [
    ("http://127.0.0.1:5273", "http://127.0.0.1:5274"),
    ("http://127.0.0.1:443", "https://127.0.0.1:443"),
    ("http://192.0.2.1:5273", "http://192.0.2.2:5273"),
])
def test_other_endpoints_are_other_keys(one, other):
    assert lock_key(one) != lock_key(other)


def test_headless_bench_takes_the_lock_and_the_apps_child_does_not(server, monkeypatch):  # noqa: F811
    """A second `fl-tui bench` on an endpoint another holds (spelt another way) is refused, exit 2, naming the
    holder; the app's own benchmark process, told the app holds it (HELD_ENV), runs."""
    from conftest import run_cli

    from fl_tui.core import locations

    shared = Path(os.environ["FL_TUI_HOME"]) / "state"  # where the CLI processes keep their locks
    monkeypatch.setattr(locations, "state_dir", lambda: shared)
    port = server.url.rsplit(":", 1)[1]
    holder = EndpointLock(f"http://localhost:{port}/v1")
    holder.acquire()
    try:
        args = ("--endpoint", server.url, "bench", "--models", "sched-5000", "--rounds", "1", "--warmup", "0",
                "--max-tokens", "2")
        refused = run_cli(*args, env={"BENCH_PROMPT": "Say hello."})
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith("fl-tui: another session's benchmark is running on ")
        assert f"pid {os.getpid()}" in refused.stderr and refused.stderr.count("\n") == 1
        child = run_cli(*args, env={"BENCH_PROMPT": "Say hello.", HELD_ENV: lock_key(server.url)})
        assert child.returncode == 0, child.stderr
    finally:
        holder.release()
    assert run_cli(*args, env={"BENCH_PROMPT": "Say hello."}).returncode == 0
