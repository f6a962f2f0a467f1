"""Which network backend the benchmark's client reads with: the kernel-stamped one only where it can work (Linux,
plain http://), httpx's own everywhere else (Windows' proactor loop has no add_reader, its sockets no recvmsg)."""

import httpx
import pytest

from fl_tui.connection import chat
from fl_tui.connection.stamped import StampedBackend


def _backends(client: httpx.AsyncClient) -> dict[str, object]:
    return {pattern.pattern: getattr(transport._pool, "_network_backend", None)
            for pattern, transport in client._mounts.items()}


@pytest.mark.parametrize("linux", [True, False])
async def test_only_linux_http_reads_with_kernel_stamps(linux, monkeypatch):
    monkeypatch.setattr(chat, "KERNEL_STAMPS", linux)
    async with chat.stream_client(4) as client:
        backends = _backends(client)
    assert isinstance(backends["http://"], StampedBackend) is linux
    assert not isinstance(backends["https://"], StampedBackend)
