"""Quality statistics against values computed by hand or published, and against second libraries (scipy for the
t distribution, the `krippendorff` package for alpha): the t quantile, the 95% interval, Cohen's kappa with
quadratic weights, Krippendorff's ordinal alpha, and the per-model figures from annotation files."""

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from fl_tui.annotate.rubric import BUILTIN_SCALE, Rubric
from fl_tui.annotate.stats import (
    agreement,
    agreement_text,
    cohen_kappa_quadratic,
    krippendorff_alpha_ordinal,
    mean_ci95,
    quality_by_model,
    t_cdf,
    t_quantile,
)
from fl_tui.annotate.store import AnnotationItem, new_file
from fl_tui.core.errors import UserError

# Two-sided 95% (p = 0.975) and other quantiles of Student's t, as printed in every statistics table.
T_TABLE = [
    (0.975, 1, 12.706205), (0.975, 2, 4.302653), (0.975, 3, 3.182446), (0.975, 4, 2.776445), (0.975, 5, 2.570582),
    (0.975, 10, 2.228139), (0.975, 20, 2.085963), (0.975, 29, 2.045230), (0.975, 30, 2.042272),
    (0.975, 60, 2.000298), (0.975, 120, 1.979930), (0.95, 5, 2.015048), (0.995, 10, 3.169273), (0.9, 1, 3.077684),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_quantile_matches_the_tables(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-6)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=1e-6)


def test_t_quantile_tends_to_the_normal_and_refuses_nonsense():
    assert t_quantile(0.975, 1e7) == pytest.approx(1.959964, abs=1e-5)
    assert t_quantile(0.5, 7) == 0.0
    for p, df in ((0, 3), (1, 3), (1.5, 3), (0.9, 0), (0.9, -1)):
        with pytest.raises(ValueError):
            t_quantile(p, df)


@given(st.floats(0.001, 0.999), st.integers(1, 400))
def test_t_quantile_inverts_the_cdf(p, df):
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-9)


def test_mean_ci95_by_hand():
    # [3, 4, 5]: mean 4, sample sd 1, se = 1 / sqrt(3) = 0.577350; t(0.975, 2) = 4.302653;
    # half width = 4.302653 * 0.577350 = 2.484138 -> [1.515862, 6.484138].
    mean, lo, hi = mean_ci95([3, 4, 5])
    assert (mean, lo, hi) == (4.0, pytest.approx(1.515862, abs=1e-6), pytest.approx(6.484138, abs=1e-6))
    # [2, 2, 3, 5]: mean 3, squared deviations 1 + 1 + 0 + 4 = 6, sd = sqrt(6 / 3) = 1.414214, se = 0.707107;
    # t(0.975, 3) = 3.182446; half width = 3.182446 * 0.707107 = 2.250329 -> [0.749671, 5.250329].
    assert mean_ci95([2, 2, 3, 5])[1:] == (pytest.approx(0.749671, abs=1e-6), pytest.approx(5.250329, abs=1e-6))
    assert mean_ci95([4]) == (4.0, None, None)
    assert mean_ci95([3, 3, 3]) == (3.0, 3.0, 3.0)
    with pytest.raises(ValueError):
        mean_ci95([])


def test_cohen_kappa_quadratic_by_hand():
    # a = [1, 2, 3, 4], b = [1, 2, 4, 4]; weights (i - j)^2 / 16 (the 16 cancels, left out below).
    # Observed: one disagreement, (3, 4): sum w*O = 1.
    # Marginals: a has 1, 2, 3, 4 once each; b has 1 once, 2 once, 4 twice. Expected counts E_ij = a_i * b_j / 4:
    #   sum_i sum_j a_i b_j (i - j)^2 = i=1: 0 + 1 + 9*2 = 19; i=2: 1 + 0 + 4*2 = 9; i=3: 4 + 1 + 1*2 = 7;
    #   i=4: 9 + 4 + 0 = 13; total 48, so sum w*E = 48 / 4 = 12.
    # kappa = 1 - 1 / 12 = 11/12.
    assert cohen_kappa_quadratic([1, 2, 3, 4], [1, 2, 4, 4]) == pytest.approx(11 / 12)
    # Complete disagreement at the ends: a = [1, 5], b = [5, 1]: observed sum (i - j)^2 = 16 + 16 = 32; marginals
    # one 1 and one 5 each; expected = (1*1*16 + 1*1*16) / 2 = 16 -> kappa = 1 - 32/16 = -1.
    assert cohen_kappa_quadratic([1, 5], [5, 1]) == pytest.approx(-1.0)
    assert cohen_kappa_quadratic([1, 2, 5], [1, 2, 5]) == 1.0
    assert cohen_kappa_quadratic([3, 3], [3, 3]) is None  # no variation: undefined
    assert cohen_kappa_quadratic([None, 2, 3, 4, 1], [4, 2, 4, 4, 1]) == pytest.approx(11 / 12)  # pairs with a gap
    with pytest.raises(ValueError):
        cohen_kappa_quadratic([1, 2], [1])
    with pytest.raises(ValueError):
        cohen_kappa_quadratic([1, 6], [1, 2])


