import json
import os
import string
from pathlib import Path

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fl_tui.core.errors import FileProblem
from fl_tui.core.jsonfile import ProblemAt, load_validated, locate, read_json
from fl_tui.core.limits import SMALL_FILE_MAX


class Item(BaseModel):
    model_config = ConfigDict(strict=True)
    name: str
    size: float = Field(0, ge=0)


class Doc(BaseModel):
    model_config = ConfigDict(strict=True)
    items: list[Item]

    @field_validator("items")
    @classmethod
    def _no_empty_names(cls, items: list[Item]) -> list[Item]:
        for index, item in enumerate(items):
            if item.name == "":
                raise ProblemAt("name must not be empty", index, "name")
        return items


DOC = pydantic.TypeAdapter(Doc)
ANY = pydantic.TypeAdapter(object)


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "input.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def problem(path: Path, adapter: pydantic.TypeAdapter = DOC) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        load_validated(path, adapter)
    return caught.value


def test_valid_file_gives_the_validated_value(tmp_path):
    path = write(tmp_path, '{"items": [{"name": "a", "size": 2}]}')
    assert load_validated(path, DOC) == Doc(items=[Item(name="a", size=2)])


def test_missing_file_says_it_cannot_be_read(tmp_path):
    err = problem(tmp_path / "nope.json")
    assert err.message == "cannot read: No such file or directory"
    assert (err.line, err.col) == (None, None)
    assert str(err) == f"{tmp_path / 'nope.json'}: cannot read: No such file or directory"


def test_directory_cannot_be_read(tmp_path):
    assert problem(tmp_path).message == "cannot read: not a regular file (a directory)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on Windows")
