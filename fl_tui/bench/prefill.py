"""Prompts of about N tokens for `--prompt-tokens 128,1024,4096` (docs/benchmarking.md, "Prefill vs decode").

Each measured prompt gets a deterministic filler put before it as context, so the answer still answers the set's
prompt and the server spends the extra time in prefill. The filler is sized in words: first by an estimate, then
rescaled once by the server's own count (`usage.prompt_tokens` of one unmeasured request per model and length).

The sentences are shuffled by (prompt id, length), so no two prompts share a long prefix: a server with a prefix
cache would otherwise prefill the context once and serve every later prompt from the cache.
"""

from __future__ import annotations

import random

TOKENS_PER_WORD = 4 / 3  # the first guess (English text, BPE tokenizers); the server's count corrects it
FRAME = "Context (background reading, not needed for the answer):\n{context}\n\nQuestion: {prompt}"
CALIBRATION_KEY = "calibration"  # its own shuffle: the unmeasured request primes no measured prompt's prefix

SENTENCES = (
    "The river town kept a ledger of every boat that passed the old stone bridge.",
    "Each spring the orchard growers met in the square to trade grafts and news.",
    "A narrow railway climbed the valley, stopping at seven stations on the way up.",
    "The library opened at nine and closed when the last reader left the reading room.",
    "Fishermen mended their nets on the pier while gulls circled the harbour wall.",
    "The bakery on the corner sold rye loaves, seed cakes and a honey bread on Sundays.",
    "In winter the lake froze thick enough for skaters to cross to the far shore.",
    "A clockmaker repaired the tower clock twice a year and wound it every week.",
    "The market sold wool, cheese, lamp oil, copper pans and paper by the sheet.",
    "Farmers measured rainfall in a brass gauge and wrote the figures on a slate.",
    "The school taught arithmetic, geography and music to forty children in two rooms.",
    "Travellers rested at the inn, where the stable held a dozen horses at most.",
    "A lighthouse keeper logged the weather at dawn, noon and dusk without fail.",
    "The mill ground barley in the morning and wheat in the afternoon.",
    "On feast days the band played marches from the bandstand beside the fountain.",
    "The post coach arrived on Tuesdays and Fridays, bringing letters and parcels.",
    "Carpenters built the new granary from oak felled in the northern woods.",
    "A weaver sold blankets dyed with walnut husks, madder root and weld.",
    "The doctor rode out to the farms on a grey mare, carrying a leather bag.",
    "Children flew kites from the hill behind the church when the wind was up.",
    "The ferry crossed the estuary every hour, tide permitting, with room for two carts.",
    "A surveyor mapped the coast, marking every cove, reef and sandbar he found.",
    "The town council met in a panelled room above the old customs house.",
    "Beekeepers moved their hives to the heather moors at the end of summer.",
)


def parse_prompt_tokens(text: str) -> tuple[int, ...]:
    """'128,1024,4096' -> (128, 1024, 4096); ValueError (one line) for anything but distinct positive integers."""
    try:
        lengths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--prompt-tokens: expected positive integers like 128,1024,4096, got {text!r}") from None
    if not lengths or min(lengths) < 1 or len(set(lengths)) != len(lengths):
        raise ValueError(f"--prompt-tokens: expected distinct positive integers like 128,1024,4096, got {text!r}")
    return lengths


def filler(key: str, words: int) -> str:
    """`words` words of the sentences, in an order fixed by `key` (the same key and count: the same text)."""
    order = list(SENTENCES)
    random.Random(key).shuffle(order)  # a str seed is hashed with SHA-512: the same order on every run and machine
    out: list[str] = []
    while len(out) < words:
        out += " ".join(order).split()
    return " ".join(out[:words])


def build(prompt: str, key: str, target: int, tokens_per_word: float) -> str:
    """The prompt with a context in front, sized so the whole is about `target` tokens at `tokens_per_word`."""
    frame_words = len(FRAME.format(context="", prompt=prompt).split())
    words = max(0, round(target / tokens_per_word) - frame_words)
    return FRAME.format(context=filler(key, words), prompt=prompt)


def rescaled(sent: str, counted: int | None, guess: float) -> float:
    """Tokens per word from the server's count of a prompt that was sent (`guess` when it gave none)."""
    words = len(sent.split())
    return counted / words if counted and words else guess


def prefill_tps(prompt_tokens: int | None, ttft_ms: float | None) -> float | None:
    """Prompt tokens / TTFT in seconds: the rate the server read the prompt at (its first decode step included)."""
    if not prompt_tokens or ttft_ms is None or ttft_ms <= 0:
        return None
    return prompt_tokens / (ttft_ms / 1000.0)
