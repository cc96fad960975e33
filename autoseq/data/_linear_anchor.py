"""The ``linear`` anchor of a single series' trial: the linear autoregression over the trial's
lookback (``autoseq.data._linear``), fitted on the training windows of the trial's variant
(its transform and scaler), which the network then corrects."""

from __future__ import annotations

import logging
from typing import Any

from autoseq.data._holt import training_windows
from autoseq.data._linear import LINEAR_FIT_WINDOWS, choose_ridge, naive_matrix
from autoseq.data._variants import data_variant

logger = logging.getLogger("autoseq")


def linear_anchor(data: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The ``linear`` anchor of a trial of ``data`` (a ``ForecastData``) with ``config``: the
    linear autoregression over the trial's lookback, fitted like the baseline on the training
    windows of the trial's variant (transform and scaler); ``{"ridge", "matrix"}``, cached per
    variant and lookback."""
    lookback = int(config["lookback"])
    key = (config.get("transform", "none"), config.get("scaler", "standard"), lookback)
    cache = data.__dict__.setdefault("_linear_anchor", {})
    if key not in cache:
        variant = data_variant(data, transform=key[0], scaler=key[1])
        if lookback < 2:
            ridge, matrix = 0.0, naive_matrix(data.horizon, lookback)
        else:
            ridge, matrix = choose_ridge(*training_windows(data, variant, lookback,
                                                           most=LINEAR_FIT_WINDOWS))
        logger.debug("linear anchor (%s, lookback %d): ridge %g", key[0], lookback, ridge)
        cache[key] = {"ridge": ridge, "matrix": matrix}
    return cache[key]


__all__ = ["linear_anchor"]
