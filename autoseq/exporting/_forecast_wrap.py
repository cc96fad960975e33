"""The raw-in, raw-out forecaster around a trial's network, with every transform inside it.

``window [batch, W, n_inputs]`` (raw) and, when the trial needs it, ``origin_step [batch]``
(int32: data steps from the training data's first row ``t0`` to the first forecast step) and
``future [batch, horizon, n_future]`` (raw known-future covariates over the horizon) →
``[batch, horizon, n_targets]`` in the data's units:

    window ─ (− seasonal profile at the window's steps) ─ scale ─ network ─ unscale
           ─ (+ seasonal profile at the forecast steps) → forecast

The fixed MSTL profile (tables, constants in the model) and the calendar features are looked
up from ``origin_step`` inside the model, so the caller only computes that one integer. The
rolling MSTL profile is refitted inside the model on the last ``history`` rows of the window
(one matrix product: ``autoseq.data._mstl``), so its window ``W`` is the longer of the lookback
and that history, and the caller passes nothing but raw rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autoseq.data import ForecastData
from autoseq.data._arima_anchor import arima_anchor
from autoseq.data._holt import holt_anchor
from autoseq.data._linear_anchor import linear_anchor
from autoseq.data._mstl import window_rows
from autoseq.data._panel_data import PanelData
from autoseq.data._panel_static import STATIC
from autoseq.data._variants import (
    RollingProfile,
    Variant,
    data_variant,
    rolling_spec,
    uses_future,
    uses_steps,
)
from autoseq.data._windows import FUTURE, PAST, STEP, WINDOW
from autoseq.model._builder import head_quantiles

__all__ = ["FUTURE", "STEP", "WINDOW"]


def trial_variant(fdata: ForecastData, config: dict[str, Any]) -> Variant:
    """The data variant a trial was trained on."""
    return data_variant(fdata, transform=config.get("transform", "none"),
                        scaler=config.get("scaler", "standard"))


def needs_steps(fdata: ForecastData, config: dict[str, Any]) -> bool:
    """Whether the exported model takes ``origin_step`` (calendar features or an MSTL profile)."""
    profile = trial_variant(fdata, config).profile
    return uses_steps(config, fdata) or (profile is not None and not rolling(fdata, config))


def extra_inputs(fdata: ForecastData, config: dict[str, Any]) -> tuple[str, ...]:
    """The exported model's inputs beside its window (``STEP``, ``FUTURE``), in that order."""
    return ((STEP,) if needs_steps(fdata, config) else ()) + (
        (FUTURE,) if uses_future(config, fdata) else ())


def ordered_inputs(names) -> tuple[str, ...]:
    """Input names in the exported models' order."""
    given = set(names)
    return tuple(n for n in (STEP, FUTURE, STATIC, PAST) if n in given)


def rolling_profile(fdata: ForecastData) -> RollingProfile:
    """The data's rolling MSTL profile (fitted once, shared by every split of the data)."""
    profile = data_variant(fdata, transform="rolling_mstl").profile
    assert isinstance(profile, RollingProfile)
    return profile


def rolling(fdata: ForecastData, config: dict[str, Any]) -> bool:
    """Whether the trial deseasonalises with the rolling MSTL profile (refitted in the model)."""
    return isinstance(trial_variant(fdata, config).profile, RollingProfile)


def window_length(fdata: ForecastData, config: dict[str, Any]) -> int:
    """Rows of raw window the exported model takes: the lookback, or the rolling MSTL's
    history when that is longer."""
    lookback = int(config["lookback"])
    return max(lookback, rolling_profile(fdata).history) if rolling(fdata, config) else lookback


def wrap_forecaster(model, fdata: ForecastData, config: dict[str, Any]):
    """``model`` inside its transforms, as one Keras model on raw inputs: its point forecast
    (a quantile head's median)."""
    import keras

    from autoseq.model.layers_intervals import QuantileAt

    inputs, out = _wrapped(model, fdata, config)
    taus = head_quantiles(config)
    if taus:
        out = QuantileAt(index=taus.index(0.5), name="point")(out)
    return keras.Model(inputs, out, name="autoseq_forecaster")


