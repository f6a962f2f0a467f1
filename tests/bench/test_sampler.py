"""The resource sampler says why it stopped when the process it watches goes away (the engine warns with it)."""

import subprocess
import sys

from waiting import until_sync

from fl_tui.bench.sampler import ResourceSampler


def test_a_process_that_ends_stops_the_sampling_with_the_reason():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        sampler = ResourceSampler(proc.pid, interval_s=0.01).start()
        assert sampler.peak_rss_mb is not None and sampler.error is None
        proc.kill()
        proc.wait()
        until_sync(lambda: sampler.error is not None, "the sampler to notice", seen=lambda: sampler.error)
        sampler.stop()
        assert sampler.error == f"cannot sample pid {proc.pid}: NoSuchProcess"
    finally:
        if proc.poll() is None:
            proc.kill()
