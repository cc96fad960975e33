"""Export of forecasting runs: one trial, the mean of the best, or a blend with a baseline."""

from __future__ import annotations

import dataclasses
import logging
import math
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from autoseq._run_folder import FOLD_FORECASTS, RunFolder, load_trial
from autoseq.baselines import baseline_forecasts, baseline_kind
from autoseq.data import ForecastData
from autoseq.data._folds import make_folds, training_and_validation
from autoseq.data._variants import network_inputs
from autoseq.exceptions import ModelError
from autoseq.exporting._common import (
    KERAS_FILE,
    TFLITE_FILE,
    ExportResult,
    best_baseline,
    best_complete,
    check_finite,
    pick_members,
    versions,
    write_model_folder,
)
from autoseq.exporting._floor import FLOOR_TRANSFORM, never_negative, nonnegative
from autoseq.exporting._forecast_wrap import (
    FUTURE,
    STEP,
    average_forecasters,
    baseline_forecaster,
    baseline_spec,
    blend_forecasters,
    extra_inputs,
    mean_forecasters,
    ordered_inputs,
    raw_inputs,
    step_input,
    transform_manifest,
    trial_variant,
    window_length,
    wrap_forecaster,
    wrap_quantiles,
)
from autoseq.exporting._intervals import (
    add_interval_manifest,
    baseline_bands,
    calibrate_forecaster,
    score_bands,
    with_bands,
)
from autoseq.exporting._manifest import FORMAT_VERSION
from autoseq.exporting._selection import (
    choose,
    is_trial_component,
    rule,
    trial_component,
    weighted_rule,
)
from autoseq.exporting._statistical import (
    is_statistical,
    statistical_forecaster,
    statistical_names,
)
from autoseq.intervals import IntervalSpec
from autoseq.metrics import forecast_metrics
from autoseq.model import build_model, forecast_context
from autoseq.model._builder import head_quantiles
from autoseq.trial._compile_rule import auto_compiles
from autoseq.trial._result import load_trial_json

logger = logging.getLogger("autoseq")

INPUT_NAME = "window"


