"""The ``linear`` baseline: each forecast step a fitted weighted sum of the window.

A direct multi-step linear autoregression (the DLinear / NLinear family): the forecast of step
``h`` is ``sum_l W[h, l] x[l]`` with every row of ``W`` summing to one, so the forecast moves
with the window's level and scale (it is fitted on the differences to the window's last value,
by ridge regression). That makes it unit-free: the matrix fitted on the scaled training windows
forecasts the raw window unchanged, inside an exported model as one ``LinearAnchor``. Its rows
can hold a season's shape, a trend's slope and a pull towards the window's mean at once, which
none of naive, seasonal naive or seasonal drift can.

Only training rows are used: the window length and the ridge strength are chosen on the last
fifth of the training windows (their targets kept apart from the windows fitted on), then the
weights are refitted on every training window (``LINEAR_FIT_WINDOWS`` at most of each, evenly
spaced, so a long series costs no more than 4,096 windows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger("autoseq")

RIDGES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
"""Ridge strengths tried, relative to the mean diagonal of the windows' Gram matrix."""
MAX_LOOKBACK = 1024
LINEAR_FIT_WINDOWS = 4096
MIN_WINDOWS = 30
"""Training windows a window length needs to be tried (a fifth of them choose it)."""
MIN_FIT_WINDOWS = 10
"""Windows left to fit on once the chosen fifth and the horizon before it are set apart."""


@dataclass(frozen=True)
class LinearFit:
    """The fitted ``linear`` baseline: ``matrix [horizon, lookback]`` (rows sum to one)."""

    lookback: int
    ridge: float
    matrix: np.ndarray

    @property
    def name(self) -> str:
        return f"linear(L={self.lookback})"


def linear_lookbacks(horizon: int, seasons: list[int] | tuple[int, ...]) -> list[int]:
    """Window lengths tried: two and four horizons, and a season plus a horizon, two and three
    seasons for each season (at most ``MAX_LOOKBACK``)."""
    out = {2 * horizon, 4 * horizon}
    for m in seasons:
        if m > 1:
            out |= {m + horizon, 2 * m, 3 * m}
    return sorted(v for v in out if 2 <= v <= MAX_LOOKBACK)


