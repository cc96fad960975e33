"""Searched data transforms: MSTL deseasonalisation and the choice of scaler, cached per pair.

A *variant* of a ``ForecastData`` is its series after an optional transform of the targets and
a scaler, both fitted on the training rows only:

* ``transform="mstl"``: the seasonal components of an MSTL decomposition (``statsforecast``) of
  the training part, one table per inferred season holding that season's last cycle, indexed by
  the position in the season. The network sees and predicts ``y - profile(step)``; the profile
  is added back to its forecasts. Fitted once per data set, shared by every trial.
* ``scaler``: ``standard`` (mean / std), ``robust`` (median / interquartile range) or
  ``minmax`` (min / range); an affine map per column, so a Keras ``Normalization`` layer holds it.

Every variant is computed once and cached on the ``ForecastData``: trials with the same pair
reuse the arrays (windows are gathered lazily from them).

Example:
    >>> v = data_variant(data, transform="mstl", scaler="robust")
    >>> units = v.to_units(scaled_forecasts, origins)
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from autoseq.data._split import Scaler
from autoseq.data._windows import ForecastData
from autoseq.exceptions import SearchSpaceError

logger = logging.getLogger("autoseq")

TRANSFORMS = ("none", "mstl")
SCALERS = ("standard", "robust", "minmax")


@dataclass(frozen=True)
class SeasonalProfile:
    """Per-season tables ``[period, n_targets]`` whose sum at a step is the seasonal part."""

    periods: tuple[int, ...]
    tables: tuple[np.ndarray, ...]

    def at(self, steps: np.ndarray) -> np.ndarray:
        """The profile at integer ``steps`` → ``[*steps.shape, n_targets]``."""
        steps = np.asarray(steps, dtype="int64")
        return sum(t[np.mod(steps, m)] for m, t in zip(self.periods, self.tables, strict=True))

    def to_dict(self) -> dict:
        return {"periods": list(self.periods), "tables": [t.tolist() for t in self.tables]}


@dataclass(frozen=True)
class Variant:
    """The series under one (transform, scaler) pair: ``values`` feed the network."""

    transform: str
    scaler: Scaler
    profile: SeasonalProfile | None
    values: np.ndarray
    target_idx: tuple[int, ...]

    def to_units(self, scaled: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Network outputs ``[windows, horizon, targets]`` → forecasts in the data's units."""
        out = self.scaler.inverse(scaled, list(self.target_idx))
        if self.profile is not None:
            steps = origins[:, None] + np.arange(scaled.shape[1])[None, :]
            out = out + self.profile.at(steps)
        return out


def fit_scaler(values: np.ndarray, kind: str) -> Scaler:
    """Fit a scaler of ``kind`` on ``values`` (the training rows)."""
    if kind == "standard":
        return Scaler.fit(values)
    if kind == "robust":
        center = np.median(values, axis=0)
        scale = np.subtract(*np.percentile(values, [75, 25], axis=0))
    elif kind == "minmax":
        center = values.min(axis=0)
        scale = values.max(axis=0) - center
    else:
        raise SearchSpaceError(f"scaler must be one of {', '.join(SCALERS)}. Received: {kind!r}")
    scale = np.where(scale > 0, scale, 1.0)
    return Scaler(mean=center.astype("float64"), scale=scale.astype("float64"), kind=kind)


def fit_profile(data: ForecastData) -> SeasonalProfile | None:
    """MSTL seasonal tables fitted on the training rows, or ``None`` without a usable season."""
    from statsforecast.mstl import mstl

    train = data.split.train
    periods = tuple(m for m in data.seasons if m > 1 and 2 * m < train)
    if not periods:
        return None
    tables = [np.zeros((m, data.n_targets)) for m in periods]
    for j, col in enumerate(data.target_idx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parts = mstl(data.raw[:train, col], period=list(periods))
        for k, m in enumerate(periods):
            name = f"seasonal{m}" if len(periods) > 1 else "seasonal"
            comp = parts[name].to_numpy()
            last = np.arange(train - m, train)
            tables[k][np.mod(last, m), j] = comp[last]
    return SeasonalProfile(periods=periods, tables=tuple(tables))


def data_variant(data: ForecastData, *, transform: str = "none",
                 scaler: str = "standard") -> Variant:
    """The (cached) variant of ``data`` for a transform and a scaler.

    Raises:
        SearchSpaceError: an unknown transform or scaler.
    """
    if transform not in TRANSFORMS:
        raise SearchSpaceError(f"transform must be one of {', '.join(TRANSFORMS)}. "
                               f"Received: {transform!r}")
    cache = data.__dict__.setdefault("_variants", {})
    key = (transform, scaler)
    if key in cache:
        return cache[key]
    values = data.raw.copy()
    profile = None
    if transform == "mstl":
        if "_profile" not in data.__dict__:
            data.__dict__["_profile"] = fit_profile(data)
        profile = data.__dict__["_profile"]
        if profile is not None:
            values[:, data.target_idx] -= profile.at(np.arange(len(values)))
    fitted = fit_scaler(values[: data.split.train], scaler)
    variant = Variant(transform=transform, scaler=fitted, profile=profile,
                      values=fitted.transform(values).astype("float32"),
                      target_idx=tuple(data.target_idx))
    cache[key] = variant
    return variant


def calendar_dicts(data: ForecastData) -> tuple[dict, ...]:
    """The data's calendar cycles as the dicts ``CalendarFeatures`` takes (empty when off)."""
    return tuple(c.to_dict() for c in data.calendar)


def uses_steps(config: dict, data: ForecastData) -> bool:
    """Whether a configuration's network takes ``origin_step`` (it uses calendar features)."""
    return bool(config.get("calendar")) and bool(data.calendar)
