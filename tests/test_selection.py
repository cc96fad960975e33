"""The default export's choice among trials' means and blends with a baseline (both tasks)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from autoseq.exporting._selection import (
    BLEND_WEIGHTS,
    blend_name,
    choose,
    greedy_weights,
    weighted_name,
)


def _mae(truth):
    return lambda pred: float(np.mean(np.abs(pred - truth)))


def test_the_lowest_candidate_wins_and_ties_go_to_the_simpler():
    truth = np.zeros((6, 3))
    good, bad = np.full((6, 3), 1.0), np.full((6, 3), 3.0)
    # The mean of the 3 best (1, -1, 1: mean 1/3) beats the best trial (1) and the 5 best.
    preds = [good, -good, good, bad, bad]
    picked = choose(preds, (1, 3, 5), {"naive": bad}, _mae(truth), metric="MAE")
    assert picked["chosen"] == "mean of 3 best trials" and picked["size"] == 3
    assert picked["blend"] is None and picked["weight"] == 1.0
    assert set(picked["scores"]) == {"best trial", "mean of 3 best trials",
                                     "mean of 5 best trials",
                                     *(blend_name("mean of 3 best trials", "naive", w)
                                       for w in BLEND_WEIGHTS)}
    assert picked["baseline"] == {"name": "naive", "score": 3.0}
    # Equal scores: the best trial alone, not the mean of 3 of the same forecast.
    tie = choose([good, good, good], (1, 3), {}, _mae(truth), metric="MAE")
    assert tie["chosen"] == "best trial" and tie["size"] == 1 and tie["baseline"] is None


def test_a_blend_or_the_baseline_alone_wins_when_it_validates_better(caplog):
    truth = np.zeros((4, 2))
    net, base = np.full((4, 2), 1.0), np.full((4, 2), -1.0)
    half = choose([net], (1,), {"naive": base}, _mae(truth), metric="MAE")
    assert half["chosen"] == "best trial + naive" and half["weight"] == 0.5
    assert half["scores"]["best trial + naive"] == 0.0
    with caplog.at_level(logging.WARNING, logger="autoseq"):
        alone = choose([net * 5, net * 6], (1, 2), {"naive": base / 10, "drift": base},
                       _mae(truth), metric="OWA")
    assert alone["chosen"] == "naive" and alone["blend"] == "naive" and alone["weight"] == 0.0
    assert any("baseline naive beats every network" in r.getMessage() and "OWA" in r.getMessage()
               for r in caplog.records)


def test_networks_with_non_finite_forecasts_lose_to_any_finite_candidate():
    truth = np.zeros((3, 2))
    nan = np.full((3, 2), np.nan)
    picked = choose([nan], (1,), {"naive": np.ones((3, 2))}, _mae(truth), metric="MAE")
    assert picked["chosen"] == "naive" and picked["weight"] == 0.0


def test_the_weighted_ensemble_reaches_a_mix_no_blend_can():
    """Three forecasts whose mean is exact: no blend of the network with one baseline is, so
    the weighted ensemble (a third each, picked in three rounds) wins; the blends are still
    scored beside it."""
    truth = np.zeros((2, 1))
    net, b1, b2 = (np.array([[3.0], [0.0]]), np.array([[0.0], [3.0]]),
                   np.array([[-3.0], [-3.0]]))
    comps = {"trial 4": net, "b1": b1, "b2": b2}
    weights, score = greedy_weights(comps, _mae(truth))
    assert score == 0.0 and weights == pytest.approx({"trial 4": 1 / 3, "b1": 1 / 3, "b2": 1 / 3})
    picked = choose([net], (1,), {"b1": b1, "b2": b2}, _mae(truth), metric="MAE",
                    components=comps)
    assert picked["weights"] == weights and picked["chosen"] == weighted_name(weights)
    assert picked["blend"] is None and picked["scores"][picked["chosen"]] == 0.0
    assert picked["scores"]["best trial + b2"] == 0.75  # the best blend


def test_the_weighted_ensemble_is_never_worse_than_its_best_component_and_ties_stay_simple():
    """Its weights are those of its best round, so adding a poor component never costs; a mix
    that only equals a simpler candidate is not chosen."""
    truth = np.zeros((3, 2))
    exact, poor = np.zeros((3, 2)), np.full((3, 2), 5.0)
    weights, score = greedy_weights({"poor": poor, "exact": exact}, _mae(truth), rounds=10)
    assert weights == {"exact": 1.0} and score == 0.0
    picked = choose([exact], (1,), {"poor": poor}, _mae(truth), metric="MAE",
                    components={"trial 0": exact, "poor": poor})
    assert picked["chosen"] == "best trial" and picked["weights"] is None


def test_the_weighted_ensemble_must_win_by_the_margin():
    """Its weights are fitted on the windows it is scored on: a gain under ``WEIGHTED_MARGIN``
    keeps the simpler candidate, a larger one takes the ensemble."""
    from autoseq.exporting._selection import WEIGHTED_MARGIN

    truth = np.zeros((2, 1))
    net = np.ones((2, 1))
    for gain, wins in ((WEIGHTED_MARGIN / 2, False), (WEIGHTED_MARGIN * 2, True)):
        other = net * (1 - gain)
        picked = choose([net], (1,), {}, _mae(truth), metric="MAE",
                        components={"trial 0": net, "other": other})
        assert (picked["chosen"] == weighted_name({"other": 1.0})) == wins
    # a negative score (none of today's objectives): the margin still asks for lower
    worse = choose([net], (1,), {}, lambda p: -1.0 + float(np.mean(p)) - 1.0, metric="X",
                   components={"trial 0": net, "other": net * (1 + WEIGHTED_MARGIN / 2)})
    assert worse["weights"] is None
