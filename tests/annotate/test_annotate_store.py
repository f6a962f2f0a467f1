"""Annotation files and rubrics: the file round-trips, every bad file is a FileProblem naming it (with line and column
where there is one) and is left byte for byte as it was, and the scale comes from prompts/_scale.json."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fl_tui.annotate import rubric as rubric_mod
from fl_tui.annotate.rubric import BUILTIN_SCALE, LEVELS, Rubric, default_scale, rubric_for_run
from fl_tui.annotate.session import ScoringSession, build_items
from fl_tui.annotate.store import (
    ANNOTATIONS_SCHEMA,
    AnnotationFile,
    annotation_path,
    dumps,
    list_annotation_files,
    load_annotations,
    new_file,
    save,
    slug,
)
from fl_tui.bench.records import RUN_SCHEMA
from fl_tui.bench.runschema import as_run
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.prompts import PromptSet, list_prompt_sets

REPO = Path(__file__).resolve().parents[2]
RUN_ID = "20250101-000000-abcd"
PROMPTS = [
    {"id": "p1", "prompt": "One?", "expected_aspects": ["first", "second"], "max_tokens": None},
    {"id": "p2", "prompt": "Two?", "expected_aspects": [], "max_tokens": None},
]


def make_run(run_id: str = RUN_ID, models=("m-a", "m-b"), rounds: int = 2) -> dict:
    requests = []
    for m in models:
        requests.append({"id": f"{m}|warm-up|w1", "model": m, "prompt_id": "warm-up", "round": 1, "warmup": True,
                         "status": "ok", "text": "warm"})
        for r in range(1, rounds + 1):
            for p in PROMPTS:
                requests.append({"id": f"{m}|{p['id']}|r{r}", "model": m, "prompt_id": p["id"], "round": r,
                                 "warmup": False, "status": "ok", "text": f"{m} says {p['id']} {r}"})
    requests.append({"id": "m-a|p1|r9", "model": "m-a", "prompt_id": "p1", "round": 9, "warmup": False,
                     "status": "failed", "error": "HTTP 500", "text": ""})
    return {"schema": RUN_SCHEMA, "run_id": run_id, "settings": {"prompt_set": "synthetic"}, "prompts": PROMPTS,
            "models": [], "requests": requests}


def write_run(folder: Path, run: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps(run or make_run()), encoding="utf-8")
    return folder


def valid_file(run: dict | None = None, rater: str = "ann") -> AnnotationFile:
    run = as_run(run or make_run())
    items = build_items(run, seed=7)
    items[0].overall = 4
    if items[0].prompt_id == "p1":
        items[0].scores = {"first": 5}
    items[1].note = "=cmd|' /C calc'!A0"
    return new_file(run.run_id, rater, rubric_for_run(run), items, seed=7)


def problem_of(path: Path, run: dict) -> FileProblem:
    before = path.read_bytes()
    with pytest.raises(FileProblem) as caught:
        load_annotations(path, as_run(run))
    assert path.read_bytes() == before
    assert caught.value.path == str(path)
    return caught.value


# -- names and round trip ----------------------------------------------------------------------------------------


def test_slug_and_paths(tmp_path):
    assert slug("Ann") == "ann"
    assert slug("Zoë B.") == "zoe-b"
    assert slug("model:fl-demo-fast-generic-cpu:1") == "model-fl-demo-fast-generic-cpu-1"
    assert annotation_path(tmp_path, "Ann") == tmp_path / "annotations.ann.json"
    with pytest.raises(UserError, match="no letters or digits"):
        slug("???")


def test_save_load_round_trip_and_listing(tmp_path):
    run = make_run()
    file = valid_file(run)
    path = annotation_path(tmp_path, "ann")
    save(path, file)
    (tmp_path / ".annotations.ann.json.x1y2.tmp").write_text("{")  # a save cut short by a kill
    (tmp_path / "report.md").write_text("# report")
    assert list_annotation_files(tmp_path) == [path]
    assert list_annotation_files(tmp_path / "missing") == []
    loaded = load_annotations(path, as_run(run))
    assert loaded == file
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == ANNOTATIONS_SCHEMA and data["run_id"] == RUN_ID and data["seed"] == 7
    assert list(data)[:5] == ["schema", "run_id", "rater", "rubric", "seed"]
    assert "judge" not in data and all("attempts" not in item for item in data["items"])
    assert set(data["items"][0]) == {"request_id", "model", "prompt_id", "round", "scores", "overall", "note",
                                     "scored_at", "seconds_spent"}
    assert path.read_bytes() == dumps(loaded)  # stable: saving what was loaded writes the same bytes


def test_lone_surrogates_survive_a_save(tmp_path):
    file = valid_file()
    file.items[0].note = "bad \ud800 text"
    path = tmp_path / "annotations.ann.json"
    save(path, file)
    assert load_annotations(path).items[0].note == "bad \ud800 text"


# -- bad files -----------------------------------------------------------------------------------------------------


def test_corrupt_json_is_placed_and_left_alone(tmp_path):
    path = tmp_path / "annotations.ann.json"
    good = dumps(valid_file()).decode()
    path.write_text(good[: len(good) // 2], encoding="utf-8")
    err = problem_of(path, make_run())
    assert err.message.startswith("not valid JSON") and err.line and err.col
    assert str(err).startswith(f"{path}:{err.line}:{err.col}: not valid JSON")


def test_unknown_schema_and_missing_schema(tmp_path):
    path = tmp_path / "annotations.ann.json"
    data = json.loads(dumps(valid_file()))
    path.write_text(json.dumps({**data, "schema": "fl-tui/annotations/2"}, indent=2))
    err = problem_of(path, make_run())
    assert err.message == "unknown annotation file: schema \"fl-tui/annotations/2\", expected 'fl-tui/annotations/1'"
    assert (err.line, err.col) == (2, 13)
    del data["schema"]
    path.write_text(json.dumps(data))
    assert problem_of(path, make_run()).message.startswith("unknown annotation file: no schema")
    path.write_text("[1, 2]")
    assert problem_of(path, make_run()).message.startswith("not an fl-tui annotation file")
    path.write_text(json.dumps({"schema": ANNOTATIONS_SCHEMA, **{"run_id": RUN_ID}}))
    assert "Field required" in problem_of(path, make_run()).message


def test_file_of_another_run(tmp_path):
    path = tmp_path / "annotations.ann.json"
    save(path, valid_file(make_run("20240101-000000-ffff")))
    err = problem_of(path, make_run())
    assert err.message == f'from another run: run_id "20240101-000000-ffff", this run is "{RUN_ID}"'
    assert err.line == 3


def test_items_are_checked_against_the_run_and_the_rubric(tmp_path):
    path = tmp_path / "annotations.ann.json"
    run = make_run()
    base = json.loads(dumps(valid_file(run)))
    cases = [
        (lambda d: d["items"][2].update(request_id="m-z|p1|r1"), "items.2.request_id: \"m-z|p1|r1\" is not a measured"),
        (lambda d: d["items"][2].update(request_id="m-a|p1|r9"), "is not a measured answer"),  # a failed request
        (lambda d: d["items"][2].update(request_id="m-a|warm-up|w1"), "is not a measured answer"),
        (lambda d: d["items"][3].update(request_id=d["items"][1]["request_id"]), "items.3.request_id: "),
        (lambda d: d["items"][1].update(round=5), "items.1.round: 5, but the run's request says"),
        (lambda d: d["items"][0].update(overall=6), "items.0.overall: Input should be less than or equal to 5"),
        (lambda d: d["items"][0].update(overall=True), "items.0.overall: Input should be a valid integer"),
        (lambda d: d["items"][0].update(seconds_spent=-1), "items.0.seconds_spent: Input should be greater"),
        (lambda d: d["items"][0].update(extra=1), "items.0.extra: Extra inputs are not permitted"),
        (lambda d: d["rubric"]["scale"].pop("3"), "rubric.scale: missing level 3"),
    ]
    for change, expected in cases:
        data = json.loads(json.dumps(base))
        change(data)
        path.write_text(json.dumps(data, indent=2))
        err = problem_of(path, run)
        assert expected in err.message, (expected, err.message)
        assert err.line is not None


def test_a_score_for_an_aspect_the_prompt_lacks_is_placed_at_its_key(tmp_path):
    path = tmp_path / "annotations.ann.json"
    run = make_run()
    data = json.loads(dumps(valid_file(run)))
    index = next(i for i, item in enumerate(data["items"]) if item["prompt_id"] == "p2")
    data["items"][index]["scores"] = {"first": 3}
    text = json.dumps(data, indent=2)
    path.write_text(text)
    err = problem_of(path, run)
    assert err.message == f'items.{index}.scores: "first": not an aspect of prompt "p2" in the file\'s rubric'
    line = text.splitlines()[err.line - 1]
    assert line[err.col - 1:].startswith('"first": 3')


def test_open_refuses_bad_files_and_never_writes_them(tmp_path):
    run_dir = write_run(tmp_path / "run")
    path = annotation_path(run_dir, "ann")
    for content in (b"{", b"\xff\xfe", json.dumps({"schema": "other"}).encode(),
                    dumps(valid_file(make_run("19990101-000000-0000")))):
        path.write_bytes(content)
        with pytest.raises(FileProblem) as caught:
            ScoringSession.open(run_dir, "ann")
        assert caught.value.path == str(path)
        assert path.read_bytes() == content
        assert sorted(p.name for p in run_dir.iterdir()) == ["annotations.ann.json", "run.json"]


# -- arbitrary contents: a FileProblem or a value, never a traceback, never a write --------------------------------

KEYS = ["schema", "run_id", "rater", "rubric", "seed", "blind", "one_round", "revealed", "judge", "items", "scale",
        "aspects", "overall_only", "request_id", "model", "prompt_id", "round", "scores", "overall", "note",
        "scored_at", "seconds_spent", "attempts", "1", "2", "3", "4", "5", "p1", "first", "other"]
leaves = (st.none() | st.booleans() | st.integers(-2, 7) | st.floats()
          | st.sampled_from(["", "x", ANNOTATIONS_SCHEMA, RUN_ID, "m-a", "m-a|p1|r1", "p1", "first"]))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
                      max_leaves=12)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BASE = json.loads(dumps(valid_file()))


def mutate(data, draw) -> object:
    """Replace (or delete) one value somewhere in a valid file."""
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data)))
        if draw(st.integers(0, 4)) == 0:
            return {k: v for k, v in data.items() if k != key}
        return {**data, key: mutate(data[key], draw)}
    if isinstance(data, list) and data and draw(st.booleans()):
        index = draw(st.integers(0, len(data) - 1))
        return [*data[:index], mutate(data[index], draw), *data[index + 1:]]
    return draw(values)


def check(tmp_path: Path, content: bytes) -> None:
    run_dir = write_run(tmp_path / "run")
    path = annotation_path(run_dir, "ann")
    path.write_bytes(content)
    try:
        assert isinstance(load_annotations(path, as_run(make_run())), AnnotationFile)
    except FileProblem as err:
        assert err.message and err.path == str(path)
        assert path.read_bytes() == content
    try:
        session = ScoringSession.open(run_dir, "ann")
    except FileProblem as err:
        assert err.message and err.path == str(path)
        assert path.read_bytes() == content
    else:
        assert session.total >= 1
        load_annotations(path, as_run(make_run()))  # whatever the session saved loads


@SETTINGS
@given(st.data(), st.sampled_from([None, 2]))
def test_mutated_valid_files(tmp_path, data, indent):
    check(tmp_path, json.dumps(mutate(BASE, data.draw), indent=indent).encode())


@SETTINGS
@given(values)
def test_arbitrary_json(tmp_path, value):
    check(tmp_path, json.dumps(value).encode())


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes(tmp_path, content):
    check(tmp_path, content)


# -- the rubric ------------------------------------------------------------------------------------------------------


def test_shipped_scale_is_the_builtin_one_and_not_a_prompt_set():
    shipped = json.loads((REPO / "prompts" / "_scale.json").read_text(encoding="utf-8"))
    assert {int(k): v for k, v in shipped["scale"].items()} == BUILTIN_SCALE
    assert default_scale(REPO / "prompts" / "_scale.json") == BUILTIN_SCALE
    assert all("\n" not in text and text for text in BUILTIN_SCALE.values())
    assert BUILTIN_SCALE[1].startswith("wrong or off-topic") and "concise" in BUILTIN_SCALE[5]
    assert "_scale.json" not in [p.name for p in list_prompt_sets(REPO / "prompts")]


def test_scale_falls_back_to_builtin_and_reports_a_broken_file(tmp_path, monkeypatch):
    monkeypatch.setattr(rubric_mod.resources, "prompt_dirs", lambda: [tmp_path])
    assert default_scale() == BUILTIN_SCALE
    (tmp_path / "_scale.json").write_text('{"scale": {"1": "a", "2": "b", "3": "c", "4": "d", "5": "e"}}')
    assert default_scale() == {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    (tmp_path / "_scale.json").write_text('{"scale": {"1": "a", "2": "b", "3": "c", "4": "d"}}')
    with pytest.raises(FileProblem, match="missing level 5"):
        default_scale()
    (tmp_path / "_scale.json").write_text('{"scale": {"1": "a", "2": "b", "3": "c", "4": "d", "5": "e\\nf"}}')
    with pytest.raises(FileProblem) as caught:
        default_scale()
    err = caught.value
    assert (err.message, err.line) == ("scale.5: must be one line", 1)


def test_prompt_set_overrides_levels(tmp_path, monkeypatch):
    run = as_run(make_run())
    override = PromptSet(name="s", prompts=[{"id": "p1", "prompt": "One?"}], rubric={"scale": {"5": "perfect"}})
    rubric = rubric_for_run(run, prompt_set=override)
    assert rubric.scale[5] == "perfect" and rubric.scale[1] == BUILTIN_SCALE[1]
    assert rubric.aspects_for("p1") == ("first", "second") and rubric.aspects_for("p2") == ()
    assert rubric_for_run(run, prompt_set=PromptSet(name="s", prompts=[{"id": "a", "prompt": "b"}],
                                                    rubric={"scale": [1, 5]})).scale == BUILTIN_SCALE
    with pytest.raises(UserError, match=r"prompt set 's': rubric\.scale"):
        rubric_for_run(run, prompt_set=PromptSet(name="s", prompts=[{"id": "a", "prompt": "b"}],
                                                 rubric={"scale": [0, 10]}))
    # found by the run's prompt set name, when the set still holds the run's prompts
    monkeypatch.setattr(rubric_mod.resources, "prompt_dirs", lambda: [tmp_path])
    body = {"name": "synthetic", "prompts": [{"id": p["id"], "prompt": p["prompt"]} for p in PROMPTS],
            "rubric": {"scale": {"1": "nonsense"}}}
    (tmp_path / "synthetic.json").write_text(json.dumps(body, indent=2))
    assert rubric_for_run(run).scale[1] == "nonsense"
    body["prompts"][0]["prompt"] = "Edited since the run?"
    (tmp_path / "synthetic.json").write_text(json.dumps(body, indent=2))
    assert rubric_for_run(run).scale == BUILTIN_SCALE
    body["prompts"][0]["prompt"] = "One?"
    body["rubric"] = {"scale": {"6": "too high"}}
    (tmp_path / "synthetic.json").write_text(json.dumps(body, indent=2))
    with pytest.raises(FileProblem) as caught:
        rubric_for_run(run)
    err = caught.value
    assert err.path == str(tmp_path / "synthetic.json") and err.message.startswith("rubric.scale")
    assert err.line is not None


def test_rubric_json_round_trip():
    rubric = Rubric(scale=dict(BUILTIN_SCALE), aspects={"p1": ("a", "b")}, overall_only=True)
    assert Rubric.from_json(rubric.to_json()) == rubric
    assert rubric.scored_aspects("p1") == () and rubric.aspects_for("p1") == ("a", "b")
    assert [rubric.describe(n) for n in LEVELS] == list(BUILTIN_SCALE.values())
