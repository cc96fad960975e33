"""Forecasting many series with one global network (``--series-col``): a panel.

The CSV is long (``series, timestamp, value``); each series is split at its own end (its last
``--test-size`` steps are test, the ``--val-size`` before them validation). One network is
trained on windows drawn from every series, each window normalised by its own scale, and is
scored on every series' validation window with M4's sMAPE, MASE and OWA against Naive2, next to
naive, seasonal naive, Naive2, the panel's ``linear`` autoregression, AutoETS and AutoTheta on
the same windows. Static columns
(``--static-col``: one value per series) and known-future covariates (``--future-covariates``:
a value per series and step, the rows after each series' last target value holding them for the
steps to forecast) are offered to the network: whether a trial uses each is searched.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from autoseq._run_folder import RunFolder, RunSettings
from autoseq.data._frequency import same_frequency
from autoseq.data._panel_data import (
    WINDOWS_PER_EPOCH,
    PanelData,
    uses_future,
    uses_past,
    uses_static,
)
from autoseq.data._panel_wide import read_panel
from autoseq.exceptions import DataError, SearchError, SearchSpaceError
from autoseq.exporting._panel import export_panel
from autoseq.model import ModelContext, panel_context, resolve_config
from autoseq.panel_baselines import (
    PANEL_OBJECTIVES,
    score_panel_baselines,
    seasonal_naive_helps,
)
from autoseq.predict._panel import PanelForecaster
from autoseq.report._kinds import ReportKind
from autoseq.report._panel import evaluate_panel, panel_headline, panel_sections, panel_skill
from autoseq.space import Choice, SearchSpace
from autoseq.tasks._base import DataOptions, Task, with_switch
from autoseq.trial._fit_panel import fit_panel

_SEASONAL_ANCHORS = ("seasonal", "seasonal_drift")
_SINGLE_SERIES_ANCHORS = ("ets", "arima")  # fitted on one series: a panel has no such fit
_NOT_FOR_PANELS = (("--id-col", "id_col"), ("--step-col", "step_col"),
                   ("--test-file", "test_file"), ("--max-length", "max_length"))


class PanelTask(Task):
    """Many series of one frequency; one network forecasts ``horizon`` steps of any of them."""

    names: ClassVar[tuple[str, ...]] = ("panel",)
    default_space = "panel"
    max_epochs = 30
    patience = 5
    jax_trials = True
    report = ReportKind(evaluate_panel, panel_headline, panel_skill, panel_sections)
    recorded = ("max_epochs", "patience", "seed", "builder", "metric", "deterministic")

    def check_options(self, options: DataOptions, *, metric: str, folds: int) -> None:
        if options.task not in (None, "forecast", "panel"):
            raise DataError(f"--task {options.task} reads labelled sequences: drop --series-col")
        for flag, name in _NOT_FOR_PANELS:
            if getattr(options, name) is not None:
                raise DataError(f"{flag} is for labelled sequences, not with --series-col")
        if options.format == "wide" and options.time_col is not None:
            raise DataError("--time-col is for the long format: a wide panel (one row per "
                            "series) has no timestamps (its steps lie on a synthetic daily "
                            "grid); drop --time-col, or pass a long file without --format wide")
        if len(options.targets) != 1:
            raise DataError(f"a panel forecasts one --target per series. Received: "
                            f"{', '.join(options.targets)}")
        if options.format == "wide" and (options.future_covariates or options.covariates):
            flag = "--future-covariates" if options.future_covariates else "--covariates"
            raise DataError(f"{flag} need the long format (one row per series and step); a "
                            "wide panel has no rows per step")
        named = (*options.static_cols, *options.future_covariates, *(options.covariates or ()))
        codes = [c for c in options.categorical if c not in named]
        # by default (long format) every other numeric column is a past covariate: codes too
        if codes and (options.covariates is not None or options.format == "wide"):
            raise DataError("with --series-col, --categorical names a --static-col, "
                            "--covariate or --future-covariate of integer codes. Received: "
                            "--categorical "
                            f"{', '.join(codes)}")
        if metric not in PANEL_OBJECTIVES:
            raise SearchError(f"--metric {metric} is in each series' units; a panel is ranked "
                              "on OWA (default), or on --metric smape or mase")
        if folds != 1:
            raise SearchError(f"--folds {folds} is not supported with --series-col: a panel "
                              "validates on every series' last window")

    def read(self, options: DataOptions) -> PanelData:
        return _read(options.data, series_col=options.series_col, target=options.targets[0],
                     time_col=options.time_col, format=options.format, max_gap=options.max_gap,
                     stat_baselines=options.stat_baselines,
                     horizon=options.horizon, val_size=options.val_size,
                     test_size=options.test_size,
                     columns={"static": options.static_cols,
                              "categorical": options.categorical,
                              "future": options.future_covariates,
                              "past": options.covariates})

    def data_settings(self, data: PanelData, options: DataOptions) -> dict[str, Any]:
        panel = data.panel
        return {"targets": [panel.target], "series_col": panel.series_col,
                "time_col": panel.time_col, "horizon": data.horizon,
                "val_size": data.val_size, "test_size": data.test_size,
                "max_gap": options.max_gap, "windows_per_epoch": data.windows_per_epoch,
                "format": options.format, "stat_baselines": data.stat_baselines,
                "covariates": list(panel.past.columns) if panel.past else []
                } | _static_settings(panel) | _future_settings(panel) | _past_settings(panel)

    def fingerprint(self, data: PanelData) -> str:
        return data.fingerprint

    def attach(self, data: PanelData, run_dir: Path) -> None:
        """Keep the statistical baselines' forecasts in the run folder (``stat_forecasts``)."""
        data.cache_dir = run_dir

    def summary(self, data: PanelData) -> dict[str, Any]:
        return data.panel.summary() | {"source": str(Path(data.panel.source).resolve())}

    def rebuild(self, settings: RunSettings, summary: dict[str, Any], *,
                source: str | Path | None = None) -> PanelData:
        s = settings.data
        data = _read(Path(source or summary["source"]), series_col=s["series_col"],
                     target=s["targets"][0], time_col=s["time_col"], max_gap=s["max_gap"],
                     format=s.get("format", "long"),
                     stat_baselines=s.get("stat_baselines", True),
                     horizon=s["horizon"], val_size=s["val_size"], test_size=s["test_size"],
                     windows_per_epoch=s.get("windows_per_epoch", WINDOWS_PER_EPOCH),
                     columns={"static": s.get("static_cols", ()),
                              "future": s.get("future_covariates", ()),
                              "past": s.get("covariates", ()),
                              "categories": _categories(s)})
        if not same_frequency(summary.get("freq", data.panel.freq), data.panel.freq):
            raise DataError(f"{data.panel.source}: the series are read at {data.panel.freq}; "
                            f"the run was made at {summary['freq']}: search it again")
        return data

    def adapt_space(self, space: SearchSpace, data: PanelData) -> SearchSpace:
        """The seasonal anchors stay only where seasonal naive beats naive on validation, the
        ``linear`` anchor where the panel's linear baseline could be fitted; with
        static columns or known-future covariates, whether a trial uses them is searched too
        (so the leaderboard shows what they are worth), and with any covariates whether it
        reads their past, unless the space says."""
        space = with_switch(_applicable_anchors(space, data), "static",
                            offered=data.n_static > 0)
        space = with_switch(space, "future", offered=data.n_future > 0)
        return with_switch(space, "past", offered=data.n_past > 0)

    def resolve_config(self, space_config: dict[str, Any], data: PanelData, *,
                       builder: str) -> dict[str, Any]:
        config = resolve_config(space_config, builder=builder, horizon=data.horizon,
                                season=data.main_season, max_lookback=data.max_lookback)
        if "static" in config:  # no static columns: say they are unused
            config["static"] = uses_static(config, data)
        if "future" in config:  # no known-future covariates: likewise
            config["future"] = uses_future(config, data)
        if "past" in config:  # no covariates: likewise
            config["past"] = uses_past(config, data)
        # The panel's windows carry the target only, normalised by the window's scale.
        return config | {k: v for k, v in (("transform", "none"), ("calendar", False),
                                           ("scaler", "window")) if k in config}

    def model_context(self, data: PanelData, config: dict[str, Any], *,
                      seed: int = 0) -> ModelContext:
        return panel_context(data, config, seed=seed)

    def fit_and_score(self, data: PanelData, config: dict[str, Any]):
        return fit_panel

    def training_shape(self, data: PanelData, config: dict[str, Any]) -> tuple[int, int]:
        windows = len(data.origins("train")[0])
        return int(config["lookback"]), min(windows, data.windows_per_epoch)

    def baselines(self, data: PanelData, part: str = "val", *, metric: str = "mse") -> list:
        key = ("baselines", part, metric)
        if key not in data.memo:
            data.memo[key] = score_panel_baselines(data, part, metric=metric,
                                                   stat=data.stat_baselines)
        return data.memo[key]

    def export(self, run: RunFolder, data: PanelData, *, trial: int | None,
               out: str | Path | None, format: str, refit: bool, ensemble: int | None,
               intervals=None, floor: bool = True):
        return export_panel(run, data, trial=trial, out=out, format=format, refit=refit,
                            ensemble=ensemble, intervals=intervals, floor=floor)

    def load_predictor(self, folder: Path, manifest: dict[str, Any]):
        return PanelForecaster(folder, manifest)

    def describe(self, data: PanelData) -> str:
        lengths = data.lengths
        dropped = f", {len(data.dropped)} too short dropped" if data.dropped else ""
        statics = data.panel.statics
        return (f"data: {data.n_series} series at {data.panel.freq} ({lengths.min()}–"
                f"{lengths.max()} steps{dropped}), last {int(data.test.max())} steps of each "
                f"for test, {int(data.val.max())} before for validation, horizon {data.horizon}"
                + (f", static columns {', '.join(statics.columns)} ({data.n_static} features)"
                   if statics else "")
                + (f", known-future covariates {', '.join(data.panel.future.columns)} "
                   f"({data.n_future} features)" if data.n_future else "")
                + (f", past covariates {', '.join(data.panel.past.columns)}"
                   if data.panel.past else ""))


