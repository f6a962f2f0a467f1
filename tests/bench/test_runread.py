"""A run read back as its typed record (runfiles.read_run): the writer's fields as attributes, values as written,
read-only, and the same path:line:col problem as every other file for one that is wrong."""

import json

import pydantic
import pytest
from runfactory import sample_run

from fl_tui.bench.records import ModelResult, RequestResult
from fl_tui.bench.runfiles import read_run
from fl_tui.core.errors import FileProblem


def write(folder, run: dict):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
    return folder


def test_every_field_of_the_writers_records_reads_back_as_an_attribute(tmp_path):
    data = sample_run()
    run = read_run(write(tmp_path / "r", data))
    assert (run.run_id, run.endpoint, run.backend, run.settings) == (data["run_id"], data["endpoint"],
                                                                     data["backend"], data["settings"])
    assert run.environment is None and run.endpoints is None and run.warnings == [] and not run.interrupted
    for read, written in zip(run.models, data["models"], strict=True):
        assert {name: getattr(read, name) for name in ModelResult.__dataclass_fields__} == written
    for read, written in zip(run.requests, data["requests"], strict=True):
        assert {name: getattr(read, name) for name in RequestResult.__dataclass_fields__} == written
    assert run.models[1].summary["ttft_ms"]["p50"] == 130.0  # a metric table stays a mapping: its names are data
    assert read_run(tmp_path / "r" / "run.json") == run  # the folder or its run.json


def test_values_are_kept_as_written_and_the_record_dumps_back_to_the_file(tmp_path):
    data = sample_run()
    data["models"][0].update(load_s=3, future_field={"x": 1})  # an int where the writer puts floats; a newer key
    del data["models"][2]["concurrency"]  # a /1 run has no load fields
    data["later"] = [1]
    run = read_run(write(tmp_path / "r", data))
    assert run.models[0].load_s == 3 and isinstance(run.models[0].load_s, int)
    assert run.models[0].future_field == {"x": 1} and run.later == [1]
    assert run.models[2].concurrency is None
    assert run.model_dump(exclude_unset=True) == data
    for read, written in zip(run.models, data["models"], strict=True):  # the same keys in the same order
        assert json.dumps(read.model_dump(exclude_unset=True)) == json.dumps(written)


def test_absent_lists_read_as_empty(tmp_path):
    run = read_run(write(tmp_path / "r", {"schema": "fl-tui/run/1", "run_id": "old"}))
    assert (run.models, run.requests, run.prompts, run.settings) == ([], [], [], {})


def test_the_record_is_read_only(tmp_path):
    run = read_run(write(tmp_path / "r", sample_run()))
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        run.run_id = "x"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        run.models[0].status = "failed"


def test_a_wrong_type_is_a_problem_at_its_place_in_the_file(tmp_path):
    data = sample_run()
    data["models"][1]["summary"] = "x"
    folder = write(tmp_path / "r", data)
    with pytest.raises(FileProblem) as caught:
        read_run(folder)
    problem = caught.value
    text = (folder / "run.json").read_text(encoding="utf-8").splitlines()
    assert problem.path == str(folder / "run.json") and problem.message.startswith("models.1.summary: ")
    assert text[problem.line - 1][problem.col - 1:].startswith('"x"')  # where the editor jumps: the value
