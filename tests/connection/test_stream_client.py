"""Which network backend the benchmark's client reads with: the kernel-stamped one, in a blocking thread per
stream, only where it can work (Linux, plain http://); httpx's own on the event loop everywhere else (Windows has
no SO_TIMESTAMPNS, its sockets no recvmsg)."""

import httpx
import pytest

from fl_tui.connection import chat
from fl_tui.connection.stamped import StampedBackend


def _backends(client: httpx.AsyncClient | httpx.Client) -> dict[str, object]:
    return {pattern.pattern: getattr(transport._pool, "_network_backend", None)
            for pattern, transport in client._mounts.items()}


@pytest.mark.parametrize("linux", [True, False])
async def test_only_linux_http_reads_with_kernel_stamps(linux, monkeypatch):
    monkeypatch.setattr(chat, "KERNEL_STAMPS", linux)
    async with chat.stream_client(4) as client:
        on_loop = _backends(client)
        threaded = client.threaded
        in_thread = threaded._transport._pool._network_backend if threaded is not None else None
    assert not any(isinstance(backend, StampedBackend) for backend in on_loop.values())
    assert isinstance(in_thread, StampedBackend) is linux
    assert threaded is None or threaded.is_closed  # closed with the client
