"""Quality statistics against values computed by hand or published, and against second libraries (scipy for the
Wilson interval, the `krippendorff` package for alpha): the 95% interval of a mean score, Cohen's kappa with
quadratic weights, Krippendorff's ordinal alpha, and the per-model figures from annotation files."""

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from scipy.optimize import brentq

from fl_tui.annotate.rubric import BUILTIN_SCALE, Rubric
from fl_tui.annotate.stats import (
    agreement,
    agreement_text,
    cohen_kappa_quadratic,
    judge_agreement,
    judge_agreement_text,
    krippendorff_alpha_ordinal,
    mean_interval95,
    quality_by_model,
)
from fl_tui.annotate.store import AnnotationItem, new_file
from fl_tui.core.errors import UserError


def test_the_interval_by_hand():
    # Wilson, z = 1.959964 (z^2 = 3.841459), p = (mean - 1) / 4, then 1 + 4 * bound.
    # [5, 5, 5]: p = 1, n = 3; centre = (1 + 3.841459 / 6) / (1 + 3.841459 / 3) = 1.640243 / 2.280486 = 0.719251;
    # half = 1.959964 * sqrt(0 + 3.841459 / 36) / 2.280486 = 0.280749 -> [0.438503, 1] -> [2.754012, 5].
    assert mean_interval95([5, 5, 5]) == (5.0, pytest.approx(2.754012, abs=1e-6), 5.0)
    assert mean_interval95([1, 1, 1]) == (1.0, 1.0, pytest.approx(3.245988, abs=1e-6))  # the mirror image
    # [3, 4, 5]: mean 4, p = 0.75; centre = (0.75 + 0.640243) / 2.280486 = 0.609626;
    # half = 1.959964 * sqrt(0.1875 / 3 + 3.841459 / 36) / 2.280486 = 1.959964 * 0.411348 / 2.280486 = 0.353533
    # -> [0.256093, 0.963159] -> [2.024371, 4.852635].
    mean, low, high = mean_interval95([3, 4, 5])
    assert (mean, low, high) == (4.0, pytest.approx(2.024371, abs=1e-6), pytest.approx(4.852635, abs=1e-6))
    assert mean_interval95([3, 4]) == (3.5, None, None)  # n = 2: "n too small" (the t interval was [-2.85, 9.85])
    assert mean_interval95([4]) == (4.0, None, None)
    with pytest.raises(ValueError):
        mean_interval95([])
    with pytest.raises(ValueError, match="outside"):
        mean_interval95([0, 3, 4])


def wilson_by_root_finding(values):
    """The Wilson interval from its definition, independently of the closed form: the p0 in [0, 1] where the score
    test |p - p0| / sqrt(p0 (1 - p0) / n) <= z, found by scipy's root finder, mapped back to 1-5."""
    n, p = len(values), (float(np.mean(values)) - 1) / 4
    z = float(scipy_stats.norm.ppf(0.975))

    def excess(p0):
        return (p - p0) ** 2 - z * z * p0 * (1 - p0) / n

    low = 0.0 if p == 0 else brentq(excess, 0.0, min(p, 1 - 1e-12), xtol=1e-14)  # excess(p) is 0 at p = 0, 1:
    high = 1.0 if p == 1 else brentq(excess, max(p, 1e-12), 1.0, xtol=1e-14)  # start the search just inside
    return 1 + 4 * low, 1 + 4 * high


@pytest.mark.parametrize("values", [[3, 3, 3], [1, 2, 3], [2, 2, 3, 5], [1, 1, 1, 5], [4, 5, 5, 5, 5, 5],
                                    [3.5, 4, 2.5], [1] * 3 + [5] * 3, list(range(1, 6)) * 8])
def test_the_interval_agrees_with_scipy_root_finding(values):
    _mean, low, high = mean_interval95(values)
    want = wilson_by_root_finding(values)
    assert (low, high) == (pytest.approx(want[0], abs=1e-9), pytest.approx(want[1], abs=1e-9))