def wrap_quantiles(model, fdata: ForecastData, config: dict[str, Any]):
    """A quantile-head ``model`` inside its transforms: raw inputs → its own (uncalibrated)
    quantiles ``[batch, horizon, n_targets, Q]`` at ``head_quantiles(config)``, in the data's
    units."""
    import keras

    inputs, out = _wrapped(model, fdata, config)
    return keras.Model(inputs, out, name="autoseq_quantiles")


def _wrapped(model, fdata: ForecastData, config: dict[str, Any]):
    """The raw inputs and ``model``'s output in the data's units (``[batch, H, targets]``, or
    ``[..., Q]`` for a quantile head: the transforms apply to every quantile alike)."""
    import keras

    from autoseq.model.layers_forecast import (
        LastSteps,
        ProfileSplit,
        RollingSeasonalProfile,
        SeasonalProfileAt,
        ToColumns,
    )

    lookback = int(config["lookback"])
    variant = trial_variant(fdata, config)
    width = window_length(fdata, config)
    window, inputs = _raw_inputs(fdata, width, extra_inputs(fdata, config))
    step = inputs[STEP] if isinstance(inputs, dict) and STEP in inputs else None
    x = window if width == lookback else LastSteps(steps=lookback, name="lookback")(window)
    future = None
    if isinstance(variant.profile, RollingProfile):
        r = variant.profile
        prof = RollingSeasonalProfile(periods=list(r.periods), history=r.history,
                                      lookback=lookback, horizon=fdata.horizon,
                                      target_idx=list(fdata.target_idx),
                                      name="seasonal_profile")(window)
    elif variant.profile is not None:
        prof = SeasonalProfileAt(periods=list(variant.profile.periods),
                                 tables=[t.tolist() for t in variant.profile.tables],
                                 lookback=lookback, horizon=fdata.horizon,
                                 name="seasonal_profile")(step)
    if variant.profile is not None:
        past = ProfileSplit(lookback=lookback, part="past", name="profile_past")(prof)
        future = ProfileSplit(lookback=lookback, part="future", name="profile_future")(prof)
        past = ToColumns(target_idx=list(fdata.target_idx), n_inputs=fdata.n_inputs,
                         name="profile_columns")(past)
        x = keras.layers.Subtract(name="deseasonalise")([x, past])
    s, t = variant.scaler, list(fdata.target_idx)
    x = keras.layers.Normalization(mean=s.mean.tolist(), variance=(s.scale ** 2).tolist(),
                                   name="scale_inputs")(x)
    feed = {WINDOW: x}
    if uses_steps(config, fdata):
        feed[STEP] = step
    if uses_future(config, fdata):
        idx = fdata.future_idx
        feed[FUTURE] = keras.layers.Normalization(
            mean=s.mean[idx].tolist(), variance=(s.scale[idx] ** 2).tolist(),
            name="scale_future")(inputs[FUTURE])
    quantiles = bool(head_quantiles(config))
    if quantiles:  # a plain functional copy: the network's class is never serialised
        model = keras.Model(model.input, model.output, name="network")
    y = model(feed if len(feed) > 1 else x)
    out = keras.layers.Normalization(mean=s.mean[t].tolist(), variance=(s.scale[t] ** 2).tolist(),
                                     invert=True, axis=2 if quantiles else -1,
                                     name="unscale_targets")(y)
    if future is not None:
        if quantiles:
            future = keras.layers.Reshape((fdata.horizon, fdata.n_targets, 1),
                                          name="profile_column")(future)
        out = keras.layers.Add(name="reseasonalise")([out, future])
    return inputs, out


def _raw_inputs(fdata: ForecastData | PanelData, width: int, extras: tuple[str, ...]):
    """Keras inputs of an exported model: its raw window and ``extras`` (a panel's: its
    ``static`` rows, ``past`` covariates); ``(window, inputs)`` where ``inputs`` is the window
    alone or a dict of every input."""
    import keras

    window = keras.Input((width, fdata.n_inputs), name=WINDOW)
    inputs: dict[str, Any] = {WINDOW: window}
    if STEP in extras:
        inputs[STEP] = keras.Input((), dtype="int32", name=STEP)
    if FUTURE in extras:
        inputs[FUTURE] = keras.Input((fdata.horizon, fdata.n_future), name=FUTURE)
    if STATIC in extras:
        inputs[STATIC] = keras.Input((fdata.n_static,), name=STATIC)
    if PAST in extras:  # a panel's: as long as its longest lookback, whatever ``width``
        inputs[PAST] = keras.Input((fdata.past_steps, fdata.n_past), name=PAST)
    return window, (inputs if len(inputs) > 1 else window)


