"""The ``arima`` anchor of a single series' trial: statsforecast's AutoARIMA fitted once on the
trial's training rows (its transform and scaler: after ``mstl`` or ``rolling_mstl``, MSTL +
AutoARIMA), then applied to each window with its orders and coefficients fixed.

With its parameters fixed, an ARIMA forecast (Kalman filter over the window, differencing,
drift) is an affine function of the window: ``matrix [horizon, lookback] @ window + bias
[horizon]``. Both are measured from the fitted model itself (``forward`` on a reference window
and on that window plus each unit impulse), so the model serves it as one matrix product inside
the graph — no statsforecast at serving time. On four trending M4 weekly series (H=52) the
fixed model, fitted before the test years and applied to the last five years before each
origin, scored 117.6 / 173.6 / 47.6 / 102.4 against 122.1 / 187.2 / 47.1 / 109.2 for MSTL +
AutoARIMA refitted at every origin: refitting buys nothing there.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from autoseq.data._holt import training_windows
from autoseq.data._linear import naive_matrix

logger = logging.getLogger("autoseq")

FIT_LENGTH = 1024
"""The most training steps AutoARIMA is fitted on (the last ones)."""


def arima_operator(model: Any, *, lookback: int, horizon: int
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(matrix [horizon, lookback], bias [horizon])`` with ``forward(w) == matrix @ w + bias``
    for a fitted statsforecast ARIMA ``model`` and any window ``w`` of ``lookback`` steps;
    ``None`` when the fixed model is not affine in the window (checked on a second window).

    Measured around a fixed random reference (statsforecast forecasts a constant series as
    itself, so a flat stretch of the data must not be the reference) and its unit impulses."""
    def forward(w: np.ndarray) -> np.ndarray:
        return np.asarray(model.forward(y=w, h=horizon)["mean"], dtype="float64")

    rng = np.random.default_rng(0)
    reference = rng.standard_normal(lookback)
    base = forward(reference)
    eye = np.eye(lookback)
    matrix = np.stack([forward(reference + eye[i]) - base for i in range(lookback)], 1)
    bias = base - matrix @ reference
    check = 3.0 * rng.standard_normal(lookback) + 1.0
    expected = forward(check)
    if not np.allclose(matrix @ check + bias, expected, rtol=1e-6,
                       atol=1e-6 * (1.0 + np.abs(expected).max())):
        return None
    return matrix, bias


def arima_anchor(data: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The ``arima`` anchor of a trial of ``data`` (a ``ForecastData``) with ``config``:
    AutoARIMA fitted on the last ``FIT_LENGTH`` training steps of the trial's variant (the
    target as the network sees it; once per variant), and its affine operator over the trial's
    lookback; ``{"order", "coef", "matrix", "bias"}``, cached per variant and lookback. With
    several targets, a failed fit, a model that is not affine in the window or a window too
    short for it, the anchor is the last value (``order`` None)."""
    from autoseq.data._variants import data_variant

    lookback = int(config["lookback"])
    variant_key = (config.get("transform", "none"), config.get("scaler", "standard"))
    cache = data.__dict__.setdefault("_arima", {})
    if (*variant_key, lookback) not in cache:
        if variant_key not in cache:  # the fitted model, shared by every lookback
            cache[variant_key] = _fit_model(
                data, data_variant(data, transform=variant_key[0], scaler=variant_key[1]))
        cache[(*variant_key, lookback)] = _anchor(cache[variant_key], data.horizon, lookback)
    return cache[(*variant_key, lookback)]


def _fit_model(data: Any, variant: Any):
    """AutoARIMA on the last training steps of ``variant`` (the last training window and its
    targets, as the network sees them); ``None`` where there is no single target, too little
    history or the fit fails."""
    origins = data.origins("train")
    length = min(FIT_LENGTH - data.horizon, int(origins[-1]) if len(origins) else 0)
    if data.n_targets != 1 or length < 16:
        return None
    try:
        from statsforecast.models import AutoARIMA

        windows, targets = training_windows(data, variant, length, most=2)
        return AutoARIMA().fit(np.concatenate([windows[-1, :, 0], targets[-1, :, 0]]))
    except Exception as exc:  # noqa: BLE001 - a degenerate series: the last value, not no trial
        logger.debug("arima anchor: fit failed (%s); the last value instead", exc)
        return None


def _anchor(model: Any, horizon: int, lookback: int) -> dict[str, Any]:
    fallback = {"order": None, "coef": {}, "matrix": naive_matrix(horizon, lookback),
                "bias": np.zeros(horizon)}
    if model is None or lookback < 2:
        return fallback
    try:
        measured = arima_operator(model, lookback=lookback, horizon=horizon)
    except Exception as exc:  # noqa: BLE001 - a window too short for the model's orders
        logger.debug("arima anchor: no operator over %d steps (%s)", lookback, exc)
        return fallback
    if measured is None or not all(np.isfinite(a).all() for a in measured):
        return fallback
    p, q, _, _, _, d, _ = model.model_["arma"]
    coef = {k: float(v) for k, v in model.model_.get("coef", {}).items()}
    logger.debug("arima anchor (lookback %d): ARIMA(%d,%d,%d) %s", lookback, p, d, q, coef)
    return {"order": [int(p), int(d), int(q)], "coef": coef, "matrix": measured[0],
            "bias": measured[1]}


__all__ = ["arima_anchor", "arima_operator", "FIT_LENGTH"]
