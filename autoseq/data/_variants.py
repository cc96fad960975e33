"""Searched data transforms: MSTL deseasonalisation and the choice of scaler, cached per pair.

A *variant* of a ``ForecastData`` is its series after an optional transform of the targets and
a scaler, both fitted on the training rows only:

* ``transform="mstl"``: the seasonal components of an MSTL decomposition (``statsforecast``) of
  the training part, one table per inferred season holding that season's last cycle, indexed by
  the position in the season. The network sees and predicts ``y - profile(step)``; the profile
  is added back to its forecasts. Fitted once per data set, shared by every trial.
* ``transform="rolling_mstl"``: the same decomposition **refitted at every origin** on the
  ``history`` rows before it (six cycles of the longest season, or the whole cycles a shorter
  series holds; from two cycles in, the first cycle's rows of the same phase standing for a
  missing past): MSTL
  without robustness weights is linear, so each refit is one product with a fixed operator
  (``autoseq.data._mstl``), and the exported model computes the same profile from its raw window.
  Never fitted on anything a window forecasts, and never stale.
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
import time
import warnings
from dataclasses import dataclass

import numpy as np

from autoseq.data._mstl import mstl_operator, relative_tables
from autoseq.data._split import Scaler
from autoseq.data._windows import FUTURE, STEP, ForecastData, RollingOffsets
from autoseq.exceptions import SearchSpaceError

logger = logging.getLogger("autoseq")

TRANSFORMS = ("none", "mstl", "rolling_mstl")
ROLLING_HISTORY = 6  # longest seasons each rolling MSTL fit sees
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

    def around(self, origins: np.ndarray, back: int, ahead: int) -> np.ndarray:
        """The profile at rows ``o - back … o + ahead - 1`` of each origin ``o``."""
        return self.at(np.asarray(origins)[:, None] + np.arange(-back, ahead)[None, :])


@dataclass(frozen=True)
class RollingProfile:
    """MSTL seasonal tables refitted at ``points`` (rows; every row from two longest cycles
    on): a window whose origin is ``points[k]`` uses ``tables[k]``, fitted on the ``history``
    rows before it (the first cycle's same phase standing for missing ones).
    ``tables`` is ``[points, sum(periods), n_targets]``: each season's last cycle, indexed by
    ``row mod period``, the seasons one after the other."""

    periods: tuple[int, ...]
    history: int
    points: np.ndarray
    tables: np.ndarray

    def block(self, origins: np.ndarray) -> np.ndarray:
        """Index of the tables each origin uses (the last refit point at or before it)."""
        k = np.searchsorted(self.points, np.asarray(origins), side="right") - 1
        if np.any(k < 0):
            raise ValueError(f"origins before the first refit point (row {self.points[0]})")
        return k

    def around(self, origins: np.ndarray, back: int, ahead: int) -> np.ndarray:
        """The profile seen from each origin ``o`` at rows ``o - back … o + ahead - 1``."""
        origins = np.asarray(origins, dtype="int64")
        rows = origins[:, None] + np.arange(-back, ahead)[None, :]
        k = self.block(origins)[:, None]
        out, offset = 0.0, 0
        for m in self.periods:
            out = out + self.tables[k, offset + np.mod(rows, m)]
            offset += m
        return out


def _season_tables(x: np.ndarray, periods: tuple[int, ...]) -> np.ndarray:
    """Each season's last MSTL cycle of ``x`` (statsforecast's ``mstl``), indexed by
    ``row mod period``, the seasons concatenated."""
    from statsforecast.mstl import mstl

    usable = [m for m in periods if 2 * m <= len(x)]
    out = np.zeros(sum(periods))
    if not usable:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = mstl(x, period=usable)
    offset = 0
    rows = np.arange(len(x))
    for m in periods:
        if m in usable:
            comp = parts[f"seasonal{m}" if len(usable) > 1 else "seasonal"].to_numpy()
            out[offset + np.mod(rows[-m:], m)] = comp[-m:]
        offset += m
    return out


@dataclass(frozen=True)
class Variant:
    """The series under one (transform, scaler) pair: ``values`` feed the network."""

    transform: str
    scaler: Scaler
    profile: SeasonalProfile | RollingProfile | None
    values: np.ndarray
    target_idx: tuple[int, ...]

    def to_units(self, scaled: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Network outputs ``[windows, horizon, targets]`` → forecasts in the data's units."""
        out = self.scaler.inverse(scaled, list(self.target_idx))
        if self.profile is not None:
            out = out + self.profile.around(origins, 0, scaled.shape[1])
        return out

    @property
    def rolling(self) -> RollingOffsets | None:
        """The rolling profile in this variant's scaling, which ``ForecastData.dataset``
        subtracts from each window (``None`` for the other transforms)."""
        if not isinstance(self.profile, RollingProfile):
            return None
        scale = self.scaler.scale[list(self.target_idx)]
        return RollingOffsets(points=self.profile.points, periods=self.profile.periods,
                              tables=(self.profile.tables / scale).astype("float32"))


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
    train = data.split.train
    periods = tuple(m for m in data.seasons if m > 1 and 2 * m < train)
    if not periods:
        return None
    stacked = np.stack([_season_tables(data.raw[:train, j], periods) for j in data.target_idx],
                       axis=-1)
    starts = np.cumsum((0,) + periods[:-1])
    return SeasonalProfile(periods=periods, tables=tuple(
        stacked[a:a + m] for a, m in zip(starts, periods, strict=True)))