def export_forecaster(run: RunFolder, fdata: ForecastData, *, trial: int | None, out: str | Path | None, format: str,
                       refit: bool, ensemble: int | None, intervals: IntervalSpec | None = None,
                       floor: bool = True) -> ExportResult:
    """``export`` for a forecasting run: one trial, the mean of the ``ensemble`` best, or
    (``ensemble=None``) whichever of those validates best; with the calibrated ``intervals``
    (default: 80 and 95 %) as a second output ``quantiles``."""
    if ensemble not in (None, 1) and format == "tflite":
        raise ModelError("--format tflite takes one trial; export the ensemble as savedmodel or "
                         "keras")
    auto = ensemble is None and trial is None and format != "tflite"
    numbers = (best_complete(run, max(AUTO_SIZES)) if auto
               else pick_members(run, trial, ensemble or 1))
    members = _load_members(run, fdata, numbers, tflite=format == "tflite")
    selection = None
    floor = _floored(fdata, floor)
    if auto:
        selection = select_ensemble(members, fdata, run=run, floor=floor) | {
            "best_baseline": best_baseline(run)}
        members = _selected(members, selection)
        numbers = [m.number for m in members]
        logger.info("export: %s (validation MAE %s)", selection["chosen"],
                    ", ".join(f"{k} {v:.4g}" for k, v in selection["val_mae"].items()))
    wdata = training_and_validation(fdata) if refit else fdata  # whose scaler/profile it carries
    raw_model, width, extras = _compose(members, fdata, selection, floor=floor)
    val_mae = _served_val_mae(raw_model, fdata, members[0].config, extras=extras, width=width)
    # Calibrated and scored on validation before any refit: a refitted model has seen those
    # windows.
    head = _quantile_head(members, fdata, selection)
    calib = calibrate_forecaster(raw_model, fdata, members[0].config, extras=extras, width=width,
                                 spec=intervals or IntervalSpec(), head=head)
    val_bands = calib and score_bands(nonnegative(with_bands(raw_model, calib, fdata.target_idx,
                                                             head=head), floor),
                                      fdata, members[0].config, "val", extras=extras,
                                      width=width, calib=calib)
    if refit and _refit_members(run, _in_graph(members, selection), wdata):
        raw_model, width, extras = _compose(members, wdata, selection, floor=floor)
    elif refit:
        wdata, refit = fdata, False
    best = members[0]
    served = nonnegative(with_bands(raw_model, calib, wdata.target_idx,
                                    head=_quantile_head(members, wdata, selection)),
                         floor) if calib else raw_model
    out = Path(out) if out else run.path / "export"

    def fill(tmp: Path) -> dict[str, Any]:
        test = _score_test(raw_model, fdata, best.config, extras=extras, width=width)
        bands = calib and score_bands(served, fdata, best.config, "test", extras=extras,
                                      width=width, calib=calib)
        _add_stat_baselines(test, run, fdata, bands=bands, calib=calib)
        extra = _write_format(format, served if format == "keras" else raw_model, tmp, wdata,
                              core=best.model, config=best.config, builder=run.settings.builder,
                              floor=floor)
        manifest = _manifest(run, fdata, best.number, best.config, best.info, test, refit=refit,
                             extra=extra, wrap_data=wdata)
        if len(members) > 1:
            _ensemble_manifest(manifest, members, wdata, width=width)
        metrics = manifest["metrics"]  # val: the served model's (before any refit)
        metrics["val_trial"] = metrics["val"]
        metrics["val"] = {"mae": val_mae, "windows": len(fdata.origins("val"))}
        if selection is not None:
            manifest["selection"] = selection
            _blend_manifest(manifest, selection, wdata, width=width)
        _inputs_manifest(manifest, wdata, extras)
        if floor:
            manifest["transforms"].append(FLOOR_TRANSFORM)
        if calib:
            add_interval_manifest(manifest, calib, test=bands, val=val_bands,
                                  baselines=baseline_bands(fdata, calib)
                                  | test.get("stat_intervals", {}))
        return manifest

    manifest = write_model_folder(out, served, fill)
    return ExportResult(path=out, trial=best.number, manifest=manifest,
                        members=tuple(numbers) if len(numbers) > 1 else ())


def _load_members(run: RunFolder, fdata: ForecastData, numbers: list[int], *, tflite: bool
                  ) -> list[_Member]:
    """The trials ``numbers`` rebuilt with their weights, each wrapped raw-in raw-out.

    Raises:
        ModelError: non-finite weights, or (``tflite``) a ``rolling_mstl`` trial."""
    members = []
    for number in numbers:
        model, config = load_trial(run, number, partial(forecast_context, fdata))
        check_finite(model, number)
        if tflite and config.get("transform") == "rolling_mstl":
            raise ModelError(f"--format tflite cannot serve trial {number}: its rolling_mstl "
                             "transform refits MSTL inside the model with ops TFLite's builtin "
                             "set lacks; export it as savedmodel, or pick a trial without "
                             "that transform with --trial N")
        members.append(_Member(number, model, config, load_trial_json(run.trial_dir(number)),
                               wrap_forecaster(model, fdata, config)))
    return members


def _floored(fdata: ForecastData, floor: bool) -> bool:
    """Whether the export floors its forecasts at zero (asked, and the target never negative),
    saying so."""
    floor = floor and never_negative(fdata)
    if floor:
        logger.info("export: the target is never negative and comes near zero: forecasts and "
                    "bands are raised to zero inside the model, and the validation scores "
                    "below are of those forecasts (the search's are not; --no-floor keeps "
                    "them as they are)")
    return floor


def _selected(members: list[_Member], selection: dict[str, Any]) -> list[_Member]:
    """The members the selection serves: its first ``size``, or a weighted ensemble's trials
    (the best one, outside the served graph, when it weighs baselines only: ``_in_graph``)."""
    if not _served_weights(selection):
        return members[: selection["size"]]
    return _in_graph(members, selection) or members[:1]


def _in_graph(members: list[_Member], selection: dict[str, Any] | None) -> list[_Member]:
    """The members whose networks the served model holds (and a refit retrains)."""
    weights = _served_weights(selection)
    if not weights:
        return members
    return [m for m in members if trial_component(m.number) in weights]


