"""How `fl-tui web` ends a session's app process (server.end_session), with textual-serve's own session class and a
stand-in app: told to quit, it closes its output first and exits a moment later, as a Textual app does."""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys

from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from fl_tui.ui.web import server

QUITS_SLOWLY = """
import os, sys, time
sys.stdout.write("__GANGLION__\\n"); sys.stdout.flush()
sys.stdin.buffer.read(1)  # the quit packet
os.close(1)
time.sleep(1.0)  # tearing down after its output closed
sys.exit(3)
"""
NEVER_QUITS = """
import sys, time
sys.stdout.write("__GANGLION__\\n"); sys.stdout.flush()
time.sleep(600)
"""


async def _ended(code: str) -> int:
    async def nothing(*_args) -> None:
        pass

    service = AppService("exec " + shlex.join([sys.executable, "-c", code]), write_bytes=nothing, write_str=nothing,
                         close=nothing, download_manager=DownloadManager())
    await service.start(80, 24)
    await server.end_session(service)
    return service._process.returncode


def test_an_app_that_quits_is_waited_for_not_killed(caplog, monkeypatch):
    """Killed once its output closed, it would exit -9; killed as it exits, Popen.kill's poll reaps it before
    asyncio's child watcher can and the log says "Unknown child process pid N"."""
    monkeypatch.setattr(server, "QUIT_GRACE_S", 60.0)  # a slow machine's start-up never reaches the grace
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        assert asyncio.run(_ended(QUITS_SLOWLY)) == 3
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_an_app_that_does_not_quit_is_killed_after_the_grace(monkeypatch):
    monkeypatch.setattr(server, "QUIT_GRACE_S", 0.5)
    assert asyncio.run(_ended(NEVER_QUITS)) == -9
