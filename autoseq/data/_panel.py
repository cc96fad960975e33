"""Many series in one long CSV (``series, timestamp, value``): CSV → validated ``Panel``.

Every series shares one frequency (inferred from the longest series; every row of every
series must lie on its grid), has no duplicate timestamps, and has its gaps (missing rows or
empty values) filled by linear interpolation up to ``max_gap`` steps, as for one series. All of
it is vectorised over the rows: no Python loop runs per row or per series.

Example:
    >>> panel = load_panel("m4_weekly_train.csv", series_col="series", target="value")
    >>> panel.n_series, panel.freq
    (359, 'W-MON')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from autoseq.data._csv import read_csv_file, suggest_column
from autoseq.data._frequency import infer_frequency
from autoseq.data._panel_future import (
    PAST_FLAG,
    PanelFuture,
    check_future_names,
    future_steps,
    read_panel_future,
)
from autoseq.data._panel_static import Statics, read_statics
from autoseq.data._series import _parse_times, _pick_time_col, dst_hint
from autoseq.exceptions import DataError

logger = logging.getLogger("autoseq")


@dataclass(frozen=True)
class Panel:
    """Gap-filled series on one grid, stored end to end.

    Attributes:
        names: the series' keys (text), in order of first appearance in the file.
        values: float64 values of every series, one after the other.
        offsets: ``values[offsets[i]:offsets[i + 1]]`` is series ``i`` (length ``n_series + 1``).
        first: each series' first timestamp.
        freq: the shared pandas frequency.
        filled: values filled by interpolation (missing rows and empty cells).
        statics: the static columns (``--static-col``), one row per series; ``None``: none.
        future: the known-future covariates (``--future-covariate``); ``None``: none.
        past: the past covariates (``--covariate``; ``ahead`` empty); ``None``: none.
        observed: like ``values``: whether the file held the value (not filled).
    """

    names: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    first: pd.DatetimeIndex
    freq: str
    source: str
    series_col: str
    time_col: str
    target: str
    fingerprint: str
    filled: int = 0
    rows: int = 0
    grid: _Grid | None = field(default=None, repr=False)
    statics: Statics | None = field(default=None, repr=False)
    future: PanelFuture | None = field(default=None, repr=False)
    past: PanelFuture | None = field(default=None, repr=False)
    observed: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_series(self) -> int:
        return len(self.names)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def series(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i]:self.offsets[i + 1]]

    def timestamps(self, series: np.ndarray, position: np.ndarray) -> pd.DatetimeIndex:
        """The timestamps of ``position`` (steps from each series' start) of ``series``."""
        grid = self.grid or _grid(self.freq, self.first[:1])
        return grid.timestamps(grid.ordinals(self.first)[series] + position)

    @property
    def past_covariates(self) -> tuple[PanelFuture, ...]:
        """The covariates whose past a network may read: the past ones, then the known-future
        ones (the order of the ``past`` input's features)."""
        return tuple(c for c in (self.past, self.future) if c is not None)

    def past_matrix(self) -> np.ndarray:
        """``past_covariates``' values side by side, row for row with ``values``:
        ``[n_steps, n_past]``."""
        return np.concatenate([c.values for c in self.past_covariates], axis=1)

    def future_steps(self, series: np.ndarray, position: np.ndarray, horizon: int) -> np.ndarray:
        """The known-future covariates on steps ``position … position + horizon - 1`` of each
        of ``series`` ``[W, horizon, n_features]`` (NaN where the file gives none)."""
        f = self.future
        return future_steps(f.values, f.ahead, self.offsets, self.lengths, series, position,
                            horizon)

    def select(self, keep: np.ndarray) -> Panel:
        """The panel of the series where ``keep`` (a boolean mask) is true."""
        lengths = self.lengths[keep]
        idx = np.concatenate([np.arange(a, b) for a, b in zip(self.offsets[:-1][keep],
                                                              self.offsets[1:][keep],
                                                              strict=True)] or [[]]).astype(int)
        return Panel(self.names[keep], self.values[idx],
                     np.concatenate([[0], np.cumsum(lengths)]).astype("int64"), self.first[keep],
                     self.freq, self.source, self.series_col, self.time_col, self.target,
                     self.fingerprint, self.filled, self.rows, self.grid,
                     self.statics.select(keep) if self.statics else None,
                     self.future.select(idx, keep) if self.future else None,
                     self.past.select(idx, keep) if self.past else None,
                     None if self.observed is None else self.observed[idx])

    def summary(self) -> dict:
        """A JSON-ready description (for run.json and the report)."""
        lengths = self.lengths
        return {"source": self.source, "fingerprint": self.fingerprint, "rows": self.rows,
                "series": self.n_series, "freq": self.freq, "series_col": self.series_col,
                "time_col": self.time_col, "targets": [self.target], "filled": self.filled,
                "min_length": int(lengths.min()), "max_length": int(lengths.max()),
                "start": self.first.min().isoformat(),
                "covariates": list(self.past.columns) if self.past else []} | (
                    {"static": self.statics.describe()} if self.statics else {}) | (
                    {"future": self.future.describe()} if self.future else {}) | (
                    {"past": self.past.describe()} if self.past else {})


class _Grid:
    """Timestamps ↔ integer steps of one frequency (fixed steps, or calendar periods)."""

    def __init__(self, freq: str, anchor: pd.Timestamp):
        self.freq = freq
        offset = pd.tseries.frequencies.to_offset(freq)
        self.trading = freq == "B"  # weekdays: numpy's business-day calendar counts them
        self.step = None if self.trading else _fixed_step(offset)
        self.anchor = anchor
        self.period = None if self.step is not None or self.trading else _period_freq(freq)

    def ordinals(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Each timestamp's step on the grid; ``-2**62`` where it lies off the grid."""
        if self.trading:
            days = index.normalize()
            day = days.to_numpy().astype("datetime64[D]")
            on = np.is_busday(day) & ((index - days) == self._time_of_day)
            return np.where(on, np.busday_count(self._day, day), _OFF)
        if self.step is not None:
            delta = index.asi8 - self.anchor.value
            step = self.step.value
            return np.where(delta % step == 0, delta // step, _OFF)
        ords = index.to_period(self.period).asi8
        back = self.timestamps(ords)
        return np.where(back.asi8 == index.asi8, ords, _OFF)

    def timestamps(self, ordinals: np.ndarray) -> pd.DatetimeIndex:
        if self.trading:
            days = np.busday_offset(self._day, np.asarray(ordinals), roll="forward")
            return pd.DatetimeIndex(days.astype("datetime64[ns]")) + self._time_of_day
        if self.step is not None:
            return pd.DatetimeIndex(self.anchor.value + np.asarray(ordinals) * self.step.value)
        periods = pd.PeriodIndex.from_ordinals(np.asarray(ordinals), freq=self.period)
        end = self.freq.startswith(("ME", "QE", "YE", "BME", "BQE", "BYE", "M", "Q-", "Y-"))
        stamps = periods.to_timestamp(how="end" if end and not self.freq.endswith("S")
                                      else "start")
        return stamps.normalize() if end else stamps


    @property
    def _day(self) -> np.datetime64:
        return np.datetime64(self.anchor.normalize().date(), "D")

    @property
    def _time_of_day(self) -> pd.Timedelta:
        return self.anchor - self.anchor.normalize()


_OFF = -(2 ** 62)


def _fixed_step(offset) -> pd.Timedelta | None:
    if offset.name.startswith("W"):
        return pd.Timedelta(days=7 * (offset.n or 1))
    try:
        return pd.Timedelta(offset)
    except (ValueError, TypeError):
        return None


def _period_freq(freq: str) -> str:
    base = pd.tseries.frequencies.to_offset(freq)
    name = base.name
    for prefix, period in (("Q", "Q"), ("BQ", "Q"), ("Y", "Y"), ("BY", "Y"), ("A", "Y")):
        if name.startswith(prefix):
            return f"{base.n}{period}" if base.n != 1 else period
    return f"{base.n}M" if base.n != 1 else "M"


def _grid(freq: str, anchor: pd.DatetimeIndex) -> _Grid:
    return _Grid(freq, anchor[0])


def load_panel(path: str | Path, *, series_col: str, target: str, time_col: str | None = None,
               max_gap: int = 12, static: Sequence[str] = (), categorical: Sequence[str] = (),
               categories: Mapping[str, list[str]] | None = None,
               future: Sequence[str] = (), ahead: int | None = None,
               future_history: bool = True, past: Sequence[str] | None = ()) -> Panel:
    """Read a long CSV of many series (one row per series and step) into a ``Panel``.

    Args:
        path: CSV with a series key column, a timestamp column and the target column.
        series_col: the column naming each row's series.
        target: the column to forecast.
        time_col: the timestamp column; detected when obvious.
        max_gap: longest run of missing steps interpolated in a series.
        static: columns holding one value per series (``autoseq.data._panel_static``).
        categorical: static columns of integer codes to one-hot encode (text ones always are).
        categories: a model's categories of its categorical static (and known-future) columns.
        future: known-future covariates (``autoseq.data._panel_future``): the rows after a
            series' last target value give their values on the steps to forecast.
        ahead, future_history: how many of those rows to keep (the horizon; ``None``: all),
            and whether every series' history must hold a value of each (``predict`` reads
            only the rows ahead, unless its model reads their past).
        past: past covariates (``autoseq.data._panel_future``): values in each series'
            history only; every series' history must hold a value of each. ``None``: every
            other numeric column (as for one series), leaving out with a warning one that
            some series' history lacks.

    Returns:
        The panel, each series sorted and gap-filled.

    Raises:
        DataError: a missing column, an unparsable time, a duplicate timestamp in a series, a
            series off the shared grid, a gap over ``max_gap``, or a static column missing or
            changing within a series: naming the series and row.

    Example:
        >>> load_panel("panel.csv", series_col="series", target="value").n_series
        359
    """
    src = str(path)
    raw, fingerprint = read_csv_file(path, text_columns=lambda header: [
        c for c in header if c in (series_col, time_col) or c.lower() in _TIME_NAMES])
    columns = list(raw.columns)
    for col, flag in ((series_col, "--series-col"), (target, "--target")):
        if col not in columns:
            raise DataError(f"{src}: {flag} '{col}' is not a column"
                            f"{suggest_column(col, columns)}")
    time_col = _pick_time_col(src, raw.drop(columns=[series_col]), time_col)
    reserved = [("--series-col", series_col), ("--target", target), ("--time-col", time_col),
                *(("--static-col", c) for c in static)]
    future = check_future_names(src, future, columns, reserved)
    taken = [*reserved, *(("--future-covariate", c) for c in future)]
    default = past is None
    if default:
        past = _default_past(src, raw, {c for _, c in taken})
    past = check_future_names(src, past, columns, taken, flag=PAST_FLAG)
    stray = [c for c in categorical if c not in {*static, *future, *past}]
    if stray:
        raise DataError(f"{src}: --categorical '{stray[0]}' is not a static column or covariate "
                        f"of this panel{suggest_column(stray[0], columns)}")
    keys = raw[series_col]
    if keys.isna().any():
        row = int(np.flatnonzero(keys.isna().to_numpy())[0]) + 2
        raise DataError(f"{src}: row {row}: empty series key in '{series_col}'")
    values = pd.to_numeric(raw[target], errors="coerce").to_numpy("float64")
    bad = np.isnan(values) & raw[target].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{src}: row {row + 2}: '{raw[target].iloc[row]}' in '{target}' is not "
                        "a number")
    times = _parse_times(src, raw[time_col], time_col)
    codes, names = pd.factorize(keys.astype(str), sort=False)
    order = np.lexsort((times.asi8, codes))
    codes, times, values = codes[order], times[order], values[order]
    _check_duplicates(src, codes, times, order, names, time_col)
    freq, grid = _shared_grid(src, codes, times, order, names)
    statics = read_statics(src, raw, static, codes=codes, order=order, names=names,
                           reserved={"--series-col": series_col, "--target": target,
                                     "--time-col": time_col},
                           categorical=categorical, categories=categories)
    ords = grid.ordinals(times)
    names = np.asarray(names, dtype=str)
    panel = _assemble(src, codes, ords, values, names=names, grid=grid, freq=freq,
                      max_gap=max_gap, order=order,
                      meta=(series_col, time_col, target, fingerprint, len(raw)), statics=statics)
    if not future and not past:
        return panel
    kept = pd.Index(panel.names).get_indexer(names)[codes]  # each sorted row's series, or -1
    step = ords - grid.ordinals(panel.first)[np.maximum(kept, 0)]
    series, steps = np.empty(len(raw), dtype="int64"), np.empty(len(raw), dtype="int64")
    series[order], steps[order] = kept, step
    where = {"series": series, "step": steps, "lengths": panel.lengths,
             "offsets": panel.offsets, "names": panel.names, "categorical": categorical,
             "categories": categories}
    covariates = read_panel_future(src, raw, past, ahead=0, flag=PAST_FLAG,
                                   history=not default, **where)
    if default:
        covariates = _complete(src, covariates)
    return replace(panel,
                   future=read_panel_future(src, raw, future, ahead=ahead,
                                            history=future_history, **where),
                   past=covariates)


def _default_past(src: str, raw: pd.DataFrame, taken: set) -> list[str]:
    """Every numeric column not ``taken`` by another role (as for one series); text columns
    and columns holding an infinite value are left out, saying so."""
    others = [c for c in raw.columns if c not in taken]
    numeric = [c for c in others if pd.api.types.is_numeric_dtype(raw[c])
               and not pd.api.types.is_bool_dtype(raw[c])]
    text = [c for c in others if c not in numeric]
    if text:
        logger.info("%s: column(s) %s are not numeric and not used as past covariates (name "
                    "them with --covariates to encode their categories)", src, listed(text))
    infinite = [c for c in numeric if np.isinf(raw[c].to_numpy("float64")).any()]
    if infinite:
        logger.warning("%s: column(s) %s hold infinite values and are not used as past "
                       "covariates; replace them, or name the columns to use with --covariates",
                       src, listed(infinite))
    return [c for c in numeric if c not in infinite]


def _complete(src: str, covariates: PanelFuture | None) -> PanelFuture | None:
    """The default past covariates without those some series' history lacks (a warning names
    them): a column nobody asked for does not stop the run."""
    if covariates is None:
        return None
    lacking = [c for c, at in covariates.positions()
               if np.isnan(covariates.values[:, at]).any()]
    if not lacking:
        return covariates
    logger.warning("%s: column(s) %s have no value in some series' history and are not used "
                   "as past covariates; fill them in, or name the columns to use with "
                   "--covariates", src, listed(lacking))
    kept = [c for c in covariates.columns if c not in lacking]
    if not kept:
        return None
    at = [i for c, idx in covariates.positions() if c in kept for i in idx]
    return replace(covariates, columns=tuple(kept), values=covariates.values[:, at],
                   ahead=covariates.ahead[:, :, at],
                   categories={c: v for c, v in covariates.categories.items() if c in kept})


_TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds", "period", "month", "week", "day")


def _check_duplicates(src: str, codes: np.ndarray, times: pd.DatetimeIndex, order: np.ndarray,
                      names, time_col: str) -> None:
    same = (codes[1:] == codes[:-1]) & (times.asi8[1:] == times.asi8[:-1])
    if same.any():
        i = int(np.flatnonzero(same)[0]) + 1
        raise DataError(f"{src}: row {int(order[i]) + 2}: series '{names[codes[i]]}' has "
                        f"timestamp {times[i]} twice in '{time_col}' (also row "
                        f"{int(order[i - 1]) + 2}); keep one row per series and step"
                        f"{dst_hint(times[i])}")


def _shared_grid(src: str, codes: np.ndarray, times: pd.DatetimeIndex, order: np.ndarray,
                 names) -> tuple[str, _Grid]:
    """The frequency of the longest series, and its grid; every row must lie on it."""
    counts = np.bincount(codes)
    longest = int(np.argmax(counts))
    start = int(np.searchsorted(codes, longest))
    ref = times[start:start + counts[longest]]
    freq = infer_frequency(ref, source=src, time_col=f"series '{names[longest]}'")
    grid = _Grid(freq, ref[0])
    off = grid.ordinals(times) == _OFF
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise DataError(f"{src}: row {int(order[i]) + 2}: series '{names[codes[i]]}' is off the "
                        f"shared {freq} grid (timestamp {times[i]}; series '{names[longest]}' "
                        f"starts {ref[0]}); every series must share one frequency and phase")
    return freq, grid


def listed(names, limit: int = 10) -> str:
    """The first ``limit`` of ``names``, comma-separated, with `` …`` when there are more."""
    return ", ".join(str(n) for n in names[:limit]) + (" …" if len(names) > limit else "")


def _assemble(src: str, codes: np.ndarray, ords: np.ndarray, values: np.ndarray, *,
              names: np.ndarray, grid: _Grid, freq: str, max_gap: int, order: np.ndarray,
              meta: tuple, statics: Statics | None = None) -> Panel:
    """Missing values dropped, gaps checked and interpolated, series laid end to end."""
    known = ~np.isnan(values)
    present = np.bincount(codes[known], minlength=len(names)) > 0
    if not present.all():  # e.g. a new store given only its rows to forecast: nothing to go on
        logger.warning("%s: %d series have no value of '%s' and were left out: %s", src,
                       int((~present).sum()), meta[2], listed(names[~present]))
    codes, ords, values, order = codes[known], ords[known], values[known], order[known]
    first_idx = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    first_ord = np.repeat(ords[first_idx], np.diff(np.r_[first_idx, len(codes)]))
    pos = ords - first_ord
    new = np.r_[True, codes[1:] != codes[:-1]]
    gap = np.where(new, 0, np.r_[0, np.diff(pos)] - 1)
    if len(gap) and gap.max() > max_gap:
        i = int(np.argmax(gap))
        raise DataError(f"{src}: series '{names[codes[i]]}': a gap of {int(gap[i])} steps before "
                        f"row {int(order[i]) + 2} is longer than the limit of {max_gap} "
                        "(--max-gap); fill it or raise the limit")
    lengths = np.zeros(len(names), dtype="int64")
    lengths[codes[first_idx]] = pos[np.r_[first_idx[1:] - 1, len(pos) - 1]] + 1
    lengths = lengths[present]
    offsets = np.r_[0, np.cumsum(lengths)].astype("int64")
    dense = np.searchsorted(np.flatnonzero(present), codes)
    where = offsets[dense] + pos
    filled = np.interp(np.arange(offsets[-1]), where, values)
    observed = np.zeros(offsets[-1], dtype=bool)
    observed[where] = True
    series_col, time_col, target, fingerprint, rows = meta
    if offsets[-1] > len(values):
        logger.info("%s: filled %d missing values of '%s' by interpolation (gaps inside series)",
                    src, int(offsets[-1] - len(values)), target)
    return Panel(names[present], filled, offsets, grid.timestamps(ords[first_idx]), freq, src,
                 series_col, time_col, target, fingerprint, int(offsets[-1] - len(values)),
                 rows, grid, statics.select(present) if statics else None, observed=observed)


__all__ = ["Panel", "load_panel"]
