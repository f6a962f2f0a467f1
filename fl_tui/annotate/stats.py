"""Quality figures from annotation files: per-model means with Student-t 95% confidence intervals, and agreement
between raters (quadratic-weighted Cohen's kappa for two, Krippendorff's alpha, ordinal, for more).

No scipy: the t quantile inverts the t distribution's CDF, computed with the regularized incomplete beta function
(continued fraction, Lentz's method), by bisection. Closed forms are used for 1 and 2 degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from fl_tui.annotate.store import AnnotationFile
from fl_tui.core.errors import UserError

CATEGORIES = (1, 2, 3, 4, 5)


# -- Student t -------------------------------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, not {df}")
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: t_quantile(0.975, 2) = 4.30265..."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1, not {p}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, not {df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2.0 * p - 1.0) * math.sqrt(2.0 / (4.0 * p * (1.0 - p)))
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return (lo + hi) / 2.0


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """(mean, lower, upper) of the two-sided 95% Student-t interval; no interval (None) for fewer than 2 values."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None, None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


# -- agreement -------------------------------------------------------------------------------------------------


def cohen_kappa_quadratic(
    a: Sequence[int | None], b: Sequence[int | None], categories: Sequence[int] = CATEGORIES
) -> float | None:
    """Quadratic-weighted Cohen's kappa of two raters' scores of the same items (pairs with a None are left out):
    1 - sum(w * observed) / sum(w * expected), w = (i - j)^2 / (k - 1)^2, expected from the two marginals.
    None when undefined (no pairs, or both raters gave one and the same score throughout)."""
    if len(a) != len(b):
        raise ValueError(f"the raters scored different numbers of items ({len(a)} and {len(b)})")
    cats = list(categories)
    position = {c: i for i, c in enumerate(cats)}
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    for x, y in pairs:
        if x not in position or y not in position:
            raise ValueError(f"score outside the categories {cats}: {x if x not in position else y}")
    n, k = len(pairs), len(cats)
    if n == 0 or k < 2:
        return None
    rows = [0] * k
    cols = [0] * k
    observed = 0.0
    for x, y in pairs:
        i, j = position[x], position[y]
        rows[i] += 1
        cols[j] += 1
        observed += (i - j) ** 2
    expected = sum(rows[i] * cols[j] * (i - j) ** 2 for i in range(k) for j in range(k)) / n
    if expected == 0:
        return None
    return 1.0 - observed / expected  # the (k - 1)^2 of the weights cancels


def krippendorff_alpha_ordinal(ratings_by_rater: Sequence[Sequence[int | None]]) -> float | None:
    """Krippendorff's alpha with the ordinal metric; one list per rater, one entry per unit (None: not rated).

    alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck over the pairable values (units rated at least
    twice), with o the coincidence matrix and d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2.
    None when undefined (no pairable unit, or a single value throughout)."""
    if not ratings_by_rater:
        return None
    units = len(ratings_by_rater[0])
    if any(len(r) != units for r in ratings_by_rater):
        raise ValueError("every rater needs one entry per unit (None when not rated)")
    coincidence: dict[tuple[int, int], float] = {}
    counts: dict[int, float] = {}
    for u in range(units):
        values = [r[u] for r in ratings_by_rater if r[u] is not None]
        m = len(values)
        if m < 2:
            continue
        for i, c in enumerate(values):
            counts[c] = counts.get(c, 0.0) + 1.0
            for j, k in enumerate(values):
                if i != j:
                    coincidence[(c, k)] = coincidence.get((c, k), 0.0) + 1.0 / (m - 1)
    order = sorted(counts)
    n = sum(counts.values())
    if len(order) < 2:
        return None
    rank = {v: i for i, v in enumerate(order)}
    cumulative = [0.0]
    for v in order:
        cumulative.append(cumulative[-1] + counts[v])

    def delta(c: int, k: int) -> float:
        lo, hi = sorted((rank[c], rank[k]))
        return (cumulative[hi + 1] - cumulative[lo] - (counts[order[lo]] + counts[order[hi]]) / 2.0) ** 2

    observed = sum(o * delta(c, k) for (c, k), o in coincidence.items())
    expected = sum(counts[c] * counts[k] * delta(c, k) for c in order for k in order)
    if expected == 0:
        return None
    return 1.0 - (n - 1.0) * observed / expected


