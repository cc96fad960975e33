"""Loading an exported model folder and forecasting from a CSV of history."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autoseq._manifest import read_manifest
from autoseq.data import load_series
from autoseq.data._calendar import steps_from
from autoseq.exceptions import DataError


class Forecaster:
    """An exported model: ``.predict(frame_or_csv)`` forecasts in the data's units.

    Loaded with plain TensorFlow from the SavedModel; the manifest says which columns it needs.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        import tensorflow as tf

        self.folder = folder
        self.manifest = manifest
        self._serve = tf.saved_model.load(str(folder)).signatures["serving_default"]

    @property
    def lookback(self) -> int:
        return int(self.manifest["lookback"])

    @property
    def horizon(self) -> int:
        return int(self.manifest["horizon"])

    @property
    def derived_inputs(self) -> list[dict[str, Any]]:
        """Inputs computed from the timestamps (``origin_step``), as the manifest describes."""
        return list(self.manifest.get("derived_inputs") or [])

    def predict_windows(self, windows: np.ndarray,
                        origin_steps: np.ndarray | None = None) -> np.ndarray:
        """Raw windows ``[batch, lookback, n_inputs]`` → forecasts ``[batch, horizon, targets]``.

        ``origin_steps`` (int, ``[batch]``): steps of the data's frequency from the manifest's
        ``t0`` to each window's first forecast step; required when the model lists the derived
        input ``origin_step``.
        """
        import tensorflow as tf

        sig = self.manifest["signature"]
        needs_step = any(d["name"] == "origin_step" for d in self.derived_inputs)
        if needs_step and origin_steps is None:
            raise DataError("this model needs origin_steps (its calendar features or seasonal "
                            "profile depend on the time of each window); see the manifest's "
                            "derived_inputs")
        out = []
        for start in range(0, len(windows), 1024):
            feed = {sig["input"]: tf.constant(windows[start:start + 1024], dtype=tf.float32)}
            if needs_step:
                feed["origin_step"] = tf.constant(origin_steps[start:start + 1024],
                                                  dtype=tf.int32)
            out.append(self._serve(**feed)[sig["output"]].numpy())
        return np.concatenate(out) if out else np.zeros((0, self.horizon,
                                                        len(self.manifest["targets"])))

    def predict(self, data: str | Path | pd.DataFrame, *, all_origins: bool = False
                ) -> pd.DataFrame:
        """Forecast the next ``horizon`` steps after the last row (or from every origin).

        Args:
            data: a CSV path or a DataFrame with the time column and every input column.
            all_origins: one forecast from every origin with a full lookback (a backtest).

        Returns:
            Long format: ``origin, step, timestamp, <target>…`` (plus ``<target>_actual`` where
            the data hold the actual value).

        Raises:
            DataError: missing columns, another frequency, or too few rows.
        """
        m = self.manifest
        if isinstance(data, pd.DataFrame):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "frame.csv"
                data.to_csv(path, index=False)
                return self.predict(path, all_origins=all_origins)
        source = str(data)
        _check_columns(data, m, source)
        series = load_series(data, targets=m["targets"], time_col=m["time_col"],
                             covariates=m["covariates"], max_gap=m.get("max_gap", 12))
        if series.freq != m["frequency"]:
            raise DataError(f"{source}: frequency {series.freq} differs from the model's "
                            f"{m['frequency']}; resample the data to {m['frequency']}")
        raw = series.frame[m["inputs"]].to_numpy("float32")
        n, lookback = len(raw), self.lookback
        if n < lookback:
            raise DataError(f"{source}: {n} rows after re-gridding, but the model needs at least "
                            f"{lookback} (its lookback)")
        origins = np.arange(lookback, n + 1) if all_origins else np.array([n])
        windows = raw[origins[:, None] + np.arange(-lookback, 0)[None, :]]
        steps = None
        if self.derived_inputs:
            first = steps_from(pd.Timestamp(m["t0"]), series.frame.index[0], m["frequency"])
            steps = origins + first
        pred = self.predict_windows(windows, steps)
        return _long_format(pred, origins, series.frame, m)


def _check_columns(path, m: dict[str, Any], source: str) -> None:
    from autoseq.data._csv import read_csv_file, suggest_column

    frame, _ = read_csv_file(path)
    cols = list(frame.columns)
    for c in [m["time_col"], *m["inputs"]]:
        if c not in cols:
            raise DataError(f"{source}: column '{c}', which the model was trained on, is missing"
                            f"{suggest_column(c, cols)}")


def _long_format(pred: np.ndarray, origins: np.ndarray, frame: pd.DataFrame,
                 m: dict[str, Any]) -> pd.DataFrame:
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
            actual = np.full(len(out), np.nan)
            actual[inside] = frame[t].to_numpy()[pos[inside]]
            out[f"{t}_actual"] = actual
    return out


def load_model(folder: str | Path, *, verify: bool = True) -> Forecaster:
    """Load an exported model folder after verifying its checksums.

    Raises:
        ModelError: not a model folder, or a file was altered since export.

    Example:
        >>> model = autoseq.load_model("results/airline/export")
        >>> model.predict("examples/airline.csv").head()
    """
    folder = Path(folder)
    return Forecaster(folder, read_manifest(folder, verify=verify))
