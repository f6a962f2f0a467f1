"""Reading a run's files back: the schema is checked, a crash's truncated last line is forgiven, nothing else is."""

import json
import os
from datetime import datetime

import pytest

from fl_tui.bench.records import RUN_SCHEMA, RequestResult
from fl_tui.bench.runfiles import describe_runs, list_runs, read_requests_jsonl, read_run
from fl_tui.core.errors import FileProblem


def request_line(i: int) -> str:
    r = RequestResult(id=f"r{i}", model="m", prompt_id="p1", round=i, warmup=False, status="ok", ttft_ms=10.0 + i)
    return json.dumps(r.to_json())


def write_run(folder, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"schema": RUN_SCHEMA, "run_id": folder.name, "models": [], "requests": [], **fields}
    (folder / "run.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


def test_read_run_from_the_folder_or_the_file(tmp_path):
    folder = write_run(tmp_path / "run-a", endpoint="http://x")
    assert read_run(folder).endpoint == "http://x"
    assert read_run(folder / "run.json").run_id == "run-a"


def test_wrong_schema_names_the_file_and_the_schema_found(tmp_path):
    folder = write_run(tmp_path / "old", schema="fl-tui/run/0")
    with pytest.raises(FileProblem) as info:
        read_run(folder)
    problem = info.value
    assert problem.path == str(folder / "run.json")
    assert '"fl-tui/run/0"' in problem.message and RUN_SCHEMA in problem.message
    assert problem.line == 2  # the line of the schema key, for an editor to jump to


def test_missing_schema_and_non_object(tmp_path):
    (tmp_path / "a.json").write_text('{"run_id": "x"}', encoding="utf-8")
    with pytest.raises(FileProblem, match="no schema"):
        read_run(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(FileProblem, match="not an fl-tui run"):
        read_run(tmp_path / "b.json")


def test_missing_or_broken_run_file_is_a_file_problem(tmp_path):
    with pytest.raises(FileProblem, match="cannot read"):
        read_run(tmp_path / "nothing-here")
    (tmp_path / "run.json").write_text('{"schema": ', encoding="utf-8")
    with pytest.raises(FileProblem, match="not valid JSON"):
        read_run(tmp_path)


def test_requests_jsonl_reads_every_line(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(request_line(i) + "\n" for i in range(1, 4)), encoding="utf-8")
    rows = read_requests_jsonl(path)
    assert [r["id"] for r in rows] == ["r1", "r2", "r3"]
    assert read_requests_jsonl(tmp_path) == rows  # a run folder works too


def test_truncated_last_line_is_tolerated(tmp_path):
    path = tmp_path / "requests.jsonl"
    whole = request_line(1) + "\n" + request_line(2) + "\n"
    path.write_text(whole + request_line(3)[:25], encoding="utf-8")  # the crash came mid-write
    assert [r["id"] for r in read_requests_jsonl(path)] == ["r1", "r2"]


def test_truncated_mid_character_is_tolerated(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_bytes((request_line(1) + "\n").encode() + '{"text": "café'.encode()[:-1])
    assert [r["id"] for r in read_requests_jsonl(path)] == ["r1"]


def test_broken_middle_line_is_a_problem_with_its_line_number(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(request_line(1) + "\n" + request_line(2)[:30] + "\n" + request_line(3) + "\n", encoding="utf-8")
    with pytest.raises(FileProblem) as info:
        read_requests_jsonl(path)
    assert info.value.line == 2
    assert str(info.value).startswith(f"{path}:2:")


def test_broken_last_line_that_was_fully_written_is_a_problem(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(request_line(1) + "\n" + "{oops}\n", encoding="utf-8")
    with pytest.raises(FileProblem) as info:
        read_requests_jsonl(path)
    assert info.value.line == 2


def test_a_line_that_is_not_an_object_is_a_problem(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text("[1]\n" + request_line(1) + "\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="JSON object") as info:
        read_requests_jsonl(path)
    assert info.value.line == 1


def test_blank_lines_and_empty_files(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text("", encoding="utf-8")
    assert read_requests_jsonl(path) == []
    path.write_text("\n" + request_line(1) + "\r\n\n", encoding="utf-8")
    assert len(read_requests_jsonl(path)) == 1


def test_list_runs_newest_first(tmp_path):
    old = write_run(tmp_path / "b-old")
    new = write_run(tmp_path / "a-new")
    running = tmp_path / "c-running"
    running.mkdir()
    (running / "requests.jsonl").write_text(request_line(1) + "\n", encoding="utf-8")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "stray.txt").write_text("x", encoding="utf-8")
    os.utime(old / "run.json", (1_000_000, 1_000_000))
    os.utime(new / "run.json", (3_000_000, 3_000_000))
    os.utime(running / "requests.jsonl", (2_000_000, 2_000_000))
    assert list_runs(tmp_path) == [new, running, old]
    assert list_runs(tmp_path / "missing") == []


def test_describe_runs_gives_state_models_and_date_per_run(tmp_path):
    done = {"finished_at": "2025-01-02T03:10:00+00:00", "started_at": "2025-01-02T03:04:05+00:00"}
    ok, stopped, partial, failed = ({"model": m, "requested_as": m, "status": s} for m, s in (
        ("a", "ok"), ("b", "stopped"), ("c", "partial"), ("d", "failed")))
    folders = {
        "ok": write_run(tmp_path / "r-ok", models=[ok], **done),
        "stopped": write_run(tmp_path / "r-stopped", models=[ok, stopped], interrupted=True, **done),
        "partial": write_run(tmp_path / "r-partial", models=[ok, partial], **done),
        "failed": write_run(tmp_path / "r-failed", models=[failed], **done),
        "unfinished": write_run(tmp_path / "r-unfinished", models=[ok], finished_at=None),
    }
    (tmp_path / "r-unreadable").mkdir()
    (tmp_path / "r-unreadable" / "run.json").write_text("{not json", encoding="utf-8")
    folders["unreadable"] = tmp_path / "r-unreadable"
    listings = {r.folder: r for r in describe_runs(tmp_path)}
    assert {state: str(listings[folder].state) for state, folder in folders.items()} == {s: s for s in folders}
    assert listings[folders["stopped"]].models == ("a", "b")
    when = datetime.fromisoformat(done["started_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
    head, models = listings[folders["stopped"]].label().split("\n")
    assert head.split() == [*when.split(), "stopped", "r-stopped"] and models.strip() == "a, b"
    assert listings[folders["unreadable"]].label().split("\n")[1].strip() == "no models recorded"


def test_a_run_listing_is_plain_text(tmp_path):
    folder = write_run(tmp_path / "r", models=[{"model": "evil\x1b[31m\nname", "requested_as": "x", "status": "ok"}])
    (listing,) = describe_runs(tmp_path)
    assert "\x1b" not in listing.label() and listing.label().count("\n") == 1 and listing.folder == folder
