"""The demo models: built offline and deterministically, real models to the real runtime in-process, and the slow
one visibly better than the fast one on the shipped prompts."""

import hashlib
import json
import re
import sys
import time

import pytest

from fl_tui.core.errors import UserError
from fl_tui.core.resources import packaged_data
from fl_tui.demo import install
from fl_tui.demo.build import DEMO_MODELS, FAST, SLOW, build_demo_model, corpus_topics
from fl_tui.demo.install import PREBUILT, STAMP, build_prebuilt, ensure_demo_models


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_build_is_deterministic_fast_and_small(tmp_path):
    build_demo_model(FAST, tmp_path / "warm")  # imports onnx and tokenizers once, outside the timed builds
    for spec in DEMO_MODELS:
        start = time.perf_counter()
        a = build_demo_model(spec, tmp_path / f"{spec.alias}-a")
        assert time.perf_counter() - start < 5.0  # ~0.2 s here: the bound only catches a runaway build
        b = build_demo_model(spec, tmp_path / f"{spec.alias}-b")
        assert digest(a) == digest(b)
        assert {"model.onnx", "genai_config.json", "tokenizer.json", "tokenizer_config.json"} <= set(digest(a))
        assert sum(p.stat().st_size for p in a.iterdir()) < 6 * 2**20


def test_the_twins_share_a_tokenizer_but_not_a_model(tmp_path):
    fast = build_demo_model(FAST, tmp_path / "fast")
    slow = build_demo_model(SLOW, tmp_path / "slow")
    assert (fast / "tokenizer.json").read_bytes() == (slow / "tokenizer.json").read_bytes()
    assert (fast / "model.onnx").read_bytes() != (slow / "model.onnx").read_bytes()


def test_the_corpus_answers_every_shipped_prompt_in_its_shape():
    """Each default prompt is one of a corpus topic's prompts, and the answers keep the prompts' constraints."""
    topics = {t.name: t for t in corpus_topics()}
    default = json.loads((packaged_data() / "prompts" / "default.json").read_text(encoding="utf-8"))
    for prompt in default["prompts"]:
        assert prompt["prompt"] in topics[prompt["id"]].prompts
    assert all(len(sentences(a)) == 2 for a in topics["rag"].answers)
    assert all(len(items(a)) == 3 for a in topics["privacy"].answers)
    assert all(len(items(a)) == 2 for a in topics["slm-vs-llm"].answers)


def test_ensure_builds_once_and_rebuilds_a_stale_recipe(tmp_path):
    first = ensure_demo_models(tmp_path)
    assert [spec for spec, _ in first] == list(DEMO_MODELS)
    folder = first[0][1]
    mtime = (folder / "model.onnx").stat().st_mtime_ns
    ensure_demo_models(tmp_path)
    assert (folder / "model.onnx").stat().st_mtime_ns == mtime  # up to date: untouched
    (folder / STAMP).write_text("old recipe")
    ensure_demo_models(tmp_path)
    assert (folder / STAMP).read_text() != "old recipe"


def test_the_wheels_prebuilt_models_are_copied_not_built(tmp_path, monkeypatch):
    """What setup.py puts into the wheel is what a first use installs, byte for byte, with no onnx or tokenizers
    needed; a prebuilt folder of another recipe is not used."""
    build_prebuilt(tmp_path / "data")
    prebuilt = tmp_path / "data" / PREBUILT

    def no_build(spec, folder):
        raise AssertionError(f"{spec.name} built, not copied")

    monkeypatch.setattr(install, "build_demo_model", no_build)
    for name in install.BUILD_NEEDS:
        monkeypatch.setitem(sys.modules, name, None)  # import and find_spec both fail, as without the extra
    installed = ensure_demo_models(tmp_path / "user", prebuilt)
    assert [(spec, folder) for spec, folder in installed] == [(s, tmp_path / "user" / s.name) for s in DEMO_MODELS]
    for spec, folder in installed:
        assert digest(folder) == digest(prebuilt / spec.name)
        assert (folder / STAMP).read_text() == install.recipe_digest(spec)

    (prebuilt / FAST.name / STAMP).write_text("old recipe")
    (tmp_path / "user" / FAST.name / STAMP).write_text("old recipe")
    with pytest.raises(UserError):  # the stale prebuilt copy is refused; building it needs the extra
        ensure_demo_models(tmp_path / "user", prebuilt)


