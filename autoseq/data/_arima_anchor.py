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
"""The most training steps AutoARIMA is fitted on (the last ones before validation)."""


def arima_operator(model: Any, *, reference: np.ndarray, horizon: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(matrix [horizon, L], bias [horizon])`` with ``forward(w) == matrix @ w + bias`` for a
    fitted statsforecast ARIMA ``model`` and windows of ``reference``'s length L (measured
    around ``reference``, which must not be constant: statsforecast forecasts a constant
    series as itself)."""
    def forward(w: np.ndarray) -> np.ndarray:
        return np.asarray(model.forward(y=w, h=horizon)["mean"], dtype="float64")

    base = forward(reference)
    eye = np.eye(len(reference))
    matrix = np.stack([forward(reference + eye[i]) - base for i in range(len(reference))], 1)
    return matrix, base - matrix @ reference


def arima_anchor(data: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The ``arima`` anchor of a trial of ``data`` (a ``ForecastData``) with ``config``:
    AutoARIMA fitted on the last ``FIT_LENGTH`` training steps of the trial's variant (the
    first target column as the network sees it), and its affine operator over the trial's
    lookback; ``{"order", "coef", "matrix", "bias"}``, cached per variant and lookback. A fit
    that fails, or a window too short for the model, falls back to the last value."""
    from autoseq.data._variants import data_variant

    lookback = int(config["lookback"])
    key = (config.get("transform", "none"), config.get("scaler", "standard"), lookback)
    cache = data.__dict__.setdefault("_arima", {})
    if key not in cache:
        cache[key] = _fit(data, data_variant(data, transform=key[0], scaler=key[1]), lookback)
    return cache[key]


def _fit(data: Any, variant: Any, lookback: int) -> dict[str, Any]:
    fallback = {"order": None, "coef": {}, "matrix": naive_matrix(data.horizon, lookback),
                "bias": np.zeros(data.horizon)}
    origins = data.origins("train")
    length = min(FIT_LENGTH, int(origins[-1]) if len(origins) else 0)  # the last window's
    if lookback < 2 or length < max(2 * lookback, 16):
        return fallback
    series = training_windows(data, variant, length, most=2)[0][-1, :, 0]
    try:
        from statsforecast.models import AutoARIMA

        model = AutoARIMA().fit(series)
        matrix, bias = arima_operator(model, reference=series[-lookback:],
                                      horizon=data.horizon)
    except Exception as exc:  # a degenerate series: the last value rather than no trial
        logger.debug("arima anchor: fit failed (%s); the last value instead", exc)
        return fallback
    if not (np.isfinite(matrix).all() and np.isfinite(bias).all()):
        return fallback
    p, q, _, _, _, d, _ = model.model_["arma"]
    coef = {k: float(v) for k, v in model.model_.get("coef", {}).items()}
    logger.debug("arima anchor (lookback %d): ARIMA(%d,%d,%d) %s", lookback, p, d, q, coef)
    return {"order": [int(p), int(d), int(q)], "coef": coef, "matrix": matrix, "bias": bias}


__all__ = ["arima_anchor", "arima_operator", "FIT_LENGTH"]
