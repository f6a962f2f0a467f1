"""Turn what a person typed (an alias or a full variant id) into one model, or say which names are close."""

from __future__ import annotations

import difflib

from fl_tui.connection.base import BackendError, ModelEntry


class UnknownModel(BackendError):
    def __init__(self, name: str, known: list[str]):
        close = difflib.get_close_matches(name, known, n=4, cutoff=0.4)
        hint = ""
        if close:
            hint = f"; close names: {', '.join(close)}"
        elif known:
            hint = f"; known: {', '.join(known[:6])}"
        super().__init__(f"unknown model '{name}'{hint}")
        self.name = name
        self.close = close


def resolve_name(name: str, models: list[ModelEntry]) -> ModelEntry:
    """Exact id, then alias (preferring a loaded, then a cached variant, then catalog order); then ignoring case."""
    for match in (lambda s: s, str.casefold):
        wanted = match(name)
        by_id = [m for m in models if match(m.id) == wanted]
        if by_id:
            return by_id[0]
        by_alias = [m for m in models if match(m.alias) == wanted]
        if by_alias:
            return sorted(by_alias, key=lambda m: (not m.loaded, not m.cached))[0]
    known = sorted({m.alias for m in models} | {m.id for m in models})
    raise UnknownModel(name, known)
