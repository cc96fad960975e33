"""Loading an exported model folder: forecasting from a CSV of history, or predicting the label
of every sequence of a CSV."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autoseq.data import load_series, pad_sequences, sequences_from_frame
from autoseq.data._calendar import steps_from
from autoseq.data._csv import read_csv_file, suggest_column
from autoseq.exceptions import DataError
from autoseq.intervals import band_columns
from autoseq.predict._frames import as_csv
from autoseq.predict._served import ServedForecaster, check_columns

logger = logging.getLogger("autoseq")

_BATCH = 256


class Forecaster(ServedForecaster):
    """An exported model: ``.predict(frame_or_csv)`` forecasts in the data's units.

    Loaded with plain TensorFlow from the SavedModel; the manifest says which columns it needs.
    """

    task = "forecast"

    @property
    def derived_inputs(self) -> list[dict[str, Any]]:
        """Inputs computed from the timestamps (``origin_step``), as the manifest describes."""
        return list(self.manifest.get("derived_inputs") or [])

    def predict_windows(self, windows: np.ndarray, origin_steps: np.ndarray | None = None,
                        future: np.ndarray | None = None, *, output: str | None = None
                        ) -> np.ndarray:
        """Raw windows ``[batch, lookback, n_inputs]`` → forecasts ``[batch, horizon, targets]``
        (or, ``output="quantiles"``, ``[batch, horizon, targets, n_quantiles]``).

        ``origin_steps`` (int, ``[batch]``): steps of the data's frequency from the manifest's
        ``t0`` to each window's first forecast step; required when the model lists the derived
        input ``origin_step``. ``future`` (``[batch, horizon, n_future]``, raw): the known-future
        covariates at the forecast steps; required when the model takes ``future``.
        """
        name = output or self.manifest["signature"]["output"]
        return self._outputs(windows, origin_steps, future, (name,))[name]

    def _outputs(self, windows: np.ndarray, origin_steps: np.ndarray | None,
                 future: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The SavedModel's outputs ``names`` for ``windows``, from one call per chunk."""
        import tensorflow as tf

        sig = self.manifest["signature"]
        inputs = {d["name"] for d in self.derived_inputs} | (
            {"future"} if "future" in sig.get("inputs", ()) else set())
        given = {"origin_step": (origin_steps, tf.int32), "future": (future, tf.float32)}
        for name in inputs:
            if given[name][0] is None:
                raise DataError(f"this model needs {name} (its forecasts depend on the time of "
                                "each window, or on covariates known ahead); see the manifest's "
                                "signature")
        out: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for start in range(0, len(windows), 1024):
            feed = {sig["input"]: tf.constant(windows[start:start + 1024], dtype=tf.float32)}
            for name in inputs:
                value, dtype = given[name]
                feed[name] = tf.constant(value[start:start + 1024], dtype=dtype)
            served = self._serve(**feed)
            for n in names:
                out[n].append(served[n].numpy())
        if len(windows):
            return {n: np.concatenate(v) for n, v in out.items()}
        point = (0, self.horizon, len(self.manifest["targets"]))
        n_q = (len(self.intervals["quantiles"]),) if self.intervals else ()
        return {n: np.zeros(point if n == sig["output"] else (*point, *n_q)) for n in names}

    def predict(self, data: str | Path | pd.DataFrame, *, all_origins: bool = False,
                max_gap: int | None = None) -> pd.DataFrame:
        """Forecast the next ``horizon`` steps after the last row (or from every origin).

        Args:
            data: a CSV path or a DataFrame with the time column and every input column; for a
                model with known-future covariates, followed by the rows to forecast with those
                filled (and the target empty).
            all_origins: one forecast from every origin with a full lookback (a backtest; with
                known-future covariates, every origin whose horizon they cover).
            max_gap: longest run of missing steps to interpolate (default: the search's).

        Returns:
            Long format: ``origin, step, timestamp, <target>…`` (plus ``<target>_actual`` where
            the data hold the actual value); a model with calibrated intervals adds
            ``<target>_lo80, <target>_hi80…`` for each level and ``<target>_q0.1…`` for each
            quantile it was exported with.

        Raises:
            DataError: missing columns, another frequency, too few rows, or a known-future
                covariate missing at a step to forecast.
        """
        m = self.manifest
        if isinstance(data, pd.DataFrame):
            with as_csv(data, time_col=m["time_col"]) as path:
                return self.predict(path, all_origins=all_origins, max_gap=max_gap)
        source = str(data)
        check_columns(data, [m["time_col"], *m["targets"],
                             *m.get("covariate_columns", m["covariates"]),
                             *(m.get("future_covariates") or [])])
        series = load_series(data, targets=m["targets"], time_col=m["time_col"],
                             covariates=m.get("covariate_columns", m["covariates"]),
                             max_gap=m.get("max_gap", 12) if max_gap is None else max_gap,
                             future=m.get("future_covariates"),
                             categories=m.get("categories"), freq=m["frequency"])
        raw = series.frame[m["inputs"]].to_numpy("float32")
        n, lookback = len(raw), self.lookback
        if n < lookback:
            raise DataError(f"{source}: {n} rows after re-gridding, but the model needs at least "
                            f"{lookback} rows of history (its window); pass the last "
                            f"{lookback} rows or more")
        origins = np.arange(lookback, n + 1) if all_origins else np.array([n])
        known = None
        if "future" in m["signature"].get("inputs", ()):
            origins, known = _known_ahead(series, origins, self.horizon, source,
                                          all_origins=all_origins)
        steps = None
        if self.derived_inputs:
            first = steps_from(pd.Timestamp(m["t0"]), series.frame.index[0], m["frequency"])
            steps = origins + first
        windows = raw[origins[:, None] + np.arange(-lookback, 0)[None, :]]
        point = m["signature"]["output"]
        bands = (self.intervals["output"],) if self.intervals else ()
        served = self._outputs(windows, steps, known, (point, *bands))
        out = _long_format(served[point], origins, series.frame, m, series.observed)
        for col, j, k in band_columns(self.intervals, m["targets"]) if bands else ():
            out[col] = served[bands[0]][:, :, j, k].reshape(-1)
        return out