def _served_weights(selection: dict[str, Any] | None) -> dict[str, float] | None:
    """The weighted components a selection serves: its weighted ensemble's, or the baseline
    alone of a blend that weighs the networks 0 (no network in the model, none refitted);
    ``None`` for the networks (blended or not)."""
    if selection is None:
        return None
    if selection.get("weights"):
        return selection["weights"]
    if selection.get("blend") and float(selection.get("weight", 0.5)) == 0.0:
        return {selection["blend"]: 1.0}
    return None


def _compose(members: list[_Member], fdata: ForecastData, selection: dict[str, Any] | None, *,
             floor: bool = False):
    """The exported point forecaster of ``members`` (and the selection's blend, or its
    weighted ensemble; raised to zero with ``floor``), its window rows and the inputs it takes
    beside its window."""
    raw_model, width, extras = _composed(members, fdata, selection)
    return nonnegative(raw_model, floor), width, extras


def _composed(members: list[_Member], fdata: ForecastData, selection: dict[str, Any] | None):
    if weights := _served_weights(selection):
        return _weighted(members, fdata, weights)
    raw_model = members[0].raw if len(members) == 1 else average_forecasters(
        [(m.number, m.raw, m.config) for m in members], fdata)
    width = max(window_length(fdata, m.config) for m in members)
    extras = ordered_inputs(n for m in members for n in extra_inputs(fdata, m.config))
    if selection is not None and selection["blend"]:
        base, base_width, base_extras = _baseline_part(fdata, selection["blend"])
        raw_model = blend_forecasters(raw_model, width, base, base_width, fdata, extras=extras,
                                      weight=selection.get("weight", 0.5),
                                      baseline_extras=base_extras)
        width = max(width, base_width)
        extras = ordered_inputs((*extras, *base_extras))
    return raw_model, width, extras


def _weighted(members: list[_Member], fdata: ForecastData, weights: dict[str, float]):
    """``_compose`` for a weighted ensemble: each trial and baseline of ``weights`` reads the
    last rows of the widest window it needs; their forecasts are summed with the weights."""
    import keras

    by_name = {trial_component(m.number): m for m in members}
    parts, shares = [], []
    for i, (name, w) in enumerate(weights.items()):
        if name in by_name:
            m = by_name[name]
            model, width, takes = m.raw, window_length(fdata, m.config), extra_inputs(fdata,
                                                                                      m.config)
        else:
            model, width, takes = _baseline_part(fdata, name)
        parts.append((f"c{i}", keras.Model(model.input, model.output, name=f"component_{i}"),
                      width, takes))
        shares.append(w)
    width = max(p[2] for p in parts)
    extras = ordered_inputs(n for p in parts for n in p[3])
    return (mean_forecasters(parts, fdata, layer="weighted_mean", name="autoseq_weighted",
                             weights=tuple(shares)), width, extras)


def _baseline_part(fdata: ForecastData, name: str) -> tuple[Any, int, tuple[str, ...]]:
    """An in-graph baseline or statistical model ``name`` as a raw-in, raw-out model: ``(model,
    window rows, inputs beside the window)``."""
    if is_statistical(name):
        model, width, extras, _ = statistical_forecaster(fdata, name)
        return model, width, extras
    model, width = baseline_forecaster(fdata, name)
    return model, width, ()


def _quantile_head(members: list[_Member], fdata: ForecastData,
                   selection: dict[str, Any] | None):
    """The raw-in quantiles of a lone trial whose network has a quantile head (calibrated by
    CQR); ``None`` for a point network, an ensemble or a blend (calibrated on their point)."""
    if len(members) > 1 or (selection and (selection["blend"] or selection.get("weights"))):
        return None
    m = members[0]
    return wrap_quantiles(m.model, fdata, m.config) if head_quantiles(m.config) else None


@dataclass
class _Member:
    """One trial of an export: its network, configuration, trial record and raw wrapper."""

    number: int
    model: Any
    config: dict[str, Any]
    info: dict[str, Any]
    raw: Any


