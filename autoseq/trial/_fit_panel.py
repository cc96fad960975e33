"""Training one global network on a panel's windows and scoring it M4's way on validation.

The network sees windows divided by their own scale (``autoseq.data._panel_data``) and learns
on that scale; its validation forecasts are multiplied back into each series' units and scored
with sMAPE, MASE and OWA against Naive2. ``val_loss`` is OWA (or the chosen sMAPE / MASE).
A trial that uses the panel's static columns gets each window's series' static row beside it,
one that uses its known-future covariates their values over the window's horizon.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from autoseq.data._panel_data import PanelData, side_inputs
from autoseq.model import ModelContext
from autoseq.panel_baselines import PANEL_OBJECTIVES, score
from autoseq.trial._fit import _fit, _keep, _Monitor
from autoseq.trial._result import Reporter, TrialResult, TrialSettings


def fit_panel(model: Any, result: TrialResult, *, data: PanelData, ctx: ModelContext,
              settings: TrialSettings, reporter: Reporter, number: int,
              trial_dir: Path) -> None:
    """Train ``model`` on sampled windows, fill ``result`` in place, keep the best weights."""
    result.params = int(model.count_params())
    lookback = ctx.lookback
    takes = side_inputs(result.config, data)
    train = data.train_dataset(lookback, batch_size=result.config["batch_size"], seed=ctx.seed,
                               drop_remainder=result.compiled, takes=takes)
    x, y, scale = data.normalised("val", lookback)
    x = data.feed(x, data.origins("val"), takes)
    val = (x, y)
    monitor = _Monitor(reporter, settings)
    if not _fit(model, result, train, val, monitor, settings):
        return
    pred = forecast_units(model, x, scale, batch_size=settings.eval_batch_size)
    if not np.all(np.isfinite(pred)):
        result.reason = "validation predictions are not finite"
        return
    scores = score(data, "val", pred)
    result.val_loss = scores[PANEL_OBJECTIVES.get(settings.metric, "owa")]
    result.val_mae = scores["mae"]
    result.metrics = {f"val_{k}": scores[k] for k in ("smape", "mase", "owa")}
    if not math.isfinite(result.val_loss):
        result.reason = "validation scores are not finite"
        return
    _keep(model, result, monitor, trial_dir=trial_dir, number=number)


def forecast_units(model: Any, x: Any, scale: np.ndarray, *,
                   batch_size: int = 1024) -> np.ndarray:
    """The network's forecasts of normalised windows ``x`` (or ``PanelData.feed``'s inputs),
    back in the series' units ``[W, horizon]``."""
    out = model.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(out, dtype="float64")[..., 0] * scale[:, None]


__all__ = ["fit_panel", "forecast_units"]
