"""``autoseq.export``: the run's task exports it; the report is rewritten with its test scores.

The model folder (``autoseq.exporting._common``): a SavedModel taking raw data, a checksummed
manifest, optionally ``model.keras`` or ``model.tflite``.
"""

from __future__ import annotations

from pathlib import Path

from autoseq.exceptions import ModelError
from autoseq.exporting._common import FORMATS, ExportResult
from autoseq.intervals import interval_spec
from autoseq.report import try_write_report
from autoseq.run import open_run


def export(run_dir: str | Path, *, trial: int | None = None, out: str | Path | None = None,
           format: str = "savedmodel", refit: bool | None = None,
           data: str | Path | None = None, report: bool = True,
           ensemble: int | None = None, levels: str | list[float] | None = None,
           quantiles: str | list[float] | None = None, floor: bool = True) -> ExportResult:
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
        refit: retrain the configuration (each member) on train + validation for its best
            epoch count, after the selection and the interval calibration on validation.
            ``None`` (the default): the run's task decides (``Task.refit_by_default``: a single
            series' forecasts are refitted, panels and sequences are not).
        data: the training CSV, if it moved since the search.
        report: rewrite the run's report with the exported model's test scores.
        ensemble: average the outputs (forecasts, probabilities or values) of the
            ``ensemble`` best complete trials: a validation part is often too small to pick one
            trial reliably, and the mean of a few good ones varies less. Forecasting members
            may differ in lookback and transforms; the ensemble takes the longest window.
            ``None`` (the default): for forecasting, whichever of the best trial and the means
            of its ``AUTO_SIZES`` best has the lowest validation MAE (the manifest's
            ``selection`` lists each candidate's score); for panels, the same over the 2, 3
            and 5 best on validation OWA; one trial for the sequence tasks.
        levels: forecasting: central intervals in percent (``"80,95"``, the default, or what
            the search was given; ``"none"``
            for none), conformally calibrated on the validation windows and served as a second
            output ``quantiles [batch, horizon, n_targets, n_quantiles]`` (the manifest's
            ``intervals`` says which quantile is which).
        quantiles: forecasting: quantile levels in (0, 1), increasing (``"0.1,0.5,0.9"``),
            calibrated and served the same way.
        floor: forecasting: raise the forecasts (and bands) of a target that is never negative
            in training and validation, and reaches near zero there, to zero (counts, sales);
            ``False`` serves them as the models give them.

    Raises:
        ModelError: no such trial, non-finite weights, a TFLite parity failure, or levels /
            quantiles out of range or needing more validation windows than there are.

    Example:
        >>> res = autoseq.export("results/airline")
        >>> res.test_metrics["mae"]
    """
    if format not in FORMATS:
        raise ModelError(f"--format must be one of {', '.join(FORMATS)}. Received: {format}")
    spec = interval_spec(levels=levels, quantiles=quantiles)
    run = open_run(run_dir)
    recorded = run.info.get("intervals")
    if not spec.explicit and recorded:  # the search's --levels / --quantiles
        spec = interval_spec(levels=recorded["levels"] or "none",
                             quantiles=recorded["quantiles"])
    if refit is None:
        refit = run.kind.refit_by_default
    result = run.kind.export(run, run.data(data), trial=trial, out=out, format=format,
                             refit=refit, ensemble=ensemble, intervals=spec, floor=floor)
    if report:
        try_write_report(run.path, data=data)
    return result
