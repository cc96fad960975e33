"""``export(...)``: the chosen trial as a SavedModel that takes raw data and answers in units.

Forecasting models take raw windows (here); classification and regression models take raw
sequences right-padded with NaN (``autoseq.exporting._sequences``).
"""

from __future__ import annotations

import logging
import platform
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoseq import __version__
from autoseq._io import replace_dir_atomic, write_json_atomic
from autoseq.baselines import baseline_forecasts
from autoseq.data import ForecastData
from autoseq.data._variants import calendar_dicts, uses_steps
from autoseq.exceptions import ModelError
from autoseq.exporting._forecast_wrap import (
    STEP,
    average_forecasters,
    baseline_forecaster,
    baseline_spec,
    blend_forecasters,
    needs_steps,
    raw_inputs,
    transform_manifest,
    trial_variant,
    window_length,
    wrap_forecaster,
)
from autoseq.exporting._manifest import FORMAT_VERSION, MANIFEST, file_checksums
from autoseq.leaderboard import best_trial_row
from autoseq.metrics import forecast_metrics
from autoseq.model._builder import ModelContext, build_model
from autoseq.run import Run, load_trial_model, open_run
from autoseq.trial._folds import training_and_validation
from autoseq.trial._objective import load_trial_json

logger = logging.getLogger("autoseq")

FORMATS = ("savedmodel", "keras", "tflite")
INPUT_NAME = "window"
KERAS_FILE = "model.keras"
TFLITE_FILE = "model.tflite"


@dataclass(frozen=True)
class ExportResult:
    """Where the model went and how it scored on the held-out test split."""

    path: Path
    trial: int
    manifest: dict[str, Any]
    members: tuple[int, ...] = ()
    """The trials averaged by an ensemble (best first); empty for one trial."""

    @property
    def test_metrics(self) -> dict[str, float]:
        return self.manifest["metrics"]["test"]


def export(run_dir: str | Path, *, trial: int | None = None, out: str | Path | None = None,
           format: str = "savedmodel", refit: bool = False,
           data: str | Path | None = None, report: bool = True,
           ensemble: int | None = None) -> ExportResult:
    """Export a trial (default: the best) as a SavedModel taking raw data.

    Forecasting: the ``serving_default`` signature takes float32 ``[batch, lookback, n_inputs]``
    in the data's units and returns ``[batch, horizon, n_targets]`` in the data's units.
    Classification / regression: it takes float32 sequences ``[batch, time, n_inputs]`` in the
    data's units, right-padded with NaN, and returns class probabilities ``[batch, n_classes]``
    or the value ``[batch, 1]``. The scaling (and its inverse) are layers inside the model. The
    model is scored once on the held-out test split, next to the baselines.

    Args:
        run_dir: a run folder written by ``search``.
        trial: trial number (default: the best-ranked trial).
        out: model folder (default ``<run_dir>/export``).
        format: also write ``model.keras`` (``keras``) or ``model.tflite`` (``tflite``).
        refit: retrain the configuration on train + validation for its best epoch count.
        data: the training CSV, if it moved since the search.
        report: rewrite the run's report with the exported model's test scores.
        ensemble: average the outputs (forecasts, probabilities or values) of the
            ``ensemble`` best complete trials: a validation part is often too small to pick one
            trial reliably, and the mean of a few good ones varies less. Forecasting members
            may differ in lookback and transforms; the ensemble takes the longest window.
            ``None`` (the default): for forecasting, whichever of the best trial and the means
            of its ``AUTO_SIZES`` best has the lowest validation MAE (the manifest's
            ``selection`` lists each candidate's score); one trial for the sequence tasks.

    Raises:
        ModelError: no such trial, non-finite weights, or a TFLite parity failure.

    Example:
        >>> res = autoseq.export("results/airline")
        >>> res.test_metrics["mae"]
    """
    if format not in FORMATS:
        raise ModelError(f"--format must be one of {', '.join(FORMATS)}. Received: {format}")
    run = open_run(run_dir)
    if run.task == "forecast":
        result = _export_forecaster(run, trial=trial, out=out, format=format, refit=refit,
                                    data=data, ensemble=ensemble)
    else:
        from autoseq.exporting._sequences import export_sequences

        result = export_sequences(run, trial=trial, out=out, format=format, refit=refit,
                                  data=data, ensemble=ensemble or 1)
    if report:
        from autoseq.report import try_write_report

        try_write_report(run.path, data=data)
    return result


