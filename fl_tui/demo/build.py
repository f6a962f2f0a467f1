"""Build the two demo chat models offline, deterministically, in well under a second each.

A real Foundry Local runtime needs real models, and a box with no internet cannot download any. These are
genuine onnxruntime-genai models (a byte-level BPE tokenizer, a ChatML template, an ONNX decoder with a KV
cache) trained on corpus.txt, short answers written for the shipped prompts, so that the two differ in quality
the way real small models do. The fast one is a bigram table plus a fixed positional noise term: on-topic words
in a broken order. The slow one keeps every token id in its KV cache, guesses the prompt's topic from the words
seen so far, and predicts with a topic-conditioned n-gram with back-off: whole sentences that end properly and
keep the corpus's list shapes.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The functions that build import numpy: opening the runtime checks these models' stamps at every start, and
    # the app's models wait for that, not for numpy (tests/app/test_app_start.py).
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
REPLY_START = "<|im_end|>\n<|im_start|>assistant\n"  # what precedes every reply the runtime asks for
USER_START = "<|im_start|>user\n"
MAX_TOPICS = HEAD - 1  # KV channel 0 carries the token id, the others one topic weight each
BONUS = 40.0  # added to the n-gram's choice: far above any bigram log-probability difference


@dataclass(frozen=True)
class DemoSpec:
    """One demo model: its catalog name, how many tokens of context it predicts from (1: a bigram), and how many
    dummy 256x256 matmuls slow each decode step."""

    name: str
    alias: str
    version: int
    slow_matmuls: int
    description: str
    order: int = 1

    @property
    def model_id(self) -> str:
        return f"{self.name}:{self.version}"


FAST = DemoSpec("fl-demo-fast-generic-cpu", "fl-demo-fast", 1, 0, "Tiny bigram chat model, thousands of tokens/s")
SLOW = DemoSpec(
    "fl-demo-slow-generic-cpu", "fl-demo-slow", 1, 110, "Tiny topic-aware 6-gram chat model, ~30 tokens/s", order=6
)
DEMO_MODELS = (FAST, SLOW)


@dataclass(frozen=True)
class Topic:
    """One corpus section: the prompts that ask about it and the answers written for them."""

    name: str
    prompts: tuple[str, ...]
    answers: tuple[str, ...]


def corpus_topics() -> list[Topic]:
    """corpus.txt: "## topic" sections; in each, the first paragraph lists its prompts and the rest are answers."""
    text = resources.files("fl_tui.demo").joinpath("corpus.txt").read_text(encoding="utf-8")
    topics = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        name, _, body = section.partition("\n")
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        topics.append(Topic(name.strip(), tuple(paragraphs[0].splitlines()), tuple(paragraphs[1:])))
    if not 0 < len(topics) <= MAX_TOPICS:
        raise ValueError(f"corpus.txt needs 1 to {MAX_TOPICS} topics, has {len(topics)}")
    return topics


def train_tokenizer(topics: list[Topic]):
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
    tok.train_from_iterator([t for topic in topics for t in (*topic.prompts, *topic.answers)], trainer=trainer)
    return tok


def replies(tok, topic: Topic) -> list[list[int]]:
    """Each answer as the token ids the model sees: the reply's start, the answer, and the end token."""
    start = tok.encode(REPLY_START).ids
    return [[*start, *tok.encode(a).ids, END] for a in topic.answers]


def bigram_logits(tok, topics: list[Topic], vocab: int, *, ends: bool) -> np.ndarray:
    """Log-probabilities of the next token given the previous one, over every answer, with a small smoothing.

    Tokens the answers never use (stray bytes) get far less, so the noise cannot pick them; without ``ends`` the
    end token is one of those, and the model rambles until it is cut off, as weak small models do."""
    import numpy as np

    skip = len(tok.encode(REPLY_START).ids) - 1  # from the "\n" that opens a reply: how answers begin
    seqs = [ids[skip:] if ends else ids[skip:-1] for topic in topics for ids in replies(tok, topic)]
    used = sorted({t for ids in seqs for t in ids})
    counts = np.full((vocab, vocab), 1e-6, dtype=np.float64)
    counts[:, used] = 0.01
    for ids in seqs:
        for a, b in itertools.pairwise(ids):
            counts[a, b] += 1.0
    probs = counts / counts.sum(axis=1, keepdims=True)
    return np.log(probs).astype(np.float32)


