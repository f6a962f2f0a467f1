"""Publishing a folder into the runtime's cache fallback: the undocumented mechanism, kept in one module.
The real runtime serving published models is tested in test_serve.py and test_cli.py (register, next start)."""

import json
import os
import sys

import pytest

from fl_tui.connection import servable


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "model"
    f.mkdir()
    (f / "model.onnx").write_bytes(b"x" * 10)
    (f / "genai_config.json").write_text(json.dumps({"model": {"decoder": {"session_options": {}}}}))
    return f


def test_publish_links_files_and_indexes_the_model(tmp_path, folder):
    cache = tmp_path / "cache"
    target = servable.publish(cache, folder, "mine:2", "mine", metadata={"displayName": "Mine"})
    assert target == cache / "mine-2"
    linked = (target / "model.onnx").is_symlink() or (  # Windows without symlink rights: a hard link
        sys.platform == "win32" and (target / "model.onnx").stat().st_ino == (folder / "model.onnx").stat().st_ino)
    assert linked and (target / "model.onnx").read_bytes() == b"x" * 10
    assert json.loads((target / "inference_model.json").read_text()) == {"Name": "mine:2"}
    index = json.loads((cache / servable.INDEX).read_text())
    assert index["version"] == 1
    (entry,) = index["models"]
    assert entry["id"] == "mine:2" and entry["alias"] == "mine" and entry["displayName"] == "Mine"
    assert entry["runtime"] == {"deviceType": "CPU", "executionProvider": "CPUExecutionProvider"}
    servable.publish(cache, folder, "mine:2", "mine")  # idempotent
    assert servable.published_ids(cache) == {"mine:2"}


def test_publishing_again_what_is_published_writes_nothing(tmp_path, folder):
    """Every start publishes every local model: unchanged, neither the folder nor the index is written again."""
    cache = tmp_path / "cache"
    target = servable.publish(cache, folder, "mine:1", "mine", metadata={"displayName": "Mine"})
    before = [(p.name, p.stat().st_ino, p.stat().st_mtime_ns) for p in (target, cache / servable.INDEX)]
    servable.publish(cache, folder, "mine:1", "mine", metadata={"displayName": "Mine"})
    assert [(p.name, p.stat().st_ino, p.stat().st_mtime_ns) for p in (target, cache / servable.INDEX)] == before


@pytest.mark.parametrize("change", ["metadata", "file added", "file removed", "folder moved", "link removed",
                                    "name file removed", "marker unreadable"])
def test_a_changed_model_is_published_again(tmp_path, folder, change):
    cache = tmp_path / "cache"
    servable.publish(cache, folder, "mine:1", "mine", metadata={"displayName": "Mine"})
    metadata = {"displayName": "Mine"}
    if change == "metadata":
        metadata = {"displayName": "Renamed"}
    elif change == "file added":
        (folder / "tokenizer.json").write_text("{}")
    elif change == "file removed":
        (folder / "genai_config.json").unlink()
    elif change == "folder moved":
        folder = folder.rename(tmp_path / "moved")
    elif change == "link removed":
        (cache / "mine-1" / "model.onnx").unlink()
    elif change == "name file removed":
        (cache / "mine-1" / servable.NAMED).unlink()
    else:
        (cache / "mine-1" / servable.MARKER).write_bytes(b"\xff\xfe not text")
    target = servable.publish(cache, folder, "mine:1", "mine", metadata=metadata)
    assert json.loads((target / servable.NAMED).read_text()) == {"Name": "mine:1"}
    assert sorted(p.name for p in target.iterdir() if p.name not in ("inference_model.json", servable.MARKER)) == \
        sorted(p.name for p in folder.iterdir())
    assert all((target / p.name).read_bytes() == p.read_bytes() for p in folder.iterdir())
    assert (target / servable.MARKER).read_text() == str(folder.resolve())
    (entry,) = json.loads((cache / servable.INDEX).read_text())["models"]
    assert entry["displayName"] == metadata["displayName"]


def test_a_folder_with_its_own_name_file_keeps_it_and_its_prompt_template(tmp_path, folder):
    """A Foundry-format folder carries inference_model.json (its prompt template): the published folder gets a
    copy under the published name, and the model's own file is never written through a link."""
    own = {"Name": "Their-Name", "PromptTemplate": {"prompt": "<|user|>{Content}<|end|>"}}
    (folder / servable.NAMED).write_text(json.dumps(own))
    cache = tmp_path / "cache"
    target = servable.publish(cache, folder, "mine:1", "mine")
    assert json.loads((folder / servable.NAMED).read_text()) == own
    assert not (target / servable.NAMED).is_symlink()
    assert json.loads((target / servable.NAMED).read_text()) == {**own, "Name": "mine:1"}
    before = (target.stat().st_ino, (cache / servable.INDEX).stat().st_mtime_ns)
    servable.publish(cache, folder, "mine:1", "mine")  # current: left as it is
    assert (target.stat().st_ino, (cache / servable.INDEX).stat().st_mtime_ns) == before


