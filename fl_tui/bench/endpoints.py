"""Runs against several endpoints (`fl-tui bench --endpoint A --endpoint B`): how an endpoint is named where room
is short, and one such run seen endpoint by endpoint, which is what `fl-tui compare RUN` compares.

In such a run every `models` entry and request names its `endpoint` (as shown: credentials masked), and run.json's
`endpoints` lists each with its backend kind and environment, or the error that kept it out of the run. A run
against one endpoint has none of these fields, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from fl_tui.bench.runschema import RunJson


def short(endpoint: str) -> str:
    """`host:port`, with a path other than /v1 kept (two services on one box differ there); the text itself
    when it is not a URL (e.g. "embedded")."""
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return endpoint
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    path = parts.path.rstrip("/")
    return (f"{host}:{parts.port}" if parts.port else host) + (path if path not in ("", "/v1") else "")


def endpoints_of(run: RunJson) -> list[str]:
    """The run's endpoints in the order they ran; [] for a run against one endpoint."""
    listed = [e.get("endpoint") for e in run.endpoints or []]
    found = [m.endpoint for m in [*run.models, *run.requests]]
    return list(dict.fromkeys(e for e in [*listed, *found] if isinstance(e, str)))


def part(run: RunJson, endpoint: str) -> RunJson:
    """The run as if it had been run against `endpoint` alone: its entries and requests (the endpoint field
    cleared, so entries of two endpoints match by model and level), and that endpoint's environment."""
    listed = next((e for e in run.endpoints or [] if e.get("endpoint") == endpoint), {})
    environment = listed.get("environment")
    return run.model_copy(update={
        "endpoint": endpoint, "backend": listed.get("backend"), "endpoints": None,
        "environment": environment if isinstance(environment, Mapping) else None,
        "models": [m.model_copy(update={"endpoint": None}) for m in run.models if m.endpoint == endpoint],
        "requests": [r.model_copy(update={"endpoint": None}) for r in run.requests if r.endpoint == endpoint]})


def endpoint_pairs(run: RunJson) -> list[tuple[str, str, RunJson, RunJson]]:
    """(base endpoint, other endpoint, base part, other part) for each endpoint after the first: what comparing a
    run against several endpoints compares. [] for a run against one."""
    endpoints = endpoints_of(run)
    if len(endpoints) < 2:
        return []
    first = part(run, endpoints[0])
    return [(endpoints[0], other, first, part(run, other)) for other in endpoints[1:]]