def topic_weights(tok, topics: list[Topic], vocab: int) -> np.ndarray:
    """[vocab, MAX_TOPICS] naive-Bayes log-ratios: summed over a conversation's tokens, the argmax is its topic.

    The chat template's own tokens and bare whitespace weigh nothing, so they cannot tip the choice."""
    import numpy as np

    counts = np.full((len(topics), vocab), 0.5)
    for i, topic in enumerate(topics):
        for text, weight in [(p, 3.0) for p in topic.prompts] + [(a, 1.0) for a in topic.answers]:
            for t in tok.encode(text).ids:
                counts[i, t] += weight
    per_topic = np.log(counts / counts.sum(axis=1, keepdims=True))
    overall = np.log(counts.sum(axis=0) / counts.sum())
    w = per_topic - overall
    neutral = set(tok.encode(USER_START + REPLY_START).ids) | set(range(len(SPECIALS)))
    neutral |= {i for i in tok.get_vocab().values() if not tok.decode([i]).strip()}
    w[:, sorted(neutral)] = 0.0
    out = np.full((vocab, MAX_TOPICS), -1e4, dtype=np.float32)  # unused topic channels never win
    out[:, : len(topics)] = w.T
    return out


def ngram_tables(tok, topics: list[Topic], order: int, vocab: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each context length k = 1..order: the keys (topic and the last k ids) seen in the answers and the most
    frequent next id after each (ties: the first seen), sorted by key."""
    import numpy as np

    tables = []
    for k in range(1, order + 1):
        follow: dict[int, Counter] = defaultdict(Counter)
        for t, topic in enumerate(topics):
            for ids in replies(tok, topic):
                for j in range(max(k, len(tok.encode(REPLY_START).ids)), len(ids)):
                    key = t
                    for c in ids[j - k : j]:
                        key = key * vocab + c
                    follow[key][ids[j]] += 1
        keys = sorted(follow)
        tables.append(
            (np.array(keys, dtype=np.int64), np.array([follow[key].most_common(1)[0][0] for key in keys], np.int64))
        )
    return tables


def _ngram_nodes(n, numpy_helper, order: int, vocab: int, tables) -> tuple[list, list]:
    """Nodes turning the cache (token ids and topic weights) into the next token's logits, [B,1,V] "ngram".

    Back-off: the longest context found in the tables picks the next token; with none, the bigram row decides."""
    import numpy as np

    inits = [
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero_i_s"),
        numpy_helper.from_array(np.array([0, order, 0, 0], dtype=np.int64), "pads"),
        numpy_helper.from_array(np.array([-order], dtype=np.int64), "tail"),
        numpy_helper.from_array(np.array([2**62], dtype=np.int64), "to_end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes1"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axes2"),
        numpy_helper.from_array(np.array([1 + MAX_TOPICS], dtype=np.int64), "topics_end"),
        numpy_helper.from_array(np.array([[-1]], dtype=np.int64), "none"),
        numpy_helper.from_array(np.arange(vocab, dtype=np.int64), "vocab_ids"),
        numpy_helper.from_array(np.array(BONUS, dtype=np.float32), "bonus"),
    ]
    nodes = [
        n("Gather", ["present.0.key", "zero_i_s"], ["hist"], axis=1),  # [B,T,8]
        n("Gather", ["hist", "zero_i_s"], ["hist_f"], axis=2),  # [B,T] token ids as floats
        n("Cast", ["hist_f"], ["hist_i"], to=7),
        n("Pad", ["hist_i", "pads"], ["padded"]),  # [B,T+order]: short histories read as EOS
        n("Slice", ["padded", "tail", "to_end", "axes1"], ["ctx"]),  # [B,order]: the last ids, oldest first
        n("Slice", ["hist", "one_i", "topics_end", "axes2"], ["tw"]),  # [B,T,topics]
        n("ReduceSum", ["tw", "axes1"], ["tscore"], keepdims=0),
        n("ArgMax", ["tscore"], ["topic"], axis=1, keepdims=1),  # [B,1]
        n("Gather", ["ctx", "last_col"], ["last_id"], axis=1),  # [B]
        n("Gather", ["bigram", "last_id"], ["base"], axis=0),  # [B,V]
    ]
    inits.append(numpy_helper.from_array(np.array(order - 1, dtype=np.int64), "last_col"))
    choice = "none"
    for k, (keys, vals) in enumerate(tables, start=1):
        powers = np.array([vocab ** (k - 1 - j) for j in range(k)], dtype=np.int64)
        inits += [
            numpy_helper.from_array(np.array([order - k], dtype=np.int64), f"from{k}"),
            numpy_helper.from_array(powers, f"pow{k}"),
            numpy_helper.from_array(np.array(vocab**k, dtype=np.int64), f"scale{k}"),
            numpy_helper.from_array(keys, f"keys{k}"),
            numpy_helper.from_array(vals, f"vals{k}"),
        ]
        nodes += [
            n("Slice", ["ctx", f"from{k}", "to_end", "axes1"], [f"c{k}"]),  # [B,k]
            n("Mul", [f"c{k}", f"pow{k}"], [f"cp{k}"]),
            n("ReduceSum", [f"cp{k}", "axes1"], [f"cs{k}"], keepdims=1),  # [B,1]
            n("Mul", ["topic", f"scale{k}"], [f"ts{k}"]),
            n("Add", [f"ts{k}", f"cs{k}"], [f"key{k}"]),  # [B,1]
            n("Equal", [f"keys{k}", f"key{k}"], [f"eq{k}"]),  # [B,N]
            n("Cast", [f"eq{k}"], [f"eqf{k}"], to=1),
            n("ArgMax", [f"eqf{k}"], [f"at{k}"], axis=1, keepdims=1),
            n("ReduceMax", [f"eqf{k}"], [f"hitf{k}"], axes=[1], keepdims=1),
            n("Cast", [f"hitf{k}"], [f"hit{k}"], to=9),
            n("Gather", [f"vals{k}", f"at{k}"], [f"val{k}"], axis=0),  # [B,1]
            n("Where", [f"hit{k}", f"val{k}", choice], [f"choice{k}"]),
        ]
        choice = f"choice{k}"
    nodes += [
        n("Equal", ["vocab_ids", choice], ["pick"]),  # [B,V]
        n("Cast", ["pick"], ["pickf"], to=1),
        n("Mul", ["pickf", "bonus"], ["lift"]),
        n("Add", ["base", "lift"], ["next"]),
        n("Unsqueeze", ["next", "one_i"], ["ngram"]),  # [B,1,V]
    ]
    return nodes, inits


def _graph(spec: DemoSpec, vocab: int, table: np.ndarray, emb: np.ndarray, tables):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(table, "bigram"),
        numpy_helper.from_array(emb, "emb"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "one_i"),
    ]
    n = helper.make_node
    nodes = [
        n("Gather", ["bigram", "input_ids"], ["uni"], axis=0),  # [B,S,V]
        n("Gather", ["emb", "input_ids"], ["new_kv"], axis=0),  # [B,S,8]
        n("Unsqueeze", ["new_kv", "one_i"], ["new_kv4"]),  # [B,1,S,8]
        n("Concat", ["past_key_values.0.key", "new_kv4"], ["present.0.key"], axis=2),
        n("Concat", ["past_key_values.0.value", "new_kv4"], ["present.0.value"], axis=2),
    ]
    if spec.order > 1:
        ngram_nodes, ngram_inits = _ngram_nodes(n, numpy_helper, spec.order, vocab, tables)
        nodes += ngram_nodes
        inits += ngram_inits
        # Only the last position's logits are read; every position gets them so the shape stays [B,S,V].
        nodes += [n("Shape", ["uni"], ["ushape"]), n("Expand", ["ngram", "ushape"], ["logits_pre"])]
    else:
        noise = (np.random.default_rng(20261121).standard_normal((CONTEXT, vocab)) * 1.2).astype(np.float32)
        inits += [
            numpy_helper.from_array(noise, "noise"),
            numpy_helper.from_array(np.array(2, dtype=np.int64), "axis2"),
            numpy_helper.from_array(np.array(1, dtype=np.int64), "one_i_s"),
        ]
        nodes += [
            n("Shape", ["past_key_values.0.key"], ["pshape"]),
            n("Gather", ["pshape", "axis2"], ["past_len"], axis=0),  # scalar
            n("Shape", ["input_ids"], ["ishape"]),
            n("Gather", ["ishape", "one_i_s"], ["seq_len"], axis=0),
            n("Add", ["past_len", "seq_len"], ["end_pos"]),
            n("Range", ["past_len", "end_pos", "one_i_s"], ["positions"]),
            n("Gather", ["noise", "positions"], ["pos_noise"], axis=0),  # [S,V]
            n("Add", ["uni", "pos_noise"], ["logits_pre"]),
        ]
    if spec.slow_matmuls:
        # Work that depends on the input (so it cannot be constant-folded) and adds exactly zero to the logits.
        inits += [
            numpy_helper.from_array(np.eye(256, dtype=np.float32), "w"),
            numpy_helper.from_array(np.ones((256, 256), dtype=np.float32), "ones"),
            numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero_f"),
        ]
        nodes += [
            n("ReduceSum", ["logits_pre"], ["s0"], keepdims=0),
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


def genai_config(*, kind: str, vocab: int, context: int, hidden: int, head_size: int, heads: int, kv_heads: int,
                 layers: int, bos: int, eos: int | list[int], pad: int) -> dict:
    """What onnxruntime-genai reads for a decoder with a past/present KV cache named as both fl-tui's model
    builders write it (the demo models, SmolLM2), and greedy search by default (temperature and top-k come with
    each request)."""
    return {
        "model": {
            "bos_token_id": bos,
            "context_length": context,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx",
                "head_size": head_size,
                "hidden_size": hidden,
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
                "num_attention_heads": heads,
                "num_hidden_layers": layers,
                "num_key_value_heads": kv_heads,
            },
            "eos_token_id": eos,
            "pad_token_id": pad,
            "type": kind,
            "vocab_size": vocab,
        },
        "search": {
            "do_sample": False,
            "early_stopping": True,
            "max_length": context,
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


def _genai_config(vocab: int) -> dict:
    return genai_config(kind="qwen2", vocab=vocab, context=CONTEXT, hidden=HEAD, head_size=HEAD, heads=1, kv_heads=1,
                        layers=1, bos=BOS, eos=[END, EOS], pad=EOS)


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
            str(i): {"content": s, "special": True, "normalized": False} for i, s in enumerate(SPECIALS)
        },
    }


def build_demo_model(spec: DemoSpec, folder: Path) -> Path:
    """Write one demo model into ``folder`` (created); returns the folder. Same inputs give the same bytes."""
    import numpy as np
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    topics = corpus_topics()
    tok = train_tokenizer(topics)
    vocab = tok.get_vocab_size()
    emb = topic_weights(tok, topics, vocab)
    emb = np.concatenate([np.arange(vocab, dtype=np.float32)[:, None], emb], axis=1)  # channel 0: the id itself
    tables = ngram_tables(tok, topics, spec.order, vocab) if spec.order > 1 else []
    graph = _graph(spec, vocab, bigram_logits(tok, topics, vocab, ends=spec.order > 1), emb, tables)
    onnx.save_model(graph, str(folder / "model.onnx"))
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(), indent=2), encoding="utf-8")
    (folder / "genai_config.json").write_text(json.dumps(_genai_config(vocab), indent=2), encoding="utf-8")
    return folder
