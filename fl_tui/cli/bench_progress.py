"""Headless progress for `fl-tui bench`: one redrawn line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

from fl_tui.bench.events import (
    Event,
    ModelFinished,
    ModelPhase,
    Phase,
    RequestFinished,
    RequestStarted,
    RunFailed,
    RunFinished,
    RunStarted,
)
from fl_tui.bench.load import level_label
from fl_tui.bench.records import ModelResult
from fl_tui.core.textsafe import plain


def level_line(result: ModelResult) -> str:
    """A finished level's rates, speedup, goodput and prefill, for a run that swept, paced or had SLOs; else ""."""
    if result.concurrency is None and result.rate is None and result.slo_fraction is None \
            and result.prompt_tokens is None:
        return ""
    parts = [f"{result.requests_per_s or 0:.2f} req/s", f"{result.aggregate_output_tps or 0:.1f} output tok/s"]
    if result.speedup is not None:
        parts.append(f"speedup {result.speedup:.2f}x")
    if result.slo_fraction is not None:
        parts.append(f"SLO met {result.slo_fraction * 100:.0f}%, goodput {result.goodput_rps or 0:.2f} req/s")
    prefill = (result.summary.get("prefill_tps") or {}).get("mean")
    if result.prompt_tokens is not None and prefill is not None:
        parts.append(f"{result.prompt_tokens_mean or 0:.0f} prompt tokens, prefill {prefill:.0f} tok/s")
    return ", ".join(parts)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


class BenchProgress:
    """An engine observer. Redraws at most 10 times a second; the live p95 is over this model's TTFTs so far. The
    counts are of measured requests: the warm-up is not counted."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = 0
        self.per_model = 0
        self.model_ran = 0
        self.done = 0
        self.model = ""
        self.ttfts: list[float] = []
        self.current = ""
        self.closed: set[str] = set()
        self.known: set[str] = set()  # the models RunStarted named; a later endpoint may bring others
        self._last_draw = 0.0

    def __call__(self, event: Event) -> None:
        match event:
            case RunStarted():
                self.per_model = event.planned_per_model
                self.total = event.planned_per_model * len(event.models)
                self.known = set(event.models)
                self._line(f"run {event.run_id} -> {event.run_dir}")
            case ModelPhase():
                if event.model not in self.known:  # chosen when its endpoint's turn came
                    self.known.add(event.model)
                    self.total += self.per_model
                if event.phase == Phase.LOADING:
                    self.model, self.ttfts = plain(event.model), []
                detail = f": {plain(event.detail, keep_newlines=False)}" if event.detail else ""
                self._line(f"{plain(event.model)}: {event.phase}{detail}")
            case RequestStarted(live=live):
                self.current = f"{live.prompt_id} {'warm-up' if live.warmup else 'round'} {live.round}"
                self._draw()
            case RequestFinished(result=r):
                if not r.warmup:
                    self.done += 1
                    self.model_ran += 1
                if not r.warmup and r.status == "ok" and r.ttft_ms is not None:
                    self.ttfts.append(r.ttft_ms)
                if not self.tty:
                    outcome = "ok" if r.status == "ok" else f"FAILED: {plain(r.error or '', keep_newlines=False)}"
                    print(
                        f"  {plain(r.prompt_id)} {'w' if r.warmup else 'r'}{r.round} {outcome} "
                        f"ttft {_ms(r.ttft_ms)} e2e {_ms(r.e2e_ms)} tokens {r.output_tokens}",
                        file=self.stream, flush=True,
                    )
                self._draw()
            case ModelFinished(model=model, result=result):
                if model not in self.closed:  # one event per level, all at the model's end: count them once
                    self.closed.add(model)
                    self.total -= self.per_model - self.model_ran  # a failed or stopped model skips the rest
                    self.model_ran = 0
                if level := level_line(result):
                    self._line(f"{plain(level_label(result.to_json()), keep_newlines=False)}: {level}")
            case RunFinished() | RunFailed():
                pass  # the report, printed after the run, says how it ended

    def _p95(self) -> str:
        return f"{np.percentile(self.ttfts, 95, method='linear'):.1f} ms" if self.ttfts else "-"

    def _draw(self) -> None:
        if not self.tty or time.monotonic() - self._last_draw < 0.1:
            return
        self._last_draw = time.monotonic()
        width = 20
        filled = int(width * self.done / self.total) if self.total else 0
        text = (
            f"[{'#' * filled}{'.' * (width - filled)}] measured {self.done}/{self.total} {self.model} {self.current}"
            f"  TTFT p95 {self._p95()}"
        )
        self.stream.write("\r\x1b[2K" + text[:200])
        self.stream.flush()

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
        print(text, file=self.stream, flush=True)
