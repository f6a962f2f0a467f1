"""A thin wrapper around the `foundry` command, for what the current service has no HTTP route for.

The CLI meant is the current one (0.10 and later, the `foundry server …` generation). Its source is not public;
what is used here comes from its official reference (commands `model list|download|load|unload`,
`cache list|remove|location`) and from public programs that parse its `-o json` output (CLI 0.10.3 and 0.11.0):

- `foundry model list -o json` -> `{"models": [{"alias", "id", "displayName", "type", "device", "fileSizeMb",
  "cached", "license", "supportsToolCalling", ...}]}`; `--cached` and `--loaded` filter the same shape;
  `--variants -o json` answers `{"variants": [...]}` instead.
- `foundry cache list -o json` -> `{"models": [{"alias", ...}]}` (seen in one consumer only; others also accept a
  bare list or an `items` key).
- `foundry model download <model>` prints a progress display, no JSON.
- `foundry cache remove <model> --force` removes without the confirmation prompt (seen in one consumer only).

Only `alias`, `id`, `device`, `fileSizeMb` and `cached` are confirmed by more than one source, so rows are parsed
leniently: keys are matched case-insensitively with fallbacks (`modelId`, `variantId`, `runtime.deviceType`, ...)
and a missing field is simply left unset. A non-zero exit or output that is not JSON becomes a `BackendError`
carrying the first line of the CLI's stderr.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable

from fl_tui.connection.base import BackendError, ModelEntry, ModelSource, ProgressCallback

PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def json_document(text: str) -> object:
    """The first JSON object or array in `text`, skipping any banner before it and chatter after it."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise ValueError("no JSON object or array in the output")
    value, _end = json.JSONDecoder().raw_decode(text, min(starts))
    return value


def _get(row: dict, *names: str) -> object:
    """The first present, non-null value among `names`, matching keys case-insensitively."""
    folded = {str(k).casefold(): v for k, v in row.items()}
    for name in names:
        value = folded.get(name.casefold())
        if value is not None and value != "":
            return value
    return None


def _str(value: object) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:  # e.g. "1.2 GB": a size that is not a plain number is left unknown
            return None
    return None


def rows(payload: object, *keys: str) -> list[dict]:
    """The list of model rows in a CLI JSON answer: a bare list, or the list under one of `keys`."""
    found = payload
    if isinstance(payload, dict):
        found = next(
            (payload[k] for k in (*keys, "models", "variants", "items", "data") if isinstance(payload.get(k), list)),
            None,
        )
    if not isinstance(found, list):
        raise ValueError(f"expected a list of models, got {type(payload).__name__}")
    return [r for r in found if isinstance(r, dict)]


def entry_from_row(row: dict, *, cached: bool = False, loaded: bool = False) -> ModelEntry | None:
    """One CLI row as a ModelEntry; None when the row names no model."""
    model_id = _str(_get(row, "id", "modelId", "variantId", "name", "variantName", "alias"))
    if not model_id:
        return None
    runtime = _get(row, "runtime")
    runtime = runtime if isinstance(runtime, dict) else {}
    device = _str(_get(row, "device", "deviceType") or _get(runtime, "deviceType"))
    tools = _get(row, "supportsToolCalling", "toolCalling")
    row_cached = _get(row, "cached", "isCached", "downloaded")
    row_loaded = _get(row, "loaded", "isLoaded")
    return ModelEntry(
        id=model_id,
        alias=_str(_get(row, "alias")) or model_id,
        device=device.upper() if device else None,
        execution_provider=_str(_get(row, "executionProvider", "provider") or _get(runtime, "executionProvider")),
        task=_str(_get(row, "task")),
        size_mb=_float(_get(row, "fileSizeMb", "sizeMb")),
        license=_str(_get(row, "license")),
        tool_calling=tools if isinstance(tools, bool) else None,
        cached=row_cached if isinstance(row_cached, bool) else cached,
        loaded=row_loaded if isinstance(row_loaded, bool) else loaded,
        source=ModelSource.CATALOG,
        display_name=_str(_get(row, "displayName")),
        publisher=_str(_get(row, "publisher")),
        extra={"cli": row},
    )


def entries(payload: object, *keys: str, cached: bool = False, loaded: bool = False) -> list[ModelEntry]:
    found = (entry_from_row(r, cached=cached, loaded=loaded) for r in rows(payload, *keys))
    return [e for e in found if e is not None]


