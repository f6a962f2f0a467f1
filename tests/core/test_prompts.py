import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fl_tui.core.errors import FileProblem
from fl_tui.core.prompts import Prompt, PromptSet, list_prompt_sets, load_prompt_set

REPO = Path(__file__).resolve().parents[2]

THREE_PROMPTS = """\
{
  "name": "trio",
  "prompts": [
    {"id": "a", "prompt": "One?", "max_tokens": 64},
    {"id": "b", "prompt": "Two?", "expected_aspects": ["x", "y"]},
    {"id": "c", "prompt": "Three?", "max_tokens": 0}
  ],
  "rubric": {"scale": [1, 5]}
}
"""


GOOD = THREE_PROMPTS.replace('"max_tokens": 0', '"max_tokens": 1')


def write(tmp_path: Path, content: str | bytes, name: str = "set.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def problem(path: Path) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        load_prompt_set(path)
    return caught.value


def test_object_form_loads_every_field(tmp_path):
    prompt_set = load_prompt_set(write(tmp_path, GOOD))
    assert prompt_set == PromptSet(
        name="trio",
        prompts=[
            Prompt(id="a", prompt="One?", max_tokens=64),
            Prompt(id="b", prompt="Two?", expected_aspects=["x", "y"]),
            Prompt(id="c", prompt="Three?", max_tokens=1),
        ],
        rubric={"scale": [1, 5]},
    )


def test_bad_max_tokens_of_the_third_prompt_is_placed_exactly(tmp_path):
    path = write(tmp_path, THREE_PROMPTS)
    err = problem(path)
    assert err.message == "prompts.2.max_tokens: Input should be greater than or equal to 1"
    assert (err.line, err.col) == (6, 51)
    assert str(err) == f"{path}:6:51: prompts.2.max_tokens: Input should be greater than or equal to 1"


def test_fractional_or_string_max_tokens_are_refused(tmp_path):
    for bad in ("2.5", '"64"', "true"):
        err = problem(write(tmp_path, THREE_PROMPTS.replace('"max_tokens": 0', f'"max_tokens": {bad}')))
        assert err.message.startswith("prompts.2.max_tokens: Input should be a valid integer")


def test_missing_prompt_text_points_at_its_object(tmp_path):
    err = problem(write(tmp_path, GOOD.replace('"prompt": "Two?", ', "")))
    assert err.message == "prompts.1.prompt: Field required"
    assert (err.line, err.col) == (5, 5)


def test_duplicate_id_points_at_the_second_one(tmp_path):
    err = problem(write(tmp_path, GOOD.replace('"id": "c"', '"id": "a"')))
    assert err.message == 'prompts.2.id: duplicate id "a", already used by prompt 1'
    assert (err.line, err.col) == (6, 12)


def test_blank_prompt_text_and_misspelt_keys_are_refused(tmp_path):
    err = problem(write(tmp_path, GOOD.replace('"Two?"', '"  "')))
    assert (err.message, err.line, err.col) == ("prompts.1.prompt: must not be empty", 5, 27)
    err = problem(write(tmp_path, GOOD.replace('"max_tokens": 64', '"max_token": 64')))
    assert (err.message, err.line, err.col) == ("prompts.0.max_token: Extra inputs are not permitted", 4, 48)


def test_empty_prompt_list_is_refused(tmp_path):
    err = problem(write(tmp_path, '{"name": "none", "prompts": []}'))
    assert err.message == "prompts: List should have at least 1 item after validation, not 0"
    assert (err.line, err.col) == (1, 29)


def test_list_form_gets_numbered_ids_and_the_file_stem_as_name(tmp_path):
    prompt_set = load_prompt_set(write(tmp_path, '["First?", "Second?"]', name="smoke.json"))
    assert prompt_set.name == "smoke"
    assert [(p.id, p.prompt) for p in prompt_set.prompts] == [("p1", "First?"), ("p2", "Second?")]
    assert prompt_set.rubric is None


def test_list_form_errors_point_into_the_list(tmp_path):
    err = problem(write(tmp_path, '[\n  "First?",\n  ""\n]'))
    assert (err.message, err.line, err.col) == ("1: must not be empty", 3, 3)
    err = problem(write(tmp_path, '[\n  "First?",\n  {"prompt": "x"}\n]'))
    assert (err.message, err.line, err.col) == ("1: Input should be a valid string", 3, 3)
    err = problem(write(tmp_path, "[]"))
    assert err.message == "top level: List should have at least 1 item after validation, not 0"


def test_syntax_errors_and_missing_files_are_file_problems(tmp_path):
    err = problem(write(tmp_path, '["a",\n "b"'))
    assert (err.line, err.col) == (2, 5)
    assert problem(tmp_path / "absent.json").message.startswith("cannot read: ")


def test_shipped_default_set_has_the_workshop_prompts():
    prompt_set = load_prompt_set(REPO / "prompts" / "default.json")
    assert prompt_set.name == "default"
    assert [p.id for p in prompt_set.prompts] == ["rag", "privacy", "latency", "slm-vs-llm"]
    assert prompt_set.prompts[0].prompt == "Explain the principle of retrieval augmented generation in 2 sentences."
    assert prompt_set.prompts[3].prompt == "Provide two scenarios where an SLM is preferable to an LLM."
    assert all(3 <= len(p.expected_aspects) <= 4 for p in prompt_set.prompts)


def test_shipped_quick_set_is_the_list_form_with_two_default_prompts():
    assert isinstance(json.loads((REPO / "prompts" / "quick.json").read_text()), list)
    quick = load_prompt_set(REPO / "prompts" / "quick.json")
    default_texts = {p.prompt for p in load_prompt_set(REPO / "prompts" / "default.json").prompts}
    assert quick.name == "quick"
    assert len(quick.prompts) == 2
    assert {p.prompt for p in quick.prompts} <= default_texts


def test_list_prompt_sets_is_sorted_json_files_only(tmp_path):
    for name in ("b.json", "a.json", "notes.txt"):
        write(tmp_path, "[]", name)
    (tmp_path / "dir.json").mkdir()
    assert list_prompt_sets(tmp_path) == [tmp_path / "a.json", tmp_path / "b.json"]
    assert list_prompt_sets(tmp_path / "missing") == []
    assert [p.name for p in list_prompt_sets(REPO / "prompts")] == ["default.json", "quick.json"]


KEYS = ["name", "prompts", "rubric", "id", "prompt", "expected_aspects", "max_tokens", "other"]
leaves = st.none() | st.booleans() | st.integers(-2, 3) | st.floats() | st.sampled_from(["", " ", "a", "p1"])
prompt_like = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner), max_leaves=15
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check(path: Path) -> None:
    try:
        assert isinstance(load_prompt_set(path), PromptSet)
    except FileProblem as err:
        assert err.message


@SETTINGS
@given(prompt_like, st.sampled_from([None, 2]))
def test_arbitrary_json_gives_a_prompt_set_or_a_file_problem(tmp_path, value, indent):
    check(write(tmp_path, json.dumps(value, indent=indent)))


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_give_a_prompt_set_or_a_file_problem(tmp_path, data):
    check(write(tmp_path, data))