def _ensemble_manifest(manifest: dict[str, Any], members: list[_Member], fdata: ForecastData,
                       *, width: int) -> None:
    """Make the best member's manifest describe the ensemble (its inputs, members, transforms)."""
    described = [transform_manifest(fdata, m.config) for m in members]
    steps = [d for des in described for d in des["derived_inputs"] if d["name"] == STEP]
    derived = steps[:1]  # the only derived input, the same for every member
    manifest["lookback"] = width
    manifest["derived_inputs"] = derived
    sig = manifest["signature"]
    sig["inputs"] = [INPUT_NAME] + [d["name"] for d in derived]
    sig["input_shape"] = [None, width, fdata.n_inputs]
    manifest["transforms"] = [{
        "kind": "ensemble_mean", "where": "inside the model (layer ensemble_mean)",
        "rule": "each member reads the last rows of the window it needs and applies "
                "its own transforms; the forecasts in the data's units are averaged"}]
    manifest["ensemble"] = {
        "trials": [m.number for m in members],
        "combine": "mean of the members' forecasts in the data's units",
        "members": [{"trial": m.number, "lookback": int(m.config["lookback"]),
                     "window": window_length(fdata, m.config),
                     "hyperparameters": m.config,
                     "val": {"loss": m.info.get("val_loss"), "mae": m.info.get("val_mae")},
                     "transforms": d["transforms"]} for m, d in zip(members, described, strict=True)]}


def select_ensemble(members: list[_Member], fdata: ForecastData, *, run: RunFolder | None = None,
                    floor: bool = False) -> dict[str, Any]:
    """Which candidate (``_selection.choose``) forecasts the validation windows best, by MAE in
    the data's units: the means of the first k ``members`` (best first; k in ``AUTO_SIZES``)
    and their blends with each in-graph baseline (naive, seasonal naive, seasonal drift,
    linear, and the statistical models alone: ``autoseq.exporting._statistical``).

    A ``--folds`` run whose members kept their earlier folds' forecasts (``FOLD_FORECASTS``)
    is scored over the windows of every fold, as its trials were ranked: each baseline and
    statistical model fitted on each fold's training rows (``linear`` refitted there). With
    ``floor``, every candidate is scored raised to zero, as ``export`` will serve it.

    Returns:
        ``{"size", "blend", "weight", "chosen", "val_mae": {candidate: MAE}, "windows",
        "folds", "rule"}``: ``blend`` names the baseline blended in (``None`` for none),
        ``weight`` the networks' share of the forecast.
    """
    origins = fdata.origins("val")
    truth = fdata.targets("val", scaled=False)
    preds = [np.asarray(m.raw.predict(raw_inputs(fdata, origins, m.config), verbose=0))
             for m in members]
    bases = _candidate_bases(fdata)
    earlier = _earlier_folds(run, members, fdata)
    for fold, fold_preds in earlier:
        fold_bases = {baseline_kind(k): v for k, v in _candidate_bases(fold).items()}
        dropped = [name for name in bases if baseline_kind(name) not in fold_bases]
        if dropped:
            logger.info("export: %s not applicable on an earlier fold (too short a training "
                        "part): left out of the candidates", ", ".join(dropped))
        bases = {name: np.concatenate([fold_bases[baseline_kind(name)], pred])
                 for name, pred in bases.items() if baseline_kind(name) not in dropped}
        preds = [np.concatenate([f, p]) for f, p in zip(fold_preds, preds, strict=True)]
        truth = np.concatenate([fold.targets("val", scaled=False), truth])
    components = {trial_component(m.number): p for m, p in zip(members, preds, strict=True)}
    # differences below float32's resolution of the data are ties (the simpler wins)
    grain = 8 * float(np.finfo(np.float32).eps) * float(np.mean(np.abs(truth)))
    low = 0.0 if floor else -np.inf  # the candidates scored as the model will serve them
    picked = choose(preds, AUTO_SIZES, bases,
                    partial(_mae, truth=truth, grain=grain, floor=low),
                    metric="MAE", components=components | bases)
    folds = len(earlier) + 1
    windows = (f"in the data's units over the validation windows of all {folds} folds"
               if folds > 1 else "in the data's units")
    return {"size": picked["size"], "blend": picked["blend"], "weight": picked["weight"],
            "weights": picked["weights"], "chosen": picked["chosen"],
            "val_mae": picked["scores"], "windows": int(len(truth)), "folds": folds,
            "rule": rule("MAE", AUTO_SIZES, windows) + weighted_rule("MAE") + _STATISTICAL_RULE}


