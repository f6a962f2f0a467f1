"""`--filter key=value,key=value` for model lists, in the spirit of `foundry model list --filter device=GPU`.

Every pair must hold. Matching ignores case and is by prefix (`task=chat` matches `chat-completion`), or by
glob when the value has a `*`. Headless: the CLI and any view can use it."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fl_tui.core.errors import UserError

if TYPE_CHECKING:  # the parser's help lists FIELDS: this module stays light to import
    from fl_tui.connection.base import ModelEntry

Field = Callable[["ModelEntry", dict], list[str]]


def _capabilities(entry: ModelEntry, specs: dict) -> list[str]:
    from fl_tui.models.modelview import capabilities  # imports rich and the backends: only when a filter runs

    return capabilities(entry, specs)


def _flag(value: bool) -> list[str]:
    return ["yes", "true"] if value else ["no", "false"]


FIELDS: dict[str, Field] = {
    "alias": lambda e, s: [e.alias],
    "id": lambda e, s: [e.id],
    "device": lambda e, s: [e.device or ""],
    "provider": lambda e, s: [e.execution_provider or ""],
    "task": lambda e, s: [e.task or ""],
    "source": lambda e, s: [e.source],
    "license": lambda e, s: [e.license or ""],
    "capability": _capabilities,
    "cached": lambda e, s: _flag(e.cached),
    "loaded": lambda e, s: _flag(e.loaded),
}


@dataclass(frozen=True)
class Condition:
    key: str
    pattern: str

    def holds(self, entry: ModelEntry, specs: dict) -> bool:
        pattern = self.pattern.casefold()
        glob = pattern if "*" in pattern else pattern + "*"
        return any(fnmatch.fnmatchcase(v.casefold(), glob) for v in FIELDS[self.key](entry, specs))


def parse_filter(text: str) -> list[Condition]:
    """`device=CPU,task=chat` -> two conditions; a pair without `=` or an unknown key is a UserError."""
    conditions = []
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        key = key.strip().casefold()
        if not sep or not value.strip():
            raise UserError(f"--filter: expected key=value, got {pair!r}")
        if key not in FIELDS:
            raise UserError(f"--filter: unknown key {key!r}; known: {', '.join(FIELDS)}")
        conditions.append(Condition(key, value.strip()))
    return conditions


def apply_filter(models: list[ModelEntry], conditions: list[Condition], specs: dict) -> list[ModelEntry]:
    return [m for m in models if all(c.holds(m, specs) for c in conditions)]
