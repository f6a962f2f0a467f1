"""The demo models: built offline and deterministically, and real models to the real runtime in-process."""

import hashlib

from fl_tui.demo.build import DEMO_MODELS, FAST, SLOW, build_demo_model
from fl_tui.demo.install import STAMP, ensure_demo_models


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_build_is_deterministic_and_small(tmp_path):
    a = build_demo_model(FAST, tmp_path / "a")
    b = build_demo_model(FAST, tmp_path / "b")
    assert digest(a) == digest(b)
    assert {"model.onnx", "genai_config.json", "tokenizer.json", "tokenizer_config.json"} <= set(digest(a))
    assert sum(p.stat().st_size for p in a.iterdir()) < 6 * 2**20


def test_slow_twin_differs_only_by_its_extra_work(tmp_path):
    fast = build_demo_model(FAST, tmp_path / "fast")
    slow = build_demo_model(SLOW, tmp_path / "slow")
    assert (fast / "tokenizer.json").read_bytes() == (slow / "tokenizer.json").read_bytes()
    assert (fast / "model.onnx").read_bytes() != (slow / "model.onnx").read_bytes()


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
