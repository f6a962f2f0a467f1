"""The ONNX decoder onnxruntime-genai runs for SmolLM2, written node by node from the GGUF's tensors.

The GGUF's codes stay as they are, in MatMulNBits at accuracy level 0: float32 arithmetic on the 4-bit codes, so the
result is the dequantised model's to float rounding. (Level 4 quantises activations to int8 and decodes faster, but
its logits were 1-3% off and it flipped the first greedy token of the first prompt tried: docs/smollm2.md.) That
kernel has no per-block offset, so Q4_1's (w = scale * code + offset) becomes a correction: with the kernel's
implicit zero point of 8, w = scale * (code - 8) + (8 * scale + offset), and the second term times x is x's
per-block sums times a small [blocks, out] matrix. Q/K/V run as one projection, gate/up as another. The tied Q8_0
embedding has no exact 4-bit form and its 8-bit kernel has no fast float path, so each signed code q is split as
16 * hi + lo (hi -8..7, lo 0..15): two exact 4-bit projections, and the same two tables are gathered for the input
lookup. Attention is ONNX Runtime's GroupQueryAttention: rotary embedding (adjacent pairs, as llama.cpp lays out Q
and K), the KV cache, causal masking. Only the last position's logits are computed: a 4,096-token prompt would
otherwise spend much of its prefill on 4,095 rows of a 49,152-wide projection nobody reads. `weights="f32"` writes
the same graph with dequantised float32 matrices (the measured alternative: docs/smollm2.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from fl_tui.demo.build import genai_config as shared_config
from fl_tui.demo.smollm2.weights import BLOCK, Config, GgufModel, Q4Matrix, Q8Matrix

if TYPE_CHECKING:
    import onnx

Weights = Literal["q4", "f32"]
OPSET = 17
KV_IN = "past_key_values.%d.%s"
KV_OUT = "present.%d.%s"


class _Graph:
    """Nodes and initializers in the order they are added, with a counter for unique names."""

    def __init__(self, weights: Weights) -> None:
        from onnx import helper, numpy_helper

        self.weights = weights
        self.nodes: list = []
        self.inits: list = []
        self._helper, self._numpy_helper = helper, numpy_helper
        self._n = 0
        self._names: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        """An initializer; a name given again (a shared shape constant) is the first one's."""
        if name not in self._names:
            self._names.add(name)
            self.inits.append(self._numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, inputs: list[str], outputs: int | list[str] = 1, domain: str = "", **attrs) -> list[str]:
        self._n += 1
        names = outputs if isinstance(outputs, list) else [f"{kind.lower()}_{self._n}_{i}" for i in range(outputs)]
        self.nodes.append(self._helper.make_node(kind, inputs, names, name=f"{kind}_{self._n}", domain=domain or None,
                                                 **attrs))
        return names

    def one(self, kind: str, inputs: list[str], domain: str = "", **attrs) -> str:
        return self.op(kind, inputs, 1, domain, **attrs)[0]

    def rms_norm(self, x: str, weight: np.ndarray, name: str, eps: float) -> str:
        """x / sqrt(mean(x^2) + eps) * weight, in the shape ONNX Runtime fuses into SimplifiedLayerNormalization."""
        sq = self.one("Pow", [x, "two"])
        mean = self.one("ReduceMean", [sq], axes=[-1], keepdims=1)
        root = self.one("Sqrt", [self.one("Add", [mean, self.const(f"{name}.eps", np.array(eps, np.float32))])])
        return self.one("Mul", [self.one("Div", [x, root]), self.const(f"{name}.weight", weight)])

    def linear(self, x: str, matrix: Q4Matrix, name: str, block_sums: str | None = None) -> str:
        """x @ w.T for a Q4_1 matrix [out, in]; `block_sums`: x's per-block sums, when another projection of the
        same x has them already."""
        out, blocks = matrix.scales.shape
        k = blocks * BLOCK
        if self.weights == "f32":
            return self.one("MatMul", [x, self.const(f"{name}.w", matrix.dequantise().T)])
        codes, scales = self.const(f"{name}.q", _pack(matrix)), self.const(f"{name}.scales", matrix.scales)
        y = self.one("MatMulNBits", [x, codes, scales], domain="com.microsoft", K=k, N=out, bits=4, block_size=BLOCK,
                     accuracy_level=0)
        correction = (8 * matrix.scales + matrix.offsets).T.astype(np.float32)  # [blocks, out]
        if not correction.any():
            return y
        sums = block_sums or self.block_sums(x, blocks)
        return self.one("Add", [y, self.one("MatMul", [sums, self.const(f"{name}.offsets", correction)])])

    def block_sums(self, x: str, blocks: int) -> str:
        """[..., in] -> [..., in/32]: the sum of x over each quantisation block."""
        shape = self.const(f"blockshape_{blocks}", np.array([0, 0, blocks, BLOCK], np.int64))
        return self.one("ReduceSum", [self.one("Reshape", [x, shape]), "minus_one"], keepdims=0)


