"""Build the two demo chat models offline, deterministically, in well under a second each.

A real Foundry Local runtime needs real models, and a box with no internet cannot download any. These are
genuine onnxruntime-genai models (a byte-level BPE tokenizer, a ChatML template, an ONNX decoder with a KV
cache) whose "weights" are a bigram table counted on a small English corpus plus a fixed positional noise
term, so greedy decoding gives varied, English-looking text that ends on its own.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

VOCAB_SIZE = 512
HEAD = 8
CONTEXT = 1024
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
EOS, BOS, END = 0, 1, 2
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class DemoSpec:
    """One demo model: its catalog name and how many dummy 256x256 matmuls slow each decode step."""

    name: str
    alias: str
    version: int
    slow_matmuls: int
    description: str

    @property
    def model_id(self) -> str:
        return f"{self.name}:{self.version}"


FAST = DemoSpec("fl-demo-fast-generic-cpu", "fl-demo-fast", 1, 0, "Tiny bigram chat model, thousands of tokens/s")
SLOW = DemoSpec("fl-demo-slow-generic-cpu", "fl-demo-slow", 1, 110, "Tiny bigram chat model slowed to ~30 tokens/s")
DEMO_MODELS = (FAST, SLOW)


def corpus_paragraphs() -> list[str]:
    text = resources.files("fl_tui.demo").joinpath("corpus.txt").read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def train_tokenizer(paragraphs: list[str]):
    """A byte-level BPE over the corpus; deterministic for a fixed corpus and vocabulary size."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(paragraphs, trainer=trainer)
    return tok


def bigram_logits(tok, paragraphs: list[str], vocab: int) -> np.ndarray:
    """Log-probabilities of the next token given the previous one, with add-one smoothing kept small."""
    counts = np.full((vocab, vocab), 0.01, dtype=np.float64)
    for p in paragraphs:
        ids = [*tok.encode(p).ids, END]
        for a, b in itertools.pairwise(ids):
            counts[a, b] += 1.0
        # A reply starts after the template's "assistant\n": teach the model how paragraphs begin.
        nl = tok.encode("\n").ids[-1]
        counts[nl, ids[0]] += 1.0
    probs = counts / counts.sum(axis=1, keepdims=True)
    return np.log(probs).astype(np.float32)


