"""Calibrated intervals of an exported forecaster: fitted on validation, served by the model.

The exported point forecaster (one trial, an ensemble's mean or a blend with a baseline) is
conformalised as a whole on the validation windows (``autoseq.intervals.calibrate``): an
ensemble's quantiles come from its own point forecast's residuals, which is sound whatever the
members' errors are (averaging members' quantiles is not: the mean of quantiles is not a
quantile of the mean). One trial whose network has a quantile head (``loss: pinball``) is
conformalised on its own quantiles instead (CQR: ``head``), so its band keeps the width the
network learnt for each window; an ensemble or a blend is calibrated on its point forecast.
The offsets are constants of a ``ConformalBands`` layer, so the
SavedModel returns ``output_0`` (the point forecast, as before) and ``quantiles
[batch, horizon, n_targets, n_quantiles]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autoseq.data import ForecastData
from autoseq.exceptions import ModelError
from autoseq.exporting._forecast_wrap import WINDOW, raw_inputs
from autoseq.interval_metrics import quantile_metrics, seasonal_scale
from autoseq.intervals import Calibration, IntervalSpec, calibrate, conformal_offsets
from autoseq.model._builder import head_quantiles

QUANTILES = "quantiles"
POINT = "output_0"


def calibrate_forecaster(raw_model, fdata: ForecastData, config: dict[str, Any], *,
                         extras: tuple[str, ...], width: int, spec: IntervalSpec,
                         head=None) -> Calibration | None:
    """Conformal offsets of ``raw_model``'s forecasts on ``fdata``'s validation windows; of
    ``head``'s quantiles (a ``wrap_quantiles`` model of a trial with ``config``) when given."""
    origins = fdata.origins("val")
    if not spec.taus or not len(origins):
        if spec.taus and spec.explicit:
            raise ModelError("intervals are calibrated on the validation windows, and this run "
                             "has none; search again with a larger --val-size")
        return None
    pred, windows = validation_forecasts(head or raw_model, fdata, config, extras=extras,
                                         width=width)
    return calibrate(pred, fdata.targets("val", scaled=False), windows, spec,
                     season=fdata.main_season, floor=window_floor(fdata),
                     head_taus=head_quantiles(config) if head is not None else ())


