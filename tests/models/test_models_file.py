import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fl_tui.core.errors import FileProblem
from fl_tui.models.specs import ModelSpec, find_models_file, load_models_file

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "models.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def problem(path: Path) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        load_models_file(path)
    return caught.value


def test_the_checkout_models_file_is_found():
    assert find_models_file() == REPO / "models.json"


def test_shipped_file_lists_the_demo_and_workshop_models():
    models = load_models_file(find_models_file())
    assert models["fl-demo-fast"].capabilities == ["chat", "demo"]
    assert models["fl-demo-fast"].size_mb == 3
    assert models["fl-demo-slow"].size_mb == 4
    assert {"phi-4-mini", "qwen2.5-0.5b", "qwen2.5-1.5b", "deepseek-r1-1.5b"} <= models.keys()
    assert models["phi-4-mini"] == ModelSpec(capabilities=["chat", "reasoning", "tools"], size_mb=3700)
    assert models["qwen2.5-0.5b"].size_mb == 520
    assert models["deepseek-r1-1.5b"].capabilities == ["chat", "reasoning"]


def test_extra_keys_are_kept_and_fields_default(tmp_path):
    models = load_models_file(write(tmp_path, '{"m": {"license": "MIT", "notes": {"x": 1}}, "n": {"size_mb": 0}}'))
    assert models["m"].capabilities == []
    assert models["m"].size_mb is None
    assert models["m"].fields() == {"capabilities": [], "size_mb": None, "license": "MIT", "notes": {"x": 1}}
    assert models["n"].size_mb == 0.0


def test_size_as_a_string_is_placed_exactly(tmp_path):
    text = '{\n  "phi-4-mini": {\n    "capabilities": ["chat"],\n    "size_mb": "3.7 GB"\n  }\n}\n'
    err = problem(write(tmp_path, text))
    assert err.message == "phi-4-mini.size_mb: Input should be a valid number"
    assert (err.line, err.col) == (4, 16)


def test_negative_or_infinite_sizes_are_refused(tmp_path):
    err = problem(write(tmp_path, '{"qwen2.5-0.5b": {"size_mb": -1}}'))
    assert err.message == '"qwen2.5-0.5b".size_mb: Input should be greater than or equal to 0'
    assert (err.line, err.col) == (1, 30)
    assert "finite" in problem(write(tmp_path, '{"m": {"size_mb": Infinity}}')).message


def test_capabilities_must_be_strings(tmp_path):
    err = problem(write(tmp_path, '{"m": {"capabilities": ["chat", 7]}}'))
    assert (err.message, err.line, err.col) == ("m.capabilities.1: Input should be a valid string", 1, 33)


def test_empty_model_name_points_at_the_key(tmp_path):
    err = problem(write(tmp_path, '{"ok": {},\n  "": {"size_mb": 1}}'))
    assert err.message == '"": a model name must not be empty'
    assert (err.line, err.col) == (2, 3)


def test_not_an_object_or_not_a_file(tmp_path):
    err = problem(write(tmp_path, '["phi-4-mini"]'))
    assert (err.message, err.line, err.col) == ("top level: Input should be a valid dictionary", 1, 1)
    err = problem(write(tmp_path, '{"m": ["chat"]}'))
    assert err.message.startswith("m: Input should be a valid dictionary")
    assert problem(tmp_path / "missing.json").message == "cannot read: No such file or directory"


specs = st.dictionaries(
    st.sampled_from(["capabilities", "size_mb", "license"]),
    st.none() | st.integers() | st.floats() | st.text(max_size=3) | st.lists(st.text(max_size=3) | st.integers()),
)
files = st.dictionaries(st.text(max_size=4), specs | st.integers(), max_size=3)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check(path: Path) -> None:
    try:
        models = load_models_file(path)
    except FileProblem as err:
        assert err.message
    else:
        assert all(name and isinstance(spec, ModelSpec) for name, spec in models.items())


@SETTINGS
@given(files | st.lists(specs, max_size=2))
def test_arbitrary_json_gives_models_or_a_file_problem(tmp_path, value):
    check(write(tmp_path, json.dumps(value)))


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_models_or_a_file_problem(tmp_path, data):
    check(write(tmp_path, data))


SPECS = [
    {"m": {}},
    {"m": {"capabilities": ["chat", "tools"], "size_mb": 3}},
    {"m": {"size_mb": 2.5, "notes": "n", "license": None}, "n": {"capabilities": []}},
    {"m": {"size_mb": None, "extra": {"deep": [1, 2]}}},
    {"m": {"size_mb": True}},  # what the schema alone decides from here on
    {"m": {"capabilities": "chat"}},
    {"m": {"size_mb": -1}},
    {"": {}},
    {"m": []},
    [],
]


@pytest.mark.parametrize("data", SPECS, ids=[json.dumps(d) for d in SPECS])
def test_a_file_read_without_pydantic_reads_as_the_schema_reads_it(tmp_path, data):
    """models.json is read without pydantic when it is plainly valid (the app's first screen waits for it); the
    schema must agree with every such reading, and decides (and words) everything else."""
    from fl_tui.models.specs_schema import validate

    path = write(tmp_path, json.dumps(data))
    text = path.read_text()
    try:
        expected = {name: ModelSpec(*fields) for name, fields in validate(path, text, data).items()}
    except FileProblem as exc:
        assert problem(path).message == exc.message
    else:
        assert load_models_file(path) == expected
