"""An exported panel model: forecast the next horizon of every series of a long CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autoseq.data._categorical import feature_owners
from autoseq.data._frequency import same_frequency
from autoseq.data._panel import Panel
from autoseq.data._panel_wide import read_panel
from autoseq.exceptions import DataError
from autoseq.intervals import band_columns
from autoseq.predict._frames import as_csv
from autoseq.predict._served import ServedForecaster, check_columns

_BATCH = 4096


class PanelForecaster(ServedForecaster):
    """An exported panel model: ``.predict(csv)`` forecasts the ``horizon`` steps after the
    last row of every series, as ``series, origin, step, timestamp, value``.

    Loaded with plain TensorFlow from the SavedModel; the manifest says which columns it reads,
    the frequency and the lookback. Series shorter than the lookback are padded on the left with
    their first value, as in training. A model that takes static columns (the manifest's
    ``static``) reads each series' values from the CSV, checked as at training (one value per
    series, a category it was trained on). A model that takes known-future covariates (the
    manifest's ``future``) reads them from each series' rows after its last target value: a
    step to forecast whose value is missing is an error naming the column, series and time. A
    model that reads covariates' past (the manifest's ``past``) reads their values before each
    origin from the series' history (gaps interpolated, as at training).
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        super().__init__(folder, manifest)
        self.task = manifest["task"]

    @property
    def static(self) -> dict[str, Any] | None:
        """The manifest's ``static`` (the static columns the model takes), if any."""
        return self.manifest.get("static")

    @property
    def future(self) -> dict[str, Any] | None:
        """The manifest's ``future`` (the known-future covariates the model takes), if any."""
        return self.manifest.get("future")

    @property
    def past(self) -> dict[str, Any] | None:
        """The manifest's ``past`` (the covariates whose past the model reads), if any."""
        return self.manifest.get("past")

    def predict_windows(self, windows: np.ndarray, static: np.ndarray | None = None,
                        future: np.ndarray | None = None, *, past: np.ndarray | None = None,
                        output: str | None = None) -> np.ndarray:
        """Raw windows ``[n, lookback]`` (each series' units) → forecasts ``[n, horizon]`` (or,
        ``output="quantiles"``, the calibrated quantiles ``[n, horizon, n_quantiles]``).

        ``static`` (``[n, n_static]``, the manifest's ``static.features``): each window's
        series' static row; ``future`` (``[n, horizon, n_future]``, ``future.features``): the
        known-future covariates over each window's horizon; ``past`` (``[n, past.steps,
        n_past]``, ``past.features``): the covariates on the steps before each window's origin;
        each required when the model takes it, ignored otherwise."""
        return self._outputs(windows, [output or self.manifest["signature"]["output"]],
                             static=static, future=future, past=past)[0]

    def _outputs(self, windows: np.ndarray, names: list[str], *,
                 static: np.ndarray | None = None,
                 future: np.ndarray | None = None,
                 past: np.ndarray | None = None) -> list[np.ndarray]:
        """The SavedModel's outputs ``names`` for raw windows ``[n, lookback]`` (and their
        static rows, known-future covariates, covariates' past), in one pass, without the
        target axis."""
        import tensorflow as tf

        windows = np.asarray(windows, dtype="float32")
        if windows.ndim != 2 or windows.shape[1] != self.lookback:
            raise DataError(f"windows must be [n, {self.lookback}] (the model's lookback). "
                            f"Received: shape {list(windows.shape)}")
        sig = self.manifest["signature"]
        feeds = ({sig["input"]: windows[..., None]} | self._static_feed(static, len(windows))
                 | self._future_feed(future, len(windows)) | self._past_feed(past, len(windows)))
        served = [self._serve(**{k: tf.constant(v[i:i + _BATCH]) for k, v in feeds.items()})
                  for i in range(0, len(windows), _BATCH)]
        if not served:
            return [np.zeros((0, self.horizon) if name == sig["output"] else
                             (0, self.horizon, len(self.intervals["quantiles"])),
                             dtype="float32") for name in names]
        return [np.concatenate([out[name].numpy()[:, :, 0] for out in served])
                for name in names]

    def _static_feed(self, static: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
        """``{"static": rows}`` for a model that takes static columns, else ``{}``."""
        if self.static is None:
            return {}
        width = len(self.static["features"])
        rows = None if static is None else np.asarray(static, dtype="float32")
        if rows is None or rows.shape != (n, width):
            got = "none" if rows is None else f"shape {list(rows.shape)}"
            raise DataError(f"this model takes each window's series' static row [n, {width}] "
                            f"({', '.join(self.static['features'])}). Received: {got}")
        return {self.static["input"]: rows}

    def _future_feed(self, future: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
        """``{"future": values}`` for a model that takes known-future covariates, else ``{}``."""
        if self.future is None:
            return {}
        return _checked(self.future, future, (n, self.horizon, len(self.future["features"])),
                        what="the known-future covariates over each window's horizon",
                        missing="the known-future covariates hold a missing or infinite "
                                "value; give every step to forecast its values")

    def _past_feed(self, past: np.ndarray | None, n: int) -> dict[str, np.ndarray]:
        """``{"past": values}`` for a model that reads covariates' past, else ``{}``."""
        if self.past is None:
            return {}
        steps = int(self.past["steps"])
        return _checked(self.past, past, (n, steps, len(self.past["features"])),
                        what=f"the covariates on the {steps} steps before each window's origin",
                        missing="the covariates before the origin hold a missing or infinite "
                                "value; fill them in")

    def last_windows(self, panel: Panel) -> np.ndarray:
        """Each series' last ``lookback`` values, left-padded with its first value."""
        return _before(panel.values, panel, np.arange(panel.n_series), panel.lengths,
                       self.lookback)

    def origin_windows(self, panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every origin with a full lookback in every series (a backtest): ``(series, end,
        windows)``, ``end`` the number of steps of the series before the origin's forecast."""
        lookback = self.lookback
        counts = np.maximum(panel.lengths - lookback + 1, 0)
        series = np.repeat(np.arange(panel.n_series), counts)
        first = np.r_[0, np.cumsum(counts)[:-1]]
        end = lookback + np.arange(int(counts.sum())) - np.repeat(first, counts)
        at = panel.offsets[:-1][series] + end
        return series, end, panel.values[at[:, None] + np.arange(-lookback, 0)[None, :]]

    def predict(self, data: str | Path | pd.DataFrame, *, all_origins: bool = False,
                max_gap: int | None = None) -> pd.DataFrame:
        """Forecast the next ``horizon`` steps of every series of ``data``.

        Args:
            data: a long CSV (or DataFrame) with the series, time and target columns the model
                was trained on; series may differ in length and start.
            all_origins: a backtest: one forecast from every origin of every series with a full
                lookback (a series shorter than the lookback has none), with the actual values.
            max_gap: longest run of missing steps to interpolate (default: the search's).

        Returns:
            ``series, origin, step, timestamp, value`` (and ``value_actual`` with
            ``all_origins``: empty past the series' end and in filled gaps): ``origin`` is
            the last timestamp before the forecast, ``step`` 1…horizon. A model with
            calibrated intervals adds ``value_lo80, value_hi80…`` for each level and
            ``value_q0.1…`` for each quantile it was exported with.

        Raises:
            DataError: missing columns, a series off the grid, duplicates or long gaps; with
                ``all_origins``, no series as long as the lookback.
        """
        if isinstance(data, pd.DataFrame):
            with as_csv(data, time_col=self.manifest["time_col"]) as path:
                return self.predict(path, all_origins=all_origins, max_gap=max_gap)
        panel = self._load(data, max_gap)
        if all_origins:
            series, end, windows = self.origin_windows(panel)
            if not len(series):
                raise DataError(f"{data}: no series has the {self.lookback} steps of the model's "
                                f"lookback (the longest has {int(panel.lengths.max())}); a "
                                "backtest starts from full windows only")
        else:
            series, end, windows = (np.arange(panel.n_series), panel.lengths,
                                    self.last_windows(panel))
        future = None
        if self.future is not None:
            series, end, windows, future = self._known_ahead(data, panel, series, end, windows,
                                                             backtest=all_origins)
        names = [self.manifest["signature"]["output"]] + (
            [self.intervals["output"]] if self.intervals else [])
        static = panel.statics.values[series] if panel.statics is not None else None
        # the covariates on the steps before each origin, padded as in training
        past = (_before(panel.past_matrix(), panel, series, end, int(self.past["steps"]))
                if self.past is not None else None)
        pred, *quantiles = self._outputs(windows, names, static=static, future=future,
                                         past=past)
        frame = _long_format(panel, series, end, pred, actual=all_origins)
        if quantiles:
            for col, _, k in band_columns(self.intervals, ["value"]):
                frame[col] = quantiles[0][:, :, k].reshape(-1)
        return frame

    def _known_ahead(self, data, panel: Panel, series: np.ndarray, end: np.ndarray,
                     windows: np.ndarray, *, backtest: bool):
        """The known-future covariates over each origin's horizon, with the origins kept: a
        backtest keeps the origins whose covariates are all known; a forecast needs them all.

        Raises:
            DataError: a forecast step whose value is missing (naming column, series and time),
                or a backtest with no origin whose covariates are known."""
        future = panel.future_steps(series, end, self.horizon)
        known = np.isfinite(future).all(axis=(1, 2))
        if backtest and not known.all():
            if not known.any():
                raise DataError(f"{data}: no origin of the backtest has its known-future "
                                "covariates on every step of its horizon")
            return series[known], end[known], windows[known], future[known]
        if not known.all():
            w, step, f = (int(i[0]) for i in np.nonzero(~np.isfinite(future)))
            s = int(series[w])
            when = panel.timestamps(np.array([s]), np.array([end[w] + step]))[0]
            owner = feature_owners(panel.future.columns, panel.future.categories)[f]
            raise DataError(f"{data}: series '{panel.names[s]}' has no value of known-future "
                            f"covariate '{owner}' at {when} (step "
                            f"{step + 1} of the forecast); add the rows after the series' last "
                            f"target value, {self.horizon} of them, with "
                            f"{', '.join(c['name'] for c in self.future['columns'])} filled")
        return series, end, windows, future

    def _load(self, data: str | Path, max_gap: int | None = None) -> Panel:
        m = self.manifest
        static = (self.static or {"columns": []})["columns"]
        past = self.past or {}
        # a model reading covariates' past reads every known-future one's history too
        future = (past.get("known_future") or self.future or {"columns": []})["columns"]
        covariates = (past.get("covariates") or {"columns": []})["columns"]
        check_columns(data, [m["series_col"], *((m["time_col"], m["target"],
                                                 *(c["name"] for c in (*future, *covariates)))
                                                if m.get("format") != "wide" else ()),
                             *(c["name"] for c in static)])
        panel = read_panel(data, format=m.get("format", "long"), series_col=m["series_col"],
                           target=m["target"], time_col=m["time_col"],
                           max_gap=int(m.get("max_gap", 12) if max_gap is None else max_gap),
                           static=[c["name"] for c in static],
                           future=[c["name"] for c in future],
                           past=[c["name"] for c in covariates],
                           ahead=self.horizon, future_history=bool(past),
                           categories={c["name"]: c["categories"]
                                       for c in (*static, *future, *covariates)
                                       if c["kind"] == "categorical"})
        if not same_frequency(panel.freq, m["frequency"]):
            raise DataError(f"{data}: the series are at {panel.freq}; the model was trained at "
                            f"{m['frequency']}")
        return panel


def _before(values: np.ndarray, panel: Panel, series: np.ndarray, end: np.ndarray,
            steps: int) -> np.ndarray:
    """The rows of ``values`` (row for row with ``panel.values``) on the ``steps`` steps
    before each origin (``series``' first ``end`` steps), left-padded with the series' first
    row."""
    k = np.arange(-steps, 0)[None, :] + np.asarray(end)[:, None]
    return values[panel.offsets[:-1][series][:, None] + np.maximum(k, 0)]


def _checked(spec: dict[str, Any], values: np.ndarray | None, shape: tuple[int, ...], *,
             what: str, missing: str) -> dict[str, np.ndarray]:
    """``{spec["input"]: values}``, float32, once ``values`` has ``shape`` and holds only
    finite numbers.

    Raises:
        DataError: no values or another shape (naming ``what`` the input holds and its
            features), or a missing value (``missing``)."""
    array = None if values is None else np.asarray(values, dtype="float32")
    if array is None or array.shape != shape:
        got = "none" if array is None else f"shape {list(array.shape)}"
        raise DataError(f"this model takes {what} {list((None, *shape[1:]))} "
                        f"({', '.join(spec['features'])}). Received: {got}")
    if not np.isfinite(array).all():
        raise DataError(missing)
    return {spec["input"]: array}


def _long_format(panel: Panel, series: np.ndarray, end: np.ndarray, pred: np.ndarray, *,
                 actual: bool = False) -> pd.DataFrame:
    """``series, origin, step, timestamp, value[, value_actual]``: one row per forecast step of
    each window (``series[i]``'s forecast after its first ``end[i]`` steps)."""
    n, h = pred.shape
    rows = np.repeat(np.arange(n), h)
    steps = np.tile(np.arange(1, h + 1), n)
    s, last = series[rows], end[rows] - 1
    frame = pd.DataFrame({"series": panel.names[s],
                          "origin": panel.timestamps(s, last),
                          "step": steps,
                          "timestamp": panel.timestamps(s, last + steps),
                          "value": pred.reshape(-1)})
    if actual:  # where the file held the value: not past a series' end, not a filled gap
        at = last + steps
        inside = at < panel.lengths[s]
        flat = panel.offsets[:-1][s] + np.where(inside, at, 0)
        held = inside if panel.observed is None else inside & panel.observed[flat]
        frame["value_actual"] = np.where(held, panel.values[flat], np.nan)
    return frame


__all__ = ["PanelForecaster"]
