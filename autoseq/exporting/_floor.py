"""Forecasts of a quantity that is never negative (counts, demand, sales) are raised to zero
inside the exported model: a network, a drift or a linear model can forecast below zero near
the series' low values, where the truth cannot be."""

from __future__ import annotations

from typing import Any

import numpy as np

from autoseq.data import ForecastData

NEAR_ZERO = 0.05
"""A target counts as never negative when none of the rows export sees (training and
validation) is below zero and its lowest is within this share of its mean: the forecasts can
then reach below zero. A positive series far from zero (a temperature in summer) is left as it
is: its future may still cross zero."""

FLOOR_TRANSFORM = {
    "kind": "floor", "where": "inside the model (layers floor*)",
    "rule": f"every output raised to 0: no training or validation value of the target is "
            f"negative and its lowest is within {NEAR_ZERO:.0%} of its mean"}


def never_negative(fdata: ForecastData) -> bool:
    """Whether every target is never negative and reaches near zero in the rows before the
    test part (``NEAR_ZERO``)."""
    split = fdata.split
    seen = fdata.raw[: split.train + split.val][:, fdata.target_idx]
    if not len(seen) or not np.isfinite(seen).all():
        return False
    low, mean = seen.min(axis=0), seen.mean(axis=0)
    return bool(np.all(low >= 0) and np.all(low <= NEAR_ZERO * mean))


def nonnegative(model: Any, floor: bool) -> Any:
    """``model`` with every output raised to zero (``floor``), else ``model`` itself."""
    if not floor:
        return model
    import keras

    out = model.output
    raised = ({k: keras.layers.ReLU(name=f"floor_{k}")(v) for k, v in out.items()}
              if isinstance(out, dict) else keras.layers.ReLU(name="floor")(out))
    return keras.Model(model.input, raised, name=model.name)


def panel_never_negative(data: Any) -> bool:
    """``never_negative`` for a panel (``PanelData``): no series is below zero before its test
    part and one of them reaches near zero (a floor at zero binds nowhere else)."""
    import pandas as pd

    panel = data.panel
    lengths = np.diff(panel.offsets)
    position = np.arange(len(panel.values)) - np.repeat(panel.offsets[:-1], lengths)
    seen = position < np.repeat(data.part_end("val"), lengths)
    values = np.asarray(panel.values, dtype="float64")[seen]
    if not len(values) or not np.isfinite(values).all() or values.min() < 0:
        return False
    series = pd.Series(values).groupby(np.repeat(np.arange(len(lengths)), lengths)[seen])
    return bool(np.any(series.min() <= NEAR_ZERO * series.mean()))