def _candidate_bases(fdata: ForecastData) -> dict[str, np.ndarray]:
    """The in-graph baselines' and statistical models' validation forecasts (data units)."""
    origins = fdata.origins("val")
    bases = {name: fdata.scaler.inverse(scaled, fdata.target_idx)
             for name, scaled in baseline_forecasts(fdata, "val").items()
             if baseline_spec(fdata, name) is not None}
    for name in statistical_names(fdata):
        model, _, _, cfg = statistical_forecaster(fdata, name)
        bases[name] = np.asarray(model.predict(raw_inputs(fdata, origins, cfg), verbose=0))
    return bases


def _earlier_folds(run: RunFolder | None, members: list[_Member], fdata: ForecastData
                   ) -> list[tuple[ForecastData, list[np.ndarray]]]:
    """``(fold, each member's validation forecast on it)`` for the run's earlier ``--folds``,
    when every member kept them with the fold's shape; otherwise none (the last fold alone)."""
    k = run.settings.folds if run is not None else 1
    if k < 2:
        return []
    kept = [run.trial_dir(m.number) / FOLD_FORECASTS for m in members]
    if not all(f.is_file() for f in kept):
        logger.info("export: some trials kept no earlier-fold forecasts; candidates are "
                    "scored on the last fold's validation windows only")
        return []
    arrays = []
    for f in kept:
        with np.load(f) as z:
            arrays.append([z[f"fold{i}"] for i in range(k - 1)] if all(
                f"fold{i}" in z for i in range(k - 1)) else None)
    folds = make_folds(fdata, k)[:-1]
    shapes = [fold.targets("val", scaled=False).shape for fold in folds]
    if any(a is None or [x.shape for x in a] != shapes for a in arrays):
        logger.info("export: the trials' earlier-fold forecasts do not fit the folds; "
                    "candidates are scored on the last fold's validation windows only")
        return []
    return [(fold, [a[i] for a in arrays]) for i, fold in enumerate(folds)]


_STATISTICAL_RULE = ("; the in-graph baselines include the statistical models alone, fixed: "
                     "MSTL fitted on the training rows followed by damped-trend smoothing "
                     "(mstl_ets_fixed) or AutoARIMA (mstl_arima_fixed) with their parameters "
                     "fitted once")


def _blend_manifest(manifest: dict[str, Any], selection: dict[str, Any], fdata: ForecastData,
                    *, width: int) -> None:
    """Make the manifest describe a blend with a baseline (or a weighted ensemble): its window
    and the averaging."""
    if weights := _served_weights(selection):
        _weighted_manifest(manifest, weights, fdata, width=width)
        return
    if not selection["blend"]:
        return
    manifest["lookback"] = width
    manifest["signature"]["input_shape"] = [None, width, fdata.n_inputs]
    w = float(selection.get("weight", 0.5))
    manifest["transforms"] = [*manifest["transforms"], {
        "kind": "blend_mean", "where": "inside the model (layer blend_mean)",
        "baseline": selection["blend"], "weights": {"networks": w, "baseline": 1 - w},
        "rule": f"{w:g} × the networks' forecast (as above) + {1 - w:g} × the baseline's, both "
                "in the data's units; each reads the last rows of the window it needs"}]


def _weighted_manifest(manifest: dict[str, Any], weights: dict[str, float],
                       fdata: ForecastData, *, width: int) -> None:
    """The manifest of a weighted ensemble: its window, its components and their weights (each
    trial's transforms stay described above, or under ``ensemble`` for several)."""
    manifest["lookback"] = width
    manifest["signature"]["input_shape"] = [None, width, fdata.n_inputs]
    if not any(map(is_trial_component, weights)):  # baselines only: no network served
        manifest["transforms"] = []
        manifest["networks"] = ("none: the trial described above validated worse than this "
                                "ensemble of baselines and is not part of the model")
    if "ensemble" in manifest:
        manifest["ensemble"]["combine"] = ("weighted sum of the members' forecasts in the "
                                           "data's units (the weighted_mean transform)")
        manifest["transforms"] = [t for t in manifest["transforms"]
                                  if t["kind"] != "ensemble_mean"]
    manifest["transforms"] = [*manifest["transforms"], {
        "kind": "weighted_mean", "where": "inside the model (layer weighted_mean)",
        "weights": dict(weights),
        "rule": "the sum of each component's forecast (a trial, an in-graph baseline or a "
                "statistical model alone) times its weight, in the data's units; each reads "
                "the last rows of the window it needs"}]


