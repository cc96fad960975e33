"""Export of a panel run: one SavedModel taking raw windows of any series.

The model takes ``[batch, lookback, 1]`` windows in each series' own units and returns the
forecast ``[batch, horizon, 1]`` in the same units: it divides each window by its own scale,
runs the trained network and multiplies back (``autoseq.model.layers_panel``); an ensemble
averages several such networks, each reading the last rows of the window its lookback needs,
perhaps with an in-graph baseline (``autoseq.exporting._panel_ensemble``). By default it also
serves calibrated ``quantiles [batch, horizon, 1, n_quantiles]``
(``autoseq.exporting._panel_intervals``). When a member uses the panel's static columns, the
model also takes ``static [batch, n_static]``: each window's series' static row, raw (numeric
values, 0/1 category indicators), standardised inside the networks. The manifest
records what ``autoseq predict`` needs to cut the windows from a long CSV (series, time and
target columns, frequency, lookback, the padding rule, the static columns and their layout)
and the test scores.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from autoseq._run_folder import RunFolder
from autoseq.data._panel_data import PanelData, taken_inputs
from autoseq.data._panel_static import STATIC
from autoseq.data._windows import FUTURE, PAST
from autoseq.exceptions import ModelError
from autoseq.exporting._common import (
    ExportResult,
    val_scores,
    versions,
    write_keras_file,
    write_model_folder,
)
from autoseq.exporting._floor import FLOOR_TRANSFORM, nonnegative, panel_never_negative
from autoseq.exporting._manifest import FORMAT_VERSION
from autoseq.exporting._panel_ensemble import describe_panel, panel_export
from autoseq.exporting._panel_intervals import (
    add_panel_intervals,
    banded_network,
    calibrate_panel,
)
from autoseq.intervals import IntervalSpec
from autoseq.panel_baselines import (
    score,
    simple_forecasts,
    stat_forecasts,
    subset_name,
    thinned,
)

PANEL_INPUT = "window"


def export_panel(run: RunFolder, data: PanelData, *, trial: int | None, out: str | Path | None,
                 format: str, refit: bool, ensemble: int | None,
                 intervals: IntervalSpec | None = None, floor: bool = True) -> ExportResult:
    """``autoseq.export`` for a panel run: ``trial``'s network, the mean of the ``ensemble``
    best, or (neither given) whichever of those and a blend with a baseline validates best
    (``autoseq.exporting._panel_ensemble``), scale-free; with the calibrated ``intervals``
    (default: 80 and 95 %) as a second output ``quantiles``."""
    from autoseq.model.layers_panel import scale_free

    if format == "tflite":
        raise ModelError("a panel model exports as savedmodel or keras (TFLite is not "
                         "supported for panels yet); pass --format savedmodel or keras")
    if refit:
        raise ModelError("a panel model is not refitted at export (not supported for panels "
                         "yet); leave out --refit")
    chosen = panel_export(run, data, trial=trial, ensemble=ensemble)
    number, config, info = chosen.best.number, chosen.best.config, chosen.best.info
    floor = floor and panel_never_negative(data)
    raw_model, lookback = nonnegative(chosen.model, floor), chosen.width
    # The composed forecaster is scale-equivariant (each member divides by its window's scale
    # and multiplies back; the baselines are linear), so on normalised windows it gives the
    # normalised forecast that the intervals are calibrated on.
    calib = calibrate_panel(raw_model, data, lookback=lookback, spec=intervals or IntervalSpec())
    served = nonnegative(scale_free(banded_network(raw_model, calib, lookback=lookback),
                                    lookback=lookback), floor) if calib else raw_model
    out = Path(out) if out else run.path / "export"

    def fill(folder: Path) -> dict[str, Any]:
        extra = write_keras_file(served, folder, format)
        manifest = describe_panel(_manifest(
            data, number, config, info, _score(raw_model, data, lookback, "test"),
            val=_score(raw_model, data, lookback, "val"), extra=extra,
            max_gap=run.settings.data.get("max_gap", 12),
            format=run.settings.data.get("format", "long")), chosen, data)
        takes = taken_inputs(raw_model)
        if takes:
            manifest["signature"]["inputs"] = [PANEL_INPUT, *takes]
        if STATIC in takes:
            _static_manifest(manifest, data)
        if FUTURE in takes:
            _future_manifest(manifest, data)
        if PAST in takes:
            _past_manifest(manifest, data)
        if FUTURE in takes or PAST in takes:
            manifest["roles"] = _roles(data, takes)
        if floor:
            manifest["transforms"].append(FLOOR_TRANSFORM)
        if calib:
            add_panel_intervals(manifest, served, data, lookback=lookback, calib=calib)
        return manifest

    manifest = write_model_folder(out, served, fill)
    return ExportResult(path=out, trial=number, manifest=manifest, members=tuple(
        m.number for m in chosen.members) if len(chosen.members) > 1 else ())


def _score(raw_model, data: PanelData, lookback: int, part: str) -> dict[str, Any]:
    """The exported model on every series' raw windows of ``part``; on test, next to the simple
    baselines and (unless the run was made with ``--no-stat-baselines``) the statistical
    ones; where those are fitted on a subset of the windows, the model's scores there too
    (``stat``)."""
    series, position = data.origins(part)
    x, _ = data.windows(series, position, lookback)
    feed = data.feed(x[..., None], (series, position), taken_inputs(raw_model))
    pred = raw_model.predict(feed, batch_size=1024, verbose=0)[..., 0].astype("float64")
    out = {"model": score(data, part, pred), "windows": int(len(x))}
    if part == "test":
        out["baselines"] = {name: score(data, "test", fc)
                            for name, fc in simple_forecasts(data, "test").items()}
        stat = stat_forecasts(data, "test") if data.stat_baselines else {}
        pick, label = (stat and thinned(data, "test")) or (None, None)
        if label:  # fitted on a subset: scored there, the model beside them
            out["stat"] = {"windows": int(len(pick)), "of": int(len(x)),
                           "model": score(data, "test", pred, windows=pick)}
        for name, fc in stat.items():
            out["baselines"][subset_name(name, label)] = score(data, "test", fc, windows=pick)
    return out


def _static_manifest(manifest: dict[str, Any], data: PanelData) -> None:
    """The model's second input ``static`` in the manifest: the columns, their kind and
    categories, the input's layout and the standardisation inside the networks."""
    center, scale = data.static_standardisation()
    manifest["static"] = {
        "input": STATIC, "dtype": "float32", "shape": [None, data.n_static],
        **data.panel.statics.describe(),
        "how": "one row per window: its series' static values in the order of features, a "
               "numeric column's value as it is in the CSV (the same on every row of a "
               "series), a categorical column 1 for the series' category and 0 for the others",
        "standardisation": {"center": list(center), "scale": list(scale)}}
    manifest["transforms"].append({
        "kind": "static_standardise", "where": "inside each network that uses them (layer "
        "static_scale), concatenated to its recurrent encoder's final state",
        "rule": "(static - center) / scale, per feature: a numeric column's mean and standard "
                "deviation over the training series, an indicator 0 and 1 (as it is); not "
                "divided by the window's scale"})