def _pack(matrix: Q4Matrix) -> np.ndarray:
    """[out, blocks, 32] codes -> [out, blocks, 16] bytes, two codes a byte, low nibble first (MatMulNBits' order)."""
    return (matrix.codes[..., 0::2] | (matrix.codes[..., 1::2] << 4)).astype(np.uint8)


def split_q8(emb: Q8Matrix) -> tuple[Q4Matrix, Q4Matrix]:
    """Signed 8-bit codes q = 16 * hi + lo as two Q4 matrices whose sum is the Q8_0 matrix, exactly:
    (hi + 8) * 16d - 128d = 16d * hi, and lo * d."""
    hi = emb.codes.astype(np.int16) >> 4  # floor division by 16: -8..7
    lo = (emb.codes.astype(np.int16) & 0x0F).astype(np.uint8)
    zeros = np.zeros_like(emb.scales)
    return (Q4Matrix((hi + 8).astype(np.uint8), 16 * emb.scales, -128 * emb.scales),
            Q4Matrix(lo, emb.scales, zeros))


def _unpack(g: _Graph, packed: str) -> str:
    """[..., 16] bytes -> [..., 32] codes as floats, low nibble first (MatMulNBits' order)."""
    value = g.one("Cast", [packed], to=1)
    high = g.one("Floor", [g.one("Div", [value, "sixteen"])])
    low = g.one("Sub", [value, g.one("Mul", [high, "sixteen"])])
    pairs = g.one("Concat", [g.one("Unsqueeze", [low, "minus_one"]), g.one("Unsqueeze", [high, "minus_one"])], axis=-1)
    return g.one("Reshape", [pairs, g.const("code_shape", np.array([0, 0, 0, BLOCK], np.int64))])


def _stack(*matrices: Q4Matrix) -> Q4Matrix:
    """Projections of the same input, one after another along `out` (blocks run along `in`, so they stay whole)."""
    return Q4Matrix(*(np.concatenate([getattr(m, f) for m in matrices]) for f in ("codes", "scales", "offsets")))


