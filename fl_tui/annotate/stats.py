"""Quality figures from annotation files: per-model mean scores with a 95% interval that stays on the 1-5 scale
(Wilson-style; stated for people in bench/definitions.py, "Quality"), and agreement between raters
(quadratic-weighted Cohen's kappa for two, Krippendorff's alpha, ordinal, for more). Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist, median

from fl_tui.annotate.store import AnnotationFile, Completion
from fl_tui.core.errors import UserError

CATEGORIES = (1, 2, 3, 4, 5)


# -- the interval of a mean score -------------------------------------------------------------------------------

MIN_N = 3  # fewer answers than this: no interval ("n too small")
LOW, HIGH = CATEGORIES[0], CATEGORIES[-1]
Z95 = NormalDist().inv_cdf(0.975)  # 1.959964...


def mean_interval95(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """(mean, lower, upper) of scores on the 1-5 scale: the 95% Wilson score interval of p = (mean - 1) / 4 with
    n = len(values), mapped back to 1-5 (bench/definitions.py states it for people); no interval (None, None) for
    fewer than MIN_N values. Wilson rather than Student t: a t interval of a few scores leaves the scale (3, 4, 5
    gives [1.52, 6.48]) and is zero wide when every score is the same."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    if any(not LOW <= v <= HIGH for v in values):
        raise ValueError(f"a score outside {LOW}-{HIGH}: {min(values)}..{max(values)}")
    mean = math.fsum(values) / n
    if n < MIN_N:
        return mean, None, None
    span = HIGH - LOW
    p = (mean - LOW) / span
    z2 = Z95 * Z95
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denominator
    # The bounds hold in exact arithmetic; min/max only keep rounding at p = 0 or 1 from stepping past them.
    low = min(mean, max(LOW, LOW + span * (centre - half)))
    high = max(mean, min(HIGH, LOW + span * (centre + half)))
    return mean, low, high


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
    """{model: {"mean", "ci95": [lo, hi] | None, "n", "partly", "aspects": {aspect: {"mean", "n"}}, "raters"}}.

    Person-made files only unless `include_judges`. Only answers scored completely count (store.Completion); an
    answer's score is the mean over the raters who scored it completely; the mean and its interval
    (mean_interval95) are over answers, n is their number. "partly": answers someone scored in part and nobody
    completely, left out. Aspect means are over the same answers, per aspect text, each with its own n."""
    chosen = _chosen(files, include_judges)
    per_item: dict[str, dict] = {}
    partly: dict[str, str] = {}  # request id -> model, of answers scored in part only (so far)
    for f in chosen:
        for item in f.items:
            done = f.completion(item)
            if done is Completion.PARTLY:
                partly[item.request_id] = item.model
            if done is not Completion.SCORED:
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
    left_out: dict[str, int] = {}
    for request_id, model_name in partly.items():
        if request_id not in per_item:
            left_out[model_name] = left_out.get(model_name, 0) + 1
    out = {}
    for name in sorted(by_model):
        model = by_model[name]
        mean, lo, hi = mean_interval95(model["overall"])
        out[name] = {
            "mean": mean,
            "ci95": [lo, hi] if lo is not None else None,
            "n": len(model["overall"]),
            "partly": left_out.get(name, 0),
            "aspects": {a: {"mean": math.fsum(v) / len(v), "n": len(v)} for a, v in model["aspects"].items()},
            "raters": sorted(model["raters"]),
        }
    return out


def agreement(files: Iterable[AnnotationFile], *, include_judges: bool = False) -> dict:
    """Agreement on the overall score over the items every rater scored completely (store.Completion):
    {"raters": [...], "method": "cohen_kappa_quadratic" | "krippendorff_alpha_ordinal" | None,
     "value": float | None, "items": n}. Two raters: Cohen's kappa (quadratic weights); three or more:
    Krippendorff's alpha (ordinal). One rater: no method, no value."""
    chosen = _chosen(files, include_judges)
    raters = [f.rater for f in chosen]
    scores = [{i.request_id: i.overall for i in f.items if f.completion(i) is Completion.SCORED} for f in chosen]
    common = sorted(set.intersection(*(set(s) for s in scores))) if scores else []
    result = {"raters": raters, "method": None, "value": None, "items": len(common) if len(chosen) > 1 else 0}
    if len(chosen) == 2:
        result["method"] = "cohen_kappa_quadratic"
        result["value"] = cohen_kappa_quadratic([scores[0][r] for r in common], [scores[1][r] for r in common])
    elif len(chosen) > 2:
        result["method"] = "krippendorff_alpha_ordinal"
        result["value"] = krippendorff_alpha_ordinal([[s[r] for r in common] for s in scores])
    return result


def judge_agreement(people: Sequence[AnnotationFile], judge: AnnotationFile) -> dict:
    """How far a judge model can be trusted, measured on the answers people scored too (completely, both sides):
    {"judge", "people": [raters], "n", "kappa", "mean_difference"}. People's score of an answer is the median of
    their overall scores, rounded half up, for the kappa (quadratic weights, judge vs people), and their mean for
    the mean difference (judge - people: above 0, the judge scores higher). kappa and the difference are None
    over no common answer; kappa also where undefined (cohen_kappa_quadratic)."""
    scored: dict[str, list[int]] = {}
    for f in people:
        for item in f.items:
            if f.completion(item) is Completion.SCORED:
                scored.setdefault(item.request_id, []).append(item.overall)
    judged = {i.request_id: i.overall for i in judge.items if judge.completion(i) is Completion.SCORED}
    common = sorted(set(scored) & set(judged))
    consensus = [math.floor(median(scored[r]) + 0.5) for r in common]
    difference = math.fsum(judged[r] - math.fsum(scored[r]) / len(scored[r]) for r in common) / len(common) \
        if common else None
    return {"judge": judge.rater, "people": [f.rater for f in people], "n": len(common),
            "kappa": cohen_kappa_quadratic([judged[r] for r in common], consensus) if common else None,
            "mean_difference": difference}


def judge_agreement_text(result: dict) -> str:
    """One line: `model:q vs people (ann) over 12 answers both scored: kappa 0.64, mean difference +0.42`."""
    who = ", ".join(result["people"])
    if not result["n"]:
        return f"{result['judge']} vs people ({who}): no answer scored by both yet"
    kappa = "undefined" if result["kappa"] is None else f"{result['kappa']:.3f}"
    return (f"{result['judge']} vs people ({who}) over {result['n']} answers both scored: Cohen's kappa "
            f"(quadratic weights) {kappa}, mean difference judge - people {result['mean_difference']:+.2f}")


def agreement_text(result: dict) -> str:
    """One line for people: `agreement (Cohen's kappa, quadratic) of ann, bob over 12 items: 0.71`."""
    names = {"cohen_kappa_quadratic": "Cohen's kappa, quadratic weights",
             "krippendorff_alpha_ordinal": "Krippendorff's alpha, ordinal"}
    if result["method"] is None:
        return "agreement: needs two or more raters"
    value = "undefined" if result["value"] is None else f"{result['value']:.3f}"
    who = ", ".join(result["raters"])
    return f"agreement ({names[result['method']]}) of {who} over {result['items']} items scored by all: {value}"
