"""The report's load-level and goodput part: one row per (model, level) with the rates, the speedup over the
first level, latency from the summary, queue time and goodput. Only a run that swept levels, paced its starts or
had SLOs gets it, so a plain run's report reads as before."""

from __future__ import annotations

from collections.abc import Mapping

from fl_tui.bench.load import level_label
from fl_tui.bench.queue import queue_summaries
from fl_tui.bench.runschema import ModelJson, RunJson
from fl_tui.core.textsafe import plain

MISSING = "—"
CSV_LOAD_COLUMNS = ("concurrency", "rate", "requests_per_s", "speedup", "slo_fraction", "goodput_rps")


def has_load(run: RunJson) -> bool:
    settings = run.settings
    return bool(settings.get("levels") or settings.get("rate") or settings.get("slo"))


def _num(value: object, digits: int = 1) -> str:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
    return f"{value:.{digits}f}" if ok else MISSING


def _stat(model: ModelJson, metric: str, stat: str) -> object:
    return (model.summary.get(metric) or {}).get(stat)


def _cell(value: object) -> str:
    return plain(value, keep_newlines=False).replace("\\", "\\\\").replace("|", "\\|")


def load_section(run: RunJson) -> list[str]:
    """Markdown lines: the "Load levels and goodput" table, or nothing for a plain run."""
    if not has_load(run):
        return []
    slo = run.settings.get("slo") or {}
    queues = queue_summaries(run)
    bounds = ", ".join(f"{_cell(k)} ≤ {_cell(v)}" for k, v in slo.items()) if isinstance(slo, Mapping) else ""
    out = ["", "## Load levels and goodput", "",
           "Per model and level: requests/s and output tok/s over the level's span, speedup = output tok/s over the "
           "first level's (at the same prompt length); queue = from when a request was due to its t0."
           + (f" Goodput counts requests meeting every bound ({bounds}; TTFT and E2E from when due)." if bounds
              else ""), "",
           "| Model | Rate | n | Req/s | Output tok/s | Speedup | TTFT p50 (ms) | TPOT mean (ms) | E2E p95 (ms) "
           "| Queue p95 (ms) | SLO met | Goodput (req/s) |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in run.models:
        queue = queues.get(level_label(m)) or {}
        fraction = m.slo_fraction
        met = f"{fraction * 100:.0f}%" if fraction is not None else MISSING
        answered = MISSING if "measured_ok" not in m.model_fields_set else m.measured_ok  # a written null is shown
        out.append(
            f"| {_cell(level_label(m))} | {_cell(m.rate or MISSING)} | {_cell(answered)} "
            f"| {_num(m.requests_per_s, 2)} | {_num(m.aggregate_output_tps)} "
            f"| {_num(m.speedup, 2)} | {_num(_stat(m, 'ttft_ms', 'p50'))} "
            f"| {_num(_stat(m, 'tpot_ms', 'mean'))} | {_num(_stat(m, 'e2e_ms', 'p95'))} "
            f"| {_num(queue.get('p95'))} | {met} | {_num(m.goodput_rps, 2)} |")
    return out
