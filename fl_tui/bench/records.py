"""The benchmark's records: one per request, one per model, one per run, as they go into run.json.

Field names are the run.json schema (`fl-tui/run/2`; `/1` is still read); times are milliseconds, rates tokens
per second.
"""

from __future__ import annotations

from array import array
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum

RUN_SCHEMA = "fl-tui/run/2"
READ_SCHEMAS = ("fl-tui/run/1", RUN_SCHEMA)  # /1: one level per run, no load fields
PERCENTILE_METHOD = "linear"
STAT_KEYS = ("n", "mean", "std", "min", "p50", "p90", "p95", "p99", "max")  # std: sample (n - 1), None below 2
SUMMARY_METRICS = ("ttft_ms", "e2e_ms", "tpot_ms", "itl_ms", "decode_tps", "e2e_tps", "output_tokens", "prefill_tps",
                   "prompt_tokens")


class ModelStatus(StrEnum):
    """What became of one model in a run. Each word means one thing, everywhere it is shown (docs/benchmarking.md,
    "Status words"); measured requests never include the warm-up."""

    OK = "ok"
    PARTIAL = "partial"
    STOPPED = "stopped"
    FAILED = "failed"


STATUS_MEANING = {  # for docs/benchmarking.md and report.md
    ModelStatus.OK: "every planned measured request ran and answered",
    ModelStatus.PARTIAL: "every planned measured request ran, some failed; the figures cover those that answered",
    ModelStatus.STOPPED: "the run was stopped before this model ran all its planned measured requests; the figures "
                         "cover those that answered",
    ModelStatus.FAILED: "the model did not load, or none of its measured requests answered",
}


@dataclass
class RequestResult:
    id: str
    model: str
    prompt_id: str
    round: int  # 1-based; warm-up rounds are numbered 1..warmup too, with warmup=True
    warmup: bool
    status: str  # "ok" or "failed"
    error: str | None = None
    queue_ms: float | None = None  # from when it was due to t0 (pacing or a slot): client wait, not service time
    scheduled_ms: float | None = None  # when it was due, as an offset from the start of the run; null when sequential
    concurrency: int | None = None  # the load level it ran at, when the run swept several
    endpoint: str | None = None  # where it ran, in a run against several endpoints (credentials masked)
    start_ms: float | None = None  # t0 as an offset from the start of the run (monotonic clock)
    headers_ms: float | None = None
    ttft_ms: float | None = None  # first content, reasoning or tool-call delta
    ttfot_ms: float | None = None  # first answer (content) delta
    e2e_ms: float | None = None  # last token-bearing chunk
    output_tokens: int | None = None
    token_count_source: str | None = None  # "usage" or "chunks"
    prompt_tokens: int | None = None  # usage.prompt_tokens: the server's count
    prompt_target: int | None = None  # the --prompt-tokens length its prompt was built to, when swept
    # 8 bytes a token (a list of floats costs 32): a long run keeps every request's offsets in memory
    chunk_offsets_ms: array = field(default_factory=lambda: array("d"))
    tpot_ms: float | None = None
    decode_tps: float | None = None
    e2e_tps: float | None = None
    prefill_tps: float | None = None  # prompt_tokens / TTFT (s)
    finish_reason: str | None = None
    warning: str | None = None  # what was odd but not fatal: a refused usage value, an unusual finish_reason
    text: str = ""
    text_sha256: str | None = None
    checks: list[dict] | None = None  # [{name, passed, why}] of the prompt's checks; null when not checked
    started_at: str | None = None  # wall clock, for people; intervals use the monotonic clock

    def __post_init__(self) -> None:
        if not isinstance(self.chunk_offsets_ms, array):
            self.chunk_offsets_ms = array("d", self.chunk_offsets_ms)

    def to_json(self) -> dict:
        out = asdict(self)
        out["chunk_offsets_ms"] = self.chunk_offsets_ms.tolist()
        return out


REQUEST_FIELDS = frozenset(f.name for f in fields(RequestResult))  # what a requests.jsonl line is read back into


@dataclass
class ModelResult:
    model: str  # the variant id that was run
    requested_as: str  # what the person asked for (alias or id)
    status: str  # a ModelStatus; read back as a str, so a word from another version does not break reading
    error: str | None = None
    planned: int | None = None  # measured requests planned (rounds x prompts), the warm-up not counted
    measured_ok: int | None = None  # measured requests that answered: the n of every figure
    resumed: int | None = None  # of those, kept from an earlier attempt at the run (--resume), not sent again
    load_s: float | None = None  # cold load, measured apart from any request
    rss_peak_mb: float | None = None
    rss_growth_mb: float | None = None  # resident memory added by loading the model
    cpu_percent_mean: float | None = None
    disk_mb: float | None = None
    deterministic: bool | None = None  # None when not checkable (temperature > 0 or one round)
    nondeterministic_prompts: list[str] = field(default_factory=list)
    aggregate_output_tps: float | None = None  # sum of output tokens / (last end - first start)
    requests_per_s: float | None = None
    energy_wh_per_1k_tokens: float | None = None  # estimate: --watts x busy time / tokens
    endpoint: str | None = None  # where it ran, in a run against several endpoints (credentials masked)
    concurrency: int | None = None  # the load level: requests in flight at most (null in a /1 run)
    rate: str | None = None  # the pacing, "5" or "poisson:5" requests/s, when --rate was given
    speedup: float | None = None  # aggregate output tok/s over the first level's (at the same prompt length)
    prompt_tokens: int | None = None  # the --prompt-tokens length its prompts were built to (null when not swept)
    prompt_tokens_mean: float | None = None  # the server's count (usage.prompt_tokens), mean over measured requests
    slo_fraction: float | None = None  # measured requests meeting every --slo bound, of all measured
    goodput_rps: float | None = None  # those requests per second
    checks: dict | None = None  # {passed, n, pass_rate, answers, answers_passed} (bench.checks); null: none run
    spec: dict = field(default_factory=dict)  # the models.json entry, carried into reports
    summary: dict = field(default_factory=dict)  # metric -> {n, mean, min, p50, p90, p95, p99, max}

    def to_json(self) -> dict:
        return asdict(self)
