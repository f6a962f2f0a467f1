"""Make a model folder servable by the embedded runtime's web service.

The SDK's built-in web service only sees the PUBLIC catalog, and LOCAL-catalog registrations are invisible to
it. Undocumented but working on foundry-local-sdk 2.2: when the public catalog cannot be fetched, the runtime
falls back to a cache file, so a model is servable when the cache holds `<cache>/<name>-<version>/` (the model
files, here as links, plus `inference_model.json` = {"Name": "<name>:<version>"}, the folder's own one renamed
where it has one) and an entry in
`<cache>/foundry.modelinfo.json` (format version 1). The runtime reads that file once, on its first catalog
access, so publish before starting it. This may change between SDK versions: it stays in this one module,
and tests/connection/test_servable.py checks it against the real runtime.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from fl_tui.core import platform
from fl_tui.core.errors import FileProblem
from fl_tui.core.fileio import atomic_write_text, read_input
from fl_tui.core.limits import SMALL_FILE_MAX

INDEX = "foundry.modelinfo.json"
INDEX_VERSION = 1
MARKER = ".fl-tui-published"  # only folders carrying this are ours to replace or delete
NAMED = "inference_model.json"  # the name the runtime serves the folder under
OURS = (NAMED, MARKER)  # written into the published folder, never linked: a write through a link changes the model


def _split(model_id: str) -> tuple[str, int]:
    name, _, version = model_id.rpartition(":")
    if not name or not version.isdigit():
        raise ValueError(f"model id must look like <name>:<version>, got {model_id!r}")
    return name, int(version)


def _read_index(cache: Path) -> dict:
    path = cache / INDEX
    if not path.exists():
        return {"catalog_name": "fl-tui", "version": INDEX_VERSION, "models": []}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != INDEX_VERSION or not isinstance(data.get("models"), list):
        raise ValueError(f"{path}: unexpected cache index format (version {data.get('version')!r})")
    return data


def folder_device(folder: Path) -> tuple[str, str]:
    """(device, execution provider) from the folder's genai_config.json provider options; CPU when none."""
    try:
        config = json.loads(read_input(Path(folder) / "genai_config.json", SMALL_FILE_MAX))
        options = config["model"]["decoder"]["session_options"].get("provider_options") or []
    except (FileProblem, ValueError, RecursionError, KeyError, TypeError, AttributeError):  # a folder's own file
        return "CPU", "CPUExecutionProvider"
    names = {name.lower() for opt in options if isinstance(opt, dict) for name in opt}
    for key, device, provider in (
        ("cuda", "GPU", "CUDAExecutionProvider"),
        ("dml", "GPU", "DmlExecutionProvider"),
        ("webgpu", "GPU", "WebGpuExecutionProvider"),
        ("openvino", "GPU", "OpenVINOExecutionProvider"),
        ("qnn", "NPU", "QNNExecutionProvider"),
        ("vitisai", "NPU", "VitisAIExecutionProvider"),
    ):
        if key in names:
            return device, provider
    return "CPU", "CPUExecutionProvider"


def _link(source: Path, link: Path) -> None:
    """A symlink where the OS allows one; on Windows without the privilege (no Developer Mode), hard links (same
    volume) or else copies of the files: the runtime reads them either way, and `unpublish` removes only ours."""
    try:
        os.symlink(source, link, target_is_directory=source.is_dir())
        if link.exists() or not platform.is_windows():
            return
        link.unlink()  # a link that does not resolve (Wine writes the Windows path into a POSIX link)
    except OSError:
        if not platform.is_windows():
            raise
    if source.is_dir():
        shutil.copytree(source, link, copy_function=_hard_link_or_copy)
    else:
        _hard_link_or_copy(source, link)


def _hard_link_or_copy(source: Path | str, link: Path | str) -> None:
    try:
        os.link(source, link)
    except OSError:  # another volume, or a file system without hard links
        shutil.copy2(source, link)


