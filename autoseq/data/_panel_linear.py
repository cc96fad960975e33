"""The ``linear`` baseline of a panel: one linear autoregression shared by every series.

The single-series ``linear`` baseline (``autoseq.data._linear``) fitted globally: each training
window is divided by its own scale (``window_scale``, as the network sees it), and one matrix
``W [horizon, lookback]`` whose rows sum to one is fitted by ridge regression on windows drawn
from every series (a series uniformly, then one of its windows, as a training epoch draws
them). Rows summing to one make it homogeneous, so the matrix forecasts a raw window in its
series' units unchanged: inside an exported model it is one ``LinearAnchor``, and a network
with ``anchor: linear`` corrects its forecast of the normalised window.

Only training steps are used. The window length and ridge strength are chosen on each series'
last training window (its targets the last ``horizon`` training steps), fitted on windows whose
targets end before it; then the weights are refitted on windows drawn from all training windows.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from autoseq.data._linear import LinearFit, fit_matrices, holdout_scores

logger = logging.getLogger("autoseq")

PANEL_LINEAR_WINDOWS = 16_384
"""Training windows drawn to fit the panel's linear model (and at most as many to choose it)."""


def panel_linear(data: Any, lookback: int | None = None, *, seed: int = 0) -> LinearFit | None:
    """The ``linear`` baseline of ``data`` (a ``PanelData``): the best of its
    ``linear_lookbacks``, or the fit at ``lookback``; cached in ``data.memo``. ``None`` when
    no series has a training window before its last one."""
    key = ("linear", lookback)
    if key not in data.memo:
        candidates = list(data.linear_lookbacks) if lookback is None else [int(lookback)]
        data.memo[key] = _fit(data, candidates, seed=seed)
        if lookback is None and data.memo[key] is not None:
            data.memo["linear", data.memo[key].lookback] = data.memo[key]
    return data.memo[key]


def _fit(data: Any, lookbacks: list[int], *, seed: int) -> LinearFit | None:
    rng = np.random.default_rng(seed)
    series, position = data.origins("train")
    last = position == data.train_end[series] - data.horizon
    early = position + data.horizon <= data.train_end[series] - data.horizon
    if not early.any() or not lookbacks:
        return None
    fit = _draw(series[early], position[early], rng)
    check = _draw(series[last], position[last], rng)
    scores: dict[tuple[int, float], float] = {}
    for lookback in lookbacks:
        x, y = _normalised(data, fit, lookback)
        xc, yc = _normalised(data, check, lookback)
        for ridge, mae in holdout_scores(x, y, xc, yc).items():
            scores[(lookback, ridge)] = mae
    lookback, ridge = min(scores, key=lambda k: (scores[k], k))
    every = _draw(series, position, rng)
    matrix = fit_matrices(*_normalised(data, every, lookback), (ridge,))[ridge]
    logger.debug("panel linear baseline: lookback %d, ridge %g (MAE %.4g on each series' last "
                 "training window, normalised)", lookback, ridge, scores[(lookback, ridge)])
    return LinearFit(lookback=lookback, ridge=ridge, matrix=matrix)


def linear_forecasts(data: Any, fit: LinearFit, series: np.ndarray,
                     position: np.ndarray, *, chunk: int = 65_536) -> np.ndarray:
    """``fit``'s forecasts ``[W, horizon]`` (float64, series' units) of the raw windows before
    ``(series, position)``, cut and multiplied ``chunk`` windows at a time."""
    out = np.empty((len(series), data.horizon), dtype="float64")
    matrix = fit.matrix.T.astype("float32")
    for i in range(0, len(series), chunk):
        x, _ = data.windows(series[i:i + chunk], position[i:i + chunk], fit.lookback,
                            targets=False)
        out[i:i + chunk] = x @ matrix
    return out


def _draw(series: np.ndarray, position: np.ndarray, rng: np.random.Generator,
          most: int = PANEL_LINEAR_WINDOWS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` of the windows ``(series, position)``: all of them, or drawn with each
    series equally likely (then one of its windows uniformly)."""
    if len(series) <= most:
        return series, position
    weight = 1.0 / np.bincount(series)[series]
    pick = rng.choice(len(series), size=most, replace=False, p=weight / weight.sum())
    return series[np.sort(pick)], position[np.sort(pick)]


def _normalised(data: Any, origins: tuple[np.ndarray, np.ndarray],
                lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``[N, lookback]`` and targets ``[N, horizon]`` divided by the window's scale
    (float64)."""
    x, y, _ = data.normalised_at(*origins, lookback)
    return x.astype("float64"), y.astype("float64")


__all__ = ["PANEL_LINEAR_WINDOWS", "linear_forecasts", "panel_linear"]
