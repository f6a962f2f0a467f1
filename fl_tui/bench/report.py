"""Reports of a finished run, made from its run.json alone (its typed record, runschema.RunJson) so `fl-tui report`
can regenerate them from the files.

Markdown for people (the workshop's table, grown up, with the formulas stated), CSV for spreadsheets (every cell
neutralised against formula injection), JSON for scripts. Model names, errors and anything else a model or server
wrote pass through `plain()`: no escape sequence reaches a terminal that shows the report.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fl_tui.bench.checks import has_checks, pass_text
from fl_tui.bench.definitions import definitions_markdown
from fl_tui.bench.endpoints import endpoints_of
from fl_tui.bench.load import level_label
from fl_tui.bench.loadreport import CSV_LOAD_COLUMNS, has_load, load_section
from fl_tui.bench.queue import queue_summaries
from fl_tui.bench.records import PERCENTILE_METHOD, STAT_KEYS, ModelStatus
from fl_tui.bench.runschema import ModelJson, RunJson, as_run, as_written
from fl_tui.bench.stats import measured_ok
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.textsafe import csv_cell, json_text, plain

REPORT_SCHEMA = "fl-tui/report/1"
MISSING = "—"

CSV_COLUMNS = (
    "model", "status", "measured_ok", "planned", "error", "load_s", "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms",
    "ttft_mean_ms", "ttft_std_ms", "e2e_mean_ms", "e2e_std_ms", "e2e_p95_ms",
    "tpot_mean_ms", "tpot_std_ms", "itl_p95_ms", "decode_tps_mean", "decode_tps_std", "e2e_tps_mean",
    "output_tokens_mean", "aggregate_output_tps", "prompt_tokens_mean", "prefill_tps_mean", "prefill_tps_std",
    "rss_peak_mb", "rss_growth_mb", "disk_mb", "deterministic", "queue_p50_ms", "queue_p95_ms",
)
CHECKS_COLUMNS = ("checks_pass_rate", "checks_passed", "checks_n", "checks_answers")  # when the prompts had checks
QUALITY_COLUMNS = ("quality_mean", "quality_ci95_low", "quality_ci95_high", "quality_n")  # with annotations
_CSV_QUEUE = {"queue_p50_ms": "p50", "queue_p95_ms": "p95"}  # from the requests (bench.queue), not the summary
_CSV_STATS = {  # column -> (summary metric, statistic)
    "ttft_p50_ms": ("ttft_ms", "p50"), "ttft_p95_ms": ("ttft_ms", "p95"), "ttft_p99_ms": ("ttft_ms", "p99"),
    "e2e_mean_ms": ("e2e_ms", "mean"), "e2e_p95_ms": ("e2e_ms", "p95"), "tpot_mean_ms": ("tpot_ms", "mean"),
    "itl_p95_ms": ("itl_ms", "p95"), "decode_tps_mean": ("decode_tps", "mean"), "e2e_tps_mean": ("e2e_tps", "mean"),
    "output_tokens_mean": ("output_tokens", "mean"), "ttft_mean_ms": ("ttft_ms", "mean"),
    "ttft_std_ms": ("ttft_ms", "std"), "e2e_std_ms": ("e2e_ms", "std"), "tpot_std_ms": ("tpot_ms", "std"),
    "decode_tps_std": ("decode_tps", "std"), "prompt_tokens_mean": ("prompt_tokens", "mean"),
    "prefill_tps_mean": ("prefill_tps", "mean"), "prefill_tps_std": ("prefill_tps", "std"),
}
CSV_PREFILL_COLUMNS = ("prompt_tokens",)  # the swept target length, in a run with --prompt-tokens

TABLE_COLUMNS = (
    "Model", "Status", "n", "TTFT p50 (ms)", "TTFT p95 (ms)", "Decode tok/s", "E2E p95 (ms)", "Avg latency (ms)",
    "Output tok/s", "RSS peak (MB)", "Disk (MB)", "Deterministic",
)

_TEXT_COLUMNS = {"Model", "Endpoint", "Status", "Deterministic", "Checks", "Quality"}  # left-aligned; the rest numbers

_SETTINGS = (  # settings key -> (label, unit); any other key is shown by its own name, after these
    ("rounds", "rounds", ""), ("warmup", "warm-up", ""), ("temperature", "temperature", ""), ("seed", "seed", ""),
    ("max_tokens", "max tokens", ""), ("concurrency", "concurrency", ""), ("levels", "concurrency levels", ""),
    ("rate", "rate", " req/s"), ("duration_s", "duration", " s"), ("slo", "slo", ""),
    ("prompt_tokens", "prompt tokens", ""), ("timeout_s", "timeout", " s"), ("prompt_set", "prompt set", ""),
    ("watts", "watts", " W"), ("keep_alive", "keep-alive", ""), ("models_asked", "models asked", ""),
    ("warmup_prompt", "warm-up prompt", ""), ("schedule_seed", "schedule seed", ""),
)


def _cell(value: object) -> str:
    """Model-provided text made safe for one Markdown table cell: plain, one line, `|` escaped."""
    return plain(value, keep_newlines=False).replace("\\", "\\\\").replace("|", "\\|")


def _line(value: object) -> str:
    return " ".join(plain(value, keep_newlines=False).split())


def _num(value: object, digits: int = 1) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:.{digits}f}"


def _number(value: object) -> float | None:
    """A finite number, or None for anything else (missing, null, a string, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _stat(model: ModelJson, metric: str, stat: str) -> float | None:
    return _number((model.summary.get(metric) or {}).get(stat))


def _deterministic(model: ModelJson) -> str:
    flag = model.deterministic
    if flag is None:
        return MISSING
    if flag:
        return "yes"
    prompts = model.nondeterministic_prompts
    return "no" + (f" ({', '.join(_cell(p) for p in prompts)})" if prompts else "")


def quality_text(entry: Mapping | None) -> str:
    """`3.80 [3.25, 4.10] (n=12)`; `4.00 (n=2, n too small)` below three answers (no interval, see DEFINITIONS)."""
    if not entry or _number(entry.get("mean")) is None:
        return MISSING
    text = _num(entry["mean"], 2)
    ci = entry.get("ci95")
    n = entry.get("n")
    if isinstance(ci, list | tuple) and len(ci) == 2:
        text += f" [{_num(ci[0], 2)}, {_num(ci[1], 2)}]"
        return text + (f" (n={_cell(n)})" if n is not None else "")
    return text + (f" (n={_cell(n)}, n too small)" if n is not None else "")


def measured_cell(model: ModelJson) -> str:
    """n: "answered/planned" measured requests; a run written before those counts were kept gives its figures' n."""
    answered, planned = _number(model.measured_ok), _number(model.planned)
    if answered is None:
        answered = _stat(model, "e2e_ms", "n")
    if answered is None:
        return MISSING
    return f"{answered:.0f}/{planned:.0f}" if planned is not None else f"{answered:.0f}"


def table_columns(run: RunJson, quality: Mapping | None = None) -> list[str]:
    """TABLE_COLUMNS (with Endpoint after Model in a run against several), then Checks when the run's answers
    were checked, then Quality when people scored them."""
    several = ["Endpoint"] if endpoints_of(run) else []
    return [*TABLE_COLUMNS[:1], *several, *TABLE_COLUMNS[1:], *(["Checks"] if has_checks(run) else []),
            *(["Quality"] if quality is not None else [])]


def table_row(model: ModelJson, quality: Mapping | None = None, *, several: bool = False, checks: bool = False
              ) -> list[str]:
    """The Markdown table cells of one model, in table_columns order: the endpoint in a column of its own after
    the model in a run against `several`, + Checks with `checks`, + Quality when `quality` is given."""
    row = [
        _cell(level_label(model, endpoint=not several)),
        *([_cell(model.endpoint or MISSING)] if several else []),
        _cell(model.status),
        measured_cell(model),
        _num(_stat(model, "ttft_ms", "p50")),
        _num(_stat(model, "ttft_ms", "p95")),
        _num(_stat(model, "decode_tps", "mean")),
        _num(_stat(model, "e2e_ms", "p95")),
        _num(_stat(model, "e2e_ms", "mean")),
        _num(model.aggregate_output_tps),
        _num(model.rss_peak_mb),
        _num(model.disk_mb),
        _deterministic(model),
    ]
    if checks:
        row.append(pass_text(model.checks))
    if quality is not None:
        row.append(quality_text(quality.get(model.model)))
    return row


def _bound(value: object) -> str:
    number = _number(value)
    return _line(value) if number is None else f"{number:g}"


def _setting(key: str, value: object) -> str:
    """A setting's value as a person reads it: `ttft_ms ≤ 500 ms` for an SLO bound, `1, 2, 4` for a list, yes/no,
    the warm-up prompt quoted (run.json keeps the raw values)."""
    if key == "slo" and isinstance(value, Mapping):
        return " and ".join(f"{_line(k)} ≤ {_bound(v)} ms" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_line(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{_line(k)} {_line(v)}" for k, v in value.items())
    return f'"{_line(value)}"' if key == "warmup_prompt" else _line(value)


def settings_line(settings: Mapping) -> str:
    """The run's settings on one line, unset and empty ones left out; a run that swept concurrency levels names
    them, not also its first level alone."""
    shown = {k: v for k, v in settings.items() if v is not None and v not in ([], {})}
    if shown.get("levels"):
        shown.pop("concurrency", None)
    parts = [f"{label} {_setting(key, shown.pop(key))}{unit}" for key, label, unit in _SETTINGS if key in shown]
    parts += [f"{_line(k)} {_setting(k, v)}" for k, v in shown.items()]
    return "; ".join(parts) or MISSING  # a list's values are separated by commas


def _pick(models: list[ModelJson], value: Callable[[ModelJson], float | None], best: Callable) -> ModelJson | None:
    """The model with the best value among those that have one and did not fail (a failed model's memory or
    speed says nothing of what it would do), the first on ties."""
    scored = [(v, m) for m in models if m.status != ModelStatus.FAILED and (v := value(m)) is not None]
    return best(scored, key=lambda pair: pair[0])[1] if scored else None


def _check_percent(model: ModelJson) -> float | None:
    rate = _number(model.checks.get("pass_rate")) if model.checks is not None else None
    return None if rate is None else 100 * rate


def _highlights(models: list[ModelJson]) -> list[str]:
    lines = []
    picks = (
        ("Fastest first token", lambda m: _stat(m, "ttft_ms", "p50"), min, "TTFT p50 {} ms"),
        ("Best throughput", lambda m: _stat(m, "decode_tps", "mean"), max, "decode {} tok/s (mean)"),
        ("Lowest tail", lambda m: _stat(m, "e2e_ms", "p95"), min, "E2E p95 {} ms"),
        ("Smallest memory", lambda m: _number(m.rss_peak_mb), min, "RSS peak {} MB"),
        ("Most checks passed", _check_percent, max, "{}% of its checks"),
    )
    for title, value, best, unit in picks:
        model = _pick(models, value, best)
        if model is not None:
            lines.append(f"- {title}: **{_line(level_label(model))}**, {unit.format(_num(value(model)))}")
    return lines


def _endpoints_lines(run: RunJson) -> list[str]:
    """The header of a run against several endpoints: each in the order they ran, with its backend or the
    reason it was not benchmarked."""
    listed = {e.get("endpoint"): e for e in run.endpoints or []}
    out = ["- Endpoints (run one at a time, in this order):"]
    for endpoint in endpoints_of(run):
        entry = listed.get(endpoint) or {}
        what = (f"not benchmarked: {_line(entry['error'])}" if entry.get("error")
                else f"backend {_line(entry.get('backend') or MISSING)}")
        out.append(f"  - {_line(endpoint)} ({what})")
    return out


def render_markdown(run: RunJson | Mapping, quality: Mapping | None = None, sections: Sequence[str] = (),
                    pairwise: Mapping | None = None) -> str:
    """The report.md of a run; `quality` = {model: {"mean": x, "ci95": [lo, hi], "n": k}} adds a Quality column;
    `sections`: Markdown lines made from files beside the run (annotations), before the definitions; `pairwise`:
    people's pairwise verdicts (fl_tui.annotate.pairstats.results), as `fl-tui report` gathers them."""
    run = as_run(run)
    models = run.models
    settings = run.settings
    started, finished = run.started_at, run.finished_at
    date = _line(started) if started else MISSING
    if finished:
        date += f" to {_line(finished)}"
    out = [
        f"# fl-tui benchmark run {_line(run.run_id)}",
        "",
        f"- Date: {date}",
        *(_endpoints_lines(run) if endpoints_of(run) else [f"- Endpoint: {_line(run.endpoint or MISSING)}",
                                                          f"- Backend: {_line(run.backend or MISSING)}"]),
        f"- Settings: {settings_line(settings)}",
        f"- Percentiles: numpy, method \"{_line(run.percentile_method or PERCENTILE_METHOD)}\"",
    ]
    if run.interrupted:
        out.append("- Interrupted: yes, the run was stopped early; the figures cover the requests that finished")
    warnings = [w for w in run.warnings if w]
    if warnings:
        out += ["", "## Warnings", "", *(f"- {_line(w)}" for w in warnings)]
    out += ["", "## Results", ""]
    header = table_columns(run, quality)
    checked, several = "Checks" in header, "Endpoint" in header
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" if name in _TEXT_COLUMNS else "---:" for name in header) + "|")
    out += ["| " + " | ".join(table_row(m, quality, several=several, checks=checked)) + " |" for m in models]
    if checked:
        out += ["", "Checks: the prompt set's automatic checks, passed / run, over each model's measured answers "
                "(not people's or a judge's scores; those are Quality)."]
    if not models:
        out.append("")
        out.append("No model was run.")

    troubled = [m for m in models if m.status != ModelStatus.OK]
    if troubled:
        out += ["", "## Failures and stops", ""]
        for m in troubled:
            reason = _line(m.error or "no reason recorded")
            out.append(f"- **{_line(level_label(m))}** ({_line(m.status)}): {reason}")

    out += _distributions_section(models)
    out += _checks_section(run) if checked else []
    out += _queue_section(run, models)
    out += load_section(run)
    out += _prefill_section(models)

    out += _pairwise_section(pairwise)

    out += ["", "## Highlights", ""]
    out += _highlights(models) or ["- No model produced measurements."]

    energy = [m for m in models if _number(m.energy_wh_per_1k_tokens) is not None]
    if energy:
        watts = settings.get("watts")
        basis = f"{_line(watts)} W" if watts is not None else "the given power"
        figures = ", ".join(f"{_line(m.model)} {_num(m.energy_wh_per_1k_tokens, 3)} Wh" for m in energy)
        out += ["", f"Energy estimate per 1000 output tokens (at {basis} x busy time): {figures}."]

    out += [*sections, "", definitions_markdown()]
    return "\n".join(out)


def _pairwise_section(pairwise: Mapping | None) -> list[str]:
    """People's pairwise verdicts (fl_tui.annotate.pairstats.results): the Bradley–Terry ranking and the wins per
    pair, apart from the rubric scores."""
    if pairwise is None:
        return []
    if not pairwise.get("ranking"):
        return ["", "## Pairwise ranking", "", "No pair is judged yet."]
    out = ["", "## Pairwise ranking", "",
           f"People's A/B verdicts ({_line(', '.join(pairwise.get('raters') or []))}; {pairwise.get('judged')} judged "
           "pairs): Bradley–Terry strengths on the Elo scale (1000 = the geometric mean; 100 points apart, the higher "
           "wins 64% of the time); Points: a win 1, a tie or both-bad ½; 95% interval from a bootstrap of the "
           "pairs.", "",
           "| Rank | Model | Rating | 95% interval | Pairs | Points |", "|---:|---|---:|---|---:|---:|"]
    for i, r in enumerate(pairwise["ranking"], 1):
        low, high = r["ci95"]
        out.append(f"| {i} | {_cell(r['model'])} | {r['rating']:.0f} | {low:.0f} to {high:.0f} | {r['games']} | "
                   f"{r['wins']:g} |")
    out += ["", "| Model 1 | Model 2 | Wins 1 | Ties | Both bad | Wins 2 | n |", "|---|---|---:|---:|---:|---:|---:|"]
    out += [f"| {_cell(t['model_1'])} | {_cell(t['model_2'])} | {t['wins_1']} | {t['ties']} | {t['both_bad']} | "
            f"{t['wins_2']} | {t['n']} |" for t in pairwise.get("table") or []]
    for a in pairwise.get("agreement") or []:
        if a.get("pairs"):
            kappa = "undefined" if a["kappa"] is None else f"{a['kappa']:.2f}"
            out.append(f"\nAgreement of {_line(a['raters'][0])} and {_line(a['raters'][1])} over {a['pairs']} pairs "
                       f"both judged: {a['percent']:.0f}% the same verdict, Cohen's kappa {kappa}.")
    return out


DISTRIBUTIONS = (("ttft_ms", "TTFT (ms)"), ("tpot_ms", "TPOT (ms)"), ("itl_ms", "ITL (ms)"), ("e2e_ms", "E2E (ms)"),
                 ("decode_tps", "Decode tok/s"), ("prefill_tps", "Prefill tok/s"))


def _distributions_section(models: list[ModelJson]) -> list[str]:
    """Every statistic of the main metrics, standard deviation beside mean and percentiles."""
    rows = []
    for m in models:
        for metric, label in DISTRIBUTIONS:
            if _stat(m, metric, "n"):
                cells = [_num(_stat(m, metric, key)) for key in STAT_KEYS if key != "n"]
                rows.append(f"| {_cell(level_label(m))} | {label} | {_stat(m, metric, 'n'):.0f} | "
                            + " | ".join(cells) + " |")
    if not rows:
        return []
    names = [key for key in STAT_KEYS if key != "n"]
    return ["", "## Distributions", "", "| Model | Metric | n | " + " | ".join(names) + " |",
            "|---|---|---:|" + "---:|" * len(names), *rows]


def _checks_section(run: RunJson) -> list[str]:
    """Each check's passes per model: which aspect a model misses, not only how often it misses."""
    counts: dict[tuple[str, str, str], list[int]] = {}  # (model, prompt, check) -> [passed, run]
    for request in measured_ok(run.requests):
        for result in request.checks or []:
            key = (level_label(request), request.prompt_id, str(result.get("name")))
            tally = counts.setdefault(key, [0, 0])
            tally[0] += bool(result.get("passed"))
            tally[1] += 1
    if not counts:
        return []
    rows = [f"| {_cell(model)} | {_cell(prompt)} | {_cell(check)} | {passed}/{n} |"
            for (model, prompt, check), (passed, n) in counts.items()]
    return ["", "## Checks", "", "| Model | Prompt | Check | Passed |", "|---|---|---|---:|", *rows]


def _queue_section(run: RunJson, models: list[ModelJson]) -> list[str]:
    """The client queue time table, for a run whose requests waited for a concurrency slot."""
    queues = queue_summaries(run)
    if not queues:
        return []
    settings = run.settings
    slots = ("a slot (as many as the level's concurrency)" if settings.get("levels")
             else f"one of {_line(settings.get('concurrency', '?'))} slots")
    out = ["", "## Client queue time", "",
           f"Time each measured request waited in the client for {slots}, before its t0: not part "
           "of TTFT or E2E.", "",
           "| Model | n | Queue p50 (ms) | Queue p95 (ms) | Queue max (ms) |", "|---|---:|---:|---:|---:|"]
    for m in models:
        q = queues.get(level_label(m))
        if q is not None:
            out.append(f"| {_cell(level_label(m))} | {q['n']} | {_num(q['p50'])} | {_num(q['p95'])} "
                       f"| {_num(q['max'])} |")
    return out


def _prefill_section(models: list[ModelJson]) -> list[str]:
    """TTFT and prefill against prompt length beside decode, for a run with --prompt-tokens."""
    swept = [m for m in models if _number(m.prompt_tokens) is not None]
    if not swept:
        return []
    out = ["", "## Prefill vs decode", "",
           "Per model and prompt length: prompt tokens as the server counted them (mean), TTFT p50, prefill tok/s = "
           "prompt tokens / TTFT (mean over requests) and decode tok/s (mean).", "",
           "| Model | Prompt length | Prompt tokens | TTFT p50 (ms) | Prefill tok/s | Decode tok/s |",
           "|---|---:|---:|---:|---:|---:|"]
    for m in swept:
        name = level_label({"model": m.model, "concurrency": m.concurrency})
        out.append(f"| {_cell(name)} | {_num(m.prompt_tokens, 0)} | {_num(m.prompt_tokens_mean)} "
                   f"| {_num(_stat(m, 'ttft_ms', 'p50'))} | {_num(_stat(m, 'prefill_tps', 'mean'))} "
                   f"| {_num(_stat(m, 'decode_tps', 'mean'))} |")
    return out


def csv_row(m: ModelJson, queues: Mapping[str, Mapping], quality: Mapping | None = None) -> dict:
    """One model's row, keyed by CSV_COLUMNS (+ QUALITY_COLUMNS), values not yet neutralised; `queues`: the run's
    queue_summaries."""
    row = {col: getattr(m, col) for col in ("endpoint", *CSV_COLUMNS, *CSV_LOAD_COLUMNS, *CSV_PREFILL_COLUMNS)
           if col not in _CSV_STATS and col not in _CSV_QUEUE}
    row.update({col: _stat(m, metric, stat) for col, (metric, stat) in _CSV_STATS.items()})
    queue = queues.get(level_label(m)) or {}
    row.update({col: _number(queue.get(stat)) for col, stat in _CSV_QUEUE.items()})
    summary = m.checks or {}
    row.update(checks_pass_rate=_number(summary.get("pass_rate")), checks_passed=summary.get("passed"),
               checks_n=summary.get("n"), checks_answers=summary.get("answers"))
    if quality is not None:
        entry = quality.get(m.model) or {}
        low, high = entry.get("ci95") or (None, None)  # none below n = 3
        row.update(quality_mean=entry.get("mean"), quality_ci95_low=low, quality_ci95_high=high,
                   quality_n=entry.get("n"))
    return row


def render_csv(run: RunJson | Mapping, quality: Mapping | None = None) -> str:
    """report.csv: a header and one row per model; every cell through `csv_cell()`."""
    run = as_run(run)
    load = CSV_LOAD_COLUMNS if has_load(run) else ()
    where = ("endpoint",) if endpoints_of(run) else ()
    lengths = CSV_PREFILL_COLUMNS if run.settings.get("prompt_tokens") else ()
    checks = CHECKS_COLUMNS if has_checks(run) else ()
    columns = [*CSV_COLUMNS[:1], *where, *CSV_COLUMNS[1:], *load, *lengths, *checks,
               *(QUALITY_COLUMNS if quality is not None else ())]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    queues = queue_summaries(run)
    for row in (csv_row(m, queues, quality) for m in run.models):
        writer.writerow([csv_cell(row[col]) for col in columns])
    return buffer.getvalue()


def finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such a value becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def render_json(run: RunJson | Mapping, quality: Mapping | None = None) -> str:
    """The run without its per-request records: header, settings and each model's result with its summary (each
    as run.json holds it)."""
    run = as_run(run)
    report = {
        "schema": REPORT_SCHEMA,
        **{k: as_written(run, k) for k in ("run_id", "started_at", "finished_at", "endpoint", "backend", "settings")},
        **({"endpoints": run.endpoints} if run.endpoints else {}),
        "percentile_method": run.percentile_method or PERCENTILE_METHOD,
        "models": [m.model_dump(exclude_unset=True) for m in run.models],
    }
    if quality is not None:
        report["quality"] = dict(quality)
    return json_text(json.dumps(finite(report), indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def write_reports(run_dir: Path, run: RunJson | Mapping, quality: Mapping | None = None, sections: Sequence[str] = ()
                  ) -> list[Path]:
    """Write report.md and report.csv into the run folder, each atomically; returns their paths."""
    run_dir, run = Path(run_dir), as_run(run)
    written = []
    texts = (("report.md", render_markdown(run, quality, sections)), ("report.csv", render_csv(run, quality)))
    for name, text in texts:
        path = run_dir / name
        atomic_write_text(path, text)
        written.append(path)
    return written