def fit_rolling_profile(data: ForecastData) -> RollingProfile | None:
    """MSTL tables refitted at every row from two cycles of the longest season on (see the
    module docstring), or ``None`` without a season the series holds three times."""
    spec = rolling_spec(data.seasons, len(data.raw))
    if spec is None:
        return None
    periods, history = spec
    start = time.perf_counter()
    op = mstl_operator(periods, history)
    longest = max(periods)
    points = np.arange(2 * longest, len(data.raw) + 1, dtype="int64")
    rel = relative_tables(data.raw[:, data.target_idx], points, op, history, cycle=longest)
    tables = np.empty_like(rel)
    offset = 0
    for m in periods:  # table entry (row mod m) of point p is the relative entry (row - p) mod m
        rel_idx = offset + np.mod(np.arange(m)[None, :] - points[:, None], m)
        tables[:, offset:offset + m] = rel[np.arange(len(points))[:, None], rel_idx]
        offset += m
    logger.info("rolling MSTL: %d refits in %.1f s", len(points), time.perf_counter() - start)
    return RollingProfile(periods=periods, history=history, points=points, tables=tables)


def rolling_spec(seasons: list[int], rows: int) -> tuple[tuple[int, ...], int] | None:
    """The seasons and history of the rolling MSTL of a series of ``rows`` rows:
    ``ROLLING_HISTORY`` cycles of the longest season the series holds three times (fewer when
    the series holds fewer, so a served window fits in it), and the seasons that history holds
    twice (``None`` without one). Refits start two cycles in; until the history is whole, the
    missing rows there are the first cycle's of the same phase."""
    usable = [m for m in seasons if m > 1 and 3 * m <= rows]
    if not usable:
        return None
    history = min(ROLLING_HISTORY, rows // max(usable)) * max(usable)
    return tuple(sorted(m for m in usable if 2 * m <= history)), history


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
    profile: SeasonalProfile | RollingProfile | None = None
    if transform == "mstl":
        if "_profile" not in data.__dict__:
            data.__dict__["_profile"] = fit_profile(data)
        profile = data.__dict__["_profile"]
        if profile is not None:
            values[:, data.target_idx] -= profile.at(np.arange(len(values)))
    if transform == "rolling_mstl":
        # Causal at every row, so one fit serves every split of the series (folds, refit).
        fits = data.series.__dict__.setdefault("_rolling", {})
        key = tuple(data.target_idx)
        if key not in fits:
            fits[key] = fit_rolling_profile(data)
        profile = fits[key]
    train = values[: data.split.train]
    if isinstance(profile, RollingProfile):
        # The scaler sees what the network sees: each row deseasonalised as its own origin would.
        first = int(profile.points[0])
        if first + data.horizon >= data.split.train:
            raise SearchSpaceError(f"transform rolling_mstl refits MSTL on the {first} rows "
                                   f"before each origin, but the training part has "
                                   f"{data.split.train} rows; use another transform")
        train = train[first:].copy()
        train[:, data.target_idx] -= profile.around(np.arange(first, data.split.train), 0, 1)[:, 0]
    fitted = fit_scaler(train, scaler)
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


def uses_future(config: dict, data: ForecastData) -> bool:
    """Whether a configuration's network takes the known-future covariates (``future``)."""
    return bool(config.get("future")) and data.n_future > 0


def network_inputs(config: dict, data: ForecastData) -> tuple[str, ...]:
    """The inputs a configuration's network takes beside its window (``STEP``, ``FUTURE``)."""
    return ((STEP,) if uses_steps(config, data) else ()) + (
        (FUTURE,) if uses_future(config, data) else ())
