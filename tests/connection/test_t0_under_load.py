"""t0 is stamped where the request's bytes leave, even with many requests in flight on one event loop.

The loopback server writes a `sched-` model's first token no earlier than TTFT_MS after it has read the whole
request, so by causality no client can measure a TTFT below TTFT_MS: t0 is taken before the server can have
read the request, and the first token arrives after the server wrote it. A t0 stamped after the event loop ran
other tasks (it used to be taken after a yield that follows the write) shows up as a TTFT below that bound.
"""

from __future__ import annotations

import pytest
from loopback_module import loopback

from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.core.prompts import Prompt, PromptSet

PROMPTS = PromptSet(name="eight", prompts=[Prompt(id=f"p{i}", prompt=f"Say {i}.") for i in range(8)])


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=3600)
    yield handle
    handle.stop()


async def test_no_ttft_below_the_servers_first_token_at_concurrency_8(server, tmp_path):
    backend = OpenAICompatBackend(server.url)
    try:
        settings = BenchSettings(rounds=4, warmup=0, max_tokens=64, concurrency=8)
        engine = BenchEngine(backend, ["sched-2000"], PROMPTS, settings, tmp_path / "run")
        run = await engine.run()
    finally:
        backend.close()
    ttfts = sorted(r["ttft_ms"] for r in run["requests"] if r["status"] == "ok")
    assert len(ttfts) == 32
    print(f"TTFT at concurrency 8: min {ttfts[0]:.3f} ms, p50 {ttfts[16]:.3f} ms (server floor {loopback.TTFT_MS} ms)")
    assert ttfts[0] >= loopback.TTFT_MS, ttfts[:5]
