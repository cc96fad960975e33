"""Export of classification and regression runs: a SavedModel over raw NaN-padded sequences.

The model folder is written like a forecaster's (``autoseq.exporting._export``: SavedModel, checksummed
manifest, optional ``model.keras``); the network sits between the input scaling and, for
regression, the inverse target scaling. ``ensemble=K`` averages the K best complete trials.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from autoseq._run_folder import RunFolder, load_trial
from autoseq.baselines import sequence_baselines
from autoseq.data import TRUNCATION, SequenceData
from autoseq.exceptions import ModelError
from autoseq.exporting._class_calibration import (
    calibration_manifest,
    fit_class_calibration,
    probabilities,
)
from autoseq.exporting._common import (
    ExportResult,
    check_finite,
    pick_members,
    val_scores,
    versions,
    write_keras_file,
    write_model_folder,
)
from autoseq.exporting._manifest import FORMAT_VERSION
from autoseq.metrics import classification_report
from autoseq.model._builder import build_model, sequence_context
from autoseq.trial._result import load_trial_json

logger = logging.getLogger("autoseq")

SEQUENCE_INPUT = "sequences"


def export_sequences(run: RunFolder, sdata: SequenceData, *, trial: int | None, out: str | Path | None, format: str,
                     refit: bool, ensemble: int) -> ExportResult:
    """``autoseq.export`` for a classification or regression run (see there)."""
    if format == "tflite":
        raise ModelError(f"--format tflite is for forecasting models; export this {run.task} "
                         "model as savedmodel or keras")
    numbers = pick_members(run, trial, ensemble)
    members = []
    for n in numbers:
        model, config = load_trial(run, n, lambda _: sequence_context(sdata))
        check_finite(model, n)
        members.append((n, model, config, load_trial_json(run.trial_dir(n))))
    # Fitted before any refit: a refitted model has seen the validation sequences.
    calib = fit_class_calibration(wrap_sequences(_core(members), sdata), sdata)
    val = _served_scores(wrap_sequences(_core(members), sdata, temperature=calib.temperature
                                        if calib else None), sdata, "val")
    if refit:
        members = [(n, _refit(run, cfg, sdata, epochs=int(info.get("best_epoch")
                                                          or info["epochs"])), cfg, info)
                   for n, _, cfg, info in members]
        for n, model, _, _ in members:
            check_finite(model, n)
    plain = wrap_sequences(_core(members), sdata)
    raw_model = wrap_sequences(_core(members), sdata,
                               temperature=calib.temperature if calib else None)
    out = Path(out) if out else run.path / "export"

    def fill(folder: Path) -> dict[str, Any]:
        extra = write_keras_file(raw_model, folder, format)
        manifest = _manifest(sdata, members, _score_test(raw_model, sdata), refit=refit,
                             extra=extra, val=val)
        if calib:
            manifest["calibration"] = calibration_manifest(
                calib, probabilities(plain, sdata, "test"), np.asarray(sdata.targets("test")))
        return manifest

    manifest = write_model_folder(out, raw_model, fill)
    return ExportResult(path=out, trial=numbers[0], manifest=manifest,
                        members=tuple(numbers) if len(numbers) > 1 else ())


def _core(members: list):
    """The members' network, or their mean."""
    return members[0][1] if len(members) == 1 else _average([(n, m) for n, m, _, _ in members])


def wrap_sequences(model, data: SequenceData, *, temperature: float | None = None):
    """Raw NaN-padded sequences → scaling → ``model`` → probabilities (tempered by
    ``temperature`` when given), or the value in units.

    NaN padding survives the scaling (NaN - mean is NaN), so the network's ``PaddingMask`` finds
    the same padding in raw and scaled sequences.
    """
    import keras

    inputs = keras.Input((None, data.n_inputs), name=SEQUENCE_INPUT)
    s = data.scaler
    x = keras.layers.Normalization(mean=s.mean.tolist(), variance=(s.scale ** 2).tolist(),
                                   name="scale_inputs")(inputs)
    y = model(x)
    if temperature is not None:
        from autoseq.model.layers_intervals import TemperatureScale

        y = TemperatureScale(temperature=temperature, name="temperature")(y)
    if data.target_scaler is not None:
        t = data.target_scaler
        y = keras.layers.Normalization(mean=t.mean.tolist(), variance=(t.scale ** 2).tolist(),
                                       invert=True, name="unscale_target")(y)
    return keras.Model(inputs, y, name=f"autoseq_{data.task}")


def _average(members: list[tuple[int, Any]]):
    """One model whose output is the mean of the members' outputs (each renamed ``trial_N``)."""
    import keras

    inputs = keras.Input(members[0][1].input_shape[1:], name=SEQUENCE_INPUT)
    outputs = [keras.Model(m.input, m.output, name=f"trial_{n}")(inputs) for n, m in members]
    return keras.Model(inputs, keras.layers.Average(name="ensemble_mean")(outputs),
                       name="autoseq_ensemble")


