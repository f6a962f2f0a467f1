"""Writes a run as it happens: each finished request appended and flushed, run.json replaced atomically.

A crash or Ctrl-C loses at most the requests in flight; run.json always parses.
"""

from __future__ import annotations

import json
from pathlib import Path

from fl_tui.bench.records import RequestResult
from fl_tui.core.fileio import atomic_write_text


class RunWriter:
    def __init__(self, run_dir: Path, run_id: str):
        """Every requests.jsonl line carries `run_id`: a line copied or appended elsewhere still says its run."""
        self.dir = Path(run_dir)
        self.run_id = run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.dir / "requests.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - kept for the run

    def request(self, result: RequestResult) -> None:
        self._jsonl.write(json.dumps({"run_id": self.run_id, **result.to_json()}, ensure_ascii=False) + "\n")
        self._jsonl.flush()

    def run(self, run: dict) -> None:
        atomic_write_text(self.dir / "run.json", json.dumps(run, indent=1, ensure_ascii=False))

    def close(self) -> None:
        self._jsonl.close()