def _known_ahead(series, origins: np.ndarray, horizon: int, source: str, *,
                 all_origins: bool) -> tuple[np.ndarray, np.ndarray]:
    """The known-future covariates over each origin's horizon, from the series and the rows
    after its last target value; a backtest keeps the origins they cover.

    Raises:
        DataError: a value is missing at a step to forecast after the last target value.
    """
    cols = list(series.future)
    ahead = series.ahead if series.ahead is not None else pd.DataFrame(columns=cols)
    table = pd.concat([series.frame[cols], ahead[cols]])
    values = table.to_numpy("float32")
    rows = origins[:, None] + np.arange(horizon)[None, :]
    covered = (rows < len(values)).all(axis=1)
    covered[covered] = ~np.isnan(values[rows[covered]]).any(axis=(1, 2))
    if not covered[-1] and not all_origins:
        n = len(series.frame)
        need = table.reindex(pd.date_range(table.index[n - 1], periods=horizon + 1,
                                           freq=series.freq)[1:])
        col = next(c for c in cols if need[c].isna().any())
        when = need.index[int(np.flatnonzero(need[col].isna().to_numpy())[0])]
        name = next((k for k, cats in series.categories.items() if col.startswith(f"{k}=")),
                    col)
        raise DataError(f"{source}: known-future covariate '{name}' has no value at {when}, a "
                        f"step to forecast; add rows after the last target value (target empty) "
                        f"with every known-future covariate filled for the next {horizon} steps")
    if all_origins and not covered.any():
        raise DataError(f"{source}: no origin has its known-future covariates for all "
                        f"{horizon} steps ahead; add the rows to forecast")
    kept = origins[covered]
    return kept, values[kept[:, None] + np.arange(horizon)[None, :]]