def _export_forecaster(run: Run, *, trial: int | None, out: str | Path | None, format: str,
                       refit: bool, data: str | Path | None, ensemble: int | None
                       ) -> ExportResult:
    """``export`` for a forecasting run: one trial, the mean of the ``ensemble`` best, or
    (``ensemble=None``) whichever of those validates best."""
    if ensemble not in (None, 1) and format == "tflite":
        raise ModelError("--format tflite takes one trial; export the ensemble as savedmodel or "
                         "keras")
    auto = ensemble is None and trial is None and format != "tflite"
    numbers = (_best_complete(run, max(AUTO_SIZES)) if auto
               else pick_members(run, trial, ensemble or 1))
    fdata = run.forecast_data(data)
    members = []
    for number in numbers:
        model, config, fdata = load_trial_model(run, number, fdata)
        _check_finite(model, number)
        members.append(_Member(number, model, config, load_trial_json(run.trial_dir(number)),
                               wrap_forecaster(model, fdata, config)))
    selection = None
    if auto:
        selection = select_ensemble(members, fdata) | {"best_baseline": _best_baseline(run)}
        members = members[: selection["size"]]
        numbers = [m.number for m in members]
        logger.info("export: %s (validation MAE %s)", selection["chosen"],
                    ", ".join(f"{k} {v:.4g}" for k, v in selection["val_mae"].items()))
    wdata = training_and_validation(fdata) if refit else fdata  # whose scaler/profile it carries
    if refit:
        for m in members:
            m.model = _refit(run, m.config, wdata,
                             epochs=int(m.info.get("best_epoch") or m.info["epochs"]))
            _check_finite(m.model, m.number)
            m.raw = wrap_forecaster(m.model, wdata, m.config)
    best = members[0]
    raw_model = best.raw if len(members) == 1 else average_forecasters(
        [(m.number, m.raw, m.config) for m in members], wdata)
    width = max(window_length(wdata, m.config) for m in members)
    steps = any(needs_steps(wdata, m.config) for m in members)
    if selection is not None and selection["blend"]:
        base, base_width = baseline_forecaster(wdata, selection["blend"])
        raw_model = blend_forecasters(raw_model, width, base, base_width, wdata, steps=steps)
        width = max(width, base_width)
    out = Path(out) if out else run.path / "export"

    def fill(tmp: Path) -> dict[str, Any]:
        test = _score_test(raw_model, fdata, best.config, steps=steps, width=width)
        _add_stat_baselines(test, run, fdata)
        extra = _write_format(format, raw_model, tmp, wdata, core=best.model, config=best.config,
                              builder=run.settings.get("builder", "rnn"))
        manifest = _manifest(run, fdata, best.number, best.config, best.info, test, refit=refit,
                             extra=extra, wrap_data=wdata)
        if len(members) > 1:
            _ensemble_manifest(manifest, members, wdata, width=width)
        if selection is not None:
            manifest["selection"] = selection
            _blend_manifest(manifest, selection, wdata, width=width)
        return manifest

    manifest = write_model_folder(out, raw_model, fill)
    return ExportResult(path=out, trial=best.number, manifest=manifest,
                        members=tuple(numbers) if len(numbers) > 1 else ())


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


AUTO_SIZES = (1, 3, 5, 10)
"""The ensembles ``export`` weighs by default: the best trial and the means of the 3, 5, 10 best."""


def select_ensemble(members: list[_Member], fdata: ForecastData) -> dict[str, Any]:
    """Which candidate forecasts the validation windows best (MAE in the data's units; ties go
    to the simpler): the mean of the first k ``members`` (best first; k in ``AUTO_SIZES``), or
    the best of those averaged with the best in-graph baseline (naive, seasonal naive, seasonal
    drift) when that validates better.

    The single best trial was itself picked on these windows, so its score is the most
    optimistic of the candidates: an ensemble or a blend chosen here beat that optimism. A
    baseline alone is scored too; when it beats every candidate the blend is exported (a
    SavedModel of networks is what export makes) and the log says so.

    Returns:
        ``{"size", "blend", "chosen", "val_mae": {candidate: MAE}, "windows", "rule"}``:
        ``blend`` names the baseline averaged in (``None`` for none).
    """
    from autoseq.baselines import baseline_forecasts

    origins = fdata.origins("val")
    truth = fdata.targets("val", scaled=False)
    preds = [np.asarray(m.raw.predict(raw_inputs(fdata, origins, m.config), verbose=0))
             for m in members]
    scores: dict[str, float] = {}
    nets: dict[int, np.ndarray] = {}
    for k in AUTO_SIZES:
        if k > len(preds):
            break
        nets[k] = np.mean(preds[:k], axis=0)
        scores[_candidate(k)] = _mae(nets[k], truth)
    size = min(nets, key=lambda k: (scores[_candidate(k)], k))
    chosen, blend = _candidate(size), None
    bases = {name: fdata.scaler.inverse(scaled, fdata.target_idx)
             for name, scaled in baseline_forecasts(fdata, "val").items()
             if baseline_spec(fdata, name) is not None}
    if bases:
        base = min(bases, key=lambda n: _mae(bases[n], truth))
        scores[base] = _mae(bases[base], truth)
        mixed = f"{_candidate(size)} + {base}"
        scores[mixed] = _mae((nets[size] + bases[base]) / 2, truth)
        if scores[mixed] < scores[chosen] - 1e-12 or scores[base] < scores[chosen] - 1e-12:
            chosen, blend = mixed, base
            if scores[base] < scores[mixed]:
                logger.warning("export: baseline %s beats every network on validation (MAE %.4g "
                               "vs %.4g): the networks are averaged with it", base, scores[base],
                               scores[_candidate(size)])
    return {"size": size, "blend": blend, "chosen": chosen, "val_mae": scores,
            "windows": int(len(origins)),
            "rule": "lowest validation MAE among the best trial, the means of the "
                    f"{', '.join(map(str, AUTO_SIZES[1:]))} best complete trials, and the best "
                    "of those averaged with the best in-graph baseline"}


