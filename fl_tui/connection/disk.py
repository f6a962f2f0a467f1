"""Disk facts about models in a cache folder on this machine."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from fl_tui.connection.base import ModelEntry


def dir_bytes(path: str | os.PathLike) -> int:
    """Bytes of the files under `path`, following links (published models are folders of links)."""
    total = 0
    for root, _dirs, files in os.walk(path, followlinks=True):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # a dangling link: its target was removed
                continue
    return total


def with_cache_facts(entries: list[ModelEntry], cache_dir: str | None) -> list[ModelEntry]:
    """Mark entries whose `<cache>/<name>-<version>/` folder exists as cached, with its path and size.

    Foundry Local keeps a variant `name:version` in that folder; a service on this machine reports its cache
    path in /status, so what it has on disk can be read even where it has no HTTP route for it."""
    if not cache_dir or not Path(cache_dir).is_dir():
        return entries
    out = []
    for entry in entries:
        name, _, version = entry.id.rpartition(":")
        folder = Path(cache_dir) / f"{name}-{version}"
        if name and version.isdigit() and folder.is_dir():
            entry = dataclasses.replace(entry, cached=True, path=str(folder), disk_bytes=dir_bytes(folder))
        out.append(entry)
    return out
