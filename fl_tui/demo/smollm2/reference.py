"""A plain numpy SmolLM2 forward pass and BPE tokenizer, straight from the GGUF, to check the converted model by.

Independent of the converter on purpose: weights come from the `gguf` package's own dequantiser (not from
weights.py's block decoding), the arithmetic is float64, attention is written out per head, rotary embedding is
llama.cpp's (adjacent pairs rotate, as the GGUF's Q/K rows are laid out), and the tokenizer is a textbook BPE over
the GGUF's merges after llama.cpp's "smollm" pre-tokenizer. Slow (a few tokens per second), exact enough to judge by.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import regex

from fl_tui.demo.smollm2.weights import LAYER_MATRICES, GgufModel


def _dequantised(model: GgufModel, name: str) -> np.ndarray:
    from gguf.quants import dequantize

    tensor = model.tensor(name)
    return dequantize(tensor.data, tensor.tensor_type).astype(np.float64)


@dataclass
class Cache:
    """Keys (rotated) and values of every position seen so far, per layer: [kv_heads, positions, head_size]."""

    keys: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)

    @property
    def length(self) -> int:
        return self.keys[0].shape[1] if self.keys else 0


class Reference:
    """SmolLM2-135M-Instruct in float64 numpy: logits for a run of token ids after a cache."""

    def __init__(self, model: GgufModel) -> None:
        self.cfg = cfg = model.config
        self.embedding = _dequantised(model, "token_embd.weight")  # [vocab, hidden], also the output projection
        self.final_norm = _dequantised(model, "output_norm.weight")
        self.layers = []
        for i in range(cfg.layers):
            layer = {name: _dequantised(model, f"blk.{i}.{name}.weight") for name in LAYER_MATRICES}
            layer["attn_norm"] = _dequantised(model, f"blk.{i}.attn_norm.weight")
            layer["ffn_norm"] = _dequantised(model, f"blk.{i}.ffn_norm.weight")
            self.layers.append(layer)
        half = cfg.head_size // 2
        self.inv_freq = cfg.rope_base ** (-np.arange(half, dtype=np.float64) * 2 / cfg.head_size)

    def _norm(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.cfg.rms_eps) * weight

    def _rope(self, x: np.ndarray, start: int) -> np.ndarray:
        """x [heads, seq, head_size]: each adjacent pair (2i, 2i+1) turns by position * base^(-2i/head_size)."""
        angles = np.arange(start, start + x.shape[1], dtype=np.float64)[:, None] * self.inv_freq  # [seq, half]
        cos, sin = np.cos(angles), np.sin(angles)
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def forward(self, ids: list[int], cache: Cache) -> np.ndarray:
        """Logits [len(ids), vocab] for `ids` following what `cache` holds; the cache grows by them."""
        cfg, start = self.cfg, cache.length
        seq, hd = len(ids), cfg.head_size
        h = self.embedding[np.asarray(ids)]
        group = cfg.heads // cfg.kv_heads
        causal = np.triu(np.full((seq, start + seq), -np.inf), k=start + 1)
        for i, layer in enumerate(self.layers):
            x = self._norm(h, layer["attn_norm"])
            q = (x @ layer["attn_q"].T).reshape(seq, cfg.heads, hd).transpose(1, 0, 2)
            k = (x @ layer["attn_k"].T).reshape(seq, cfg.kv_heads, hd).transpose(1, 0, 2)
            v = (x @ layer["attn_v"].T).reshape(seq, cfg.kv_heads, hd).transpose(1, 0, 2)
            q, k = self._rope(q, start), self._rope(k, start)
            if len(cache.keys) <= i:
                cache.keys.append(k)
                cache.values.append(v)
            else:
                cache.keys[i] = np.concatenate([cache.keys[i], k], axis=1)
                cache.values[i] = np.concatenate([cache.values[i], v], axis=1)
            heads = []
            for head in range(cfg.heads):
                keys, values = cache.keys[i][head // group], cache.values[i][head // group]
                scores = q[head] @ keys.T / np.sqrt(hd) + causal
                scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
                heads.append((scores / scores.sum(axis=-1, keepdims=True)) @ values)
            h = h + np.concatenate(heads, axis=-1) @ layer["attn_output"].T
            x = self._norm(h, layer["ffn_norm"])
            gate, up = x @ layer["ffn_gate"].T, x @ layer["ffn_up"].T
            h = h + (gate / (1 + np.exp(-gate)) * up) @ layer["ffn_down"].T
        return self._norm(h, self.final_norm) @ self.embedding.T

    def greedy(self, ids: list[int], steps: int) -> tuple[list[int], list[np.ndarray]]:
        """The next `steps` tokens by argmax, and the logits each was chosen from."""
        cache, chosen, logits = Cache(), [], []
        last = self.forward(ids, cache)[-1]
        for _ in range(steps):
            logits.append(last)
            chosen.append(int(np.argmax(last)))
            last = self.forward([chosen[-1]], cache)[-1]
        return chosen, logits


# llama.cpp's "smollm" pre-tokenizer: every digit alone, then the GPT-2 split of what is left.
_DIGIT = regex.compile(r"\p{N}")
_GPT2 = regex.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)")


@cache
def _byte_chars() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which the GGUF's tokens are spelt in."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _isolated(pattern: regex.Pattern, text: str) -> list[str]:
    """Split `text` into the pattern's matches and the runs between them, in order, nothing dropped."""
    pieces, at = [], 0
    for m in pattern.finditer(text):
        if m.start() > at:
            pieces.append(text[at : m.start()])
        pieces.append(m.group())
        at = m.end()
    if at < len(text):
        pieces.append(text[at:])
    return pieces


class ReferenceTokenizer:
    """BPE as the GGUF defines it: pre-split, spell each piece in byte characters, merge by rank until none apply."""

    def __init__(self, model: GgufModel) -> None:
        self.tokens = list(model.field("tokenizer.ggml.tokens"))
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        types = model.field("tokenizer.ggml.token_type")
        control = [t for t, kind in zip(self.tokens, types, strict=True) if kind == 3]  # 3: a control token
        self._special = regex.compile("(" + "|".join(regex.escape(t) for t in control) + ")")
        self.ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(model.field("tokenizer.ggml.merges"))}
        self._chars = _byte_chars()
        self._bytes = {c: b for b, c in self._chars.items()}

    def _bpe(self, word: str) -> list[str]:
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get(pair, len(self.ranks)), j) for j, pair in enumerate(itertools.pairwise(parts))]
            rank, j = min(pairs)
            if rank == len(self.ranks):
                break
            parts[j : j + 2] = [parts[j] + parts[j + 1]]
        return parts

    def encode(self, text: str, specials: bool = False) -> list[int]:
        """Token ids of `text`; with `specials`, a control token's text (<|im_start|>) is that token."""
        out = []
        for part in self._special.split(text) if specials else [text]:
            if specials and part in self.ids and self._special.fullmatch(part):
                out.append(self.ids[part])
                continue
            for chunk in _isolated(_DIGIT, part):
                for piece in _isolated(_GPT2, chunk):
                    spelt = "".join(self._chars[b] for b in piece.encode("utf-8"))
                    out += [self.ids[p] for p in self._bpe(spelt)]
        return out

    def decode(self, ids: list[int]) -> str:
        return bytes(self._bytes[c] for i in ids for c in self.tokens[i]).decode("utf-8", errors="replace")