def _blend_manifest(manifest: dict[str, Any], selection: dict[str, Any], fdata: ForecastData,
                    *, width: int) -> None:
    """Make the manifest describe a blend with a baseline: its window and the averaging."""
    if not selection["blend"]:
        return
    manifest["lookback"] = width
    manifest["signature"]["input_shape"] = [None, width, fdata.n_inputs]
    manifest["transforms"] = [*manifest["transforms"], {
        "kind": "blend_mean", "where": "inside the model (layer blend_mean)",
        "baseline": selection["blend"],
        "rule": "the networks' forecast (as above) and the baseline's, both in the data's units, "
                "are averaged; each reads the last rows of the window it needs"}]


def _candidate(k: int) -> str:
    return "best trial" if k == 1 else f"mean of {k} best"


def _mae(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - truth)))


def _best_baseline(run: Run) -> dict[str, Any] | None:
    """The leaderboard's baseline with the lowest validation MAE (its name says on how many
    windows when that is a subset)."""
    board = run.leaderboard()
    rows = board[(board["state"] == "baseline") & board["val_mae"].notna()]
    if rows.empty:
        return None
    row = rows.loc[rows["val_mae"].astype(float).idxmin()]
    return {"name": str(row["model"]), "val_mae": float(row["val_mae"])}


def pick_members(run: Run, trial: int | None, ensemble: int) -> list[int]:
    """The trial to export, or the ``ensemble`` best complete trials (best first)."""
    if ensemble < 1:
        raise ModelError(f"--ensemble must be at least 1. Received: {ensemble}")
    if ensemble == 1:
        return [_pick_trial(run, trial)]
    if trial is not None:
        raise ModelError("--trial and --ensemble exclude each other: the ensemble is the best "
                         "complete trials")
    numbers = _best_complete(run, ensemble)
    if len(numbers) < ensemble:
        logger.warning("only %d complete trials: the ensemble has %d members, not %d",
                       len(numbers), len(numbers), ensemble)
    return numbers


def _best_complete(run: Run, n: int) -> list[int]:
    """The ``n`` best-ranked complete trials (the best trial with a result when none is)."""
    board = run.leaderboard()
    ranked = board[(board["state"] == "complete") & board["rank"].notna()].sort_values("rank")
    return [int(t) for t in ranked["trial"].head(n)] or [_pick_trial(run, None)]


