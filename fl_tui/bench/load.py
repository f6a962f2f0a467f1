"""Load levels, paced starts and goodput: what `--concurrency 1,2,4`, `--rate [poisson:]R`, `--duration S` and
`--slo` mean (docs/benchmarking.md, "Load levels and goodput").

Pure functions, no clock and no I/O, so the schedule a run used can be recomputed from run.json and checked.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from fl_tui.bench.endpoints import short

SLO_KEYS = ("ttft_ms", "tpot_ms", "e2e_ms")
UNCAPPED = 256  # in flight at most with a rate and no concurrency given: starts follow the rate, not free slots


class Pacing(StrEnum):
    CONSTANT = "constant"
    POISSON = "poisson"


@dataclass(frozen=True)
class Rate:
    """Request starts per second, evenly spaced (constant) or with exponential gaps (poisson, seeded)."""

    per_s: float
    pacing: Pacing = Pacing.CONSTANT

    def __str__(self) -> str:
        return f"{self.per_s:g}" if self.pacing is Pacing.CONSTANT else f"poisson:{self.per_s:g}"


def parse_levels(text: str) -> tuple[int, ...]:
    """'1,2,4,8' -> (1, 2, 4, 8); ValueError (one line) for anything but distinct positive integers."""
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--concurrency: expected positive integers like 1,2,4, got {text!r}") from None
    if not levels or min(levels) < 1 or len(set(levels)) != len(levels):
        raise ValueError(f"--concurrency: expected distinct positive integers like 1,2,4, got {text!r}")
    return levels


def parse_rate(text: str) -> Rate:
    """'5' or 'constant:5' -> 5 starts/s evenly; 'poisson:5' -> 5/s on average with exponential gaps."""
    kind, _, number = text.rpartition(":")
    try:
        pacing = Pacing(kind or Pacing.CONSTANT)
        per_s = float(number)
    except ValueError:
        raise ValueError(f"--rate: expected R or poisson:R (requests/s), got {text!r}") from None
    if not per_s > 0 or per_s == float("inf"):
        raise ValueError(f"--rate: the rate must be a positive number of requests/s, got {text!r}")
    return Rate(per_s, pacing)


def parse_slo(text: str) -> dict[str, float]:
    """'ttft_ms=500,e2e_ms=8000' -> {"ttft_ms": 500.0, "e2e_ms": 8000.0}; any subset of SLO_KEYS."""
    bounds: dict[str, float] = {}
    for part in text.split(","):
        key, sep, number = part.partition("=")
        key = key.strip()
        if key not in SLO_KEYS:
            raise ValueError(f"--slo: unknown bound {key!r} (known: {', '.join(SLO_KEYS)})")
        try:
            value = float(number) if sep else float("nan")
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            raise ValueError(f"--slo: {key} needs a positive number of milliseconds, got {number!r}")
        bounds[key] = value
    return bounds


def schedule_s(rate: Rate, *, count: int | None = None, duration_s: float | None = None,
               seed: int | None = None) -> list[float]:
    """Start offsets in seconds from the level's start: `count` of them, or all those before `duration_s`.
    Poisson gaps come from random.Random(seed), so the same seed gives the same schedule."""
    if count is None and duration_s is None:
        raise ValueError("a paced schedule needs a count or a duration")
    rng = random.Random(seed)
    offsets: list[float] = []
    t = 0.0
    while (count is None or len(offsets) < count) and (duration_s is None or t < duration_s):
        offsets.append(t)
        i = len(offsets)
        t = i / rate.per_s if rate.pacing is Pacing.CONSTANT else t + rng.expovariate(rate.per_s)
    return offsets


def _get(entry: object, key: str) -> object:
    """A field of a run.json dict or of a record (None where it has none)."""
    return entry.get(key) if isinstance(entry, Mapping) else getattr(entry, key, None)


def prompt_target(entry: object) -> int | None:
    """The --prompt-tokens length a models entry or a request was built to. A request names it `prompt_target`
    (its `prompt_tokens` is the server's count); a models entry names it `prompt_tokens`."""
    if _get(entry, "prompt_id") is not None:
        return _get(entry, "prompt_target")
    return _get(entry, "prompt_tokens")


def level_label(entry: object, *, endpoint: bool = True) -> str:
    """How reports and compare name a models entry or a request (a dict or a record): its model, with its
    endpoint's short name in a run against several (not with endpoint=False, for a table with an endpoint
    column), its level when the run swept several and its prompt length when swept (`qwen @ box:5273, c=4,
    1024 tok`); a plain run's names are the models' own, as before levels existed."""
    where, level, target = _get(entry, "endpoint"), _get(entry, "concurrency"), prompt_target(entry)
    model = str(_get(entry, "model") or "?")
    parts = [*([short(where)] if endpoint and isinstance(where, str) else []),
             *([f"c={level}"] if level is not None else []), *([f"{target} tok"] if target is not None else [])]
    return f"{model} @ {', '.join(parts)}" if parts else model


def meets(request: Mapping, slo: Mapping[str, float]) -> bool:
    """Whether an answered request met every bound. TTFT and E2E count from when the request was due (its
    queue time added), as the person waiting saw them; a bound on a figure the request lacks is not met."""
    if request.get("status") != "ok":
        return False
    waited = request.get("queue_ms") or 0.0
    for key, bound in slo.items():
        value = request.get(key)
        if value is None:
            return False
        if key != "tpot_ms":
            value += waited
        if value > bound:
            return False
    return True


def goodput(requests: Iterable[Mapping], slo: Mapping[str, float], span_s: float | None) -> tuple[float, float | None]:
    """(fraction of measured requests meeting every bound, those requests per second of `span_s`)."""
    measured = [r for r in requests if not r.get("warmup")]
    if not measured:
        return 0.0, None
    good = sum(meets(r, slo) for r in measured)
    return good / len(measured), (good / span_s if span_s else None)
