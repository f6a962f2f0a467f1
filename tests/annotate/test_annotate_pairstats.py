"""Pairwise results on hand-made verdicts: Bradley–Terry against hand-worked maximum-likelihood fits, the bootstrap
interval, the win table and agreement between raters."""

import math

import pytest

from fl_tui.annotate.pairstats import (
    agreement,
    bradley_terry,
    cohen_kappa,
    comparisons,
    ranking,
    results,
    results_lines,
    win_table,
)
from fl_tui.annotate.pairwise import Pair, PairwiseFile, Side


def games(a: str, b: str, wins: int, losses: int, ties: int = 0) -> list[tuple[str, str, float]]:
    return [(a, b, 1.0)] * wins + [(a, b, 0.0)] * losses + [(a, b, 0.5)] * ties


def test_two_models_fit_the_closed_form_win_ratio():
    # With two models the MLE has p_x / (p_x + p_y) = wins / (wins + losses): here 3 / 4, so p_x / p_y = 3.
    p = bradley_terry(games("x", "y", 3, 1), prior=0)
    assert p["x"] / p["y"] == pytest.approx(3.0, rel=1e-6)
    assert p["x"] * p["y"] == pytest.approx(1.0)  # geometric mean 1
    tied = bradley_terry(games("x", "y", 3, 1, ties=2), prior=0)  # a tie is half a win each: 4 of 6
    assert tied["x"] / tied["y"] == pytest.approx(2.0, rel=1e-6)


def test_three_models_fit_the_hand_worked_example():
    # A beats B 2-1, B beats C 2-1, A beats C 4-1. p = (4, 2, 1) solves every score equation
    # W_i = sum_j n_ij p_i / (p_i + p_j): A: 3*4/6 + 5*4/5 = 6 = 2 + 4; B: 3*2/6 + 3*2/3 = 3 = 1 + 2;
    # C: 3*1/3 + 5*1/5 = 2 = 1 + 1. Scaled to geometric mean 1: (2, 1, 1/2).
    p = bradley_terry(games("A", "B", 2, 1) + games("B", "C", 2, 1) + games("A", "C", 4, 1), prior=0)
    assert p == pytest.approx({"A": 2.0, "B": 1.0, "C": 0.5}, rel=1e-6)
    rows = ranking(games("A", "B", 2, 1) + games("B", "C", 2, 1) + games("A", "C", 4, 1), samples=50)
    assert [r["model"] for r in rows] == ["A", "B", "C"]
    # the default prior (half a tie against a reference) shrinks the Elo gaps of 400 log10(2) = 120.4 a little
    assert 100 < rows[0]["rating"] - rows[1]["rating"] < 400 * math.log10(2)
    assert rows[1]["rating"] == pytest.approx(1000.0, abs=1.0)
    assert [r["games"] for r in rows] == [8, 6, 8] and [r["wins"] for r in rows] == [6, 3, 2]


def test_the_prior_keeps_a_model_that_never_won_finite_and_below():
    p = bradley_terry(games("x", "y", 5, 0))
    assert math.isfinite(p["x"]) and math.isfinite(p["y"]) and p["x"] > p["y"] > 0
    weak = bradley_terry(games("x", "y", 3, 1))  # the prior pulls towards equal strength, a little
    assert 1.0 < weak["x"] / weak["y"] < 3.0


def test_the_bootstrap_interval_holds_the_estimate_and_is_the_same_for_the_same_seed():
    data = games("A", "B", 14, 6, ties=3) + games("B", "C", 12, 8) + games("A", "C", 15, 5, ties=2)
    rows = ranking(data, seed=11)
    for r in rows:
        low, high = r["ci95"]
        assert low < r["rating"] < high
    assert ranking(data, seed=11) == rows
    assert ranking(data, seed=12) != rows  # another seed, other resamples
    assert rows[0]["model"] == "A" and rows[-1]["model"] == "C"
    few = ranking(games("A", "B", 2, 1), seed=11)
    assert few[0]["ci95"][1] - few[0]["ci95"][0] > rows[0]["ci95"][1] - rows[0]["ci95"][0]  # less data, wider


def pair(prompt: str, a: str, b: str, verdict: str | None, rid_a: str | None = None, rid_b: str | None = None):
    return Pair(prompt_id=prompt, round=1, a=Side(request_id=rid_a or f"{a}-{prompt}", model=a),
                b=Side(request_id=rid_b or f"{b}-{prompt}", model=b), verdict=verdict)


def file(rater: str, pairs: list[Pair]) -> PairwiseFile:
    return PairwiseFile(run_id="r", rater=rater, seed=1, pairs=pairs)


def test_the_table_counts_each_verdict_once_with_the_models_in_order():
    f = file("ann", [pair("p1", "y", "x", "a"), pair("p2", "x", "y", "a"), pair("p3", "x", "y", "tie"),
                     pair("p4", "y", "x", "both_bad"), pair("p5", "x", "y", "skipped"), pair("p6", "x", "y", None),
                     pair("p7", "x", "z", "b")])
    assert win_table([f]) == [
        {"model_1": "x", "model_2": "y", "wins_1": 1, "ties": 1, "both_bad": 1, "wins_2": 1, "n": 4},
        {"model_1": "x", "model_2": "z", "wins_1": 0, "ties": 0, "both_bad": 0, "wins_2": 1, "n": 1},
    ]
    assert comparisons([f]) == [("y", "x", 1.0), ("x", "y", 1.0), ("x", "y", 0.5), ("y", "x", 0.5), ("x", "z", 0.0)]


def test_agreement_matches_pairs_whatever_their_sides():
    ann = file("ann", [pair("p1", "x", "y", "a"), pair("p2", "x", "y", "b"), pair("p3", "x", "y", "tie"),
                       pair("p4", "x", "y", "both_bad"), pair("p5", "x", "y", "a")])
    # bob saw p1 and p2 the other way round; agrees on p1, p2, p3; says tie where ann said both bad; did not judge p5
    bob = file("bob", [pair("p1", "y", "x", "b"), pair("p2", "y", "x", "a"), pair("p3", "x", "y", "tie"),
                       pair("p4", "y", "x", "tie"), pair("p5", "x", "y", None)])
    [result] = agreement([ann, bob])
    assert result["raters"] == ["ann", "bob"] and result["pairs"] == 4 and result["percent"] == 75.0
    # 4 verdicts: observed 3/4; ann's marginals a, b, tie, both_bad = 1/4 each, bob's a, b = 1/4, tie = 1/2:
    # expected = 1/16 + 1/16 + 1/8 + 0 = 1/4, kappa = (3/4 - 1/4) / (3/4) = 2/3
    assert result["kappa"] == pytest.approx(2 / 3)
    assert result["kappa_3"] == pytest.approx(1.0)  # both bad as a tie: they agree throughout
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None and cohen_kappa([], []) is None
    lines = results_lines(results([ann, bob]))
    assert any("75% the same verdict" in line and "kappa 0.667 over the 4 verdicts" in line for line in lines)
    assert lines[0].startswith("Pairwise ranking over 9 judged pairs") and "raters: ann, bob" in lines[0]