def validation_forecasts(model, fdata: ForecastData, config: dict[str, Any], *,
                         extras: tuple[str, ...] | None = None, width: int | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """A raw-in model's forecasts of every validation window (in the data's units) and the
    windows' target columns ``[n, W, targets]``, as ``calibrate`` takes them (see
    ``raw_inputs`` for ``extras`` and ``width``)."""
    feed = raw_inputs(fdata, fdata.origins("val"), config, extras=extras, width=width)
    pred = np.asarray(model.predict(feed, verbose=0), dtype="float64")
    window = feed[WINDOW] if isinstance(feed, dict) else feed
    return pred, window[..., list(fdata.target_idx)].astype("float64")


def window_floor(fdata: ForecastData) -> np.ndarray:
    """The smallest window scale: a thousandth of the training data's mean step change, so a
    flat window still gets a band."""
    return np.maximum(1e-3 * seasonal_scale(train_targets(fdata), 1), 1e-9)


def with_bands(raw_model, calib: Calibration, target_idx: Sequence[int], head=None):
    """``raw_model`` with a second output ``quantiles`` (its first stays ``output_0``), the
    window scale taken from its input's columns ``target_idx``; for a CQR calibration,
    ``head`` (the ``wrap_quantiles`` model it was fitted on) serves both: its median is the
    point."""
    import keras

    from autoseq.model.layers_intervals import ConformalBands, QuantileAt

    source = head if calib.mix is not None else raw_model
    inputs = source.input
    window = inputs[WINDOW] if isinstance(inputs, dict) else inputs
    point = source.output
    if calib.mix is not None:
        point = QuantileAt(index=calib.head_taus.index(0.5), name="point")(source.output)
    bands = ConformalBands(offsets=calib.offsets.tolist(), target_idx=list(target_idx),
                           scale=calib.scale, lag=calib.lag, floor=calib.floor.tolist(),
                           mix=None if calib.mix is None else calib.mix.tolist(),
                           name="conformal_bands")([source.output, window])
    return keras.Model(inputs, {POINT: point, QUANTILES: bands}, name="autoseq_intervals")


def interval_manifest(calib: Calibration) -> dict[str, Any]:
    """The manifest's ``intervals``: what ``quantiles`` holds and how it was calibrated."""
    scale = {"none": "1", "naive": "mean |x[t] - x[t-1]| of the target over the window",
             "seasonal": f"mean |x[t] - x[t-{calib.lag}]| of the target over the window"}
    pooled = (" (scores pooled over the steps: too few windows per step)" if calib.pooled
              else "")
    cqr = calib.mix is not None
    out = {
        "output": QUANTILES, "quantiles": list(calib.taus),
        "levels": [float(lv) for lv in calib.spec.levels],
        "requested_quantiles": [float(q) for q in calib.spec.quantiles],
        "level_quantiles": {f"{lv:g}": [round((1 - lv / 100) / 2, 9),
                                        round(1 - (1 - lv / 100) / 2, 9)]
                            for lv in calib.spec.levels},
        "method": ("conformalised quantile regression (asymmetric CQR) of the network's own "
                   "quantiles on the validation windows, per horizon step, target and quantile"
                   if cqr else "split conformal on the validation windows, per horizon step "
                   "and target") + pooled,
        "scale": calib.scale, "scale_rule": scale[calib.scale], "floor": calib.floor.tolist(),
        "scale_choice": calib.tried or None, "windows": calib.windows,
        "rule": "quantile q = output_0 + scale(window) * offset[step, target, q]; offsets "
                "are the validation scores' quantiles at rank ceil((n+1)q) above the median, "
                "floor((n+1)q) below; sorted, so quantiles never cross",
    }
    if cqr:
        out["head_quantiles"] = list(calib.head_taus)
        out["rule"] = ("quantile q = network quantile at q (linear between its levels "
                       "head_quantiles) + scale(window) * offset[step, target, q], each offset "
                       "the conservative q-quantile of that quantile's validation residuals "
                       "(rank ceil((n+1)q) above the median, floor((n+1)q) below); the results "
                       "are sorted, so quantiles never cross; output_0 is the network's median")
    return out


def score_bands(served, fdata: ForecastData, config: dict[str, Any], part: str, *,
                extras: tuple[str, ...], width: int, calib: Calibration) -> dict[str, Any]:
    """``quantile_metrics`` of the served model's quantiles on ``part``'s windows, and the
    quantiles themselves (``"q"``)."""
    feed = raw_inputs(fdata, fdata.origins(part), config, extras=extras, width=width)
    q = np.asarray(served.predict(feed, verbose=0)[QUANTILES], dtype="float64")
    return quantile_metrics(q, fdata.targets(part, scaled=False), calib.taus,
                            calib.spec.levels, train=train_targets(fdata),
                            season=fdata.main_season) | {"q": q}


def baseline_bands(fdata: ForecastData, calib: Calibration) -> dict[str, dict[str, Any]]:
    """The in-graph baselines' intervals (naive, seasonal naive, seasonal drift, linear: the
    leaderboard's interval rows) on the test windows: their residuals' conformal quantiles per step on the
    validation windows, as the model's are (no window scale)."""
    from autoseq.baselines import baseline_forecasts

    val, test = baseline_forecasts(fdata, "val"), baseline_forecasts(fdata, "test")
    truth_val = fdata.targets("val", scaled=False)
    truth = fdata.targets("test", scaled=False)
    out = {}
    for name in val:
        if name not in test:
            continue
        pv = fdata.scaler.inverse(val[name], fdata.target_idx)
        pt = fdata.scaler.inverse(test[name], fdata.target_idx)
        out[name] = quantile_metrics(residual_quantiles(pv, truth_val, pt, calib.taus), truth,
                                     calib.taus, calib.spec.levels, train=train_targets(fdata),
                                     season=fdata.main_season)
    return out


def residual_quantiles(cal_pred: np.ndarray, cal_truth: np.ndarray, pred: np.ndarray,
                       taus: tuple[float, ...]) -> np.ndarray:
    """Quantiles ``[n, H, targets, Q]`` of forecasts ``pred``: each plus the conformal quantiles,
    per step, of the residuals ``cal_truth - cal_pred`` (a baseline's: no window scale)."""
    offsets, _ = conformal_offsets(cal_truth - cal_pred, taus)
    return pred[..., None] + offsets[None]


def train_targets(fdata: ForecastData) -> np.ndarray:
    """The training rows' target columns in the data's units (MSIS's scale is taken on them)."""
    return fdata.raw[: fdata.split.train][:, fdata.target_idx].astype("float64")


def add_interval_manifest(manifest: dict[str, Any], calib: Calibration, *, test: dict[str, Any],
                          val: dict[str, Any], baselines: dict[str, Any],
                          calibrated: str | None = None) -> None:
    """Describe the ``quantiles`` output and record the interval scores (``metrics``:
    ``val_intervals``, ``test_intervals``, ``test_baselines_intervals``); ``calibrated`` says
    what was calibrated (default: the forecaster's point forecast or quantile head)."""
    what = calibrated or (
        "the exported trial's own quantiles (its network's quantile head)"
        if calib.mix is not None else "the exported point forecast as a whole (an "
        "ensemble's mean or a blend, not each member)")
    manifest["intervals"] = interval_manifest(calib) | {
        "calibrated": what + ("; calibrated and scored on validation before the refit on "
                              "train + validation, whose model has seen those windows"
                              if manifest.get("refit") else "")}
    sig = manifest["signature"]
    sig["outputs"] = {POINT: sig["output_shape"],
                      QUANTILES: [*sig["output_shape"], len(calib.taus)]}
    metrics = manifest["metrics"]
    metrics["val_intervals"] = {k: v for k, v in val.items() if k != "q"}
    metrics["test_intervals"] = {k: v for k, v in test.items() if k != "q"}
    metrics["test_baselines_intervals"] = baselines
