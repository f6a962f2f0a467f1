"""Reading a model variant id (`Phi-4-mini-instruct-generic-cpu:4`): one place for what every backend assumes."""

from __future__ import annotations

import re

_DEVICE = re.compile(r"-(cpu|gpu|npu)$", re.IGNORECASE)


def strip_version(model_id: str) -> str:
    """`name:version` -> `name` (ids carry a version after the last colon)."""
    return model_id.rsplit(":", 1)[0] if ":" in model_id else model_id


def device_from_id(model_id: str) -> str | None:
    """CPU, GPU or NPU from the id's `-cpu`/`-gpu`/`-npu` ending, where it has one."""
    match = _DEVICE.search(strip_version(model_id))
    return match.group(1).upper() if match else None
