"""Compare two runs model by model, with a bootstrap confidence interval on each change, so that noise between two
runs of the same build is not called a regression.

For each model in both runs and each key metric the statistic is recomputed from the runs' raw per-request values
(measured, ok requests of that model), then again on `resamples` bootstrap resamples of each run's requests. The
relative change is (new - base) / base; its 95% interval is the 2.5th to 97.5th percentile of the resampled changes.
A regression is a change whose whole interval is worse than the threshold: above +threshold for a time, below
-threshold for a rate.

In a run that swept load levels each (model, level) is compared on its own (`qwen @ c=4`, load.level_label). When
the base run had SLOs, goodput is compared too, as the fraction of measured requests meeting the base run's bounds
(at the same load, fewer requests within the bounds is less goodput): a drop is a regression like the others.
So is a drop in the checks' pass rate (bench.checks), when both runs' answers were checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fl_tui.bench.load import SLO_KEYS, level_label, meets
from fl_tui.bench.records import PERCENTILE_METHOD
from fl_tui.bench.runschema import RequestJson, RunJson, as_run
from fl_tui.bench.stats import chunk_gaps, get_field, measured_ok
from fl_tui.core.textsafe import plain

# (metric, statistic, lower is better)
KEY_METRICS = (
    ("ttft_ms", "p50", True),
    ("ttft_ms", "p95", True),
    ("e2e_ms", "p95", True),
    ("itl_ms", "p95", True),
    ("decode_tps", "mean", False),
)


@dataclass(frozen=True)
class Delta:
    model: str
    metric: str  # a SUMMARY_METRICS name (e.g. "ttft_ms"), "goodput" or "checks"
    stat: str  # "p50", "p95", "mean"
    base: float
    new: float
    base_std: float | None  # sample std of the values the statistic is taken over; None below two or for goodput
    new_std: float | None
    change: float | None  # (new - base) / base; None when base is 0
    ci_low: float | None  # bootstrap 95% interval of `change`
    ci_high: float | None
    lower_is_better: bool
    regression: bool  # the whole interval is worse than the threshold
    improvement: bool  # the whole interval is better than the threshold

    @property
    def name(self) -> str:
        return f"{self.metric} {self.stat}"


def _statistic(samples: np.ndarray, stat: str, axis: int | None = None) -> np.ndarray:
    if stat in ("mean", "fraction", "pass_rate"):
        return np.mean(samples, axis=axis)
    return np.percentile(samples, float(stat[1:]), axis=axis, method=PERCENTILE_METHOD)


def _per_request(requests: Iterable[RequestJson], model: str, metric: str) -> list[np.ndarray]:
    """Each measured ok request's raw values for a metric: its inter-chunk gaps for `itl_ms`, else one value."""
    chosen = [r for r in measured_ok(requests) if level_label(r) == model]
    if metric == "itl_ms":
        groups = [np.asarray(chunk_gaps(r), dtype=float) for r in chosen]
        return [g for g in groups if g.size]
    return [np.asarray([v], dtype=float) for r in chosen if (v := get_field(r, metric)) is not None]