def test_krippendorff_alpha_ordinal_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units, values
    # 1..5 with gaps; the published ordinal alpha is 0.815 (nominal 0.743, interval 0.849).
    n = None
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    assert round(krippendorff_alpha_ordinal(data), 3) == 0.815


def test_krippendorff_alpha_ordinal_by_hand():
    # Raters [1, 2, 3] and [1, 2, 4]. Pairable values: 1, 1, 2, 2, 3, 4 -> n_1 = 2, n_2 = 2, n_3 = 1, n_4 = 1, n = 6.
    # Coincidences (each unit has m = 2 values, weight 1 / (m - 1) = 1): o_11 = 2, o_22 = 2, o_34 = o_43 = 1.
    # Ordinal distance d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2:
    #   d_12 = (4 - 2)^2 = 4; d_13 = (5 - 1.5)^2 = 12.25; d_14 = (6 - 1.5)^2 = 20.25;
    #   d_23 = (3 - 1.5)^2 = 2.25; d_24 = (4 - 1.5)^2 = 6.25; d_34 = (2 - 1)^2 = 1.
    # Observed: sum o_ck d_ck = 1 + 1 = 2.
    # Expected: sum n_c n_k d_ck over ordered pairs = 2 * (4*4 + 2*12.25 + 2*20.25 + 2*2.25 + 2*6.25 + 1*1) = 198.
    # alpha = 1 - (n - 1) * 2 / 198 = 1 - 10/198 = 94/99.
    assert krippendorff_alpha_ordinal([[1, 2, 3], [1, 2, 4]]) == pytest.approx(94 / 99)
    assert krippendorff_alpha_ordinal([[1, 2, 3], [1, 2, 3], [1, 2, 3]]) == 1.0
    assert krippendorff_alpha_ordinal([[2, 2], [2, 2]]) is None  # one value only
    assert krippendorff_alpha_ordinal([[1, None], [None, 2]]) is None  # no unit rated twice
    assert krippendorff_alpha_ordinal([]) is None


@settings(max_examples=100, deadline=None)
@given(st.floats(0.001, 0.999), st.floats(1, 500))
def test_t_quantile_agrees_with_scipy(p, df):
    assert t_quantile(p, df) == pytest.approx(float(scipy_stats.t.ppf(p, df)), rel=1e-6, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=40))
def test_mean_ci95_agrees_with_scipy(values):
    mean, low, high = mean_ci95(values)
    assert mean == pytest.approx(float(np.mean(values)))
    if len(set(values)) == 1:
        assert low == high == mean
        return
    want = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert (low, high) == (pytest.approx(float(want[0]), abs=1e-6), pytest.approx(float(want[1]), abs=1e-6))


ratings = st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=8, max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(ratings, min_size=2, max_size=4))
def test_krippendorff_alpha_agrees_with_the_krippendorff_package(data):
    ours = krippendorff_alpha_ordinal(data)
    values = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
    pairable = [col[~np.isnan(col)] for col in values.T if np.count_nonzero(~np.isnan(col)) >= 2]
    if not pairable or len(set(np.concatenate(pairable))) < 2:
        assert ours is None  # no unit rated twice, or one value only: alpha is undefined
        return
    theirs = krippendorff.alpha(reliability_data=values, level_of_measurement="ordinal",
                                value_domain=[1, 2, 3, 4, 5])
    assert ours == pytest.approx(float(theirs), abs=1e-9)