def fit_matrix(windows: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """``[horizon, lookback]`` weights forecasting ``targets [N, H]`` from ``windows [N, L]``
    as the last value plus a ridge regression on the differences to it (rows sum to one)."""
    return fit_matrices(windows, targets, (ridge,))[ridge]


def fit_matrices(windows: np.ndarray, targets: np.ndarray,
                 ridges: tuple[float, ...] = RIDGES) -> dict[float, np.ndarray]:
    """``fit_matrix`` at each of ``ridges``, the Gram matrix computed once."""
    last = windows[:, -1:]
    x = windows[:, :-1] - last
    gram, cross = x.T @ x, x.T @ (targets - last)
    size = len(gram)
    out = {}
    for ridge in ridges:
        penalty = ridge * float(np.trace(gram)) / max(size, 1) + 1e-9
        w = np.linalg.solve(gram + penalty * np.eye(size), cross)  # [L-1, H]
        out[ridge] = np.concatenate([w, 1.0 - w.sum(axis=0, keepdims=True)]).T
    return out


def holdout_scores(windows: np.ndarray, targets: np.ndarray, held: np.ndarray,
                   held_targets: np.ndarray) -> dict[float, float]:
    """Each of ``RIDGES``: the mean absolute error on ``held`` windows of the matrix fitted on
    ``windows`` (``fit_matrices``)."""
    return {ridge: float(np.mean(np.abs(held @ m.T - held_targets)))
            for ridge, m in fit_matrices(windows, targets).items()}


def naive_matrix(horizon: int, lookback: int) -> np.ndarray:
    """``[horizon, lookback]`` weights that repeat the window's last value (no fit)."""
    return np.tile(np.eye(lookback)[-1], (horizon, 1))


def _windows(series: np.ndarray, origins: np.ndarray, lookback: int,
             horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every target column's windows and targets at ``origins``, stacked: ``[N·T, L]``,
    ``[N·T, H]``."""
    back = origins[:, None] + np.arange(-lookback, 0)[None, :]
    ahead = origins[:, None] + np.arange(horizon)[None, :]
    x, y = series[back], series[ahead]  # [N, L, T], [N, H, T]
    return (x.transpose(0, 2, 1).reshape(-1, lookback),
            y.transpose(0, 2, 1).reshape(-1, horizon))


def _spaced(origins: np.ndarray, most: int) -> np.ndarray:
    if len(origins) <= most:
        return origins
    return origins[np.linspace(0, len(origins) - 1, most).round().astype("int64")]


def fit_linear(series: np.ndarray, train_rows: int, horizon: int,
               seasons: list[int] | tuple[int, ...], *,
               lookbacks: list[int] | None = None) -> LinearFit | None:
    """The ``linear`` baseline fitted on the first ``train_rows`` rows of ``series [rows,
    targets]`` (scaled), its window length one of ``lookbacks`` (default
    ``linear_lookbacks``); ``None`` when none leaves ``MIN_WINDOWS`` training windows."""
    series = np.asarray(series, dtype="float64")
    scores: dict[tuple[int, float], float] = {}
    for lookback in lookbacks or linear_lookbacks(horizon, seasons):
        origins = np.arange(lookback, train_rows - horizon + 1)
        if len(origins) < MIN_WINDOWS:
            continue
        held = max(len(origins) // 5, 1)
        check = origins[-held:]
        fit = origins[origins + horizon <= check[0]]
        if len(fit) < MIN_FIT_WINDOWS:  # a long horizon leaves few windows before the fifth
            continue
        x, y = _windows(series, _spaced(fit, LINEAR_FIT_WINDOWS), lookback, horizon)
        xc, yc = _windows(series, _spaced(check, LINEAR_FIT_WINDOWS), lookback, horizon)
        for ridge, mae in holdout_scores(x, y, xc, yc).items():
            scores[(lookback, ridge)] = mae
    if not scores:
        return None
    lookback, ridge = min(scores, key=lambda k: (scores[k], k))
    origins = _spaced(np.arange(lookback, train_rows - horizon + 1), LINEAR_FIT_WINDOWS)
    matrix = fit_matrix(*_windows(series, origins, lookback, horizon), ridge)
    logger.debug("linear baseline: lookback %d, ridge %g (holdout MAE %.4g, scaled)", lookback,
                 ridge, scores[(lookback, ridge)])
    return LinearFit(lookback=lookback, ridge=ridge, matrix=matrix)


def choose_ridge(windows: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """The ridge of ``RIDGES`` whose fit on the first four fifths of ``windows [N, L, T]``
    (chronological) forecasts ``targets [N, H, T]`` of the last fifth best, and the matrix
    refitted with it on all of them."""
    x = windows.transpose(0, 2, 1).reshape(-1, windows.shape[1])
    y = targets.transpose(0, 2, 1).reshape(-1, targets.shape[1])
    cut = len(windows) - max(len(windows) // 5, 1)
    k = cut * windows.shape[2]  # the rows of the first ``cut`` windows, every target column
    scores = holdout_scores(x[:k], y[:k], x[k:], y[k:]) if k else dict.fromkeys(RIDGES, 0.0)
    best = min(RIDGES, key=scores.get)
    return best, fit_matrix(x, y, best)


def linear_baseline(data: Any, lookback: int | None = None) -> LinearFit | None:
    """The ``linear`` baseline of ``data`` (a ``ForecastData``), fitted on its scaled training
    rows once and cached on it; with ``lookback``, the one over that window length (an export
    refitted on training + validation rows keeps the length chosen before)."""
    cache = data.__dict__.setdefault("_linear", {})

    def fitted(key: int | None) -> LinearFit | None:
        if key not in cache:
            cache[key] = fit_linear(data.scaled[:, data.target_idx], data.split.train,
                                    data.horizon, data.seasons,
                                    lookbacks=None if key is None else [key])
        return cache[key]

    chosen = fitted(None)
    if lookback is None or (chosen is not None and chosen.lookback == lookback):
        return chosen
    return fitted(lookback)