class FoundryCli:
    """Runs `foundry` subcommands; every failure is a BackendError with the CLI's own first line of stderr."""

    def __init__(self, executable: str = "foundry", timeout: float = 120.0):
        # 120 s: the first `model list` after an install downloads execution providers before answering.
        self.executable = executable
        self.timeout = timeout

    @classmethod
    def find(cls, timeout: float = 120.0) -> FoundryCli | None:
        path = shutil.which("foundry")
        return cls(path, timeout) if path else None

    def _describe(self, args: Iterable[str]) -> str:
        return " ".join(["foundry", *args])

    def run(self, *args: str, timeout: float | None = None) -> str:
        limit = self.timeout if timeout is None else timeout
        try:
            done = subprocess.run(
                [self.executable, *args],
                capture_output=True,
                text=True,
                timeout=limit,
                stdin=subprocess.DEVNULL,  # never let a confirmation prompt wait for a keyboard
            )
        except subprocess.TimeoutExpired as exc:
            raise BackendError(f"{self._describe(args)}: no answer within {limit:g} s") from exc
        except OSError as exc:
            raise BackendError(f"cannot run {self.executable}: {exc.strerror or exc}") from exc
        if done.returncode != 0:
            why = _first_line(done.stderr) or _first_line(done.stdout) or f"exit status {done.returncode}"
            raise BackendError(f"{self._describe(args)}: {why}")
        return done.stdout

    def run_json(self, *args: str) -> object:
        out = self.run(*args, "-o", "json")
        try:
            return json_document(out)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            shown = _first_line(out) or "nothing"
            raise BackendError(f"{self._describe(args)} -o json: unparsable output: {shown[:120]!r}") from exc

    def _entries(
        self, args: tuple[str, ...], *keys: str, cached: bool = False, loaded: bool = False
    ) -> list[ModelEntry]:
        payload = self.run_json(*args)
        try:
            return entries(payload, *keys, cached=cached, loaded=loaded)
        except ValueError as exc:
            raise BackendError(f"{self._describe(args)} -o json: {exc}") from exc

    def list_models(self, *, cached: bool = False, loaded: bool = False) -> list[ModelEntry]:
        """The catalog as the CLI shows it (`model list`), optionally only the cached or loaded ones."""
        args = ("model", "list") + (("--cached",) if cached else ()) + (("--loaded",) if loaded else ())
        return self._entries(args, "models", cached=cached, loaded=loaded)

    def list_cached(self) -> list[ModelEntry]:
        return self._entries(("cache", "list"), "models", cached=True)

    def remove(self, name: str) -> None:
        self.run("cache", "remove", name, "--force")

    def download(
        self,
        name: str,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        timeout: float | None = None,
    ) -> None:
        """`foundry model download NAME`, reporting each percentage it prints; `cancel` stops the process.

        This one uses Popen rather than subprocess.run: a download is long, prints progress as it goes, and must be
        cancellable. Progress callbacks run in the calling thread.
        """
        args = ("model", "download", name)
        try:
            proc = subprocess.Popen(
                [self.executable, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise BackendError(f"cannot run {self.executable}: {exc.strerror or exc}") from exc
        percents: queue.SimpleQueue[float] = queue.SimpleQueue()
        out_tail: list[str] = []
        err_lines: list[str] = []

        def pump_stdout() -> None:
            for line in proc.stdout:  # text mode turns the progress display's carriage returns into lines
                for match in PERCENT.finditer(line):
                    percents.put(float(match.group(1)))
                if line.strip():
                    out_tail[:] = [*out_tail[-4:], line.strip()]

        def pump_stderr() -> None:
            err_lines.extend(line for line in proc.stderr if line.strip())

        readers = [threading.Thread(target=f, daemon=True) for f in (pump_stdout, pump_stderr)]
        for reader in readers:
            reader.start()

        def deliver() -> None:
            while not percents.empty():
                pct = percents.get()
                if progress is not None:
                    progress(pct)

        started = time.monotonic()
        try:
            while proc.poll() is None:
                deliver()
                if cancel is not None and cancel.is_set():
                    raise BackendError("download cancelled")
                if timeout is not None and time.monotonic() - started > timeout:
                    raise BackendError(f"{self._describe(args)}: not finished within {timeout:g} s")
                if cancel is not None:
                    cancel.wait(0.05)
                else:
                    time.sleep(0.05)
        except BaseException:
            _stop(proc)
            raise
        finally:
            for reader in readers:
                reader.join(timeout=2.0)
            for stream, reader in zip((proc.stdout, proc.stderr), readers, strict=True):
                if stream is not None and not reader.is_alive():
                    stream.close()
        deliver()
        if proc.returncode != 0:
            why = (err_lines[0].strip() if err_lines else "") or (out_tail[-1] if out_tail else "")
            raise BackendError(f"{self._describe(args)}: {why or f'exit status {proc.returncode}'}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5.0)