# -- from annotation files -----------------------------------------------------------------------------------------

RUBRIC = Rubric(scale=dict(BUILTIN_SCALE), aspects={"p1": ("a", "b"), "p2": ()})


def annotations(rater: str, scores: dict[str, int | None], aspects: dict[str, dict] | None = None, run_id="r1"):
    items = []
    for request_id, overall in scores.items():
        model, prompt, rnd = request_id.split("|")
        items.append(AnnotationItem(request_id=request_id, model=model, prompt_id=prompt, round=int(rnd),
                                    overall=overall, scores=(aspects or {}).get(request_id, {})))
    return new_file(run_id, rater, RUBRIC, items)


def test_quality_by_model_by_hand():
    ann = annotations("ann", {"m1|p1|1": 3, "m1|p2|1": 4, "m1|p1|2": 5, "m2|p1|1": 2, "m2|p2|1": None},
                      aspects={"m1|p1|1": {"a": 2, "b": 4}, "m1|p1|2": {"a": 4}})
    quality = quality_by_model([ann])
    # m1: [3, 4, 5] -> mean 4, CI [1.515862, 6.484138] (see test_mean_ci95_by_hand); aspect a: (2 + 4) / 2 = 3.
    assert quality["m1"]["mean"] == 4.0 and quality["m1"]["n"] == 3
    assert quality["m1"]["ci95"] == [pytest.approx(1.515862, abs=1e-6), pytest.approx(6.484138, abs=1e-6)]
    assert quality["m1"]["aspects"] == {"a": 3.0, "b": 4.0} and quality["m1"]["raters"] == ["ann"]
    # m2: one scored item (the unscored one does not count): no interval.
    assert quality["m2"] == {"mean": 2.0, "ci95": None, "n": 1, "aspects": {}, "raters": ["ann"]}


def test_several_raters_are_averaged_per_item_and_judges_kept_apart():
    ann = annotations("ann", {"m1|p1|1": 3, "m1|p2|1": 4})
    bob = annotations("bob", {"m1|p1|1": 5, "m1|p2|1": None})
    judge = annotations("model:judge-1", {"m1|p1|1": 1, "m1|p2|1": 1})
    quality = quality_by_model([ann, bob, judge])
    # item 1: (3 + 5) / 2 = 4; item 2: 4 (bob did not score it) -> mean 4 over n = 2 items, sd 0.
    assert quality["m1"]["mean"] == 4.0 and quality["m1"]["n"] == 2 and quality["m1"]["ci95"] == [4.0, 4.0]
    assert quality["m1"]["raters"] == ["ann", "bob"]
    judged = quality_by_model([judge], include_judges=True)
    assert judged["m1"]["mean"] == 1.0 and judged["m1"]["raters"] == ["model:judge-1"]
    assert quality_by_model([judge]) == {}
    with pytest.raises(UserError, match="different runs"):
        quality_by_model([ann, annotations("cy", {"m1|p1|1": 3}, run_id="r2")])


def test_agreement_picks_the_method_by_the_number_of_raters():
    a = annotations("ann", {"m|p1|1": 1, "m|p1|2": 2, "m|p1|3": 3, "m|p1|4": 4, "m|p1|5": None})
    b = annotations("bob", {"m|p1|1": 1, "m|p1|2": 2, "m|p1|3": 4, "m|p1|4": 4, "m|p1|5": 5})
    c = annotations("cy", {"m|p1|1": 1, "m|p1|2": 2, "m|p1|3": 3, "m|p1|4": 4, "m|p1|5": 5})
    two = agreement([a, b])
    assert two == {"raters": ["ann", "bob"], "method": "cohen_kappa_quadratic", "value": pytest.approx(11 / 12),
                   "items": 4}
    three = agreement([a, b, c])
    assert three["method"] == "krippendorff_alpha_ordinal" and three["items"] == 4
    assert three["value"] == pytest.approx(krippendorff_alpha_ordinal([[1, 2, 3, 4], [1, 2, 4, 4], [1, 2, 3, 4]]))
    assert agreement([a])["method"] is None
    assert agreement([a, annotations("model:j", {"m|p1|1": 1})])["method"] is None  # judges only when asked
    assert "Cohen's kappa" in agreement_text(two) and "0.917" in agreement_text(two)
    assert math.isfinite(three["value"])
