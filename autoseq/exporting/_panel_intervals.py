"""Calibrated intervals of an exported panel model: split conformal over every series pooled.

The panel network sees each window divided by its own scale ``w`` (its mean absolute value), so
it is calibrated in that scale-free domain: its forecasts of every series' validation windows,
pooled, go through ``autoseq.intervals.calibrate``, which picks the per-window scale (none,
naive or seasonal over the panel's main season) on a held-out half. In this domain ``none`` is
the window's level ``w`` itself and the naive and seasonal scales are relative changes, so all
three are scale-free; the floor is relative to ``w`` too. The SavedModel adds the offsets to the
normalised forecast (``ConformalBands``) and multiplies back by ``w``, so ``quantiles`` are in
each series' units, like ``output_0``.

Naive, seasonal naive and ``linear`` get bands the way a single series' baselines do (their validation
residuals' conformal quantiles per step), the residuals divided by each series' MASE scale so
series of any size pool. MSIS is M4's: per series, scaled by its MASE scale, averaged over series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autoseq.data._panel_data import PanelData, taken_inputs
from autoseq.data._windows import WINDOW
from autoseq.exporting._forecast_wrap import baseline_spec
from autoseq.exporting._intervals import (
    QUANTILES,
    add_interval_manifest,
    with_bands,
)
from autoseq.interval_metrics import level_bounds, quantile_metrics
from autoseq.intervals import Calibration, IntervalSpec, calibrate, conformal_offsets
from autoseq.panel_baselines import simple_forecasts, truth
from autoseq.panel_metrics import panel_msis

RELATIVE_FLOOR = 1e-3
"""The smallest per-window scale, as a share of the window's level ``w``: a flat window still
gets a band."""

_SCALES = {"none": "w, the window's mean absolute value (at least 1e-6): the model's own scale",
           "naive": "max(mean |x[t] - x[t-1]| over the window, 0.001 w)",
           "seasonal": "max(mean |x[t] - x[t-{lag}]| over the window, 0.001 w)"}


def calibrate_panel(network, data: PanelData, *, lookback: int, spec: IntervalSpec
                    ) -> Calibration | None:
    """Conformal offsets of ``network`` (which takes normalised windows) on every series'
    validation windows, pooled, in the normalised domain; ``None`` when nothing is left to
    serve (a level the windows cannot support is dropped, or refused when ``spec`` is
    explicit: ``autoseq.intervals.calibrate``)."""
    if not spec.taus:
        return None
    x, y, _ = data.normalised("val", lookback)
    feed = data.feed(x, data.origins("val"), taken_inputs(network))
    pred = np.asarray(network.predict(feed, batch_size=1024, verbose=0), dtype="float64")
    return calibrate(pred, y.astype("float64"), x.astype("float64"), spec,
                     season=data.main_season, floor=np.array([RELATIVE_FLOOR]))


def banded_network(network, calib: Calibration, *, lookback: int):
    """``network`` (normalised windows in, and its side inputs when it takes some) with the
    ``quantiles`` output beside ``output_0``, both still normalised: ``scale_free`` multiplies
    both back by the window's scale."""
    import keras

    from autoseq.model.layers_panel import with_side_inputs

    window = keras.Input((lookback, 1), name=WINDOW)  # normalised: scale_free feeds it
    inputs, feed = with_side_inputs(network, window, window)
    return with_bands(keras.Model(inputs, network(feed)), calib, (0,))


def add_panel_intervals(manifest: dict[str, Any], served, data: PanelData, *, lookback: int,
                        calib: Calibration) -> None:
    """The manifest's ``intervals`` and the interval scores of ``served`` (validation, test)
    and of the naive baselines (test), M4's MSIS per series."""
    val, test = (score_panel_bands(served, data, part, lookback=lookback, calib=calib)
                 for part in ("val", "test"))
    add_interval_manifest(
        manifest, calib, val=val, test=test, baselines=panel_baseline_bands(data, calib),
        calibrated="the exported network's forecasts of every series' validation windows, "
                   "pooled, each window divided by its own scale w (as the network sees it)")
    manifest["intervals"] |= {
        "scale_rule": _SCALES[calib.scale].format(lag=calib.lag),
        "floor_rule": f"{RELATIVE_FLOOR:g} of the window's level w",
        "domain": "scale-free: the offsets apply to the window divided by w and the result is "
                  "multiplied back by w, so every series' bands are in its own units",
        "msis": "M4's: each series' interval score scaled by its in-sample seasonal-naive MAE "
                f"(season {data.m4_season}), averaged over its windows, then over the series"}


def score_panel_bands(served, data: PanelData, part: str, *, lookback: int,
                      calib: Calibration) -> dict[str, Any]:
    """Coverage, width, M4's MSIS and wQL of ``served``'s quantiles on ``part``'s windows."""
    series, position = data.origins(part)
    x, _ = data.windows(series, position, lookback)
    feed = data.feed(x[..., None], (series, position), taken_inputs(served))
    q = np.asarray(served.predict(feed, batch_size=1024, verbose=0)[QUANTILES],
                   dtype="float64")
    return panel_quantile_metrics(data, part, q[:, :, 0], calib)


def panel_quantile_metrics(data: PanelData, part: str, q: np.ndarray, calib: Calibration
                           ) -> dict[str, Any]:
    """``quantile_metrics`` of quantiles ``q [windows, horizon, Q]`` of ``part``'s windows,
    with each level's MSIS computed M4's way over the series (``panel_msis``) and the number
    of ``series``."""
    actual = truth(data, part)
    out = quantile_metrics(q[:, :, None], actual[..., None], calib.taus, calib.spec.levels)
    series, scales = data.origins(part)[0], data.mase_scales(part)
    taus = list(calib.taus)
    for level, metrics in out["levels"].items():
        lo, hi = (taus.index(t) for t in level_bounds(float(level)))
        metrics["msis"] = panel_msis(q[..., lo], q[..., hi], actual, float(level),
                                     series=series, scales=scales)
    return out | {"series": int(data.n_series)}


def panel_baseline_bands(data: PanelData, calib: Calibration) -> dict[str, dict[str, Any]]:
    """Naive, seasonal-naive and ``linear`` intervals on the test windows: the conformal
    quantiles per step of their validation residuals divided by each series' MASE scale."""
    val, test = simple_forecasts(data, "val"), simple_forecasts(data, "test")
    scale_val, scale_test = (data.mase_scales(p)[data.origins(p)[0]] for p in ("val", "test"))
    known = np.isfinite(scale_val)  # a constant series has no MASE scale
    if not known.any():
        return {}
    actual = truth(data, "val")
    out = {}
    for name in (n for n in val if baseline_spec(data, n) is not None):  # in-graph ones
        scores = ((actual - val[name]) / scale_val[:, None])[known]
        offsets, _ = conformal_offsets(scores[..., None], calib.taus)  # [H, 1, Q]
        q = test[name][..., None] + np.nan_to_num(scale_test)[:, None, None] * offsets[None, :, 0]
        out[name] = panel_quantile_metrics(data, "test", q, calib)
    return out


__all__ = ["RELATIVE_FLOOR", "add_panel_intervals", "banded_network", "calibrate_panel",
           "panel_baseline_bands", "panel_quantile_metrics", "score_panel_bands"]
