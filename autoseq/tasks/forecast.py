"""Forecasting one series (or several targets of one table): windows in, the horizon out."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from autoseq._run_folder import RunFolder, RunSettings
from autoseq.baselines import score_baselines
from autoseq.data import ForecastData, load_series
from autoseq.data._variants import data_variant, network_inputs
from autoseq.exceptions import DataError
from autoseq.exporting._board_intervals import board_intervals
from autoseq.exporting._forecast import export_forecaster
from autoseq.model import ModelContext, forecast_context, resolve_config
from autoseq.predict._predict import Forecaster
from autoseq.report._forecast import (
    evaluate_forecast,
    forecast_headline,
    forecast_sections,
    forecast_skill,
)
from autoseq.report._kinds import ReportKind
from autoseq.space import SearchSpace
from autoseq.tasks._base import DataOptions, Task, with_switch
from autoseq.trial._fit import fit_windows

if TYPE_CHECKING:
    import pandas as pd

    from autoseq.intervals import IntervalSpec
    from autoseq.leaderboard import FinalScores

_SEQUENCE_FLAGS = (("--test-file", "test_file"), ("--max-length", "max_length"),
                   ("--step-col", "step_col"))


class ForecastTask(Task):
    """A time-indexed CSV; trials forecast ``horizon`` steps from a lookback window."""

    names: ClassVar[tuple[str, ...]] = ("forecast",)
    default_space = "default"
    max_epochs = 20
    patience = 5
    stat_baselines = True
    # The validation rows are the most recent a forecaster can learn from: retrained on them
    # (same epochs), exports scored lower test MAE on 8 of the forecasting suite's 10 series
    # (by up to 31%, where the trend moved after the training rows) and at most 1.2% higher
    # on the other two (benchmarks/RESULTS.md).
    refit_by_default = True
    jax_trials = True
    report = ReportKind(evaluate_forecast, forecast_headline, forecast_skill, forecast_sections)
    recorded = ("max_epochs", "patience", "seed", "builder", "metric", "folds", "deterministic")

    def check_options(self, options: DataOptions, *, metric: str, folds: int) -> None:
        if options.task not in (None, "forecast"):
            raise DataError(f"--task {options.task} needs sequences: pass --id-col (one row per "
                            "sequence step) or --format wide (one row per sequence)")
        for flag, name in _SEQUENCE_FLAGS:
            if getattr(options, name) is not None:
                raise DataError(f"{flag} is for sequences: pass --id-col or --format wide too")

    def read(self, options: DataOptions) -> ForecastData:
        series = load_series(options.data, targets=list(options.targets),
                             time_col=options.time_col, covariates=options.covariates,
                             max_gap=options.max_gap, future=options.future_covariates,
                             categorical=options.categorical)
        return ForecastData(series, horizon=options.horizon, val_size=options.val_size,
                            test_size=options.test_size, calendar=options.calendar)

    def data_settings(self, data: ForecastData, options: DataOptions) -> dict[str, Any]:
        series = data.series
        return {"targets": list(series.targets), "covariates": list(series.covariate_columns),
                "time_col": series.time_col, "horizon": data.horizon,
                "val_rows": data.split.val, "test_rows": data.split.test,
                "seasons": data.seasons, "calendar": bool(data.calendar),
                "max_gap": options.max_gap} | _future_settings(series)

    def fingerprint(self, data: ForecastData) -> str:
        return data.series.fingerprint

    def summary(self, data: ForecastData) -> dict[str, Any]:
        return data.series.summary() | {"source": str(Path(data.series.source).resolve())}

    def rebuild(self, settings: RunSettings, summary: dict[str, Any], *,
                source: str | Path | None = None) -> ForecastData:
        s = settings.data
        series = load_series(Path(source or summary["source"]), targets=s["targets"],
                             time_col=s["time_col"], covariates=s["covariates"],
                             max_gap=s["max_gap"], future=s.get("future_covariates"),
                             categories=s.get("categories"), freq=summary.get("freq"))
        rows = summary.get("rows")
        if rows is not None and rows != len(series.frame):
            raise DataError(f"{series.source}: read as {len(series.frame)} rows, but the run "
                            f"was searched on {rows} (an earlier autoseq read the file "
                            "otherwise, e.g. rows after the target's last value); re-run the "
                            "search")
        return ForecastData(series, horizon=s["horizon"], val_size=s["val_rows"],
                            test_size=s["test_rows"], seasons=s["seasons"],
                            calendar=bool(s.get("calendar", False)))

    def adapt_space(self, space: SearchSpace, data: ForecastData) -> SearchSpace:
        """With known-future covariates, whether a trial uses them is searched too (so the
        leaderboard shows what they are worth), unless the space says."""
        return with_switch(space, "future", offered=bool(data.n_future))

    def resolve_config(self, space_config: dict[str, Any], data: ForecastData, *,
                       builder: str) -> dict[str, Any]:
        config = resolve_config(space_config, builder=builder, horizon=data.horizon,
                                season=data.main_season, max_lookback=data.max_lookback)
        if "future" in config and not data.n_future:  # nothing known ahead: say it is unused
            config["future"] = False
        return config

    def model_context(self, data: ForecastData, config: dict[str, Any], *,
                      seed: int = 0) -> ModelContext:
        return forecast_context(data, config, seed=seed)

    def fit_and_score(self, data: ForecastData, config: dict[str, Any]):
        variant = data_variant(data, transform=config.get("transform", "none"),
                               scaler=config.get("scaler", "standard"))
        return partial(fit_windows, variant=variant, inputs=network_inputs(config, data))

    def training_shape(self, data: ForecastData, config: dict[str, Any]) -> tuple[int, int]:
        lookback = int(config["lookback"])
        return lookback, len(data.origins("train", lookback))

    def baselines(self, data: ForecastData, part: str = "val", *, metric: str = "mse") -> list:
        return score_baselines(data, part, metric=metric)

    def final_scores(self, run: RunFolder, data: ForecastData, board: pd.DataFrame, *,
                     intervals: IntervalSpec) -> FinalScores | None:
        """The calibrated intervals' coverage, width and MSIS of the best trials and the simple
        baselines (``board_intervals``)."""
        return board_intervals(run, data, board, spec=intervals)

    def export(self, run: RunFolder, data: ForecastData, *, trial: int | None,
               out: str | Path | None, format: str, refit: bool, ensemble: int | None,
               intervals=None, floor: bool = True):
        return export_forecaster(run, data, trial=trial, out=out, format=format, refit=refit,
                                 ensemble=ensemble, intervals=intervals, floor=floor)

    def load_predictor(self, folder: Path, manifest: dict[str, Any]) -> Forecaster:
        return Forecaster(folder, manifest)

    def describe(self, data: ForecastData) -> str:
        split = data.split
        return (f"data: {len(data.series.frame)} rows at {data.series.freq}, split "
                f"{split.train}/{split.val}/{split.test} (train/val/test), horizon "
                f"{data.horizon}, seasons {data.seasons or 'none'}"
                + _listed("past covariates", data.series.covariate_columns)
                + _listed("known-future covariates", data.series.future_columns))


def _listed(what: str, columns) -> str:
    """``", past covariates a, b, c"`` (the first ten, and how many), or ``""`` for none."""
    if not columns:
        return ""
    more = f" … ({len(columns)})" if len(columns) > 10 else ""
    return f", {what} {', '.join(columns[:10])}{more}"


def _future_settings(series) -> dict[str, Any]:
    """The known-future and categorical columns a run records (only when there are some, so
    runs without them record what they always did)."""
    out: dict[str, Any] = {}
    if series.future_columns:
        out["future_covariates"] = list(series.future_columns)
    if series.categories:
        out["categories"] = dict(series.categories)
    return out
