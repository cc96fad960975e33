"""The ``ets`` anchor: damped-trend exponential smoothing (Holt) of the window, as one matrix.

Holt's additive damped-trend recursion is linear in the observations, so run over a window of
``lookback`` values from a fixed start it gives each forecast step as a fixed weighted sum of
the window: a matrix ``[horizon, lookback]`` (``holt_operator``). The network then predicts the
correction to that statistical forecast (the ES-RNN idea); with a deseasonalising transform
(``mstl``, ``rolling_mstl``) the window is the seasonally adjusted series, so the anchor is
MSTL + ETS(A, Ad, N), the model that wins on trending seasonal series, computed inside the
exported model from the raw window.

The smoothing parameters (level ``alpha``, trend ``beta``, damping ``phi``) are chosen on the
training windows the network sees (``fit_holt``): the grid point with the lowest mean absolute
error over the whole horizon. The recursion starts at the window's first value with the
window's mean slope, so ``alpha = 1, beta = 0, phi = 1`` is naive with drift.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger("autoseq")

ALPHAS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)
BETAS = (0.0, 0.02, 0.1, 0.3)
PHIS = (0.0, 0.9, 0.98, 1.0)
FIT_WINDOWS = 1024  # training windows the parameters are chosen on, evenly spaced


def holt_operators(alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray, *, lookback: int,
                   horizon: int) -> np.ndarray:
    """Each parameter triple's forecast as weights on the window: ``[C, horizon, lookback]``
    for ``C`` triples (arrays of equal length)."""
    alpha, beta, phi = (np.asarray(v, dtype="float64")[:, None] for v in (alpha, beta, phi))
    eye = np.eye(lookback)
    level = np.broadcast_to(eye[0], (len(alpha), lookback)).copy()
    slope = (eye[-1] - eye[0]) / max(lookback - 1, 1)
    trend = np.broadcast_to(slope, (len(alpha), lookback)).copy()
    for t in range(1, lookback):
        damped = phi * trend
        new = alpha * eye[t] + (1 - alpha) * (level + damped)
        trend = beta * (new - level) + (1 - beta) * damped
        level = new
    steps = np.cumsum(phi[:, :, None] ** np.arange(1, horizon + 1)[None, None, :], axis=2)[:, 0]
    return level[:, None, :] + steps[:, :, None] * trend[:, None, :]


def holt_operator(alpha: float, beta: float, phi: float, *, lookback: int,
                  horizon: int) -> np.ndarray:
    """``[horizon, lookback]``: the damped-trend forecast of a window (see ``holt_operators``)."""
    return holt_operators(np.array([alpha]), np.array([beta]), np.array([phi]),
                          lookback=lookback, horizon=horizon)[0]


def fit_holt(windows: np.ndarray, targets: np.ndarray) -> tuple[float, float, float]:
    """The grid's ``(alpha, beta, phi)`` whose forecasts of ``windows [N, lookback, T]`` miss
    ``targets [N, horizon, T]`` least (mean absolute error over every step and target)."""
    grid = np.array([(a, b, p) for a in ALPHAS for b in BETAS for p in PHIS
                     if not (b > 0 and p == 0)])  # no trend to smooth when it is damped away
    ops = holt_operators(grid[:, 0], grid[:, 1], grid[:, 2], lookback=windows.shape[1],
                         horizon=targets.shape[1])
    x = windows.transpose(0, 2, 1).reshape(-1, windows.shape[1]).astype("float32")
    y = targets.transpose(0, 2, 1).reshape(-1, targets.shape[1])
    errors = [float(np.mean(np.abs(x @ op.T.astype("float32") - y))) for op in ops]
    return tuple(float(v) for v in grid[int(np.nanargmin(errors))])


def holt_anchor(data: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The ``ets`` anchor of a trial of ``data`` (a ``ForecastData``) with ``config``: its
    parameters chosen on the training windows of the trial's variant (transform and scaler)
    and its operator ``matrix [horizon, lookback]``; cached per variant and lookback."""
    from autoseq.data._variants import data_variant

    lookback = int(config["lookback"])
    key = (config.get("transform", "none"), config.get("scaler", "standard"), lookback)
    cache = data.__dict__.setdefault("_holt", {})
    if key not in cache:
        variant = data_variant(data, transform=key[0], scaler=key[1])
        windows, targets = training_windows(data, variant, lookback)
        alpha, beta, phi = fit_holt(windows, targets)
        logger.debug("ets anchor (%s, lookback %d): alpha %g, beta %g, phi %g", key[0],
                     lookback, alpha, beta, phi)
        cache[key] = {"alpha": alpha, "beta": beta, "phi": phi,
                      "matrix": holt_operator(alpha, beta, phi, lookback=lookback,
                                              horizon=data.horizon)}
    return cache[key]


def training_windows(data: Any, variant: Any, lookback: int, *, most: int = FIT_WINDOWS
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``most`` training windows' target columns and targets, evenly spaced and in order,
    as the network sees them (the variant's values; a rolling profile subtracted)."""
    origins = data.origins("train", lookback)
    if variant.rolling is not None:
        origins = origins[origins >= variant.rolling.points[0]]
    if len(origins) > most:
        origins = origins[np.linspace(0, len(origins) - 1, most).astype("int64")]
    ds = data.dataset("train", lookback=lookback, batch_size=len(origins), origins=origins,
                      values=variant.values, rolling=variant.rolling)
    windows, targets = next(iter(ds))
    return (np.asarray(windows, dtype="float64")[:, :, list(data.target_idx)],
            np.asarray(targets, dtype="float64"))


__all__ = ["holt_anchor", "holt_operator", "holt_operators", "fit_holt", "training_windows"]