def _applicable_anchors(space: SearchSpace, data: PanelData) -> SearchSpace:
    """``space`` without the seasonal anchors, unless seasonal naive beats naive on
    validation, without ``linear`` when the panel has too little history to fit it, and
    without the single-series anchors (``ets``, ``arima``: fitted on one series' training
    rows; a space such as ``default`` offers them)."""
    anchor = next((p for p in space.parameters if p.name == "anchor"), None)
    if not isinstance(anchor, Choice):
        return space
    fitted = tuple(v for v in anchor.values if v not in _SINGLE_SERIES_ANCHORS)
    if not fitted:
        raise SearchSpaceError(f"anchor: {', '.join(anchor.values)} are fitted on one series "
                               "and a panel cannot use them; offer last, seasonal, drift, "
                               "seasonal_drift or linear")
    drop = (() if seasonal_naive_helps(data) else _SEASONAL_ANCHORS) + (
        ("linear",) if data.linear_fit() is None else ())
    keep = tuple(v for v in fitted if v not in drop) or fitted
    if len(keep) == len(anchor.values):
        return space
    return space.with_parameters([replace(p, values=keep) if p is anchor else p
                                  for p in space.parameters])


def _static_settings(panel) -> dict[str, Any]:
    """The static columns a run records (only when there are some, so runs without them
    record what they always did), their categories fixed for a rebuild."""
    if panel.statics is None:
        return {}
    return {"static_cols": list(panel.statics.columns),
            "static_categories": dict(panel.statics.categories)}


