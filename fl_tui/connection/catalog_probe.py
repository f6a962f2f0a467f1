"""Decide, in a bounded time, whether the public model catalog can be reached at all.

Offline, the runtime spends ~4.5 s in retries on every catalog lookup and then silently returns nothing.
A DNS lookup plus a TCP connect fails in milliseconds on a box with no network, so probing first lets the
embedded runtime start in cache-only mode instead of stalling whatever the person is waiting on.
"""

from __future__ import annotations

import concurrent.futures
import socket
from urllib.parse import urlparse

DEFAULT_CATALOG_URL = "https://api.catalog.azureml.ms/asset-gallery/v1.0/models"


def _connect(host: str, port: int, timeout: float) -> None:
    with socket.create_connection((host, port), timeout=timeout):
        pass


def catalog_reachable(url: str = DEFAULT_CATALOG_URL, timeout_s: float = 1.5) -> tuple[bool, str]:
    """(reachable, reason). Never takes much longer than `timeout_s`, even when DNS hangs."""
    parsed = urlparse(url)
    host = parsed.hostname
    if not host:
        return False, f"not a URL: {url}"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-probe")
    try:
        pool.submit(_connect, host, port, timeout_s).result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        return False, f"{host}: no answer within {timeout_s:g} s"
    except OSError as exc:
        return False, f"{host}: {exc.strerror or exc}"
    finally:
        pool.shutdown(wait=False)  # a DNS lookup stuck in the resolver must not hold us
    return True, "reachable"
