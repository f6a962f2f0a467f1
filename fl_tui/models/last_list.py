"""The model list as it was last seen, shown at start while the backend opens (which takes longer than the screen).

Kept per person (locations.personal_state_dir) and per endpoint as given (its password, if any, never written), in
the state folder, not the person's config. What is kept is what the table shows but the runtime decides afresh:
never which models are loaded, their time to live, or a backend's own extras. The app marks the list as the last
one until the backend's first listing replaces it, and no action runs on it.

Read before the first frame, so with json and plain checks, not pydantic (tens of milliseconds to import). Read
tolerantly: a missing file is a first start; a corrupt or foreign one is reported in one line and ignored.
Written atomically, from the poll's thread, only when the list changed; a list of more than LAST_MAX models (a
whole online catalog) is not kept: the file is removed, so a start never shows an older, smaller list.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from fl_tui.connection.base import ModelEntry, ModelSource
from fl_tui.core import locations
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.jsonfile import read_json
from fl_tui.core.limits import SMALL_FILE_MAX
from fl_tui.core.redact import redact_url

SCHEMA = "fl-tui/last-models/1"
LAST_MAX = 2_000
# what is kept of a ModelEntry, with the JSON types each may have (None: the field may be null)
KEPT: dict[str, tuple[type, ...]] = {
    "id": (str,), "alias": (str,), "device": (str, type(None)), "execution_provider": (str, type(None)),
    "task": (str, type(None)), "size_mb": (int, float, type(None)), "license": (str, type(None)),
    "tool_calling": (bool, type(None)), "cached": (bool,), "source": (str,), "display_name": (str, type(None)),
    "publisher": (str, type(None)), "path": (str, type(None)), "disk_bytes": (int, type(None)),
}


@dataclass(frozen=True)
class LastList:
    models: list[ModelEntry]
    saved: float  # seconds since the epoch


def last_file() -> Path:
    return locations.personal_state_dir() / "last-models.json"


def endpoint_key(endpoint: str | None, catalog: str) -> str:
    """Which listing a list belongs to: the endpoint as the person gave it (None: chosen at start) and the catalog
    setting, which decides whether the online catalog is in it."""
    return f"{redact_url(endpoint) if endpoint else 'auto'} catalog={catalog}"


def _as_json(entry: ModelEntry) -> dict:
    return {name: getattr(entry, name) for name in KEPT}


class LastModels:
    """One endpoint's last list: `load` it at start, `keep` every listing after (writes only what changed)."""

    def __init__(self, key: str, path: Path | None = None):
        self.key = key
        self.path = path or last_file()
        self._kept: list[dict] | None = None

    def load(self) -> tuple[LastList | None, str | None]:
        """(the last list, None); (None, None) when there is none for this endpoint; (None, why) when the file is
        there but cannot be read."""
        if not self.path.exists():
            return None, None
        try:
            _text, data = read_json(self.path, SMALL_FILE_MAX, lone_surrogates=True)
            last = self._read(data)
        except FileProblem as exc:
            return None, f"the last model list was not shown: {' '.join(str(exc).split())}"
        except ValueError as exc:
            return None, f"the last model list was not shown: {self.path}: {exc}"
        if last is not None:
            self._kept = [_as_json(m) for m in last.models]
        return last, None

    def _read(self, data: object) -> LastList | None:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} file")
        if data.get("endpoint") != self.key:
            return None  # another endpoint's: replaced by this one's first listing
        saved, rows = data.get("saved"), data.get("models")
        if not isinstance(saved, int | float) or isinstance(saved, bool) or not isinstance(rows, list):
            raise ValueError("'saved' must be a number and 'models' a list")
        if len(rows) > LAST_MAX:
            raise ValueError(f"more than {LAST_MAX} models")
        return LastList([self._entry(i, row) for i, row in enumerate(rows)], float(saved))

    @staticmethod
    def _entry(index: int, row: object) -> ModelEntry:
        if not isinstance(row, dict):
            raise ValueError(f"models[{index}] is not an object")
        for name, kinds in KEPT.items():
            value = row.get(name)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise ValueError(f"models[{index}].{name} is missing or of the wrong type")
        try:
            source = ModelSource(row["source"])
        except ValueError:
            raise ValueError(f"models[{index}].source is not one of {', '.join(ModelSource)}") from None
        return ModelEntry(**{name: row[name] for name in KEPT if name != "source"}, source=source)

    def keep(self, models: list[ModelEntry]) -> None:
        """Called from a thread with every listing; OSError when the file cannot be written."""
        if len(models) > LAST_MAX:
            if self._kept != []:
                self.path.unlink(missing_ok=True)
                self._kept = []
            return
        rows = [_as_json(m) for m in models]
        if rows == self._kept:
            return
        data = {"schema": SCHEMA, "endpoint": self.key, "saved": round(time.time(), 3), "models": rows}
        # ASCII: a name from a server may hold a lone surrogate, which UTF-8 cannot; escaped, it reads back.
        atomic_write_text(self.path, json.dumps(data, indent=1) + "\n")
        self._kept = rows