def _future_settings(panel) -> dict[str, Any]:
    """The known-future covariates a run records (only when there are some), their
    categories fixed for a rebuild."""
    if panel.future is None:
        return {}
    return {"future_covariates": list(panel.future.columns),
            "future_categories": dict(panel.future.categories)}


def _past_settings(panel) -> dict[str, Any]:
    """The categories of the past covariates a run records (only when there are some; the
    columns are its ``covariates``)."""
    return {"past_categories": dict(panel.past.categories)} if panel.past else {}


def _categories(settings: dict[str, Any]) -> dict[str, list[str]] | None:
    """The categories a run recorded for its static and covariate columns (``None``: a run
    with none)."""
    parts = [settings.get(k) for k in ("static_categories", "future_categories",
                                       "past_categories")]
    if all(p is None for p in parts):
        return None
    return {k: v for p in parts if p for k, v in p.items()}


def _read(source: str | Path, *, series_col: str, target: str, time_col: str | None,
          max_gap: int, horizon: int, val_size, test_size, format: str = "long",
          stat_baselines: bool = True, windows_per_epoch: int = WINDOWS_PER_EPOCH,
          columns: dict[str, Any] | None = None) -> PanelData:
    panel = read_panel(source, format=format, series_col=series_col, target=target,
                       time_col=time_col, max_gap=max_gap, ahead=horizon, **(columns or {}))
    data = PanelData(panel, horizon=horizon, val_size=val_size, test_size=test_size,
                     windows_per_epoch=windows_per_epoch)
    data.stat_baselines = stat_baselines
    return data


__all__ = ["PanelTask"]