def _refit(run: RunFolder, config: dict[str, Any], data: SequenceData, *, epochs: int):
    """Retrain ``config`` on the training and validation sequences for ``epochs`` epochs (the
    scaler stays the training sequences')."""
    import keras

    seed = run.settings.seed * 1000 + 999
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_model(config, sequence_context(data, seed=seed),
                        builder=run.settings.builder)
    model.fit(data.batches("train+val", config, shuffle=True, seed=seed), epochs=max(1, epochs),
              shuffle=False, verbose=0)
    logger.info("refitted on train + validation (%d sequences) for %d epoch%s",
                len(data.indices("train+val")), epochs, "" if epochs == 1 else "s")
    return model


def _predicted(raw_model, data: SequenceData, part: str) -> np.ndarray:
    """The raw-in model's outputs on ``part``'s sequences, as ``data.evaluate`` scores them."""
    pred = raw_model.predict(data.dataset(part, batch_size=256, scaled=False, targets=False),
                             verbose=0)
    return pred if data.target_scaler is None else data.target_scaler.transform(pred)


def _served_scores(raw_model, data: SequenceData, part: str) -> dict[str, Any]:
    """``{"loss", metrics…}`` of the served model (an ensemble's mean, tempered) on ``part``."""
    loss, metrics = data.evaluate(_predicted(raw_model, data, part), part)
    return {"loss": loss} | metrics


def _score_test(raw_model, data: SequenceData) -> dict[str, Any]:
    """The exported model on the raw test sequences, next to the baselines."""
    pred = _predicted(raw_model, data, "test")
    _, metrics = data.evaluate(pred, "test")
    baselines = {name: data.evaluate(p, "test")[1]
                 for name, p in sequence_baselines(data, "test").items()}
    out = {"model": metrics, "baselines": baselines, "sequences": int(len(pred))}
    if data.n_classes:
        out["report"] = classification_report(pred, data.targets("test"), data.classes)
    return out


def _manifest(data: SequenceData, members: list, test: dict[str, Any], *, refit: bool,
              extra: dict[str, Any], val: dict[str, Any]) -> dict[str, Any]:
    number, _, config, info = members[0]
    table = data.table
    split = data.describe()
    transforms = [{"kind": "standard_scale", "where": "inside the model (layer scale_inputs)",
                   "columns": list(table.features), "mean": data.scaler.mean.tolist(),
                   "scale": data.scaler.scale.tolist(), "fitted_on": "training sequences only"},
                  {"kind": "padding_mask", "where": "inside the model (layer padding_mask)",
                   "rule": "a step whose features are all NaN is padding and is skipped"}]
    if data.target_scaler is not None:
        transforms.append({"kind": "inverse_standard_scale", "where": "inside the model (layer "
                           "unscale_target)", "columns": [table.target],
                           "mean": data.target_scaler.mean.tolist(),
                           "scale": data.target_scaler.scale.tolist()})
    classify = bool(data.n_classes)
    out = "class probabilities" if classify else "the value in the target's units"
    manifest = {
        "format_version": FORMAT_VERSION,
        "task": data.task,
        "inputs": list(table.features),
        "target": table.target,
        "id_col": table.id_col,
        "step_col": table.step_col,
        "format": table.format,
        "classes": list(data.classes) if classify else None,
        "max_length": data.max_length,
        "padding": {"value": "NaN", "side": "right",
                    "rule": "pad every sequence of a batch on the right with NaN to the batch's "
                            "longest; padded steps are masked"},
        "truncation": TRUNCATION,
        "lengths": {p: split[p]["lengths"] for p in ("train", "val", "test")},
        "transforms": transforms,
        "signature": {"name": "serving_default", "input": SEQUENCE_INPUT,
                      "input_shape": [None, None, data.n_inputs], "dtype": "float32",
                      "output": "output_0",
                      "output_shape": [None, data.n_classes if classify else 1],
                      "units": f"raw sequences in (the data's own units, NaN-padded), {out} out"},
        "trial": number,
        "hyperparameters": config,
        "refit": refit,
        "metrics": {"val": val, "val_trial": val_scores(info),  # val: the served model's
                    "test": test["model"] | {"sequences": test["sequences"]},
                    "test_baselines": test["baselines"]}
        | ({"test_report": test["report"]} if "report" in test else {}),
        "data": {"source": table.source, "fingerprint": table.fingerprint,
                 "sequences": len(data.ids), "split": split}
        | ({"test_source": data.test_table.source,
            "test_fingerprint": data.test_table.fingerprint} if data.test_table else {}),
        "versions": versions(),
        "files_extra": extra,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if len(members) > 1:
        manifest["ensemble"] = {
            "trials": [n for n, _, _, _ in members],
            "combine": "mean of the members' outputs (class probabilities, or scaled values)",
            "members": [{"trial": n, "hyperparameters": cfg, "val": val_scores(inf)}
                        for n, _, cfg, inf in members]}
    return manifest