def _graph(spec: DemoSpec, vocab: int, table: np.ndarray):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(20261121)
    noise = (rng.standard_normal((CONTEXT, vocab)) * 1.2).astype(np.float32)
    emb = rng.standard_normal((vocab, HEAD)).astype(np.float32)
    inits = [
        numpy_helper.from_array(table, "bigram"),
        numpy_helper.from_array(noise, "noise"),
        numpy_helper.from_array(emb, "emb"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one_i"),
        numpy_helper.from_array(np.array(2, dtype=np.int64), "axis2"),
    ]
    n = helper.make_node
    nodes = [
        n("Gather", ["bigram", "input_ids"], ["uni"], axis=0),  # [B,S,V]
        n("Shape", ["past_key_values.0.key"], ["pshape"]),
        n("Gather", ["pshape", "axis2"], ["past_len"], axis=0),  # scalar
        n("Shape", ["input_ids"], ["ishape"]),
        n("Gather", ["ishape", "one_i_s"], ["seq_len"], axis=0),
        n("Add", ["past_len", "seq_len"], ["end_pos"]),
        n("Range", ["past_len", "end_pos", "one_i_s"], ["positions"]),
        n("Gather", ["noise", "positions"], ["pos_noise"], axis=0),  # [S,V]
        n("Add", ["uni", "pos_noise"], ["logits_pre"]),
        n("Gather", ["emb", "input_ids"], ["new_kv"], axis=0),  # [B,S,8]
        n("Unsqueeze", ["new_kv", "one_i"], ["new_kv4"]),  # [B,1,S,8]
        n("Concat", ["past_key_values.0.key", "new_kv4"], ["present.0.key"], axis=2),
        n("Concat", ["past_key_values.0.value", "new_kv4"], ["present.0.value"], axis=2),
    ]
    inits.append(numpy_helper.from_array(np.array(1, dtype=np.int64), "one_i_s"))
    if spec.slow_matmuls:
        # Work that depends on the input (so it cannot be constant-folded) and adds exactly zero to the logits.
        inits += [
            numpy_helper.from_array(np.eye(256, dtype=np.float32), "w"),
            numpy_helper.from_array(np.ones((256, 256), dtype=np.float32), "ones"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero_f"),
        ]
        nodes += [
            n("ReduceSum", ["pos_noise"], ["s0"], keepdims=0),
            n("Mul", ["s0", "zero_f"], ["s0z"]),
            n("Add", ["ones", "s0z"], ["x0"]),
        ]
        for i in range(spec.slow_matmuls):
            nodes.append(n("MatMul", [f"x{i}", "w"], [f"x{i + 1}"]))
        last = f"x{spec.slow_matmuls}"
        nodes += [
            n("ReduceSum", [last], ["s1"], keepdims=0),
            n("Mul", ["s1", "zero_f"], ["s1z"]),
            n("Add", ["logits_pre", "s1z"], ["logits"]),
        ]
    else:
        nodes.append(n("Identity", ["logits_pre"], ["logits"]))
    kv_in = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 1, "past", HEAD])  # noqa: E731
    kv_out = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 1, "total", HEAD])  # noqa: E731
    graph = helper.make_graph(
        nodes,
        spec.name,
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
            kv_in("past_key_values.0.key"),
            kv_in("past_key_values.0.value"),
        ],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", vocab]),
            kv_out("present.0.key"),
            kv_out("present.0.value"),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="fl-tui")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _genai_config(vocab: int) -> dict:
    return {
        "model": {
            "bos_token_id": BOS,
            "context_length": CONTEXT,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx",
                "head_size": HEAD,
                "hidden_size": HEAD,
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": "attention_mask",
                    "past_key_names": "past_key_values.%d.key",
                    "past_value_names": "past_key_values.%d.value",
                },
                "outputs": {
                    "logits": "logits",
                    "present_key_names": "present.%d.key",
                    "present_value_names": "present.%d.value",
                },
                "num_attention_heads": 1,
                "num_hidden_layers": 1,
                "num_key_value_heads": 1,
            },
            "eos_token_id": [END, EOS],
            "pad_token_id": EOS,
            "type": "qwen2",
            "vocab_size": vocab,
        },
        "search": {
            "do_sample": False,
            "early_stopping": True,
            "max_length": CONTEXT,
            "min_length": 0,
            "num_beams": 1,
            "num_return_sequences": 1,
            "past_present_share_buffer": False,
            "repetition_penalty": 1.0,
            "temperature": 1.0,
            "top_k": 1,
            "top_p": 1.0,
        },
    }


def _tokenizer_config() -> dict:
    return {
        "tokenizer_class": "Qwen2Tokenizer",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": CONTEXT,
        "add_prefix_space": False,
        "chat_template": CHAT_TEMPLATE,
        "added_tokens_decoder": {
            str(i): {"content": s, "special": True, "normalized": False}
            for i, s in enumerate(SPECIALS)
        },
    }


def build_demo_model(spec: DemoSpec, folder: Path) -> Path:
    """Write one demo model into ``folder`` (created); returns the folder. Same inputs give the same bytes."""
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = corpus_paragraphs()
    tok = train_tokenizer(paragraphs)
    vocab = tok.get_vocab_size()
    table = bigram_logits(tok, paragraphs, vocab)
    onnx.save_model(_graph(spec, vocab, table), str(folder / "model.onnx"))
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(), indent=2), encoding="utf-8")
    (folder / "genai_config.json").write_text(json.dumps(_genai_config(vocab), indent=2), encoding="utf-8")
    return folder