def publish(
    cache: Path, folder: Path, model_id: str, alias: str, task: str = "chat-completion", metadata: dict | None = None
) -> Path:
    """Link `folder`'s files into the cache and list the model in the fallback index. Idempotent: a model
    published just so already (every start publishes every local model) is left as it is, nothing written.

    `metadata` holds extra catalog fields in the index's camelCase (displayName, publisher, license,
    fileSizeMb, ...); the device comes from the folder itself.
    """
    name, version = _split(model_id)
    target = cache / f"{name}-{version}"
    if target.exists() and not (target / MARKER).exists():
        raise ValueError(f"{target} exists and was not published by fl-tui; refusing to replace it")
    index = _read_index(cache)
    device, provider = folder_device(folder)
    entry = {
        **(metadata or {}),
        "id": model_id,
        "name": name,
        "version": version,
        "alias": alias,
        "task": task,
        "runtime": {"deviceType": device, "executionProvider": provider},
    }
    named = _named(Path(folder), model_id)
    if entry in index["models"] and _links_current(target, Path(folder).resolve(), named):
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for item in Path(folder).iterdir():
        if item.name not in OURS:
            _link(item.resolve(), target / item.name)
    (target / NAMED).write_text(named, encoding="utf-8")
    (target / MARKER).write_text(str(Path(folder).resolve()), encoding="utf-8")
    index["models"] = [m for m in index["models"] if m.get("id") != model_id] + [entry]
    atomic_write_text(cache / INDEX, json.dumps(index, indent=1))
    return target


def _named(folder: Path, model_id: str) -> str:
    """The published folder's inference_model.json: the model folder's own (a Foundry-format folder carries its
    prompt template there) under the published name, or the name alone."""
    own: object = {}
    if (folder / NAMED).is_file():
        try:
            own = json.loads(read_input(folder / NAMED, SMALL_FILE_MAX))
        except (FileProblem, ValueError, RecursionError):  # the folder's own file: unreadable is the same as none
            own = {}
    return json.dumps({**(own if isinstance(own, dict) else {}), "Name": model_id})


def _links_current(target: Path, folder: Path, named: str) -> bool:
    """`target` was published from `folder` just so: its own files as they would be written, and a link to each
    of the folder's items, the same file (a symlink, or a hard link to the same inode), nothing else. A copy (a
    Windows fallback to another volume) never counts as current: it is made again."""
    try:
        if (target / MARKER).read_text(encoding="utf-8") != str(folder) or (target / NAMED).is_symlink():
            return False
        if (target / NAMED).read_text(encoding="utf-8") != named:
            return False
        items = {item.name: item for item in folder.iterdir() if item.name not in OURS}
        if {p.name for p in target.iterdir() if p.name not in OURS} != set(items):
            return False
        for name, item in items.items():
            there, here = (target / name).stat(), item.stat()
            if (there.st_dev, there.st_ino) != (here.st_dev, here.st_ino):
                return False
    except (OSError, ValueError):  # a link whose file is gone, a marker missing or unreadable: publish again
        return False
    return True


def unpublish(cache: Path, model_id: str) -> bool:
    """Remove what `publish` made (never the linked model files). Returns whether anything was there."""
    name, version = _split(model_id)
    target = cache / f"{name}-{version}"
    found = False
    if (target / MARKER).exists():
        shutil.rmtree(target)
        found = True
    if (cache / INDEX).exists():
        index = _read_index(cache)
        kept = [m for m in index["models"] if m.get("id") != model_id]
        if len(kept) != len(index["models"]):
            index["models"] = kept
            atomic_write_text(cache / INDEX, json.dumps(index, indent=1))
            found = True
    return found


def published_ids(cache: Path) -> set[str]:
    return {m["id"] for m in _read_index(cache)["models"] if "id" in m} if (cache / INDEX).exists() else set()