def test_from_a_checkout_without_the_build_packages_one_line_names_the_extra(tmp_path, monkeypatch):
    for name in install.BUILD_NEEDS:
        monkeypatch.setitem(sys.modules, name, None)  # import and find_spec both fail, as without the extra
    (tmp_path / "user").mkdir()
    with pytest.raises(UserError) as raised:
        ensure_demo_models(tmp_path / "user", tmp_path / "no-prebuilt-models")
    message = str(raised.value)
    assert "\n" not in message and "needs onnx and tokenizers" in message, message
    assert "pip install -e '.[demo-build]'" in message
    assert list((tmp_path / "user").iterdir()) == []  # no half-built folder left behind


def test_demo_models_stream_in_process_through_the_sdk(embedded):
    """In-process inference with the SDK's ChatSession (no HTTP), on both demo models."""
    from foundry_local_sdk import (
        CatalogType,
        ChatSession,
        FoundryLocalManager,
        MessageItem,
        Request,
        RequestOptions,
        SearchOptions,
    )

    local = FoundryLocalManager.instance.get_catalog(CatalogType.LOCAL)
    for spec in DEMO_MODELS:
        model = local.get_model_variant(spec.model_id)
        model.load()
        try:
            texts = []
            for _ in range(2):
                with ChatSession(model) as session:
                    session.set_options(RequestOptions(search=SearchOptions(temperature=0.0, max_output_tokens=24)))
                    session.set_streaming(True)
                    with (
                        Request().add_item(MessageItem.user("List 3 privacy benefits of local inference.")) as req,
                        session.process_streaming_request(req) as stream,
                    ):
                        pieces = [item.text for item in stream]
                        usage = stream.final_response.get_usage()
                texts.append("".join(pieces))
                assert usage.completion_tokens == len(pieces) == 24
            assert texts[0] == texts[1] and texts[0].strip()  # temperature 0: deterministic, non-empty
        finally:
            model.unload()


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def items(text: str) -> list[str]:
    return re.findall(r"^\d+\. \S.*$", text, flags=re.M)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def answer(model, prompt: str) -> str:
    from foundry_local_sdk import ChatSession, MessageItem, Request, RequestOptions, SearchOptions

    with ChatSession(model) as session:
        session.set_options(RequestOptions(search=SearchOptions(temperature=0.0, max_output_tokens=128)))
        session.set_streaming(True)
        with Request().add_item(MessageItem.user(prompt)) as req, session.process_streaming_request(req) as stream:
            return "".join(item.text for item in stream)


def test_the_slow_model_answers_the_shipped_prompts_better_than_the_fast_one(embedded):
    """Quality proxy: the share of an answer's words that are words of its prompt's corpus topic. The slow model
    writes whole on-topic sentences that end properly, in the prompt's shape; the fast one scrambled fragments."""
    from foundry_local_sdk import CatalogType, FoundryLocalManager

    topics = {t.name: t for t in corpus_topics()}
    default = json.loads((packaged_data() / "prompts" / "default.json").read_text(encoding="utf-8"))
    local = FoundryLocalManager.instance.get_catalog(CatalogType.LOCAL)
    replies = {}
    for spec in DEMO_MODELS:
        model = local.get_model_variant(spec.model_id)
        model.load()
        try:
            replies[spec] = {p["id"]: answer(model, p["prompt"]) for p in default["prompts"]}
            assert answer(model, default["prompts"][0]["prompt"]) == replies[spec]["rag"]  # temperature 0: the same
        finally:
            model.unload()

    def on_topic(topic: str, text: str) -> float:
        vocabulary = set(words(" ".join((*topics[topic].prompts, *topics[topic].answers))))
        found = words(text)
        return sum(w in vocabulary for w in found) / max(len(found), 1)

    for topic in replies[SLOW]:
        slow, fast = replies[SLOW][topic], replies[FAST][topic]
        assert on_topic(topic, slow) > on_topic(topic, fast), (topic, slow, fast)
        assert on_topic(topic, slow) > 0.95, slow
        assert slow.rstrip().endswith("."), slow
    assert len(sentences(replies[SLOW]["rag"])) == 2
    assert len(items(replies[SLOW]["privacy"])) == 3
    assert len(items(replies[SLOW]["slm-vs-llm"])) == 2