def _rotary_tables(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    inv_freq = cfg.rope_base ** (-np.arange(cfg.head_size // 2, dtype=np.float64) * 2 / cfg.head_size)
    angles = np.arange(cfg.context, dtype=np.float64)[:, None] * inv_freq
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def build_graph(model: GgufModel, weights: Weights = "q4") -> onnx.ModelProto:
    """The whole decoder as an onnx.ModelProto, checked by onnx's checker."""
    import onnx
    from onnx import TensorProto, helper

    cfg = model.config
    g = _Graph(weights)
    g.const("two", np.array(2.0, np.float32))
    g.const("minus_one", np.array([-1], np.int64))
    g.const("one", np.array([1], np.int64))
    cos, sin = _rotary_tables(cfg)
    g.const("cos_cache", cos)
    g.const("sin_cache", sin)

    # GroupQueryAttention's lengths: per sequence, its tokens so far minus one; and the longest total.
    seqlens = g.one("Cast", [g.one("Sub", [g.one("ReduceSum", ["attention_mask", "one"], keepdims=0), "one"])], to=6)
    total = g.one("Cast", [g.one("Gather", [g.one("Shape", ["attention_mask"]), g.const("axis1", np.array(1))])], to=6)

    emb = model.embedding()
    high, low = split_q8(emb)
    if weights == "f32":
        h = g.one("Gather", [g.const("embed.w", emb.dequantise()), "input_ids"])
    else:
        # The output projection's two code tables (g.linear below finds them by name), looked up and recombined.
        g.const("sixteen", np.array(16.0, np.float32))
        for part, matrix in (("hi", high), ("lo", low)):
            g.const(f"out_{part}.q", _pack(matrix))
        code_hi = _unpack(g, g.one("Gather", ["out_hi.q", "input_ids"]))  # [B,S,blocks,32]: hi + 8
        code_lo = _unpack(g, g.one("Gather", ["out_lo.q", "input_ids"]))
        signed = g.one("Add", [g.one("Mul", [g.one("Sub", [code_hi, g.const("eight", np.array(8.0, np.float32))]),
                                             "sixteen"]), code_lo])
        scale = g.one("Unsqueeze", [g.one("Gather", [g.const("out_lo.scales", low.scales), "input_ids"]), "minus_one"])
        h = g.one("Reshape", [g.one("Mul", [signed, scale]),
                              g.const("hidden_shape", np.array([0, 0, cfg.hidden], np.int64))])

    for i in range(cfg.layers):
        x = g.rms_norm(h, model.norm(f"blk.{i}.attn_norm.weight"), f"l{i}.attn_norm", cfg.rms_eps)
        qkv = g.linear(x, _stack(*(model.matrix(i, n) for n in ("attn_q", "attn_k", "attn_v"))), f"l{i}.qkv")
        attn = g.op("GroupQueryAttention",
                    [qkv, "", "", KV_IN % (i, "key"), KV_IN % (i, "value"), seqlens, total, "cos_cache", "sin_cache"],
                    [f"attn_{i}", KV_OUT % (i, "key"), KV_OUT % (i, "value")], domain="com.microsoft",
                    num_heads=cfg.heads, kv_num_heads=cfg.kv_heads, do_rotary=1, rotary_interleaved=1)[0]
        h = g.one("Add", [h, g.linear(attn, model.matrix(i, "attn_output"), f"l{i}.o")])
        x = g.rms_norm(h, model.norm(f"blk.{i}.ffn_norm.weight"), f"l{i}.ffn_norm", cfg.rms_eps)
        gate_up = g.linear(x, _stack(model.matrix(i, "ffn_gate"), model.matrix(i, "ffn_up")), f"l{i}.gate_up")
        gate, up = g.op("Split", [gate_up, g.const(f"l{i}.split", np.array([cfg.ffn, cfg.ffn], np.int64))], 2,
                        axis=-1)
        act = g.one("Mul", [g.one("Mul", [gate, g.one("Sigmoid", [gate])]), up])
        h = g.one("Add", [h, g.linear(act, model.matrix(i, "ffn_down"), f"l{i}.down")])

    last = g.one("Slice", [h, "minus_one", g.const("to_end", np.array([2**62], np.int64)), "one"])  # [B,1,H]
    x = g.rms_norm(last, model.norm("output_norm.weight"), "final_norm", cfg.rms_eps)
    if weights == "f32":
        flat = g.one("Reshape", [x, g.const("flat_shape", np.array([-1, cfg.hidden], np.int64))])
        logits2d = g.one("Gemm", [flat, "embed.w"], transB=1)
        g.op("Reshape", [logits2d, g.const("logits_shape", np.array([-1, 1, cfg.vocab], np.int64))], ["logits"])
    else:
        sums = g.block_sums(x, cfg.hidden // BLOCK)
        g.op("Add", [g.linear(x, high, "out_hi", sums), g.linear(x, low, "out_lo", sums)], ["logits"])

    kv = lambda name, length: helper.make_tensor_value_info(  # noqa: E731
        name, TensorProto.FLOAT, ["batch", cfg.kv_heads, length, cfg.head_size])
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1, cfg.vocab])]
    for i in range(cfg.layers):
        inputs += [kv(KV_IN % (i, "key"), "past"), kv(KV_IN % (i, "value"), "past")]
        outputs += [kv(KV_OUT % (i, "key"), "total"), kv(KV_OUT % (i, "value"), "total")]
    graph = helper.make_graph(g.nodes, "smollm2-135m-instruct", inputs, outputs, g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", 1)], producer_name="fl-tui")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def genai_config(cfg: Config, bos: int, eos: int, pad: int) -> dict:
    """What onnxruntime-genai reads: the decoder's input/output names and shapes, greedy search by default.

    The KV cache is not one shared buffer: sharing decoded ~30% faster at 3,500 tokens of context, but it holds
    the whole 8,192-token cache from a request's start (+365 MB resident, and 0.12 -> 0.28 s to a short prompt's
    first token), and short prompts are what a workshop sends."""
    return shared_config(kind="llama", vocab=cfg.vocab, context=cfg.context, hidden=cfg.hidden,
                         head_size=cfg.head_size, heads=cfg.heads, kv_heads=cfg.kv_heads, layers=cfg.layers, bos=bos,
                         eos=eos, pad=pad)
