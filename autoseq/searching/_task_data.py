"""What a search reads and records for its kind of run: forecasting or labelled sequences.

The per-task pieces of the search stage, kept together (and their names kept) for the task seam.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from autoseq.data import ForecastData, SequenceData, load_sequences, load_series
from autoseq.exceptions import DataError, SearchError
from autoseq.space import SearchSpace
from autoseq.trial._objective import TrialSettings

# Sequence datasets are usually small (tens to thousands of sequences): an epoch is a few steps,
# so they need more epochs, and their validation loss is noisier. Classifiers often sit at the
# chance level's loss for a few epochs before they learn: the pruner waits longer for them.
FORECAST_EPOCHS, FORECAST_PATIENCE = 20, 5
SEQUENCE_EPOCHS, SEQUENCE_PATIENCE, SEQUENCE_PRUNE_WARMUP = 100, 10, 10


def _is_sequence_task(task: str | None, *, id_col: str | None, format: str,
                      test_file: str | Path | None, max_length: int | None,
                      step_col: str | None = None) -> bool:
    """Whether the options describe labelled sequences (rather than a series to forecast)."""
    if format not in ("long", "wide"):
        raise DataError(f"--format must be long or wide. Received: {format}")
    sequences = id_col is not None or format == "wide"
    if task is not None and task not in ("forecast", "classify", "regress"):
        raise DataError(f"--task must be forecast, classify or regress. Received: {task}")
    if task == "forecast" and sequences:
        raise DataError("--task forecast reads one series: drop --id-col / --format wide, or "
                        "pass --task classify or regress for sequences")
    if not sequences:
        if task in ("classify", "regress"):
            raise DataError(f"--task {task} needs sequences: pass --id-col (one row per sequence "
                            "step) or --format wide (one row per sequence)")
        for flag, value in (("--test-file", test_file), ("--max-length", max_length),
                            ("--step-col", step_col)):
            if value is not None:
                raise DataError(f"{flag} is for sequences: pass --id-col or --format wide too")
    return sequences


def _check_sequence_options(*, metric: str, folds: int) -> None:
    if metric != "mse":
        raise SearchError(f"--metric {metric} is for forecasting; sequence trials are ranked on "
                          "log loss (classification) or MSE (regression)")
    if folds != 1:
        raise SearchError(f"--folds {folds} is for forecasting (walk-forward); sequence trials "
                          "validate on a stratified share of the training sequences")


def _sequence_data(data: str | Path, targets: list[str], *, covariates: list[str] | None,
                   id_col: str | None, step_col: str | None, format: str,
                   test_file: str | Path | None, task: str | None, val_size, test_size,
                   max_length: int | None) -> SequenceData:
    if len(targets) != 1:
        raise DataError(f"sequences take one --target (the label column). Received: "
                        f"{', '.join(targets)}")
    options = {"target": targets[0], "id_col": id_col, "step_col": step_col,
               "features": covariates, "format": format}
    table = load_sequences(data, **options)
    test = None
    if test_file is not None:
        test = load_sequences(test_file, **options | {"features": list(table.features)})
    return SequenceData(table, test=test, task=task, val_size=val_size, test_size=test_size,
                        max_length=max_length)


def _sequence_fingerprint(sdata: SequenceData) -> str:
    """The data fingerprint of a sequence study: the training file's, with the test file's."""
    table, test = sdata.table, sdata.test_table
    if test is None:
        return table.fingerprint
    return hashlib.sha256(f"{table.fingerprint}:{test.fingerprint}".encode()).hexdigest()


def _sequence_meta(sdata: SequenceData, space: SearchSpace, settings: TrialSettings, *,
                   max_length: int | None, prune_warmup: int | None) -> dict[str, Any]:
    table, test = sdata.table, sdata.test_table
    fingerprint = _sequence_fingerprint(sdata)
    data = table.summary() | {"source": str(Path(table.source).resolve())}
    if test is not None:
        data |= {"test_source": str(Path(test.source).resolve()),
                 "test_fingerprint": test.fingerprint, "test_sequences": len(test.ids)}
    return {
        "fingerprint": fingerprint,
        "space": space.to_dict(),
        "settings": {
            "task": sdata.task,
            "target": table.target,
            "id_col": table.id_col,
            "step_col": table.step_col,
            "format": table.format,
            "features": list(table.features),
            "test_file": data.get("test_source"),
            "val_sequences": int(len(sdata.parts["val"])),
            "test_sequences": None if test is not None else int(len(sdata.parts["test"])),
            "max_length": max_length,
            "max_epochs": settings.max_epochs,
            "patience": settings.patience,
            "prune_warmup": prune_warmup,
            "seed": settings.seed,
            "builder": settings.builder,
        },
        "data": data,
        "split": sdata.describe(),
    }


def _meta(fdata: ForecastData, space: SearchSpace, settings: TrialSettings, *,
          max_gap: int, folds: int = 1) -> dict[str, Any]:
    series = fdata.series
    return {
        "fingerprint": series.fingerprint,
        "space": space.to_dict(),
        "settings": {
            "task": "forecast",
            "targets": list(series.targets),
            "covariates": list(series.covariates),
            "time_col": series.time_col,
            "horizon": fdata.horizon,
            "val_rows": fdata.split.val,
            "test_rows": fdata.split.test,
            "seasons": fdata.seasons,
            "calendar": bool(fdata.calendar),
            "max_gap": max_gap,
            "max_epochs": settings.max_epochs,
            "patience": settings.patience,
            "seed": settings.seed,
            "builder": settings.builder,
            "metric": settings.metric,
            "folds": folds,
        },
        "data": series.summary() | {"source": str(Path(series.source).resolve())},
        "split": fdata.describe(),
    }


def _study_data(meta: dict[str, Any], study: str, data: str | Path | None):
    s = meta["settings"]
    recorded = (meta.get("data") or {}).get("source")
    source = Path(data or recorded or "")
    if not data and not source.is_file():
        raise DataError(f"{recorded}: study '{study}' was made from this file, which is not on "
                        "this machine; pass this machine's copy with --data")
    if s.get("task") in ("classify", "regress"):
        sequences = _sequence_study_data(meta, study, source)
        _same_data(_sequence_fingerprint(sequences), meta, study, source)
        return sequences
    series = load_series(source, targets=s["targets"], time_col=s["time_col"],
                         covariates=s["covariates"], max_gap=s["max_gap"])
    _same_data(series.fingerprint, meta, study, source)
    return ForecastData(series, horizon=s["horizon"], val_size=s["val_rows"],
                        test_size=s["test_rows"], seasons=s["seasons"],
                        calendar=bool(s.get("calendar", False)))


def _same_data(fingerprint: str, meta: dict[str, Any], study: str, source: Path) -> None:
    if fingerprint != meta["fingerprint"]:
        raise DataError(f"{source}: not the data of study '{study}' (fingerprint "
                        f"{fingerprint[:12]}…, the study's is {meta['fingerprint'][:12]}…);"
                        " every worker must train on the same CSV as the search")


def _sequence_study_data(meta: dict[str, Any], study: str, source: Path):
    """The labelled sequences of a classification/regression study, split as the search did."""
    s = meta["settings"]
    test_file = s.get("test_file")
    if test_file and not Path(test_file).is_file():
        raise DataError(f"{test_file}: study '{study}' was made with this --test-file, which is "
                        "not on this machine at that path")
    return _sequence_data(source, [s["target"]], covariates=list(s["features"]),
                          id_col=s["id_col"], step_col=s["step_col"], format=s["format"],
                          test_file=test_file, task=s["task"], val_size=s["val_sequences"],
                          test_size=s["test_sequences"], max_length=s["max_length"])
