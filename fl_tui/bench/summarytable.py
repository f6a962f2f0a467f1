"""The Benchmark tab's summary table, headless: report.md's Results columns, plus for a run with load levels a
Level column (the model's name then stands alone), speedup, and goodput with the SLO fraction when SLOs were given;
and the TTFT standard deviation. A plain run's table has the report's columns and a TTFT sd column only."""

from __future__ import annotations

from collections.abc import Mapping

from fl_tui.bench.report import MISSING, table_columns, table_row
from fl_tui.bench.runschema import ModelJson, RunJson
from fl_tui.core.textsafe import plain

LEVEL, TTFT_SD, SPEEDUP, SLO_MET, GOODPUT = "Level", "TTFT sd (ms)", "Speedup", "SLO met", "Goodput (req/s)"
LEVEL_FIELDS = ("concurrency", "rate", "prompt_tokens")
# (label, metric, unit) of the focused row's detail line, each as mean ± std (the table has the percentiles)
DETAIL = (("TTFT", "ttft_ms", "ms"), ("TPOT", "tpot_ms", "ms"), ("E2E", "e2e_ms", "ms"),
          ("decode", "decode_tps", "tok/s"), ("prefill", "prefill_tps", "tok/s"))


def _number(value: object) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value
    return float(value) if ok else None


def _num(value: object, digits: int = 1) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:.{digits}f}"


def _stats(entry: ModelJson, metric: str) -> Mapping:
    return entry.summary.get(metric) or {}


def has_levels(run: RunJson) -> bool:
    """Whether any entry names a load level (several concurrencies, a rate, a prompt length)."""
    return any(getattr(m, f) is not None for m in run.models for f in LEVEL_FIELDS)


def has_slo(run: RunJson) -> bool:
    return bool(run.settings.get("slo"))


def level_cell(entry: ModelJson) -> str:
    """`c=4`, `5/s`, `128 tok`, or several of them: the entry's level, as short as it reads."""
    parts = []
    if entry.concurrency is not None:
        parts.append(f"c={plain(entry.concurrency, keep_newlines=False)}")
    if entry.rate is not None:
        parts.append(f"{plain(entry.rate, keep_newlines=False)}/s")
    if entry.prompt_tokens is not None:
        parts.append(f"{plain(entry.prompt_tokens, keep_newlines=False)} tok")
    return " ".join(parts) or MISSING


def header(run: RunJson, quality: bool) -> list[str]:
    """report.md's Results columns for this run (Endpoint, Checks, Quality where it has them), with ours."""
    out = table_columns(run, {} if quality else None)
    out.insert(out.index("TTFT p50 (ms)") + 1, TTFT_SD)
    levels = has_levels(run)
    if levels:
        out.insert(1, LEVEL)
    extra = ([SPEEDUP] if levels else []) + ([SLO_MET, GOODPUT] if has_slo(run) else [])
    at = out.index("Output tok/s") + 1
    out[at:at] = extra
    return out


def row(run: RunJson, entry: ModelJson, columns: list[str], quality: Mapping | None = None) -> list[str]:
    """The cells of `entry` under `columns` (from `header`): the report's where it has the column."""
    theirs = table_columns(run, quality)
    cells = table_row(entry, quality, several="Endpoint" in theirs, checks="Checks" in theirs)
    report = dict(zip(theirs, cells, strict=True))
    fraction = _number(entry.slo_fraction)
    ours = {
        LEVEL: level_cell(entry),
        TTFT_SD: _num(_stats(entry, "ttft_ms").get("std")),
        SPEEDUP: _num(entry.speedup, 2),
        SLO_MET: MISSING if fraction is None else f"{fraction * 100:.0f}%",
        GOODPUT: _num(entry.goodput_rps, 2),
    }
    if has_levels(run):  # the level has a column of its own
        report["Model"] = plain(entry.model, keep_newlines=False)
    return [ours[c] if c in ours else report[c] for c in columns]


def detail_line(entry: ModelJson) -> str:
    """One line for the focused row: each figure's mean ± std, as far as the summary has them."""
    parts = []
    for label, metric, unit in DETAIL:
        stats = _stats(entry, metric)
        if _number(stats.get("mean")) is None:
            continue
        spread = f" ± {_num(stats.get('std'))}" if _number(stats.get("std")) is not None else ""
        parts.append(f"{label} {_num(stats.get('mean'))}{spread} {unit}")
    name = plain(entry.model, keep_newlines=False)
    level = level_cell(entry)
    head = name if level == MISSING else f"{name} {level}"
    return f"{head} (mean ± sd): " + (" · ".join(parts) if parts else "no measurements")