def _future_manifest(manifest: dict[str, Any], data: PanelData) -> None:
    """The model's input ``future`` in the manifest: the columns, their kind and categories,
    the input's layout, where ``predict`` reads them and the standardisation inside the
    networks."""
    center, scale = data.future_standardisation()
    future = data.panel.future
    manifest["future_covariates"] = list(future.columns)
    manifest["future"] = {
        "input": FUTURE, "dtype": "float32", "shape": [None, data.horizon, data.n_future],
        **future.describe(),
        "how": "one row per window: the known-future covariates on each of its horizon steps, "
               "in the order of features, a numeric column's value as it is in the CSV, a "
               "categorical column 1 for the step's category and 0 for the others; predict "
               "reads them from each series' rows after its last target value",
        "evaluation": "ex post: validation and test windows take the recorded values where "
                      "a deployed model would take forecasts of them",
        "standardisation": {"center": list(center), "scale": list(scale)}}
    manifest["transforms"].append(_covariate_standardise(
        FUTURE, "inside each network that uses them (layer future_scale), fed to its head "
                "beside the encoder's state"))


def _past_manifest(manifest: dict[str, Any], data: PanelData) -> None:
    """The model's input ``past`` in the manifest: the covariates whose past it reads (the past
    ones, then the known-future ones), the input's layout and the standardisation inside the
    networks."""
    center, scale = data.past_standardisation()
    panel = data.panel
    manifest["covariates"] = list(panel.past.columns) if panel.past else []
    manifest["past"] = {
        "input": PAST, "dtype": "float32", "shape": [None, data.past_steps, data.n_past],
        "steps": data.past_steps,
        "covariates": panel.past.describe() if panel.past else None,
        "known_future": panel.future.describe() if panel.future else None,
        "features": [f for c in panel.past_covariates for f in c.features],
        "how": f"one block per window: the {data.past_steps} steps before its origin (the "
               "oldest first; a series shorter than that padded on the left with its first "
               "values), on each the past covariates' features and then the known-future "
               "covariates', a numeric column's value as it is in the CSV, a categorical "
               "column 1 for the step's category and 0 for the others; each network reads the "
               "last rows of its own lookback",
        "standardisation": {"center": list(center), "scale": list(scale)}}
    manifest["transforms"].append(_covariate_standardise(
        PAST, "inside each network that reads them (layer past_scale), concatenated to its "
              "normalised window step by step"))