def raw_inputs(fdata: ForecastData, origins: np.ndarray, config: dict[str, Any], *,
               extras: tuple[str, ...] | None = None, width: int | None = None,
               windows: np.ndarray | None = None):
    """The exported model's inputs for ``origins``: raw windows (and origin steps, known-future
    covariates).

    ``extras`` overrides which inputs beside the window the model takes and ``width`` how many
    rows its window holds (an ensemble takes the widest, and an input when any member does);
    ``windows`` replaces the raw windows of ``origins``."""
    width = window_length(fdata, config) if width is None else width
    extras = extra_inputs(fdata, config) if extras is None else extras
    if windows is None:
        windows = raw_windows(fdata, origins, width)
    feed = {WINDOW: np.asarray(windows, dtype="float32")}
    if STEP in extras:
        feed[STEP] = np.asarray(origins).astype("int32")
    if FUTURE in extras:
        feed[FUTURE] = fdata.future_values(np.asarray(origins)).astype("float32")
    return feed if len(feed) > 1 else feed[WINDOW]


def raw_windows(fdata: ForecastData, origins: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` raw rows before each origin; where fewer exist (a rolling MSTL's window
    on a short series), the first cycle of the profile's longest season stands for the
    missing ones, phase kept."""
    spec = rolling_spec(fdata.seasons, len(fdata.raw))
    return fdata.raw[window_rows(origins, width, max(spec[0]) if spec else 0)]


def average_forecasters(members: list[tuple[int, Any, dict[str, Any]]], fdata: ForecastData):
    """One raw-in, raw-out model averaging the members' forecasts ``(trial, raw model, config)``.

    It takes the widest member window; each member reads the last rows it needs, and
    ``origin_step`` when any member needs it.
    """
    import keras

    parts = [(f"t{number}", keras.Model(model.input, model.output, name=f"trial_{number}"),
              window_length(fdata, cfg), extra_inputs(fdata, cfg))
             for number, model, cfg in members]
    return mean_forecasters(parts, fdata, layer="ensemble_mean", name="autoseq_ensemble")


def mean_forecasters(parts: list[tuple[str, Any, int, tuple[str, ...]]],
                     fdata: ForecastData | PanelData, *, layer: str, name: str,
                     weights: tuple[float, ...] | None = None):
    """The mean of raw-in, raw-out models ``(label, model, window rows, inputs beside the
    window)`` on the widest of their windows: each reads the last rows it needs, and the other
    inputs it takes (a panel's members: ``static``, when they use the static columns).
    ``weights`` (summing to 1): a weighted mean instead."""
    import keras

    from autoseq.model.layers_forecast import LastSteps

    width = max(own for _, _, own, _ in parts)
    extras = ordered_inputs(n for _, _, _, takes in parts for n in takes)
    window, inputs = _raw_inputs(fdata, width, extras)
    outputs = []
    for label, model, own, takes in parts:
        x = window if own == width else LastSteps(steps=own, name=f"last_{own}_{label}")(window)
        outputs.append(model({WINDOW: x} | {n: inputs[n] for n in takes} if takes else x))
    if weights is None:
        return keras.Model(inputs, keras.layers.Average(name=layer)(outputs), name=name)
    scaled = [keras.layers.Rescaling(float(w), name=f"weight_{label}", dtype="float32")(out)
              for (label, *_), w, out in zip(parts, weights, outputs, strict=True)]
    return keras.Model(inputs, keras.layers.Add(name=layer)(scaled), name=name)


def baseline_spec(fdata: ForecastData | PanelData, name: str) -> tuple[str, int, int] | None:
    """``(anchor mode, season, window rows)`` of the in-graph baseline ``name`` (``naive``,
    ``seasonal_naive(m=M)``, ``seasonal_drift(m=M)``, ``linear(L=L)``, as ``autoseq.baselines``
    names them); ``None`` for any other baseline."""
    h = fdata.horizon
    if name == "naive":
        return "last", 1, 1
    if not name.startswith(("linear(L=", "seasonal_naive(m=", "seasonal_drift(m=")):
        return None
    n = int(name.split("=")[1].rstrip(")"))  # the window (linear) or the season
    if name.startswith("linear"):  # ``autoseq.baselines``' or a panel's
        return "linear", 1, n
    mode = "seasonal" if name.startswith("seasonal_naive") else "seasonal_drift"
    return mode, n, n * max(-(-h // n), 2 if mode == "seasonal_drift" else 1)


def baseline_forecaster(fdata: ForecastData | PanelData, name: str):
    """The in-graph baseline ``name`` (see ``baseline_spec``) as a raw-in, raw-out Keras model
    and its window rows."""
    import keras

    from autoseq.model.layers import Anchor, LinearAnchor

    mode, m, width = baseline_spec(fdata, name)
    window = keras.Input((width, fdata.n_inputs), name=WINDOW)
    if mode == "linear":  # rows summing to one: the scaled fit forecasts the raw window
        out = LinearAnchor(matrix=fdata.linear_fit(width).matrix.tolist(),
                           target_idx=list(fdata.target_idx), name="baseline",
                           dtype="float32")(window)
    else:
        out = Anchor(mode=mode, horizon=fdata.horizon, lookback=width, season=m,
                     target_idx=list(fdata.target_idx), name="baseline", dtype="float32")(window)
    return keras.Model(window, out, name="baseline"), width


def blend_forecasters(model, model_width: int, baseline, baseline_width: int,
                      fdata: ForecastData | PanelData, *, extras: tuple[str, ...],
                      weight: float = 0.5, baseline_extras: tuple[str, ...] = ()):
    """``weight`` × a forecaster (taking ``extras`` beside its window) + (1 − ``weight``) × an
    in-graph baseline (taking ``baseline_extras``), on the wider of their windows."""
    return mean_forecasters([("model", model, model_width, extras),
                             ("baseline", baseline, baseline_width, baseline_extras)], fdata,
                            layer="blend_mean", name="autoseq_blend",
                            weights=None if weight == 0.5 else (weight, 1.0 - weight))


def step_input(fdata: ForecastData) -> dict[str, Any]:
    """The manifest's description of the ``origin_step`` input."""
    series = fdata.series
    return {"name": STEP, "dtype": "int32", "shape": [None],
            "t0": series.frame.index[0].isoformat(), "frequency": series.freq,
            "how": f"number of {series.freq} steps from t0 to the first forecast step (the "
                   "step after the window's last row); row i of the training data is step i"}


def transform_manifest(fdata: ForecastData, config: dict[str, Any]) -> dict[str, Any]:
    """The manifest entries that say what the model does with its inputs."""
    variant = trial_variant(fdata, config)
    series = fdata.series
    s = variant.scaler
    t0 = series.frame.index[0].isoformat()
    transforms: list[dict[str, Any]] = []
    derived: list[dict[str, Any]] = []
    if isinstance(variant.profile, RollingProfile):
        r = variant.profile
        transforms.append({
            "kind": "rolling_mstl_deseasonalise", "where": "inside the model (layers "
            "seasonal_profile, deseasonalise, reseasonalise), from the raw window",
            "columns": list(series.targets), "periods": list(r.periods), "history": r.history,
            "rule": "MSTL (statsforecast's, R's STL jumps, no robustness weights: a linear map) "
                    f"of the target over the last {r.history} rows of the window gives each "
                    "season's last cycle; their sum at each step is subtracted from the targets "
                    "of the window and added to the forecasts"})
    elif variant.profile is not None:
        transforms.append({
            "kind": "mstl_deseasonalise", "where": "inside the model (layers seasonal_profile, "
            "deseasonalise, reseasonalise)", "columns": list(series.targets),
            "periods": list(variant.profile.periods),
            "tables": [tb.tolist() for tb in variant.profile.tables],
            "rule": "profile(step) = sum over k of tables[k][step mod periods[k]]; subtracted "
                    "from the targets of the window, added to the forecasts",
            "fitted_on": f"the first {fdata.split.train} rows (statsforecast MSTL, each "
                         "season's last cycle)"})
    transforms += [
        {"kind": f"{s.kind}_scale", "where": "inside the model (layer scale_inputs)",
         "columns": list(series.columns), "center": s.mean.tolist(), "scale": s.scale.tolist(),
         "fitted_on": f"the first {fdata.split.train} rows"},
        {"kind": f"inverse_{s.kind}_scale", "where": "inside the model (layer unscale_targets)",
         "columns": list(series.targets)},
    ]
    if config.get("anchor", "none") == "ets":
        fitted = holt_anchor(fdata, config)
        transforms.append({
            "kind": "anchor", "mode": "ets", "where": "inside the model (layer anchor): "
            "forecasts are damped-trend exponential smoothing of the window plus a learned "
            "correction", **{k: fitted[k] for k in ("alpha", "beta", "phi")},
            "fitted_on": f"training windows of the first {fdata.split.train} rows"})
    elif config.get("anchor", "none") == "linear":
        transforms.append({
            "kind": "anchor", "mode": "linear", "where": "inside the model (layer anchor): "
            "forecasts are a linear autoregression of the window (each step a fixed weighted "
            "sum of it, weights summing to one) plus a learned correction",
            "ridge": linear_anchor(fdata, config)["ridge"],
            "fitted_on": f"training windows of the first {fdata.split.train} rows"})
    elif config.get("anchor", "none") == "arima":
        fitted = arima_anchor(fdata, config)
        transforms.append({
            "kind": "anchor", "mode": "arima", "where": "inside the model (layer anchor): "
            "forecasts are statsforecast's AutoARIMA, its orders and coefficients fixed, applied "
            "to the window (an affine map: weights on the window plus a constant) plus a "
            "learned correction", "order": fitted["order"], "coef": fitted["coef"],
            "fitted_on": f"the last training steps of the first {fdata.split.train} rows"})
    elif config.get("anchor", "none") != "none":
        transforms.append({"kind": "anchor", "mode": config["anchor"],
                           "season": fdata.main_season,
                           "where": "inside the model: forecasts are the naive forecast plus a "
                                    "learned correction"})
    if needs_steps(fdata, config):
        derived.append(step_input(fdata))
    calendar = []
    if uses_steps(config, fdata):
        calendar = [c.to_dict() for c in fdata.calendar]
        transforms.append({
            "kind": "calendar_features", "where": "inside the model (layer calendar), from "
            "origin_step", "cycles": calendar,
            "rule": "for each step of the window and the horizon: sin and cos of 2π·(floor_mod("
                    "step, cycle) + offset) / period"})
    return {"derived_inputs": derived, "transforms": transforms, "t0": t0,
            "calendar": calendar}


class StandardScaledView:
    """A trial's network seen through the run's common standard scaling, whatever transforms
    it was trained with: ``predict_on_batch(x, origins=…)`` takes ``data.scaled`` windows and
    returns forecasts in that scaling. For code that predates the transforms (the report).

    ``origins`` (each window's first forecast row) are required when the forecasts depend on the
    time of the window (calendar features, MSTL profile).
    """

    takes_origins = True

    def __init__(self, model, fdata: ForecastData, config: dict[str, Any]):
        self.raw = wrap_forecaster(model, fdata, config)
        self.fdata = fdata
        self.config = config
        self.timed = bool(extra_inputs(fdata, config)) or rolling(fdata, config)
        self.takes_future = uses_future(config, fdata)

    def predict_on_batch(self, x: np.ndarray, origins: np.ndarray | None = None,
                         future: np.ndarray | None = None) -> np.ndarray:
        """Forecasts for scaled windows ``x`` (first forecast rows ``origins``); ``future``
        (raw ``[windows, horizon, n_future]``) replaces the data's known-future covariates."""
        s, t = self.fdata.scaler, list(self.fdata.target_idx)
        raw = (np.asarray(x) * s.scale + s.mean).astype("float32")
        feed: Any = raw
        if self.timed:
            if origins is None:
                raise ValueError("this trial's forecasts depend on the time of each window "
                                 "(calendar features, MSTL profile, known-future covariates); "
                                 "pass origins")
            windows = raw
            if rolling(self.fdata, self.config):
                # A rolling profile reads a longer window than ``x``: the data's rows before it,
                # then ``x`` itself (so a shuffled part of ``x`` reaches the network).
                width = window_length(self.fdata, self.config)
                windows = raw_windows(self.fdata, np.asarray(origins), width).astype("float32")
                windows[:, width - raw.shape[1]:] = raw
            feed = raw_inputs(self.fdata, np.asarray(origins), self.config, windows=windows)
            if future is not None and self.takes_future:
                feed[FUTURE] = np.asarray(future, dtype="float32")
        return (np.asarray(self.raw.predict_on_batch(feed)) - s.mean[t]) / s.scale[t]
