"""Every bound on what comes from outside (a server, a file), in one place; docs/limits.md lists them.

A bound is what keeps a hostile or broken peer from costing unbounded memory or time: each is generous for a
real Foundry Local answer and says, when it is hit, which bound it was.
"""

from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB

ERROR_BODY_MAX = 64 * KiB  # of a non-2xx answer; the rest is not read and the connection is closed
CONTROL_ANSWER_MAX = 16 * MiB  # /v1/models, /status, /foundry/list, load/unload answers...
STREAM_MAX_BYTES = 16 * MiB  # one streamed chat completion, SSE framing included
EVENTS_PER_TOKEN = 4  # a stream may carry max_tokens x this (+ EVENT_SLACK) events before it is cut
EVENT_SLACK = 16  # role, finish, usage and [DONE] chunks, keep-alives
NON_STREAM_PREVIEW = 120  # bytes of a 200 answer that is not an event stream, shown in its error
DETECT_DEADLINE_S = 10.0  # the whole endpoint detection (up to three probes), not per read
CONTROL_DEADLINE_S = 60.0  # one control-plane request, start to last byte (reads also time out at 10 s each)
LINE_MAX = 64 * KiB  # one progress line of the legacy download stream

SMALL_FILE_MAX = 4 * MiB  # config.toml, models.json, prompt sets, rubric files
RUN_FILE_MAX = 256 * MiB  # run.json, requests.jsonl, annotation files
JSON_DEPTH_MAX = 64  # nesting of arrays and objects in any JSON file read


def size_text(n: int) -> str:
    """`16 MiB`, `64 KiB`: how a bound is named in messages and docs/limits.md."""
    return f"{n // MiB} MiB" if n >= MiB and n % MiB == 0 else f"{n // KiB} KiB"