def _roles(data: PanelData, takes: tuple[str, ...]) -> dict[str, str]:
    """Every column's role for a model that takes covariates (``future``, ``past``)."""
    panel = data.panel
    read = {(True, True): "its values over the horizon and before the origin",
            (True, False): "its values over the horizon; its past is not an input",
            (False, True): "its values before the origin; not those over the horizon"}[
        (FUTURE in takes, PAST in takes)]
    return {panel.target: "target"} | (
        {c: "static" for c in panel.statics.columns} if panel.statics else {}) | (
        {c: f"known-future covariate ({read})" for c in panel.future.columns}
        if panel.future else {}) | (
        {c: "past covariate (its values before the origin)" for c in panel.past.columns}
        if panel.past and PAST in takes else {})


def _covariate_standardise(name: str, where: str) -> dict[str, str]:
    """The manifest's transform entry of the covariate input ``name`` (``future``, ``past``)."""
    return {"kind": f"{name}_standardise", "where": where,
            "rule": f"({name} - center) / scale, per feature: a numeric column's mean and "
                    "standard deviation over every series' training rows, an indicator 0 and 1 "
                    "(as it is); not divided by the window's scale"}


def _manifest(data: PanelData, number: int, config: dict[str, Any], info: dict[str, Any],
              test: dict[str, Any], *, val: dict[str, Any], extra: dict[str, Any],
              max_gap: int, format: str = "long") -> dict[str, Any]:
    """The manifest of the served forecaster; ``metrics.val`` and ``metrics.test`` are its own
    scores (an ensemble's or a blend's, not its best member's: that trial's record is
    ``metrics.val_trial``)."""
    panel = data.panel
    lookback = int(config["lookback"])
    return {
        "format_version": FORMAT_VERSION,
        "task": data.task,
        "format": format,
        "series_col": panel.series_col,
        "time_col": panel.time_col,
        "target": panel.target,
        "targets": [panel.target],
        "inputs": [panel.target],
        "frequency": panel.freq,
        "lookback": lookback,
        "horizon": data.horizon,
        "max_gap": max_gap,
        "padding": {"side": "left", "value": "the series' first value",
                    "rule": f"a series shorter than {lookback} steps is padded on the left "
                            "with its first value"},
        "transforms": [{"kind": "window_scale", "where": "inside the model (layers "
                        "normalise and window_scale)",
                        "rule": "each window is divided by the mean absolute value of its "
                                "lookback (at least 1e-6); the forecast is multiplied by it"}],
        "signature": {"name": "serving_default", "input": PANEL_INPUT,
                      "input_shape": [None, lookback, 1], "dtype": "float32",
                      "output": "output_0", "output_shape": [None, data.horizon, 1],
                      "units": "raw windows in each series' units, the forecast in the same"},
        "trial": number,
        "hyperparameters": config,
        "refit": False,
        "metrics": {"val": val["model"] | {"windows": val["windows"]},
            "val_trial": val_scores(info) | {"trial": number},
            "test": test["model"] | {"windows": test["windows"]},
            "test_baselines": test["baselines"]}
            | ({"test_stat_windows": test["stat"]} if "stat" in test else {}),
        "data": {"source": panel.source, "fingerprint": panel.fingerprint,
                 "series": data.n_series, "split": data.describe()},
        "versions": versions(),
        "files_extra": extra,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


__all__ = ["PANEL_INPUT", "export_panel"]