# -- over annotation files -------------------------------------------------------------------------------------


def _chosen(files: Iterable[AnnotationFile], include_judges: bool) -> list[AnnotationFile]:
    chosen = [f for f in files if include_judges or not f.judged]
    runs = sorted({f.run_id for f in chosen})
    if len(runs) > 1:
        raise UserError(f"annotation files of different runs cannot be combined: {', '.join(runs)}")
    return chosen


def quality_by_model(files: Iterable[AnnotationFile], *, include_judges: bool = False) -> dict[str, dict]:
    """{model: {"mean", "ci95": [lo, hi] | None, "n", "aspects": {aspect: mean}, "raters": [...]}}.

    Person-made files only unless `include_judges`. An item's score is the mean over the raters who gave it an
    overall score; the mean and its Student-t 95% interval are over items, n is the number of such items. Aspect
    means are over the same items, per aspect text."""
    chosen = _chosen(files, include_judges)
    per_item: dict[str, dict] = {}
    for f in chosen:
        for item in f.items:
            if item.overall is None:
                continue
            entry = per_item.setdefault(item.request_id, {"model": item.model, "overall": [], "aspects": {},
                                                          "raters": set()})
            entry["overall"].append(item.overall)
            entry["raters"].add(f.rater)
            for aspect, score in item.scores.items():
                entry["aspects"].setdefault(aspect, []).append(score)
    by_model: dict[str, dict] = {}
    for entry in per_item.values():
        model = by_model.setdefault(entry["model"], {"overall": [], "aspects": {}, "raters": set()})
        model["overall"].append(math.fsum(entry["overall"]) / len(entry["overall"]))
        model["raters"] |= entry["raters"]
        for aspect, scores in entry["aspects"].items():
            model["aspects"].setdefault(aspect, []).append(math.fsum(scores) / len(scores))
    out = {}
    for name in sorted(by_model):
        model = by_model[name]
        mean, lo, hi = mean_ci95(model["overall"])
        out[name] = {
            "mean": mean,
            "ci95": [lo, hi] if lo is not None else None,
            "n": len(model["overall"]),
            "aspects": {a: math.fsum(v) / len(v) for a, v in model["aspects"].items()},
            "raters": sorted(model["raters"]),
        }
    return out


def agreement(files: Iterable[AnnotationFile], *, include_judges: bool = False) -> dict:
    """Agreement on the overall score over the items every rater scored:
    {"raters": [...], "method": "cohen_kappa_quadratic" | "krippendorff_alpha_ordinal" | None,
     "value": float | None, "items": n}. Two raters: Cohen's kappa (quadratic weights); three or more:
    Krippendorff's alpha (ordinal). One rater: no method, no value."""
    chosen = _chosen(files, include_judges)
    raters = [f.rater for f in chosen]
    scores = [{i.request_id: i.overall for i in f.items if i.overall is not None} for f in chosen]
    common = sorted(set.intersection(*(set(s) for s in scores))) if scores else []
    result = {"raters": raters, "method": None, "value": None, "items": len(common) if len(chosen) > 1 else 0}
    if len(chosen) == 2:
        result["method"] = "cohen_kappa_quadratic"
        result["value"] = cohen_kappa_quadratic([scores[0][r] for r in common], [scores[1][r] for r in common])
    elif len(chosen) > 2:
        result["method"] = "krippendorff_alpha_ordinal"
        result["value"] = krippendorff_alpha_ordinal([[s[r] for r in common] for s in scores])
    return result


def agreement_text(result: dict) -> str:
    """One line for people: `agreement (Cohen's kappa, quadratic) of ann, bob over 12 items: 0.71`."""
    names = {"cohen_kappa_quadratic": "Cohen's kappa, quadratic weights",
             "krippendorff_alpha_ordinal": "Krippendorff's alpha, ordinal"}
    if result["method"] is None:
        return "agreement: needs two or more raters"
    value = "undefined" if result["value"] is None else f"{result['value']:.3f}"
    who = ", ".join(result["raters"])
    return f"agreement ({names[result['method']]}) of {who} over {result['items']} items scored by all: {value}"