@settings(max_examples=100, deadline=None)
@given(st.integers(3, 60), st.data())
def test_the_interval_of_1s_and_5s_is_scipys_wilson_interval_of_a_proportion(n, data):
    """Scores of 1 and 5 only are a proportion (of 5s): scipy's binomtest gives the same Wilson interval."""
    fives = data.draw(st.integers(0, n))
    _mean, low, high = mean_interval95([5] * fives + [1] * (n - fives))
    want = scipy_stats.binomtest(fives, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert (low, high) == (pytest.approx(1 + 4 * want.low, abs=1e-9), pytest.approx(1 + 4 * want.high, abs=1e-9))


# Item scores are whole scores, or the mean of a few raters' whole scores (2.5, 3.667, ...).
item_scores = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(lambda s: sum(s) / len(s))


@settings(max_examples=300, deadline=None)
@given(st.lists(item_scores, min_size=3, max_size=80))
def test_the_interval_stays_on_the_scale_holds_the_mean_and_is_never_zero_wide(values):
    mean, low, high = mean_interval95(values)
    assert 1.0 <= low <= mean <= high <= 5.0
    assert high - low > 0
    assert (low, high) == (pytest.approx(wilson_by_root_finding(values)[0], abs=1e-7),
                           pytest.approx(wilson_by_root_finding(values)[1], abs=1e-7))


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
    # p1 has the aspects a and b, p2 none: an answer counts once its overall and every aspect are scored.
    ann = annotations("ann", {"m1|p1|1": 3, "m1|p2|1": 4, "m1|p1|2": 5, "m1|p1|3": 5,
                              "m2|p1|1": 2, "m2|p2|1": None, "m2|p2|2": 2},
                      aspects={"m1|p1|1": {"a": 2, "b": 4}, "m1|p1|2": {"a": 4}, "m1|p1|3": {"a": 4, "b": 5}})
    quality = quality_by_model([ann])
    # m1: [3, 4, 5] (m1|p1|2 lacks b: partly, left out) -> mean 4, interval as in test_the_interval_by_hand;
    # aspect a: (2 + 4) / 2 = 3, b: (4 + 5) / 2 = 4.5, each over 2 answers.
    assert quality["m1"]["mean"] == 4.0 and quality["m1"]["n"] == 3 and quality["m1"]["partly"] == 1
    assert quality["m1"]["ci95"] == [pytest.approx(2.024371, abs=1e-6), pytest.approx(4.852635, abs=1e-6)]
    assert quality["m1"]["aspects"] == {"a": {"mean": 3.0, "n": 2}, "b": {"mean": 4.5, "n": 2}}
    assert quality["m1"]["raters"] == ["ann"]
    # m2: one answer scored completely (m2|p1|1 has no aspect scores: partly; m2|p2|1 none): n too small.
    assert quality["m2"] == {"mean": 2.0, "ci95": None, "n": 1, "partly": 1, "aspects": {}, "raters": ["ann"]}


def test_several_raters_are_averaged_per_item_and_judges_kept_apart():
    ann = annotations("ann", {"m1|p2|1": 3, "m1|p2|2": 4, "m1|p1|1": 2})  # m1|p1|1: partly (no aspects)
    bob = annotations("bob", {"m1|p2|1": 5, "m1|p2|2": None, "m1|p1|1": 4}, aspects={"m1|p1|1": {"a": 1, "b": 2}})
    judge = annotations("model:judge-1", {"m1|p2|1": 1, "m1|p2|2": 1})
    quality = quality_by_model([ann, bob, judge])
    # m1|p2|1: (3 + 5) / 2 = 4; m1|p2|2: 4 (bob did not score it); m1|p1|1: bob's 4 (ann's is partly) -> [4, 4, 4].
    assert quality["m1"]["mean"] == 4.0 and quality["m1"]["n"] == 3 and quality["m1"]["partly"] == 0
    assert quality["m1"]["ci95"] == [pytest.approx(v, abs=1e-9) for v in wilson_by_root_finding([4, 4, 4])]
    assert quality["m1"]["raters"] == ["ann", "bob"]
    judged = quality_by_model([judge], include_judges=True)
    assert judged["m1"]["mean"] == 1.0 and judged["m1"]["raters"] == ["model:judge-1"]
    assert quality_by_model([judge]) == {}
    with pytest.raises(UserError, match="different runs"):
        quality_by_model([ann, annotations("cy", {"m1|p1|1": 3}, run_id="r2")])


def test_agreement_picks_the_method_by_the_number_of_raters():
    a = annotations("ann", {"m|p2|1": 1, "m|p2|2": 2, "m|p2|3": 3, "m|p2|4": 4, "m|p2|5": None})
    b = annotations("bob", {"m|p2|1": 1, "m|p2|2": 2, "m|p2|3": 4, "m|p2|4": 4, "m|p2|5": 5})
    c = annotations("cy", {"m|p2|1": 1, "m|p2|2": 2, "m|p2|3": 3, "m|p2|4": 4, "m|p2|5": 5})
    two = agreement([a, b])
    partly = annotations("cy", {"m|p2|1": 1, "m|p1|9": 3})  # m|p1|9 lacks its aspects: not scored, not compared
    assert two == {"raters": ["ann", "bob"], "method": "cohen_kappa_quadratic", "value": pytest.approx(11 / 12),
                   "items": 4}
    three = agreement([a, b, c])
    assert three["method"] == "krippendorff_alpha_ordinal" and three["items"] == 4
    assert three["value"] == pytest.approx(krippendorff_alpha_ordinal([[1, 2, 3, 4], [1, 2, 4, 4], [1, 2, 3, 4]]))
    assert agreement([a])["method"] is None
    assert agreement([c, partly])["items"] == 1
    assert agreement([a, annotations("model:j", {"m|p2|1": 1})])["method"] is None  # judges only when asked
    assert "Cohen's kappa" in agreement_text(two) and "0.917" in agreement_text(two)
    assert math.isfinite(three["value"])


def test_judge_against_people_by_hand():
    ann = annotations("ann", {"m1|p2|1": 3, "m1|p2|2": 4, "m1|p2|3": 5, "m2|p2|1": 2})
    bob = annotations("bob", {"m1|p2|1": 5, "m1|p2|2": 4})
    judge = annotations("model:j", {"m1|p2|1": 4, "m1|p2|2": 4, "m1|p2|3": 2, "m2|p2|2": 5})
    result = judge_agreement([ann, bob], judge)
    # Both scored m1|p2|1..3. People: median [3, 5] = 4, [4, 4] = 4, [5] = 5; judge 4, 4, 2.
    # Quadratic kappa over categories 1-5 (positions 0-4): pairs (3,3), (3,3), (1,4): observed = 9; judge marginal
    # {3: 2, 1: 1}, people {3: 2, 4: 1}: expected = (2*1*1 + 1*2*4 + 1*1*9) / 3 = 19/3; kappa = 1 - 27/19.
    assert result["n"] == 3 and result["people"] == ["ann", "bob"] and result["judge"] == "model:j"
    assert result["kappa"] == pytest.approx(1 - 27 / 19)
    # judge - people mean per answer: 4 - 4, 4 - 4, 2 - 5 -> mean -1.
    assert result["mean_difference"] == pytest.approx(-1.0)
    assert judge_agreement_text(result) == ("model:j vs people (ann, bob) over 3 answers both scored: Cohen's kappa "
                                            "(quadratic weights) -0.421, mean difference judge - people -1.00")


def test_judge_against_people_without_a_common_answer():
    result = judge_agreement([annotations("ann", {"m1|p2|1": 3})], annotations("model:j", {"m1|p2|2": 4}))
    assert (result["n"], result["kappa"], result["mean_difference"]) == (0, None, None)
    assert judge_agreement_text(result) == "model:j vs people (ann): no answer scored by both yet"
