"""Interval scores in the leaderboard: how the best trials' and the simple baselines'
calibrated intervals cover validation windows they were not calibrated on.

Scored once, when a forecasting search finishes, on the validation windows of the ordinary
split (with ``--folds``, the last fold's: the weights each trial keeps are that fold's). Each
row's intervals are calibrated as ``export`` would calibrate them (a trial's: split conformal
with the window scale, or CQR on a quantile head, ``calibrate``; a baseline's: its residuals'
conformal quantiles per step, as in ``baseline_bands``) on the earlier half of the windows, and
scored on the later half, a horizon apart (``split_halves``), so no score has seen its own
outcomes. Columns (``board_columns``): ``val_cover80``, ``val_cover95`` (coverage per level),
``val_width95`` (mean width, data units) and ``val_msis95`` (MSIS) at the widest level.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
import pandas as pd

from autoseq._run_folder import RunFolder, load_trial
from autoseq.baselines import baseline_forecasts
from autoseq.data import ForecastData
from autoseq.exceptions import SearchError
from autoseq.exporting._forecast_wrap import wrap_forecaster, wrap_quantiles
from autoseq.exporting._intervals import (
    residual_quantiles,
    train_targets,
    validation_forecasts,
    window_floor,
)
from autoseq.interval_metrics import board_columns, board_values, quantile_metrics
from autoseq.intervals import IntervalSpec, calibrate, split_halves, supported
from autoseq.leaderboard import FinalScores, top_complete
from autoseq.model import forecast_context
from autoseq.model._builder import head_quantiles

logger = logging.getLogger("autoseq")

SCORED_TRIALS = 5
"""The best complete trials scored: loading each one's network costs about a second."""


def board_intervals(run: RunFolder, fdata: ForecastData, board: pd.DataFrame, *,
                    spec: IntervalSpec) -> FinalScores | None:
    """The leaderboard's interval columns for the ``SCORED_TRIALS`` best complete trials of
    ``board`` and the baselines of ``baseline_forecasts``, at ``spec``'s levels.

    A level the earlier half of the windows is too few for (``calibrate``'s rule) stays empty,
    and so does a trial whose weights are not in ``run`` (a worker on another machine ran it).

    Returns:
        ``None`` when ``spec`` has no level.

    Example:
        >>> scores = board_intervals(run, fdata, board, spec=IntervalSpec())
        >>> scores.columns
        ('val_cover80', 'val_cover95', 'val_width95', 'val_msis95')
    """
    if not spec.levels:
        return None
    columns = board_columns(spec.levels)
    fit, held = split_halves(len(fdata.origins("val")), fdata.horizon)
    usable = supported(IntervalSpec(levels=spec.levels), fit.stop, fdata.horizon)
    if not usable.levels or held.start >= held.stop:
        n = len(fdata.origins("val"))
        return FinalScores(columns=columns, empty_because=(
            f"{n} validation windows of {fdata.horizon} steps are too few to calibrate on one "
            "half and score on the other (enlarge --val-size)"))
    truth = fdata.targets("val", scaled=False)

    def score(q: np.ndarray) -> dict[str, float]:
        return board_values(quantile_metrics(q, truth[held], usable.taus, usable.levels,
                                             train=train_targets(fdata),
                                             season=fdata.main_season), spec.levels)

    trials = {}
    for number in top_complete(board, SCORED_TRIALS):
        q = _trial_quantiles(run, fdata, number, usable, fit=fit, held=held)
        if q is not None:
            trials[number] = score(q)
    baselines = {}
    for name, scaled in baseline_forecasts(fdata, "val").items():
        pred = fdata.scaler.inverse(scaled, fdata.target_idx)
        baselines[name] = score(residual_quantiles(pred[fit], truth[fit], pred[held],
                                                   usable.taus))
    return FinalScores(columns=columns, trials=trials, baselines=baselines)


def _trial_quantiles(run: RunFolder, fdata: ForecastData, number: int, spec: IntervalSpec, *,
                     fit: slice, held: slice) -> np.ndarray | None:
    """Trial ``number``'s quantiles on the ``held`` windows, calibrated on the ``fit`` ones;
    ``None`` when its weights are not here."""
    try:
        model, config = load_trial(run, number, partial(forecast_context, fdata))
    except SearchError:
        logger.info("leaderboard intervals: trial %d has no weights here; not scored", number)
        return None
    taus = head_quantiles(config)
    forecaster = (wrap_quantiles if taus else wrap_forecaster)(model, fdata, config)
    pred, windows = validation_forecasts(forecaster, fdata, config)
    calib = calibrate(pred[fit], fdata.targets("val", scaled=False)[fit], windows[fit], spec,
                      season=fdata.main_season, floor=window_floor(fdata), head_taus=taus)
    return calib.quantiles(pred[held], windows[held])
