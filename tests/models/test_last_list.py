"""The last model list: kept per endpoint as the table shows it, never what the runtime decides afresh (loaded, time
to live, extras) nor an endpoint's password; written only when it changed; read back tolerantly."""

from __future__ import annotations

import json
import os
from dataclasses import fields, replace

import pytest

from fl_tui.connection.base import ModelEntry, ModelSource
from fl_tui.models import last_list
from fl_tui.models.last_list import KEPT, LAST_MAX, LastModels, endpoint_key

ENTRIES = [
    ModelEntry("phi-4-mini-generic-cpu:1", "phi-4-mini", device="CPU", execution_provider="CPUExecutionProvider",
               task="chat-completion", size_mb=2500.5, license="MIT", tool_calling=True, cached=True, loaded=True,
               publisher="Microsoft", disk_bytes=2_621_440_000, ttl_s=600, extra={"version": 1}),
    ModelEntry("mine:1", "mine", source=ModelSource.LOCAL, path="/srv/models/mine", cached=True, display_name="Mine"),
]


def test_a_kept_list_reads_back_as_shown_without_what_the_runtime_decides(tmp_path):
    path = tmp_path / "last-models.json"
    LastModels("embedded catalog=offline", path).keep(ENTRIES)
    last, problem = LastModels("embedded catalog=offline", path).load()
    assert problem is None and last is not None
    assert last.models == [replace(ENTRIES[0], loaded=False, ttl_s=None), ENTRIES[1]]
    assert last.models[0].extra == {} and last.models[1].source is ModelSource.LOCAL
    assert set(KEPT) < {f.name for f in fields(ModelEntry)} and not {"loaded", "ttl_s", "extra"} & set(KEPT)


def test_the_same_list_again_is_not_written_and_a_change_is(tmp_path):
    path = tmp_path / "last-models.json"
    keeper = LastModels("k", path)
    keeper.keep(ENTRIES)
    first = os.stat(path).st_ino
    keeper.keep([replace(ENTRIES[0], loaded=False, ttl_s=None), ENTRIES[1]])  # differs only in what is not kept
    assert os.stat(path).st_ino == first  # atomic writes replace the file: the same inode means no write
    keeper.keep(ENTRIES[:1])
    assert os.stat(path).st_ino != first
    assert [m.id for m in LastModels("k", path).load()[0].models] == [ENTRIES[0].id]


def test_a_loaded_list_is_not_written_again_at_the_first_listing(tmp_path):
    path = tmp_path / "last-models.json"
    LastModels("k", path).keep(ENTRIES)
    first = os.stat(path).st_ino
    again = LastModels("k", path)
    again.load()
    again.keep(ENTRIES)
    assert os.stat(path).st_ino == first


def test_another_endpoints_list_is_not_shown_and_is_replaced(tmp_path):
    path = tmp_path / "last-models.json"
    LastModels("http://box-a:5273 catalog=online", path).keep(ENTRIES)
    other = LastModels("embedded catalog=online", path)
    assert other.load() == (None, None)
    other.keep(ENTRIES[1:])
    assert json.loads(path.read_text("utf-8"))["endpoint"] == "embedded catalog=online"


def test_an_endpoints_password_is_never_written(tmp_path):
    path = tmp_path / "last-models.json"
    key = endpoint_key("http://ann:hunter2@box:5273", "online")
    LastModels(key, path).keep(ENTRIES)
    assert "hunter2" not in path.read_text("utf-8")
    assert LastModels(endpoint_key("http://ann:hunter2@box:5273", "online"), path).load()[0] is not None
    assert endpoint_key(None, "offline") != endpoint_key(None, "online")


def test_a_whole_catalog_is_not_kept_and_an_older_list_goes_with_it(tmp_path):
    path = tmp_path / "last-models.json"
    LastModels("k", path).keep(ENTRIES)
    many = [ModelEntry(f"m{i}:1", f"m{i}") for i in range(LAST_MAX + 1)]
    keeper = LastModels("k", path)
    keeper.load()
    keeper.keep(many)
    assert not path.exists()  # a start would otherwise show the older, smaller list
    keeper.keep(ENTRIES)
    assert path.exists()


@pytest.mark.parametrize(("text", "said"), [
    ("{not json", "not valid JSON"),
    ('{"schema": "other/1"}', "not a fl-tui/last-models/1 file"),
    ('{"schema": "fl-tui/last-models/1", "endpoint": "k", "saved": "today", "models": []}', "'saved' must be"),
    ('{"schema": "fl-tui/last-models/1", "endpoint": "k", "saved": 1, "models": [{"id": 3}]}',
     "models[0].id is missing or of the wrong type"),
    ('{"schema": "fl-tui/last-models/1", "endpoint": "k", "saved": 1, "models": [7]}', "models[0] is not an object"),
])
def test_a_file_that_does_not_read_is_said_in_one_line_and_ignored(tmp_path, text, said):
    path = tmp_path / "last-models.json"
    path.write_text(text, "utf-8")
    last, problem = LastModels("k", path).load()
    assert last is None and problem is not None and said in problem and str(path) in problem
    assert "\n" not in problem


def test_wrong_field_types_and_an_unknown_source_are_refused(tmp_path):
    path = tmp_path / "last-models.json"
    LastModels("k", path).keep(ENTRIES)
    for name, value in (("cached", 1), ("size_mb", True), ("source", "moon")):
        data = json.loads(path.read_text("utf-8"))
        data["models"][0][name] = value
        bad = tmp_path / f"bad-{name}.json"
        bad.write_text(json.dumps(data), "utf-8")
        last, problem = LastModels("k", bad).load()
        assert last is None and f"models[0].{name}" in problem, (name, problem)


def test_the_file_is_the_persons_own(tmp_path, monkeypatch):
    monkeypatch.setenv("FL_TUI_PERSON_STATE", str(tmp_path / "ann"))
    assert last_list.last_file() == tmp_path / "ann" / "last-models.json"
