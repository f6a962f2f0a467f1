"""Results of pairwise judging: wins, ties and losses per model pair, a Bradley–Terry ranking with bootstrap 95%
intervals, and agreement between raters on the pairs they both judged.

Bradley–Terry: model i beats model j with probability p_i / (p_i + p_j). The strengths are fitted by Hunter's MM
iteration (2004), p_i <- W_i / sum_j n_ij / (p_i + p_j), with W_i the wins of i and n_ij the comparisons of i and j.
A tie and a "both bad" count as half a win each. Every model also gets PRIOR virtual ties against a reference of
strength 1, so that a model that never won (or never lost) still has a finite strength; `prior=0` is the plain
maximum-likelihood fit. Strengths are shown on the Elo scale, 1000 + 400 log10(p_i / geometric mean): 100 points
apart, the higher is expected to win 64% of the time. The interval resamples the judged pairs with replacement
(BOOTSTRAP times, seeded) and refits: the 2.5th and 97.5th percentiles of each model's rating.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np

from fl_tui.annotate.pairwise import JUDGED, Pair, PairwiseFile
from fl_tui.core.textsafe import plain

PRIOR = 0.5
BOOTSTRAP = 1000
SEED = 0
ELO_BASE, ELO_SCALE = 1000.0, 400.0
_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}  # A's share of the win


def comparisons(files: Iterable[PairwiseFile]) -> list[tuple[str, str, float]]:
    """(model A, model B, A's share of the win) of every judged pair in `files` (skipped and open pairs left out);
    each rater's verdict counts once."""
    return [(p.a.model, p.b.model, _SCORE[p.verdict]) for f in files for p in f.pairs if p.verdict in _SCORE]


def win_table(files: Iterable[PairwiseFile]) -> list[dict]:
    """One row per model pair (names in sorted order): {"model_1", "model_2", "wins_1", "ties", "both_bad",
    "wins_2", "n"}, from every judged verdict."""
    rows: dict[tuple[str, str], dict] = {}
    for f in files:
        for p in f.pairs:
            if p.verdict not in JUDGED:
                continue
            first, second = sorted((p.a.model, p.b.model))
            row = rows.setdefault((first, second), {"model_1": first, "model_2": second, "wins_1": 0, "ties": 0,
                                                    "both_bad": 0, "wins_2": 0, "n": 0})
            row["n"] += 1
            if p.verdict in ("tie", "both_bad"):
                row["ties" if p.verdict == "tie" else "both_bad"] += 1
            else:
                winner = p.a.model if p.verdict == "a" else p.b.model
                row["wins_1" if winner == first else "wins_2"] += 1
    return [rows[k] for k in sorted(rows)]


def _strengths(games: np.ndarray, wins: np.ndarray, prior: float, iterations: int = 20_000,
               tolerance: float = 1e-9) -> np.ndarray:
    """Bradley–Terry strengths by MM, for a batch of data sets at once: `games[s, i, j]` comparisons of i and j,
    `wins[s, i]` the (half-)wins of i; the `prior` ties against a reference of strength 1 add prior/2 to each
    model's wins and `prior` games. Without a prior the strengths are kept at geometric mean 1."""
    p = np.ones(wins.shape)
    w = wins + prior / 2.0
    for _ in range(iterations):
        denominator = (games / (p[:, :, None] + p[:, None, :])).sum(axis=2) + prior / (p + 1.0)
        new = np.divide(w, denominator, out=p.copy(), where=denominator > 0)
        if prior == 0:
            new = new / np.exp(np.log(new).mean(axis=1, keepdims=True))
        if np.max(np.abs(new - p) / p) < tolerance:
            return new
        p = new
    return p


def _counts(models: Sequence[str], games: Sequence[tuple[str, str, float]],
            picks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(comparisons, wins) of each resample: `picks[s]` are the indices into `games` of resample s."""
    index = {m: i for i, m in enumerate(models)}
    k = len(models)
    first = np.array([index[a] for a, _, _ in games])
    second = np.array([index[b] for _, b, _ in games])
    share = np.array([s for _, _, s in games], dtype=float)
    samples = picks.shape[0]
    rows = np.repeat(np.arange(samples), picks.shape[1])
    i, j, x = first[picks].ravel(), second[picks].ravel(), share[picks].ravel()
    n = np.zeros((samples, k, k))
    np.add.at(n, (rows, i, j), 1.0)
    n = n + n.transpose(0, 2, 1)
    w = np.zeros((samples, k))
    np.add.at(w, (rows, i), x)
    np.add.at(w, (rows, j), 1.0 - x)
    return n, w


def elo(p: np.ndarray) -> np.ndarray:
    """Strengths on the Elo scale, centred on the geometric mean: 1000 + 400 log10(p / gm)."""
    logs = np.log10(p)
    return ELO_BASE + ELO_SCALE * (logs - logs.mean(axis=-1, keepdims=True))


def bradley_terry(games: Sequence[tuple[str, str, float]], *, prior: float = PRIOR) -> dict[str, float]:
    """{model: strength}, geometric mean 1, fitted to `games` (model A, model B, A's share of the win)."""
    models = sorted({m for a, b, _ in games for m in (a, b)})
    n, w = _counts(models, games, np.arange(len(games))[None, :])
    p = _strengths(n, w, prior)[0]
    p = p / math.exp(np.log(p).mean())
    return dict(zip(models, p.tolist(), strict=True))


def ranking(games: Sequence[tuple[str, str, float]], *, prior: float = PRIOR, samples: int = BOOTSTRAP,
            seed: int = SEED) -> list[dict]:
    """The models best first: {"model", "rating", "ci95": [lo, hi], "games", "wins"} (rating on the Elo scale;
    wins count ties as halves), the interval from `samples` bootstrap resamples of the judged pairs."""
    if not games:
        return []
    models = sorted({m for a, b, _ in games for m in (a, b)})
    n, w = _counts(models, games, np.arange(len(games))[None, :])
    point = elo(_strengths(n, w, prior))[0]
    picks = np.random.default_rng(seed).integers(0, len(games), (samples, len(games)))
    draws = elo(_strengths(*_counts(models, games, picks), prior))
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    rows = [{"model": m, "rating": float(point[i]), "ci95": [float(low[i]), float(high[i])],
             "games": int(n[0, i].sum()), "wins": float(w[0, i])} for i, m in enumerate(models)]
    return sorted(rows, key=lambda r: -r["rating"])


# -- agreement -------------------------------------------------------------------------------------------------


def _canonical(pair: Pair) -> str:
    """The verdict with the sides put in request-id order, so two raters' differently shuffled pairs compare."""
    if pair.verdict in ("tie", "both_bad") or pair.a.request_id < pair.b.request_id:
        return str(pair.verdict)
    return {"a": "b", "b": "a"}[str(pair.verdict)]


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Unweighted Cohen's kappa of two raters' labels of the same items; None when undefined (no items, or both
    gave one and the same label throughout)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    labels = set(a) | set(b)
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in labels)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def agreement(files: Sequence[PairwiseFile]) -> list[dict]:
    """For every two raters, over the pairs both judged: {"raters": [r1, r2], "pairs": n, "percent": %,
    "kappa": Cohen's kappa over the four verdicts, "kappa_3": over A / B / tie (both bad as a tie)}."""
    out = []
    for f, g in itertools.combinations(files, 2):
        mine = {p.key(): _canonical(p) for p in f.pairs if p.verdict in JUDGED}
        theirs = {p.key(): _canonical(p) for p in g.pairs if p.verdict in JUDGED}
        common = sorted(set(mine) & set(theirs), key=lambda k: (k[0], k[1], sorted(k[2])))
        x, y = [mine[k] for k in common], [theirs[k] for k in common]
        merge = [{"both_bad": "tie"}.get(v, v) for v in x], [{"both_bad": "tie"}.get(v, v) for v in y]
        out.append({"raters": [f.rater, g.rater], "pairs": len(common),
                    "percent": 100.0 * sum(u == v for u, v in zip(x, y, strict=True)) / len(common) if common else None,
                    "kappa": cohen_kappa(x, y), "kappa_3": cohen_kappa(*merge)})
    return out


def results(files: Sequence[PairwiseFile]) -> dict:
    """Everything the results view and the report show: {"raters", "judged", "table", "ranking", "agreement"}."""
    games = comparisons(files)
    return {"raters": [f.rater for f in files], "judged": len(games), "table": win_table(files),
            "ranking": ranking(games), "agreement": agreement(files)}


def results_lines(result: dict) -> list[str]:
    """The results as short lines (model names are the caller's to make safe): ranking, table, agreement."""
    lines = [f"Pairwise ranking over {result['judged']} judged pairs (raters: {', '.join(result['raters'])})",
             "Bradley–Terry, Elo scale, [95% bootstrap interval]; points: a win 1, a tie or both bad ½", ""]
    for i, r in enumerate(result["ranking"], 1):
        lo, hi = r["ci95"]
        lines.append(f"{i}. {r['model']}: {r['rating']:.0f} [{lo:.0f}, {hi:.0f}] ({r['games']} pairs, "
                     f"{r['wins']:g} points)")  # ties count half: "1 wins" read as a pair won
    if not result["ranking"]:
        lines.append("No pair is judged yet.")
    if result["table"]:
        lines += ["", "Per pair of models: wins of the first / ties / both bad / wins of the second"]
    for t in result["table"]:
        lines += [f"{t['model_1']} vs {t['model_2']}:",
                  f"    {t['wins_1']} / {t['ties']} / {t['both_bad']} / {t['wins_2']} (n={t['n']})"]
    for a in result["agreement"]:
        who = f"{a['raters'][0]} and {a['raters'][1]}"
        if not a["pairs"]:
            lines += ["", f"Agreement of {who}: no pair judged by both"]
            continue
        kappa, kappa_3 = ("undefined" if k is None else f"{k:.3f}" for k in (a["kappa"], a["kappa_3"]))
        lines += ["", f"Agreement of {who} over {a['pairs']} pairs both judged:",
                  f"    {a['percent']:.0f}% the same verdict; Cohen's kappa {kappa} over the 4 verdicts, "
                  f"{kappa_3} over A / B / tie"]
    return lines


def results_text(run_id: str, files: Sequence[PairwiseFile], problems: Sequence[object] = ()) -> str:
    """The Annotate tab's pairwise results of a run, every line plain (model and rater names are untrusted)."""
    lines = [f"Pairwise results of run {run_id}", "", *results_lines(results(files))]
    lines += [f"left out: {p}" for p in problems]
    return "\n".join(plain(line, keep_newlines=False) for line in lines)