def _inputs_manifest(manifest: dict[str, Any], fdata: ForecastData,
                     extras: tuple[str, ...]) -> None:
    """The model's inputs in the manifest: the signature's names, and what ``future`` holds."""
    manifest["signature"]["inputs"] = [INPUT_NAME, *extras]
    derived = [d for d in manifest.get("derived_inputs", []) if d["name"] in extras]
    if STEP in extras and not any(d["name"] == STEP for d in derived):
        derived.append(step_input(fdata))  # a blended-in statistical model's MSTL phase
    manifest["derived_inputs"] = derived
    series = fdata.series
    manifest["covariate_columns"] = list(series.covariate_columns)
    manifest["future_covariates"] = list(series.future_columns)
    manifest["categories"] = dict(series.categories)
    manifest["roles"] = (
        {c: "target" for c in series.targets} | {c: "past covariate" for c in series.covariates}
        | {c: "known-future covariate (its past in the window too)" for c in series.future})
    if FUTURE in extras:
        manifest["future_input"] = {
            "name": FUTURE, "dtype": "float32", "shape": [None, fdata.horizon, fdata.n_future],
            "columns": list(series.future),
            "how": "the known-future covariates at each forecast step (the rows after the "
                   "window), raw, in these columns (a categorical one as 0/1 indicators of the "
                   "categories in 'categories'); scaled inside the model (layer scale_future)"}


def _served_val_mae(raw_model, fdata: ForecastData, config: dict[str, Any], *,
                    extras: tuple[str, ...], width: int) -> float:
    """The MAE of the model ``export`` serves (before any refit) on the validation windows."""
    pred = raw_model.predict(raw_inputs(fdata, fdata.origins("val"), config, extras=extras,
                                        width=width), verbose=0)
    return _mae(np.asarray(pred, dtype="float64"), fdata.targets("val", scaled=False))


def _mae(pred: np.ndarray, truth: np.ndarray, grain: float = 0.0,
         floor: float = -np.inf) -> float:
    """The MAE of ``pred`` raised to ``floor``, rounded to a multiple of ``grain`` when one is
    given."""
    mae = float(np.mean(np.abs(np.maximum(pred, floor) - truth)))
    return round(mae / grain) * grain if grain > 0 and math.isfinite(mae) else mae


def _refit_members(run: RunFolder, members: list[_Member], wdata: ForecastData) -> bool:
    """Retrain every member on ``wdata`` (training + validation) for its best epoch count;
    ``False``, leaving them as they were, when one ends with non-finite weights."""
    refitted = []
    for m in members:
        model = _refit(run, m.config, wdata,
                       epochs=int(m.info.get("best_epoch") or m.info["epochs"]))
        if not all(np.all(np.isfinite(w)) for w in model.get_weights()):
            logger.warning("trial %d diverged when retrained on train + validation (non-finite "
                           "weights): exporting the trials as they were trained, not refitted",
                           m.number)
            return False
        refitted.append(model)
    for m, model in zip(members, refitted, strict=True):
        m.model, m.raw = model, wrap_forecaster(model, wdata, m.config)
    return True


