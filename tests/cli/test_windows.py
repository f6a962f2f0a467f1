"""What broke on Windows, each kept broken-proof: kernel receive stamps degrade to httpx's own transport where the
socket module cannot give them, `--debug` says why and does not need Linux clocks, and a console in a legacy code
page (cp1252, as a Windows pipe is) gets the whole report. These run on Linux by taking the missing pieces away,
and under Windows CPython for real in `make test-windows` (.ci/windows/lane.sh), where the end-to-end bench below
records Windows as its OS."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from conftest import FL_TUI, REPO
from loopback_module import loopback

from fl_tui.cli.timing import Stopwatch
from fl_tui.connection import stamped


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=3600)
    yield handle
    handle.stop()


class NoAncillary:
    """A socket module as Windows has it: no CMSG_SPACE, and sockets without recvmsg."""

    class socket:  # stands in for socket.socket
        pass


def test_kernel_stamps_are_refused_with_a_reason_where_the_platform_lacks_them():
    assert "Linux-only" in stamped._why_not("win32")
    assert "recvmsg/CMSG_SPACE" in stamped._why_not("linux", NoAncillary)
    assert (stamped.WHY_NOT is None) == stamped.KERNEL_STAMPS


def test_without_cmsg_the_client_imports_and_streams_through_httpx(server):
    """The crash on Windows was `socket.CMSG_SPACE` at import: without it the stream client keeps httpx's own
    transport, and a stream is still measured."""
    code = (
        "import asyncio, socket, sys\n"
        "if hasattr(socket, 'CMSG_SPACE'): del socket.CMSG_SPACE\n"
        "from fl_tui.connection import chat, stamped\n"
        "async def main():\n"
        "    async with chat.stream_client() as client:\n"
        "        pool = client._mounts[next(iter(client._mounts))]._pool\n"
        "        rec = await chat.stream_chat(client, sys.argv[1] + '/v1', chat.chat_body('sched-1000', 'x',"
        " max_tokens=3), timeout_s=30)\n"
        "    print(stamped.KERNEL_STAMPS, type(pool._network_backend).__name__, rec.status_code, len(rec.events))\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, server.url], capture_output=True, text=True, timeout=60,
                         cwd=REPO)
    assert out.returncode == 0, out.stderr
    kernel, backend, status, events = out.stdout.split()
    assert kernel == "False" and backend != "StampedBackend" and status == "200" and int(events) >= 3


def test_debug_timing_without_boot_clock_notes_it(monkeypatch):
    monkeypatch.delattr(time, "CLOCK_BOOTTIME", raising=False)
    watch = Stopwatch()
    watch.measure_python()
    assert watch.python_s is None
    assert "not measured here" in watch.line()


def cli(*args: str, encoding: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """fl-tui with stdout and stderr pipes in `encoding`, as a Windows console's code page gives them."""
    env = {**__import__("os").environ, "PYTHONIOENCODING": encoding}
    result = subprocess.run([*FL_TUI, *args], capture_output=True, timeout=timeout, env=env, cwd=REPO)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(encoding),
                                       result.stderr.decode(encoding))


def test_bench_report_reaches_a_cp1252_pipe_whole(server, tmp_path):
    """The report printed at the end holds ✓ and √, which cp1252 has not: it is printed with `?` in their
    place instead of crashing, and the run's files keep them (they are UTF-8)."""
    out = tmp_path / "run"
    result = cli("--endpoint", server.url, "--debug", "bench", "--models", "sched-2000", "--prompts", "quick",
                 "--rounds", "1", "--warmup", "0", "--max-tokens", "8", "--out", str(out), encoding="cp1252")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "UnicodeEncodeError" not in result.stderr
    assert "# " in result.stdout and "sched-2000" in result.stdout and "run directory:" in result.stdout
    report = (out / "report.md").read_text(encoding="utf-8")
    assert any(ord(c) > 255 for c in report)  # the case that crashed: characters cp1252 cannot encode
    assert "fl-tui: debug: " in result.stderr and "fl-tui: time: " in result.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    expected_os = {"win32": "Windows", "linux": "Linux", "darwin": "Darwin"}[sys.platform]
    assert run["environment"]["os"] == expected_os and run["models"][0]["status"] == "ok"


def test_json_output_stays_whole_in_a_legacy_code_page(server):
    """--format json in cp1252 escapes what the code page lacks, so the document parses to the same data."""
    result = cli("--endpoint", server.url, "models", "list", "--format", "json", encoding="cp1252")
    assert result.returncode == 0, result.stderr
    ids = {m["id"] for m in json.loads(result.stdout)}
    assert "sched-2000" in ids
    assert result.stdout.isascii()
