"""tokenizer.json and tokenizer_config.json from the GGUF's own vocabulary, merges and chat template.

The GGUF names its pre-tokenizer "smollm": llama.cpp first isolates every digit, then splits the rest with the
GPT-2 pattern, then applies byte-level BPE. Both steps are written as regex Splits, the one pre-tokenizer form that
Hugging Face `tokenizers` and the runtime's tokenizer (onnxruntime-extensions, which ignores a `Digits` step) read
alike; the GPT-2 pattern is spelt exactly as onnxruntime-extensions recognises it.
"""

from __future__ import annotations

from typing import Any

from fl_tui.demo.smollm2.weights import GgufModel

DIGIT = r"\p{N}"
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
CONTROL = 3  # tokenizer.ggml.token_type of the special tokens (<|im_start|> ...)


def _split(pattern: str) -> dict[str, Any]:
    return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False}


def tokenizer_json(model: GgufModel) -> dict[str, Any]:
    """A byte-level BPE with the GGUF's 49,152 tokens in their order and its merges in rank order."""
    tokens = list(model.field("tokenizer.ggml.tokens"))
    types = list(model.field("tokenizer.ggml.token_type"))
    merges = [tuple(m.split(" ", 1)) for m in model.field("tokenizer.ggml.merges")]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
             "special": True}
            for i, (t, kind) in enumerate(zip(tokens, types, strict=True)) if kind == CONTROL
        ],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                _split(DIGIT),
                _split(GPT2),
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {t: i for i, t in enumerate(tokens)},
            "merges": [list(m) for m in merges],
        },
    }


def special_ids(model: GgufModel) -> dict[str, int]:
    """The ids the GGUF names: bos (<|im_start|>), eos (<|im_end|>), padding and unknown."""
    return {k: int(model.field(f"tokenizer.ggml.{k}_token_id")) for k in ("bos", "eos", "padding", "unknown")}


def tokenizer_config(model: GgufModel) -> dict[str, Any]:
    """The GGUF's chat template and special tokens, as Hugging Face's tokenizer_config.json spells them."""
    tokens = list(model.field("tokenizer.ggml.tokens"))
    types = list(model.field("tokenizer.ggml.token_type"))
    ids = special_ids(model)
    return {
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": tokens[ids["bos"]],
        "eos_token": tokens[ids["eos"]],
        "pad_token": tokens[ids["padding"]],
        "unk_token": tokens[ids["unknown"]],
        "add_bos_token": bool(model.field("tokenizer.ggml.add_bos_token")),
        "add_prefix_space": bool(model.field("tokenizer.ggml.add_space_prefix")),
        "model_max_length": model.config.context,
        "clean_up_tokenization_spaces": False,
        "chat_template": str(model.field("tokenizer.chat_template")),
        "added_tokens_decoder": {
            str(i): {"content": t, "special": True, "normalized": False, "lstrip": False, "rstrip": False,
                     "single_word": False}
            for i, (t, kind) in enumerate(zip(tokens, types, strict=True)) if kind == CONTROL
        },
    }