def test_unpublish_removes_links_not_the_model(tmp_path, folder):
    cache = tmp_path / "cache"
    servable.publish(cache, folder, "mine:1", "mine")
    assert servable.unpublish(cache, "mine:1") is True
    assert not (cache / "mine-1").exists() and (folder / "model.onnx").exists()
    assert servable.published_ids(cache) == set()
    assert servable.unpublish(cache, "mine:1") is False


def test_a_folder_it_did_not_make_is_never_replaced(tmp_path, folder):
    cache = tmp_path / "cache"
    (cache / "theirs-1").mkdir(parents=True)
    with pytest.raises(ValueError, match="not published by fl-tui"):
        servable.publish(cache, folder, "theirs:1", "theirs")


def test_device_comes_from_the_provider_options(tmp_path, folder):
    config = {"model": {"decoder": {"session_options": {"provider_options": [{"cuda": {}}]}}}}
    (folder / "genai_config.json").write_text(json.dumps(config))
    assert servable.folder_device(folder) == ("GPU", "CUDAExecutionProvider")


def test_a_foreign_index_format_is_refused(tmp_path, folder):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / servable.INDEX).write_text(json.dumps({"version": 3, "models": []}))
    with pytest.raises(ValueError, match="unexpected cache index format"):
        servable.publish(cache, folder, "mine:1", "mine")


def test_without_symlink_rights_windows_gets_hard_links_and_unpublish_keeps_the_model(tmp_path, folder, monkeypatch):
    """Windows refuses symlinks to a user without Developer Mode: the files are hard-linked (no second copy of a
    model's weights), a sub-folder is copied as hard links, and removing the published folder leaves the model."""
    from fl_tui.core import platform

    (folder / "extra").mkdir()
    (folder / "extra" / "tokenizer.json").write_text("{}")

    def refused(*_args, **_kwargs):
        raise OSError(1314, "A required privilege is not held by the client")

    monkeypatch.setattr(servable.os, "symlink", refused)
    monkeypatch.setattr(platform, "is_windows", lambda: True)
    target = servable.publish(tmp_path / "cache", folder, "mine:1", "mine")
    assert (target / "model.onnx").stat().st_ino == (folder / "model.onnx").stat().st_ino
    assert (target / "extra" / "tokenizer.json").stat().st_ino == (folder / "extra" / "tokenizer.json").stat().st_ino
    assert servable.unpublish(tmp_path / "cache", "mine:1") is True
    assert (folder / "model.onnx").read_bytes() == b"x" * 10 and (folder / "extra" / "tokenizer.json").exists()


def test_a_hard_link_to_a_replaced_file_is_published_again(tmp_path, folder, monkeypatch):
    """Windows without symlink rights: the model's file replaced as an unzip or `cp -p` does it (another file of
    the same size and time) leaves the hard link on the old bytes, so the next start publishes again."""
    from fl_tui.core import platform

    def refused(*_args, **_kwargs):
        raise OSError(1314, "A required privilege is not held by the client")

    monkeypatch.setattr(servable.os, "symlink", refused)
    monkeypatch.setattr(platform, "is_windows", lambda: True)
    target = servable.publish(tmp_path / "cache", folder, "mine:1", "mine")
    stamp = (folder / "model.onnx").stat().st_mtime_ns
    (folder / "model.onnx").unlink()
    (folder / "model.onnx").write_bytes(b"y" * 10)
    os.utime(folder / "model.onnx", ns=(stamp, stamp))
    servable.publish(tmp_path / "cache", folder, "mine:1", "mine")
    assert (target / "model.onnx").read_bytes() == b"y" * 10


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows a refused symlink is answered with a hard link")
def test_elsewhere_a_refused_symlink_is_an_error(tmp_path, folder, monkeypatch):
    def refused(*_args, **_kwargs):
        raise PermissionError("no links here")

    monkeypatch.setattr(servable.os, "symlink", refused)
    with pytest.raises(PermissionError):
        servable.publish(tmp_path / "cache", folder, "mine:1", "mine")