def _refit(run: RunFolder, config: dict[str, Any], fdata: ForecastData, *, epochs: int):
    import keras

    seed = run.settings.seed * 1000 + 999
    lookback = int(config["lookback"])
    origins = fdata.origins("train", lookback)  # training + validation rows (see export)
    variant = trial_variant(fdata, config)
    # Compiled where a trial of this size would be under --compile auto (about half the time
    # on a CPU); an XLA failure retrains without, as a trial does.
    first = auto_compiles((lookback, len(origins)), int(config["batch_size"]), epochs=epochs)
    for jit in dict.fromkeys((first, False)):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        ds = fdata.dataset("train", lookback=lookback, batch_size=int(config["batch_size"]),
                           shuffle=True, seed=seed, origins=origins, values=variant.values,
                           inputs=network_inputs(config, fdata), rolling=variant.rolling)
        model = build_model(config, forecast_context(fdata, config, seed=seed),
                            builder=run.settings.builder, jit_compile=jit)
        try:
            model.fit(ds, epochs=max(1, epochs), shuffle=False, verbose=0)
            break
        except Exception as exc:  # noqa: BLE001 - only a compiled fit is tried again
            if not model.jit_compile:
                raise
            logger.warning("compiled retraining failed (%s); retraining without compiling",
                           str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
    logger.info("refitted on train + validation (%d windows) for %d epoch%s", len(origins),
                epochs, "" if epochs == 1 else "s")
    return model


def _score_test(raw_model, fdata: ForecastData, config: dict[str, Any], *,
                extras: tuple[str, ...] | None = None, width: int | None = None
                ) -> dict[str, Any]:
    origins = fdata.origins("test")
    pred = raw_model.predict(raw_inputs(fdata, origins, config, extras=extras, width=width),
                             verbose=0)
    truth = fdata.targets("test", scaled=False)
    train = fdata.raw[: fdata.split.train][:, fdata.target_idx]
    season = fdata.main_season
    model_metrics = forecast_metrics(pred, truth, train=train, season=season)
    baselines = {}
    for name, scaled in baseline_forecasts(fdata, "test").items():
        units = fdata.scaler.inverse(scaled, fdata.target_idx)
        baselines[name] = forecast_metrics(units, truth, train=train, season=season)
    return {"model": model_metrics, "baselines": baselines, "windows": int(len(origins)),
            "pred": pred}


def _add_stat_baselines(test: dict[str, Any], run: RunFolder, fdata: ForecastData, *,
                        bands: dict[str, Any] | None = None, calib=None) -> None:
    """MSTL + AutoETS / AutoARIMA on the test windows, beside the naive baselines (and their
    intervals beside the model's on the same windows, ``test["stat_intervals"]``)."""
    opts = run.info.get("stat_baselines") or {}
    if not opts.get("enabled"):
        return
    from autoseq.stat_baselines import stat_test_metrics

    levels = tuple(calib.spec.levels) if calib else ()
    stat = stat_test_metrics(fdata, test["pred"], max_origins=int(opts.get("max_origins", 24)),
                             train=fdata.raw[: fdata.split.train][:, fdata.target_idx],
                             season=fdata.main_season, levels=levels,
                             quantiles=bands["q"] if bands else None,
                             taus=calib.taus if calib else ())
    test["stat"] = {"windows": stat["windows"], "of": stat["of"], "model": stat["model"]}
    label = {}
    for name, metrics in stat["baselines"].items():
        label[name] = name if stat["windows"] == stat["of"] else (
            f"{name[:-1]}; {stat['windows']} of {stat['of']} windows)")
        test["baselines"][label[name]] = metrics
    if "intervals" in stat:
        mine = f"exported model ({stat['windows']} of {stat['of']} windows)"
        test["stat_intervals"] = {label.get(k, mine): v for k, v in stat["intervals"].items()}


def _write_format(format: str, raw_model, folder: Path, fdata: ForecastData, *, core,
                  config: dict[str, Any], builder: str, floor: bool = False) -> dict[str, Any]:
    if format == "keras":
        raw_model.save(str(folder / KERAS_FILE))
        return {"keras": KERAS_FILE}
    if format == "tflite":
        return {"tflite": _write_tflite(raw_model, folder, fdata, core=core, config=config,
                                        builder=builder, floor=floor),
                "tflite_outputs": ["output_0"],
                "tflite_note": "the point forecast only: the quantiles are served by the "
                               "SavedModel (and model.keras)"}
    return {}


def _write_tflite(raw_model, folder: Path, fdata: ForecastData, *, core, config: dict[str, Any],
                  builder: str, floor: bool = False) -> str:
    """TFLite with builtin ops only: the recurrent layers are unrolled over the fixed lookback
    (a while loop would need the Flex delegate, which phones rarely ship)."""
    import tensorflow as tf

    ctx = dataclasses.replace(forecast_context(fdata, config), unroll=True)
    unrolled = build_model(config, ctx, builder=builder)
    unrolled.set_weights(core.get_weights())
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nonnegative(wrap_forecaster(unrolled, fdata, config), floor).export(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            blob = converter.convert()
        except Exception as exc:  # noqa: BLE001 - the converter raises many kinds
            raise ModelError(f"this model cannot be converted to TFLite builtin ops "
                             f"({str(exc).splitlines()[0][:200]}); export as savedmodel") from None
    (folder / TFLITE_FILE).write_bytes(blob)
    inputs = raw_inputs(fdata, fdata.origins("test"), config)
    feeds = ([{k: v[i:i + 1] for k, v in inputs.items()} for i in range(len(inputs[INPUT_NAME]))]
             if isinstance(inputs, dict) else [{INPUT_NAME: w[None]} for w in inputs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter announces its successor
        try:
            runner = tf.lite.Interpreter(model_content=blob).get_signature_runner(
                "serving_default")
            got = np.concatenate([runner(**feed)["output_0"] for feed in feeds])
        except (ValueError, RuntimeError) as exc:  # e.g. the rolling MSTL's einsum
            raise ModelError(f"this model converts to TFLite but does not run there "
                             f"({str(exc).splitlines()[0][:200]}); export as savedmodel"
                             ) from None
    want = raw_model.predict(inputs, verbose=0)
    windows = feeds
    gap = float(np.max(np.abs(got - want) / (np.abs(want) + 1e-3)))
    if gap > 1e-3:
        raise ModelError(f"TFLite conversion changed the forecasts (max relative gap {gap:.2g}); "
                         "export as savedmodel instead")
    logger.info("TFLite parity on %d test windows: max relative gap %.2g", len(windows), gap)
    return TFLITE_FILE


def _manifest(run: RunFolder, fdata: ForecastData, number: int, config: dict[str, Any],
              info: dict[str, Any], test: dict[str, Any], *, refit: bool,
              extra: dict[str, Any], wrap_data: ForecastData | None = None) -> dict[str, Any]:
    series = fdata.series
    lookback = window_length(wrap_data or fdata, config)  # rows of raw window the model takes
    wrapped = transform_manifest(wrap_data or fdata, config)
    return {
        "format_version": FORMAT_VERSION,
        "task": "forecast",
        "inputs": list(series.columns),
        "targets": list(series.targets),
        "covariates": list(series.covariates),
        "time_col": series.time_col,
        "lookback": lookback,
        "horizon": fdata.horizon,
        "frequency": series.freq,
        "seasons": fdata.seasons,
        "max_gap": run.settings.data.get("max_gap", 12),
        "t0": wrapped["t0"],
        "derived_inputs": wrapped["derived_inputs"],
        "transforms": wrapped["transforms"],
        "classes": None,
        "signature": {"name": "serving_default", "input": INPUT_NAME,
                      "inputs": [INPUT_NAME] + [d["name"] for d in wrapped["derived_inputs"]],
                      "input_shape": [None, lookback, fdata.n_inputs], "dtype": "float32",
                      "output": "output_0", "output_shape": [None, fdata.horizon,
                                                             fdata.n_targets],
                      "units": "raw in, raw out (the data's own units)"},
        "trial": number,
        "hyperparameters": config,
        "refit": refit,
        "metrics": {
            "val": {"loss": info.get("val_loss"), "mae": info.get("val_mae")},
            "test": test["model"] | {"windows": test["windows"]},
            "test_baselines": test["baselines"],
        } | ({"test_stat_windows": test["stat"]} if "stat" in test else {}),
        "data": {"source": series.source, "fingerprint": series.fingerprint,
                 "rows": len(series.frame), "start": series.frame.index[0].isoformat(),
                 "end": series.frame.index[-1].isoformat(), "split": fdata.describe()},
        "versions": versions(),
        "files_extra": extra,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


AUTO_SIZES = (1, 3, 5, 10)
"""The ensembles ``export`` weighs by default: the best trial and the means of the 3, 5, 10 best."""
