"""The check vocabulary (fl_tui.core.checks) on hand-made answers, its load errors, and the shipped prompt sets'
checks on hand-written good and bad answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fl_tui.core.checks import Check, item_count, run_checks, sentence_count, word_count
from fl_tui.core.errors import FileProblem
from fl_tui.core.prompts import Prompt, load_prompt_set

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "prompts" / "default.json"


def outcome(check: dict, answer: str) -> tuple[bool, str]:
    (result,) = run_checks([Check.model_validate(check)], answer)
    return result.passed, result.why


def write_set(tmp_path: Path, checks: str) -> Path:
    """A prompt set whose only prompt carries `checks` (JSON text) on line 3, from column 48."""
    path = tmp_path / "set.json"
    path.write_text('{\n  "name": "s", "prompts": [\n    {"id": "a", "prompt": "Say it.", "checks": ' + checks
                    + "}\n  ]\n}\n", encoding="utf-8")
    return path


def load_problem(tmp_path: Path, checks: str) -> FileProblem:
    path = write_set(tmp_path, checks)
    with pytest.raises(FileProblem) as caught:
        load_prompt_set(path)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}:{caught.value.col}: ")
    return caught.value


# -- contains / not_contains ------------------------------------------------------------------------------------


def test_contains_all_is_the_default_and_names_what_is_missing():
    assert outcome({"contains": ["Retrieval", "context"]}, "retrieval adds CONTEXT") == (True, "all found")
    assert outcome({"contains": ["retrieval", "context", "grounded"]}, "retrieval adds context") == (
        False, 'missing "grounded"')


def test_contains_any_needs_one_term():
    check = {"contains": ["device", "locally"], "match": "any"}
    assert outcome(check, "It runs LOCALLY.") == (True, 'found "locally"')
    assert outcome(check, "It runs in the cloud.") == (False, 'missing "device", "locally"')


def test_a_term_matches_where_a_word_begins():
    assert outcome({"contains": "retriev"}, "Retrieval first")[0] is True  # a prefix is enough
    assert outcome({"contains": "edge"}, "the knowledge base")[0] is False  # not inside a word
    assert outcome({"contains": "on-prem"}, "runs (on-premises)")[0] is True
    assert outcome({"contains": "a.b"}, "axb")[0] is False  # a term is text, not a pattern


def test_contains_one_string_and_unicode_case_folding():
    assert outcome({"contains": "STRASSE"}, "Die Straße ist lang.")[0] is True
    assert outcome({"contains": "ÉTÉ"}, "un été chaud")[0] is True
    assert outcome({"contains": "日本"}, "東京は日本の首都です")[0] is True  # no spaces: found anywhere
    assert outcome({"contains": "ข้อมูล"}, "เก็บข้อมูลไว้")[0] is True


def test_not_contains_all_means_none_of_them():
    check = {"not_contains": ["as an AI", "I cannot"]}
    assert outcome(check, "Retrieval adds context.") == (True, "none found")
    assert outcome(check, "As an ai model, I think...") == (False, 'found "as an AI"')


def test_not_contains_any_means_at_least_one_absent():
    check = {"not_contains": ["cloud", "server"], "match": "any"}
    assert outcome(check, "no cloud needed") == (True, 'absent "server"')
    assert outcome(check, "cloud server") == (False, 'found "cloud", "server"')


def test_an_empty_answer_fails_every_kind():
    checks = [Check.model_validate(c) for c in (
        {"contains": "x"}, {"not_contains": "x"}, {"regex": ".*"}, {"max_sentences": 2}, {"max_words": 5},
        {"count_items": 1}, {"json_schema": {}})]
    for blank in ("", "  \n\t "):
        results = run_checks(checks, blank)
        assert [(r.passed, r.why) for r in results] == [(False, "empty answer")] * len(checks)


# -- regex --------------------------------------------------------------------------------------------------------


def test_regex_searches_anywhere_and_inline_flags_work():
    assert outcome({"regex": r"\b\d+ ms\b"}, "TTFT was 120 ms.") == (True, "matches")
    assert outcome({"regex": r"^\d"}, "no digit first") == (False, "no match")
    assert outcome({"regex": "(?i)^rag"}, "RAG retrieves.")[0] is True
    assert outcome({"regex": "ü{2}"}, "züürich")[0] is True


def test_a_regex_that_does_not_compile_is_a_load_error_at_the_pattern(tmp_path):
    err = load_problem(tmp_path, '[{"max_words": 9}, {"regex": "(unclosed"}]')
    assert err.message == "prompts.0.checks.1.regex: regex does not compile: missing ) at position 9 of the pattern"
    line = write_set(tmp_path, '[{"max_words": 9}, {"regex": "(unclosed"}]').read_text().splitlines()[2]
    assert (err.line, err.col) == (3, line.index('"(unclosed"') + 1)


# -- max_sentences / max_words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "count"), [
    ("One. Two! Three?", 3),
    ("Dr. Smith uses e.g. RAG. Version 3.5 is out.", 2),  # abbreviations and decimals end nothing
    ('He said "stop." Then left.', 2),
    ("No final stop", 1),
    ("Wait... what?", 2),
    ("今天很好。明天也好。", 2),
    ("1. Data stays local.\n2. No logs.\n\n- A third", 3),  # each item its own; "1." is a marker, not an end
    ("...", 0),
])
def test_sentence_count(answer, count):
    assert sentence_count(answer) == count


def test_max_sentences_passes_up_to_its_limit():
    assert outcome({"max_sentences": 2}, "RAG retrieves passages. It adds them as context.") == (True, "2 sentences")
    assert outcome({"max_sentences": 2}, "One. Two. Three.") == (False, "3 sentences")
    assert outcome({"max_sentences": 1}, "Just one") == (True, "1 sentence")


@pytest.mark.parametrize(("answer", "count"), [
    ("A well-known model's answer", 4),
    ("café naïve Ελληνικά", 3),
    ("1. first\n- second item", 3),  # list markers are not words
    ("  ,.;  ", 0),
])
def test_word_count(answer, count):
    assert word_count(answer) == count


def test_max_words():
    assert outcome({"max_words": 3}, "three small words") == (True, "3 words")
    assert outcome({"max_words": 3}, "four small words here") == (False, "4 words")


# -- count_items ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "count"), [
    ("1. a\n2. b\n3. c", 3),
    ("- a\n* b\n• c\n+ d", 4),
    ("Intro:\n1) a\n2) b\nThat is all.", 2),
    ("1. a\n   - detail\n   - detail\n2. b\n3. c", 3),  # sub-points are not more items
    ("  - indented a\n  - indented b", 2),
    ("**Bold** is not an item\n-not one either\n1.5 is a number", 0),
    ("", 0),
])
def test_item_count(answer, count):
    assert item_count(answer) == count


def test_count_items_needs_exactly_n():
    assert outcome({"count_items": 2}, "- a\n- b") == (True, "2 items")
    assert outcome({"count_items": 2}, "- a\n- b\n- c") == (False, "3 items")
    assert outcome({"count_items": 2}, "a, b") == (False, "0 items")


# -- json_schema ------------------------------------------------------------------------------------------------

SCHEMA = {"type": "object", "required": ["name", "score"],
          "properties": {"name": {"type": "string"}, "score": {"type": "integer", "minimum": 1, "maximum": 5}}}


def test_json_schema_valid_bare_and_in_a_fence():
    assert outcome({"json_schema": SCHEMA}, '{"name": "ü", "score": 4}') == (True, "valid")
    fenced = 'Here it is:\n```json\n{"name": "x", "score": 5}\n```\nHope it helps.'
    assert outcome({"json_schema": SCHEMA}, fenced) == (True, "valid")
    assert outcome({"json_schema": SCHEMA}, '```\n{"name": "x", "score": 1}\n```')[0] is True


def test_json_schema_failures_say_why():
    assert outcome({"json_schema": SCHEMA}, '{"name": "x"}') == (False, "'score' is a required property")
    assert outcome({"json_schema": SCHEMA}, '{"name": "x", "score": 9}') == (
        False, "at score: 9 is greater than the maximum of 5")
    assert outcome({"json_schema": SCHEMA}, "Sure! name: x") == (False, "not JSON: Expecting value")
    assert outcome({"json_schema": SCHEMA}, "[" * 100_000)[0] is False  # too deep for json: a fail, not a crash


def test_a_why_is_kept_short():
    passed, why = outcome({"json_schema": {"enum": ["a" * 300]}}, '"b"')
    assert not passed and len(why) == 120 and why.endswith("…")


def test_a_schema_ref_to_elsewhere_is_never_fetched_and_fails():
    passed, why = outcome({"json_schema": {"$ref": "https://example.invalid/s.json"}}, "{}")
    assert not passed and why.startswith("schema not applicable: ")


def test_a_bad_schema_is_a_load_error_at_its_bad_part(tmp_path):
    checks = '[{"json_schema": {"type": "object", "properties": {"a": {"type": "strnig"}}}}]'
    err = load_problem(tmp_path, checks)
    assert err.message.startswith("prompts.0.checks.0.json_schema.properties.a.type: not a valid JSON schema: "
                                  "'strnig' is not valid")
    line = write_set(tmp_path, checks).read_text().splitlines()[2]
    assert (err.line, err.col) == (3, line.index('"strnig"') + 1)


# -- the check object itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("checks", "message", "at"), [
    ('[{"name": "x"}]', "prompts.0.checks.0: a check needs one of contains, not_contains, regex, max_sentences, "
     "max_words, count_items, json_schema", '{"name"'),
    ('[{"regex": "a", "max_words": 5}]', "prompts.0.checks.0.max_words: one kind per check: regex and max_words "
     "given (make them two checks)", "5"),
    ('[{"regex": "a", "match": "any"}]', "prompts.0.checks.0.match: match goes with contains or not_contains, not "
     "regex", '"any"'),
    ('[{"count_items": 0}]', "prompts.0.checks.0.count_items: Input should be greater than or equal to 1", "0"),
    ('[{"contains": []}]', None, "[]"),
    ('[{"max_sentence": 2}]', "prompts.0.checks.0.max_sentence: Extra inputs are not permitted", "2}"),
    ('{"max_words": 5}', "prompts.0.checks: Input should be a valid list", '{"max_words"'),
])
def test_a_bad_check_is_a_load_error_where_it_is(tmp_path, checks, message, at):
    err = load_problem(tmp_path, checks)
    if message is not None:
        assert err.message == message
    else:
        assert err.message.startswith("prompts.0.checks.0.contains")
    line = write_set(tmp_path, checks).read_text().splitlines()[2]
    assert (err.line, err.col) == (3, line.index(at) + 1)


def test_labels_and_what_run_json_keeps():
    prompt = Prompt.model_validate({"id": "a", "prompt": "b", "checks": [
        {"max_sentences": 2}, {"contains": ["x", "y"], "match": "any"}, {"name": "short", "max_words": 9},
        {"regex": "a+"}, {"json_schema": {"type": "object"}}, {"not_contains": "z"}]})
    assert [c.label for c in prompt.checks] == [
        "max_sentences 2", 'contains any "x", "y"', "short", "regex /a+/", "json_schema", 'not_contains all "z"']
    dumped = prompt.model_dump()
    assert dumped["checks"][:3] == [{"max_sentences": 2}, {"contains": ["x", "y"], "match": "any"},
                                    {"name": "short", "max_words": 9}]
    assert Prompt.model_validate(json.loads(json.dumps(dumped))) == prompt  # read back from run.json alike
    assert "checks" not in Prompt(id="a", prompt="b").model_dump()  # as before checks existed: --resume compares


# -- the shipped prompt sets ------------------------------------------------------------------------------------

GOOD = {
    "rag": "Retrieval augmented generation first retrieves the documents or passages most relevant to a query from "
           "a knowledge base. It then adds them to the model's prompt as context, so the answer is grounded in "
           "them and hallucinates less.",
    "privacy": "1. Data never leaves the device.\n2. No third-party provider stores or logs your prompts.\n"
               "3. Compliance with data residency rules is easier.",
    "latency": "A larger model has more parameters, so each token needs more computation, and its weights must be "
               "read from memory for every token: memory bandwidth sets the pace. A model that does not fit in RAM "
               "spills to slower storage; quantization or a smaller model helps.",
    "slm-vs-llm": "- Offline on an edge device with little memory, such as a field tablet.\n"
                  "- A high-volume, latency-sensitive task where the cost per request matters.",
}
BAD = {
    "rag": "It is a good technique. Models like it. Many people use it every day.",
    "privacy": "Local inference is private and cheap, and it is fast.",
    "latency": "Bigger is slower.",
    "slm-vs-llm": "SLMs are small.\n1. Chatbots\n2. Translation\n3. Summaries",
}


def test_shipped_checks_pass_good_answers_and_fail_bad_ones():
    prompt_set = load_prompt_set(DEFAULT)
    assert {p.id for p in prompt_set.prompts} == set(GOOD)
    for prompt in prompt_set.prompts:
        assert prompt.checks, f"{prompt.id} has testable aspects"
        good = run_checks(prompt.checks, GOOD[prompt.id])
        assert all(r.passed for r in good), (prompt.id, good)
        bad = run_checks(prompt.checks, BAD[prompt.id])
        assert not any(r.passed for r in bad), (prompt.id, bad)


def test_each_counting_aspect_of_the_default_set_has_its_check():
    """The aspects that count ("keeps to two sentences", "lists exactly three") are checked with those numbers."""
    kinds = {p.id: [(c.kind, getattr(c, c.kind)) for c in p.checks] for p in load_prompt_set(DEFAULT).prompts}
    assert ("max_sentences", 2) in kinds["rag"]
    assert ("count_items", 3) in kinds["privacy"]
    assert ("count_items", 2) in kinds["slm-vs-llm"]