class SequenceModel:
    """An exported classification or regression model: ``.predict(frame_or_csv)`` labels every
    sequence.

    Loaded with plain TensorFlow from the SavedModel; the manifest says which columns it needs,
    the padding (NaN, on the right) and the longest sequence it takes.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        import tensorflow as tf

        self.folder = folder
        self.manifest = manifest
        self.task = manifest["task"]
        self.predicts = "sequence predictions"
        self._serve = tf.saved_model.load(str(folder)).signatures["serving_default"]

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"] or [])

    @property
    def max_length(self) -> int:
        return int(self.manifest["max_length"])

    def predict_sequences(self, sequences: list[np.ndarray]) -> np.ndarray:
        """Raw ``[length_i, n_inputs]`` arrays → probabilities ``[n, n_classes]`` or values
        ``[n, 1]``, in the given order.

        Longer sequences keep their last ``max_length`` steps; batches group similar lengths
        and are right-padded with NaN.
        """
        import tensorflow as tf

        sig = self.manifest["signature"]
        longer = sum(len(s) > self.max_length for s in sequences)
        if longer:
            logger.warning("%d sequences longer than the model's max_length %d keep their last "
                           "%d steps", longer, self.max_length, self.max_length)
        sequences = [np.asarray(s, dtype="float32")[-self.max_length:] for s in sequences]
        order = np.argsort([len(s) for s in sequences], kind="stable")
        width = len(self.classes) or 1
        out = np.zeros((len(sequences), width), dtype="float32")
        for start in range(0, len(order), _BATCH):
            chunk = order[start:start + _BATCH]
            batch = tf.constant(pad_sequences([sequences[i] for i in chunk]))
            out[chunk] = self._serve(**{sig["input"]: batch})[sig["output"]].numpy()
        return out

    def predict(self, data: str | Path | pd.DataFrame, *, all_origins: bool = False
                ) -> pd.DataFrame:
        """Predict every sequence of ``data`` (same layout as the training file).

        Args:
            data: a CSV path or a DataFrame with the id, step and feature columns (long format)
                or one row per sequence (wide format). The target column is optional.

        Returns:
            ``id, prediction`` and, for classification, ``prob_<class>`` per class; ``actual``
            where the data hold the target.

        Raises:
            DataError: missing columns or malformed sequences.
        """
        m = self.manifest
        if all_origins:
            raise DataError("--all-origins is for forecasting models; this model "
                            f"{'classifies' if self.classes else 'regresses'} "
                            "whole sequences")
        if isinstance(data, pd.DataFrame):
            with as_csv(data) as path:
                return self.predict(path)
        source = str(data)
        frame, fingerprint = read_csv_file(data)
        cols = list(frame.columns)
        needed = [c for c in (m["id_col"], m["step_col"]) if c]
        needed += m["inputs"] if m["format"] == "long" else []
        for c in needed:
            if c not in cols:
                raise DataError(f"{source}: column '{c}', which the model was trained on, is "
                                f"missing{suggest_column(c, cols)}")
        target = m["target"] if m["target"] in cols else None
        blank = None if target is None else frame[target].fillna("").astype(str).str.strip().eq("")
        if blank is not None and blank.any():  # new data: labels not known (yet)
            if not blank.all():
                logger.warning("%s: column '%s' is empty in some rows: predicted without an "
                               "'actual' column", source, target)
            frame, target = frame.drop(columns=[target]), None
        table = sequences_from_frame(frame, source=source, fingerprint=fingerprint,
                                     target=target, id_col=m["id_col"], step_col=m["step_col"],
                                     features=m["inputs"] if m["format"] == "long" else None,
                                     format=m["format"])
        pred = self.predict_sequences(list(table.sequences))
        out = pd.DataFrame({"id": list(table.ids)})
        if self.classes:
            out["prediction"] = [self.classes[i] for i in np.argmax(pred, axis=1)]
            for j, c in enumerate(self.classes):
                out[f"prob_{c}"] = pred[:, j]
        else:
            out["prediction"] = pred[:, 0]
        if table.labels is not None:
            out["actual"] = (list(table.labels) if self.classes
                             else pd.to_numeric(pd.Series(table.labels)).to_numpy())
        return out


def _long_format(pred: np.ndarray, origins: np.ndarray, frame: pd.DataFrame,
                 m: dict[str, Any], observed: np.ndarray | None = None) -> pd.DataFrame:
    """The forecasts in long format, with each target's actual value where the file held it
    (``observed``; not where a gap was filled)."""
    freq = pd.tseries.frequencies.to_offset(m["frequency"])
    horizon = pred.shape[1]
    last_seen = frame.index[origins - 1]
    steps = np.tile(np.arange(1, horizon + 1), len(origins))
    origin = np.repeat(last_seen, horizon)
    out = pd.DataFrame({"origin": origin, "step": steps,
                        "timestamp": [o + freq * int(s) for o, s in zip(origin, steps,
                                                                        strict=True)]})
    pos = origins.repeat(horizon) + steps - 1
    inside = pos < len(frame)
    for j, t in enumerate(m["targets"]):
        out[t] = pred[:, :, j].reshape(-1)
        if inside.any():
            held = inside.copy()
            if observed is not None:
                held[inside] = observed[pos[inside], j]
            actual = np.full(len(out), np.nan)
            actual[held] = frame[t].to_numpy()[pos[held]]
            out[f"{t}_actual"] = actual
    return out
