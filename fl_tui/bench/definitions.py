"""How every figure is defined, once: the reports render it as Markdown, the help screen as text.

This is the one statement of them in the repo; tests/runs/test_report.py guards the formulas.
"""

from fl_tui.bench.records import STATUS_MEANING

DEFINITIONS = (
    ("Status", "; ".join(f'"{word}": {meaning}' for word, meaning in STATUS_MEANING.items()) + "."),
    ("n", "measured requests that answered / measured requests planned (rounds x prompts); the warm-up is never "
     "counted."),
    ("Clock", "one monotonic clock (`time.perf_counter_ns()`); every SSE event is stamped when its bytes arrive, "
     "before parsing; over plain HTTP on Linux the time the read's bytes waited in the socket (from the kernel's "
     "receive stamp) is taken off, so bytes that waited for their reader (a busy CPU, another stream, the GIL) "
     "are not stamped late."),
    ("t0", "the moment the request's last bytes are handed to the socket (stamped just before that write, so no "
     "event-loop turn sits between them). The time from when a request was due (at once, or at its --rate "
     "instant) to its t0, waiting for a concurrency slot and connecting, is client queue time, reported apart, not "
     "service time; goodput (--slo) adds it back to TTFT and E2E."),
    ("Goodput (with --slo)", "SLO met = measured requests meeting every bound / measured requests; goodput = those "
     "requests / the level's span (first start to last end), in requests/s."),
    ("Connection", "a new TCP connection per request (TCP_NODELAY); its set-up is outside t0. On a reused "
     "connection Linux's delayed ACK can hold the first token ~40 ms when a server does not set TCP_NODELAY "
     "(seen on Foundry Local's web service); `--keep-alive` measures that way."),
    ("Headers latency", "response headers received - t0 (kept apart from TTFT)."),
    ("TTFT", "first event whose delta has non-empty `content`, `reasoning_content`/`reasoning`, or `tool_calls`, "
     'minus t0. A role-only first chunk (`{"role":"assistant","content":""}`) is not the first token.'),
    ("TTFOT (first answer token)", "first non-empty `content`, minus t0 (differs from TTFT for reasoning models)."),
    ("E2E latency", "last token-bearing event - t0 (not the usage chunk, not `[DONE]`). Avg latency is its mean."),
    ("Output tokens N", '`usage.completion_tokens` (asked for with `stream_options: {"include_usage": true}`); when '
     "the server gives no usage, the number of token-bearing chunks, and each request records which source was used. "
     "Chunks are not tokens."),
    ("TPOT", "(E2E - TTFT) / (N - 1), for N >= 2, per request."),
    ("Decode tok/s", "1 / TPOT (excludes the first token)."),
    ("E2E tok/s", "N / E2E (includes TTFT)."),
    ("Prefill tok/s", "`usage.prompt_tokens` / TTFT, per request: the rate the prompt was read at. TTFT also holds "
     "the first decode step and the request's trip, so short prompts understate it. With `--prompt-tokens N` each "
     "prompt gets a deterministic context of about N tokens in front, sized by the server's own count of one "
     "unmeasured request per model and length; the prompt tokens shown are the server's count."),
    ("ITL", "successive differences of the arrival times of token-bearing chunks; the ITL distribution pools these "
     "gaps over all measured requests of a model (vLLM style), while TPOT stays per request."),
    ("Output tok/s (aggregate)", "sum of N / (last end - first start); requests/s = completed requests / that "
     "duration."),
    ("Percentiles", '`numpy.percentile(..., method="linear")` over the measured requests (p95 of [1, 2, 3] is 2.9, '
     "never above the maximum). Statistics: n, mean, std, min, p50, p90, p95, p99, max."),
    ("Std", "the sample standard deviation (divisor n - 1) of the same values as the mean; none below n = 2."),
    ("Warm-up", "requests use a prompt outside the measured set (so no measured prompt sits in a prefix cache before "
     "its first round) and are excluded from every figure, and so are failed requests."),
    ("Deterministic", "at temperature 0, every prompt answered in two or more measured rounds gave byte-identical "
     'text (SHA-256 of the answer); "—" when not checkable (temperature > 0 or a single round).'),
    ("RSS peak", "peak resident memory of the process hosting the model during its run (this process for the "
     "embedded runtime), sampled every 100 ms; RSS growth = memory added by loading it."),
    ("Load", "the load call's duration (cold), measured apart from any request."),
    ("Energy (when `--watts` is given)", "watts x busy time / output tokens, per 1000 tokens: an estimate, not a "
     "measurement."),
    ("Checks (when the prompts carry them)", "checks passed / checks run over the measured answers (failed "
     "requests and the warm-up are not checked), with the counts beside it; each check tests one thing in the "
     "answer text (a word, a pattern, at most N sentences or words, exactly N list items, JSON matching a schema) "
     "and an empty answer fails all of its prompt's. A third source, apart from people's and a judge's scores."),
    ("Quality (once answers are scored)", "the mean of the answers' overall scores, 1-5, with n, the number of "
     "answers, beside it; an answer scored by several people counts once, with the mean of their scores. Only "
     "answers scored completely (overall and every aspect) count; partly scored ones are left out and counted apart. "
     "The 95% interval is the Wilson score interval of p = (mean - 1) / 4 with n answers, mapped back to 1-5: "
     "(p + z²/2n ± z√(p(1 - p)/n + z²/4n²)) / (1 + z²/n), z = 1.96. It never leaves 1-5, always holds the mean and "
     "is never zero wide (three 5s give [2.75, 5.00]); it is conservative, assuming the largest spread scores with "
     "that mean can have. Below n = 3 there is no interval (\"n too small\")."),
)


def definitions_markdown() -> str:
    lines = ["## How these figures are defined", ""]
    lines += [f"- **{term}** = {text}" for term, text in DEFINITIONS]
    return "\n".join(lines) + "\n"