def _bootstrap(groups: list[np.ndarray], stat: str, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The statistic on `resamples` resamples of the requests (with replacement); a request brings all its values."""
    n = len(groups)
    picks = rng.integers(0, n, size=(resamples, n))
    if all(g.size == 1 for g in groups):
        values = np.concatenate(groups)
        return _statistic(values[picks], stat, axis=1)
    return np.asarray([_statistic(np.concatenate([groups[i] for i in row]), stat) for row in picks])


def _std(groups: list[np.ndarray], stat: str) -> float | None:
    """The spread beside the statistic (sample std, n - 1); a fraction's 0/1 values have none worth showing."""
    values = np.concatenate(groups)
    return float(np.std(values, ddof=1)) if stat != "fraction" and values.size > 1 else None


def _relative(base: np.ndarray | float, new: np.ndarray | float) -> np.ndarray:
    base, new = np.asarray(base, dtype=float), np.asarray(new, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base != 0, (new - base) / np.where(base != 0, base, 1.0), np.nan)


def _slo_met(requests: Iterable[RequestJson], model: str, slo: Mapping[str, float]) -> list[np.ndarray]:
    """1.0 or 0.0 per measured request (a failed one counts as missing the bounds)."""
    chosen = [r for r in requests if not r.warmup and level_label(r) == model]
    fields = ("status", "queue_ms", *SLO_KEYS)
    return [np.asarray([1.0 if meets({k: getattr(r, k) for k in fields}, slo) else 0.0]) for r in chosen]


def _check_passes(requests: Iterable[RequestJson], model: str) -> list[np.ndarray]:
    """1.0 or 0.0 per check of each checked answer: an answer brings all its checks into a resample."""
    chosen = [r for r in measured_ok(requests) if level_label(r) == model and r.checks]
    return [np.asarray([1.0 if c.get("passed") else 0.0 for c in r.checks]) for r in chosen]


def _models(run: RunJson) -> list[str]:
    return list(dict.fromkeys(level_label(e) for e in [*run.models, *run.requests]))


def models_only_in(base: RunJson | Mapping, new: RunJson | Mapping) -> tuple[list[str], list[str]]:
    """(models only in the base run, models only in the new run)."""
    base_models, new_models = _models(as_run(base)), _models(as_run(new))
    return [m for m in base_models if m not in new_models], [m for m in new_models if m not in base_models]


def compare_runs(
    base: RunJson | Mapping, new: RunJson | Mapping, *, threshold: float = 0.10, resamples: int = 2000, seed: int = 0
) -> list[Delta]:
    """A Delta per model present in both runs and per key metric that both runs measured.

    Each (model, metric) draws from its own `numpy.random.default_rng(seed)`, so a result does not depend on which
    other models the runs hold, and the same inputs and seed always give the same intervals.
    """
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    base, new = as_run(base), as_run(new)
    new_models = set(_models(new))
    deltas = []
    for model in (m for m in _models(base) if m in new_models):
        for metric, stat, lower_is_better in KEY_METRICS:
            base_groups = _per_request(base.requests, model, metric)
            new_groups = _per_request(new.requests, model, metric)
            if base_groups and new_groups:
                rng = np.random.default_rng(seed)
                deltas.append(_delta(model, metric, stat, lower_is_better, base_groups, new_groups,
                                     threshold=threshold, resamples=resamples, rng=rng))
        slo = base.settings.get("slo")
        if isinstance(slo, Mapping) and slo:
            base_groups = _slo_met(base.requests, model, slo)
            new_groups = _slo_met(new.requests, model, slo)
            if base_groups and new_groups:
                deltas.append(_delta(model, "goodput", "fraction", False, base_groups, new_groups,
                                     threshold=threshold, resamples=resamples, rng=np.random.default_rng(seed)))
        base_groups = _check_passes(base.requests, model)
        new_groups = _check_passes(new.requests, model)
        if base_groups and new_groups:
            deltas.append(_delta(model, "checks", "pass_rate", False, base_groups, new_groups,
                                 threshold=threshold, resamples=resamples, rng=np.random.default_rng(seed)))
    return deltas


def _delta(
    model: str, metric: str, stat: str, lower_is_better: bool, base_groups: list[np.ndarray],
    new_groups: list[np.ndarray], *, threshold: float, resamples: int, rng: np.random.Generator,
) -> Delta:
    base_value = float(_statistic(np.concatenate(base_groups), stat))
    new_value = float(_statistic(np.concatenate(new_groups), stat))
    change = float(_relative(base_value, new_value))
    base_boot = _bootstrap(base_groups, stat, resamples, rng)
    new_boot = _bootstrap(new_groups, stat, resamples, rng)
    changes = _relative(base_boot, new_boot)
    changes = changes[np.isfinite(changes)]
    low = high = None
    if changes.size and np.isfinite(change):
        low, high = (float(x) for x in np.percentile(changes, [2.5, 97.5], method=PERCENTILE_METHOD))
    worse_all = low is not None and (low > threshold if lower_is_better else high < -threshold)
    better_all = low is not None and (high < -threshold if lower_is_better else low > threshold)
    return Delta(
        model=model, metric=metric, stat=stat, base=base_value, new=new_value,
        base_std=_std(base_groups, stat), new_std=_std(new_groups, stat),
        change=change if np.isfinite(change) else None, ci_low=low, ci_high=high,
        lower_is_better=lower_is_better, regression=worse_all, improvement=better_all,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def _value(value: float, std: float | None) -> str:
    return f"{value:.2f}" if std is None else f"{value:.2f} ± {std:.2f}"


def render_comparison(
    deltas: Sequence[Delta], *, only_base: Sequence[str] = (), only_new: Sequence[str] = ()
) -> str:
    """A fixed-width table of the deltas (REGRESSION / improved marked), each value with the standard deviation of
    the requests' values beside it, then the models only one run had."""
    header = ("Model", "Metric", "Base ± sd", "New ± sd", "Change", "95% CI", "Verdict")
    rows = []
    for d in deltas:
        ci = "—" if d.ci_low is None else f"[{_pct(d.ci_low)}, {_pct(d.ci_high)}]"
        flag = "REGRESSION" if d.regression else ("improved" if d.improvement else "")
        model = plain(d.model, keep_newlines=False)
        rows.append((model, d.name, _value(d.base, d.base_std), _value(d.new, d.new_std), _pct(d.change), ci, flag))
    lines = []
    if rows:
        widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
        numeric = {2, 3, 4}
        for row in (header, *rows):
            pairs = enumerate(zip(row, widths, strict=True))
            cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in pairs]
            lines.append("  ".join(cells).rstrip())
        lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    else:
        lines.append("No model and metric measured in both runs.")
    regressions = sum(d.regression for d in deltas)
    lines += ["", f"{regressions} regression{'s' if regressions != 1 else ''} (whole 95% CI worse than the threshold)."]
    if only_base:
        lines.append("Only in the base run: " + ", ".join(plain(m, keep_newlines=False) for m in only_base))
    if only_new:
        lines.append("Only in the new run: " + ", ".join(plain(m, keep_newlines=False) for m in only_new))
    return "\n".join(lines)