def test_a_fifo_or_a_device_is_refused_without_reading_it(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # nobody writes to it: a blocking open would hang here
    assert problem(fifo).message == "cannot read: not a regular file (a FIFO)"
    assert problem(Path("/dev/zero")).message == "cannot read: not a regular file (a character device)"


def test_a_file_over_its_cap_is_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b"[" + b"0," * (SMALL_FILE_MAX // 2) + b"0]")
    assert problem(path).message.startswith("cannot read: larger than 4 MiB (")


def test_syntax_error_has_json_line_and_column(tmp_path):
    path = write(tmp_path, '{\n  "items": [\n    {"name": "a",}\n  ]\n}\n')
    err = problem(path)
    assert (err.line, err.col) == (3, 18)
    assert err.message == "not valid JSON: Expecting property name enclosed in double quotes"
    assert str(err) == f"{path}:3:18: not valid JSON: Expecting property name enclosed in double quotes"


def test_not_utf8_points_at_the_bad_byte(tmp_path):
    err = problem(write(tmp_path, b'{\n  "items": ["\xe9t\xe9"]\n}'))
    assert (err.line, err.col) == (2, 14)
    assert err.message == "not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_utf8_bom_is_accepted_and_not_counted_as_a_column(tmp_path):
    path = write(tmp_path, b'\xef\xbb\xbf{"items": [{"name": 5}]}')
    err = problem(path)
    assert (err.line, err.col) == (1, 21)


def test_schema_error_deep_inside_points_at_the_value(tmp_path):
    text = '{\n  "items": [\n    {"name": "a"},\n    {"name": "b", "size": 1},\n'
    text += '    {"name": "c", "size": "big"}\n  ]\n}\n'
    err = problem(write(tmp_path, text))
    assert err.message == "items.2.size: Input should be a valid number"
    assert (err.line, err.col) == (5, 27)


def test_missing_key_points_at_the_enclosing_object(tmp_path):
    err = problem(write(tmp_path, '{"items": [\n  {"name": "a"},\n    {"size": 3}\n]}'))
    assert err.message == "items.1.name: Field required"
    assert (err.line, err.col) == (3, 5)


def test_wrong_top_level_type_points_at_the_start(tmp_path):
    err = problem(write(tmp_path, "\n\n  [1, 2]"))
    assert err.message == "top level: Input should be a valid dictionary or instance of Doc"
    assert (err.line, err.col) == (3, 3)


def test_problem_at_blames_the_part_its_validator_names(tmp_path):
    err = problem(write(tmp_path, '{"items": [\n {"name": "x"},\n {"name": ""}\n]}'))
    assert err.message == "items.1.name: name must not be empty"
    assert (err.line, err.col) == (3, 11)


def test_bad_dict_key_points_at_the_key_and_odd_keys_are_quoted(tmp_path):
    adapter = pydantic.TypeAdapter(dict[str, dict[str, int]])
    err = problem(write(tmp_path, '{"a.b": {"ok": 1,\n "x\\ny": "no"}}'), adapter)
    assert err.message == '"a.b"."x\\ny": Input should be a valid integer, unable to parse string as an integer'
    assert (err.line, err.col) == (2, 10)
    key_adapter = pydantic.TypeAdapter(dict[str, dict[pydantic.constr(min_length=2), int]])
    err = problem(write(tmp_path, '{"m": {"ab": 1, "c": 2}}'), key_adapter)
    assert (err.line, err.col) == (1, 17)
    assert err.message == "m.c: String should have at least 2 characters"


def test_too_deep_nesting_and_huge_integers_are_file_problems(tmp_path):
    err = problem(write(tmp_path, "[" * 100_000), ANY)
    assert (err.message, err.line, err.col) == ("nested deeper than 64 levels", 1, 65)
    assert "digits" in problem(write(tmp_path, "1" * 5000), ANY).message


def test_nesting_is_counted_outside_strings_and_placed_on_its_line(tmp_path):
    deep = "[" * 63 + "]" * 63  # inside the object: 64 levels, the most allowed
    assert json.loads(read_json(write(tmp_path, f'{{"s": "[[[[{{{{", "a": {deep}}}'))[0])["s"] == "[[[[{{"
    err = problem(write(tmp_path, '{\n "ok": "[[[[",\n "x": ' + "[" * 70 + "]" * 70 + "}"), ANY)
    assert (err.line, err.col, err.message) == (3, 6 + 64, "nested deeper than 64 levels")


def test_locate_takes_the_last_of_duplicate_keys_like_json_loads():
    text = '{"a": 1, "a": [true, NaN, -Infinity, {"b": "]}\\""}]}'
    assert json.loads(text)["a"][3]["b"] == ']}"'
    assert text[locate(text, ["a"]) :].startswith("[true")
    assert text[locate(text, ["a", 3, "b"]) :].startswith('"]}')
    assert locate(text, ["a", 9]) == locate(text, ["a"])
    assert locate(text, ["zz", 0]) == 0
    assert locate(text, ["a"], at_key=True) == text.index('"a"', 3)


def test_locate_treats_a_key_spelt_like_pydantics_key_tag_as_a_key():
    text = '[{"[key]": null}]'
    assert text[locate(text, [0, "[key]"]) :] == "null}]"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def paths(value, prefix=()):
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths(child, (*prefix, key))


def at(value, path):
    for step in path:
        value = value[step]
    return value


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2, "\t"]), st.booleans(), st.text(" \t\r\n", max_size=3))
def test_locate_finds_every_value_in_any_formatting(value, indent, ascii_only, pad):
    text = pad + json.dumps(value, indent=indent, ensure_ascii=ascii_only) + pad
    decoder = json.JSONDecoder()
    for path in paths(value):
        found, _ = decoder.raw_decode(text, locate(text, path))
        assert found == at(value, path)


def check_never_raises_anything_else(path: Path, adapter: pydantic.TypeAdapter) -> None:
    try:
        load_validated(path, adapter)
    except FileProblem as err:
        assert err.message
        if err.line is not None:
            lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace").split("\n")
            assert 1 <= err.line <= len(lines)
            assert 1 <= err.col <= len(lines[err.line - 1]) + 1


ADAPTERS = [DOC, ANY, pydantic.TypeAdapter(dict[str, list[int]])]
nearly_docs = st.recursive(
    st.none() | st.integers() | st.floats() | st.sampled_from(["", "a", "items", "name", "size"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["items", "name", "size", "x"]), inner),
    max_leaves=12,
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from(ADAPTERS))
def test_arbitrary_bytes_give_a_value_or_a_file_problem(tmp_path, data, adapter):
    check_never_raises_anything_else(write(tmp_path, data), adapter)


@SETTINGS
@given(st.text(alphabet=string.printable + '{}[]",:éÿ\u2028\ufeff', max_size=200), st.sampled_from(ADAPTERS))
def test_arbitrary_text_gives_a_value_or_a_file_problem(tmp_path, text, adapter):
    check_never_raises_anything_else(write(tmp_path, text), adapter)


@SETTINGS
@given(nearly_docs | json_values, st.sampled_from([None, 1]), st.sampled_from(ADAPTERS))
def test_arbitrary_json_gives_a_value_or_a_file_problem(tmp_path, value, indent, adapter):
    check_never_raises_anything_else(write(tmp_path, json.dumps(value, indent=indent)), adapter)