def write_model_folder(out: Path, raw_model, fill: Callable[[Path], dict[str, Any]]
                       ) -> dict[str, Any]:
    """Export ``raw_model`` as a SavedModel into a temporary folder, let ``fill(folder)`` add
    files and return the manifest, checksum every file, then move the folder onto ``out``.

    Returns:
        The manifest as written (with ``files``).
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists()
                                else None))
    try:
        raw_model.export(str(tmp), verbose=False)
        manifest = fill(tmp)
        manifest["files"] = file_checksums(tmp)
        write_json_atomic(tmp / MANIFEST, manifest)
        out.parent.mkdir(parents=True, exist_ok=True)
        replace_dir_atomic(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def versions() -> dict[str, str]:
    """The versions a manifest records."""
    import keras
    import tensorflow as tf

    return {"autoseq": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def _pick_trial(run: Run, trial: int | None) -> int:
    board = run.leaderboard()
    if trial is None:
        row = best_trial_row(board)
        if row is None:
            raise ModelError(f"{run.path}: no trial has a result yet; nothing to export")
        return int(row["trial"])
    rows = board[board["trial"] == trial]
    if rows.empty:
        raise ModelError(f"{run.path}: no trial {trial} in this run; trials are "
                         f"{sorted(int(t) for t in board['trial'].dropna())}")
    if rows.iloc[0]["state"] not in ("complete", "pruned"):
        raise ModelError(f"{run.path}: trial {trial} is {rows.iloc[0]['state']}: it has no model "
                         "to export; pick a complete trial from the leaderboard")
    return trial


def _refit(run: Run, config: dict[str, Any], fdata: ForecastData, *, epochs: int):
    import keras

    seed = int(run.settings.get("seed", 0)) * 1000 + 999
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    lookback = int(config["lookback"])
    ctx = ModelContext(lookback=lookback, n_inputs=fdata.n_inputs, horizon=fdata.horizon,
                       n_targets=fdata.n_targets, seed=seed, season=fdata.main_season,
                       calendar=calendar_dicts(fdata))
    model = build_model(config, ctx, builder=run.settings.get("builder", "rnn"))
    origins = fdata.origins("train", lookback)  # training + validation rows (see export)
    variant = trial_variant(fdata, config)
    ds = fdata.dataset("train", lookback=lookback, batch_size=int(config["batch_size"]),
                       shuffle=True, seed=seed, origins=origins, values=variant.values,
                       with_steps=uses_steps(config, fdata), rolling=variant.rolling)
    model.fit(ds, epochs=max(1, epochs), shuffle=False, verbose=0)
    logger.info("refitted on train + validation (%d windows) for %d epochs", len(origins), epochs)
    return model


def _check_finite(model, number: int) -> None:
    for w in model.get_weights():
        if not np.all(np.isfinite(w)):
            raise ModelError(f"trial {number} has non-finite weights; it cannot be exported — "
                             "pick another trial (--trial)")


def wrap_raw(model, fdata: ForecastData):
    """``model`` (no calendar, no transform) between the input scaling and its inverse."""
    return wrap_forecaster(model, fdata, {"lookback": model.input_shape[1]})


def raw_windows(fdata: ForecastData, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Raw (unscaled) float32 input windows ending just before each origin."""
    idx = origins[:, None] + np.arange(-lookback, 0)[None, :]
    return fdata.raw[idx].astype("float32")


def _score_test(raw_model, fdata: ForecastData, config: dict[str, Any], *,
                steps: bool | None = None, width: int | None = None) -> dict[str, Any]:
    origins = fdata.origins("test")
    pred = raw_model.predict(raw_inputs(fdata, origins, config, steps=steps, width=width),
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


def _add_stat_baselines(test: dict[str, Any], run: Run, fdata: ForecastData) -> None:
    """MSTL + AutoETS / AutoARIMA on the test windows, beside the naive baselines."""
    opts = run.info.get("stat_baselines") or {}
    if not opts.get("enabled"):
        return
    from autoseq.stat_baselines import stat_test_metrics

    stat = stat_test_metrics(fdata, test["pred"], max_origins=int(opts.get("max_origins", 24)),
                             train=fdata.raw[: fdata.split.train][:, fdata.target_idx],
                             season=fdata.main_season)
    test["stat"] = {"windows": stat["windows"], "of": stat["of"], "model": stat["model"]}
    for name, metrics in stat["baselines"].items():
        label = name if stat["windows"] == stat["of"] else (
            f"{name[:-1]}; {stat['windows']} of {stat['of']} windows)")
        test["baselines"][label] = metrics


def _write_format(format: str, raw_model, folder: Path, fdata: ForecastData, *, core,
                  config: dict[str, Any], builder: str) -> dict[str, Any]:
    if format == "keras":
        raw_model.save(str(folder / KERAS_FILE))
        return {"keras": KERAS_FILE}
    if format == "tflite":
        return {"tflite": _write_tflite(raw_model, folder, fdata, core=core, config=config,
                                        builder=builder)}
    return {}


def _write_tflite(raw_model, folder: Path, fdata: ForecastData, *, core, config: dict[str, Any],
                  builder: str) -> str:
    """TFLite with builtin ops only: the recurrent layers are unrolled over the fixed lookback
    (a while loop would need the Flex delegate, which phones rarely ship)."""
    import tensorflow as tf

    lookback = int(config["lookback"])
    ctx = ModelContext(lookback=lookback, n_inputs=fdata.n_inputs, horizon=fdata.horizon,
                       n_targets=fdata.n_targets, season=fdata.main_season, unroll=True,
                       calendar=calendar_dicts(fdata))
    unrolled = build_model(config, ctx, builder=builder)
    unrolled.set_weights(core.get_weights())
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrap_forecaster(unrolled, fdata, config).export(tmp, verbose=False)
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


def _manifest(run: Run, fdata: ForecastData, number: int, config: dict[str, Any],
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
        "max_gap": run.settings.get("max_gap", 12),
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
