"""Covariates of a panel, one value per series and step: known-future ones
(``--future-covariates`` with ``--series-col``), whose values are known for the steps to
forecast too (a weather forecast, a holiday, a planned promotion), and past ones
(``--covariates``), known only up to each forecast's origin (a measured temperature, a meter's
voltage). Both are read the same way; a past covariate keeps no rows ahead.

A numeric column keeps its values; a text column (or integer codes also named with
``--categorical``) becomes one 0/1 indicator per category (``weather=rain``; the file's
categories, sorted, kept by a model so ``predict`` refuses one it never saw). Inside a series'
history a missing value is interpolated linearly (its ends take the nearest value); the rows
after a series' last target value hold the values for the steps to forecast (``ahead``), where
nothing is filled in: a step ``predict`` needs and the file leaves empty is an error. The
network standardises the values itself (``PanelData.future_standardisation``: each feature's
mean and standard deviation over every series' training rows). Everything is vectorised over
the rows: no loop per row or per series.

Example:
    >>> panel = load_panel("stores.csv", series_col="store", target="sales",
    ...                    future=["promo", "holiday"])
    >>> panel.future.features
    ('promo', 'holiday')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from autoseq.data._categorical import (
    EncodedColumns,
    check_columns,
    feature_owners,
    is_text,
    numbers,
    one_hot,
)
from autoseq.exceptions import DataError

FUTURE_FLAG = "--future-covariate"
PAST_FLAG = "--covariate"


@dataclass(frozen=True)
class PanelFuture(EncodedColumns):
    """The known-future (or past) covariates of a panel.

    Attributes:
        columns: the CSV columns, in the order given.
        values: ``[n_steps, n_features]`` float64, row for row with ``Panel.values`` (each
            series' history, gaps filled).
        ahead: ``[n_series, k, n_features]``: the values on the ``k`` steps after each
            series' last target value (NaN where the file gives none; ``k`` = 0 for past
            covariates).
        categories: each categorical column's categories, in the order of its indicators.
    """

    columns: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    ahead: np.ndarray = field(repr=False)
    categories: dict[str, list[str]]

    def select(self, rows: np.ndarray, keep: np.ndarray) -> PanelFuture:
        """The covariates of the kept series: their ``rows`` of ``values``, ``keep`` (a mask)
        of ``ahead``."""
        return replace(self, values=self.values[rows], ahead=self.ahead[keep])


def check_future_names(src: str, columns: Sequence[str], header: list[str],
                       reserved: Sequence[tuple[str, str | None]], *,
                       flag: str = FUTURE_FLAG) -> tuple[str, ...]:
    """``columns`` (named with ``flag``) once each, refusing one that is not in ``header`` or
    is a ``reserved`` column (``(flag, column)``: the target, series, time and static
    columns)."""
    kind = "known-future" if flag == FUTURE_FLAG else "past"
    return check_columns(src, columns, header, reserved, flag=flag,
                         rule=f"a {kind} covariate is another column, with a value for every "
                              "step")


def read_panel_future(src: str, raw: pd.DataFrame, columns: tuple[str, ...], *,
                      series: np.ndarray, step: np.ndarray, lengths: np.ndarray,
                      offsets: np.ndarray, names: Sequence[str], categorical: Sequence[str] = (),
                      categories: Mapping[str, list[str]] | None = None,
                      ahead: int | None = None, history: bool = True,
                      flag: str = FUTURE_FLAG) -> PanelFuture | None:
    """The known-future (``flag`` ``PAST_FLAG``: past) ``columns`` of ``raw`` laid out as the
    panel's steps.

    Args:
        src: the file, for messages.
        raw: the CSV as read.
        columns: the columns (``check_future_names`` checked them).
        series: each row's series (an index into the panel's kept series; -1: a dropped one).
        step: each row's step from its series' first target value (negative: before it).
        lengths: each kept series' length; ``offsets`` where it starts in ``Panel.values``.
        names: the kept series' keys, for messages.
        categorical: numeric columns to one-hot encode (text ones always are).
        categories: a model's categories: they fix which columns are categorical and the
            categories each is encoded with.
        ahead: keep at most this many steps after each series' last target value (the
            horizon); ``None``: every row the file gives.
        history: require a value in every series' history (training does; a forecast reads
            only the steps ahead, so ``predict`` leaves a history without values empty).
        flag: the option that named the columns, for messages.

    Raises:
        DataError: a value that is not a number or is infinite, a category the model does
            not know, a column with no value at all, or (``history``) with no value in a
            series' history: naming the column, series or row.
    """
    if not columns:
        return None
    blocks, cats = [], {}
    for col in columns:
        cell = raw[col]
        kind = (col in categories if categories is not None
                else col in categorical or is_text(cell))
        if kind:
            block, cats[col] = one_hot(src, cell, col,
                                       None if categories is None else categories[col])
            if not cats[col]:
                raise DataError(f"{src}: {flag} '{col}' has no value; fill it in or leave the "
                                "column out")
            blocks.append(block.to_numpy("float64"))
        else:
            blocks.append(numbers(src, cell, col, flag=flag).to_numpy("float64")[:, None])
    matrix = np.concatenate(blocks, axis=1)
    owners = feature_owners(columns, cats)
    if np.isinf(matrix).any():
        row, j = (int(i[0]) for i in np.nonzero(np.isinf(matrix)))
        raise DataError(f"{src}: row {row + 2}: {flag} '{owners[j]}' holds an infinite value; "
                        "replace it (or leave the cell empty to interpolate it)")
    inside = (series >= 0) & (step >= 0) & (step < np.where(series >= 0, lengths[series], 0))
    values = np.full((int(offsets[-1]), matrix.shape[1]), np.nan)
    values[offsets[series[inside]] + step[inside]] = matrix[inside]
    values = _fill(src, values, offsets, names, owners, required=history, flag=flag)
    after = (series >= 0) & ~inside & (step >= 0)
    if ahead is not None:
        after &= step - np.where(series >= 0, lengths[series], 0) < ahead
    k = int((step[after] - lengths[series[after]]).max() + 1) if after.any() else 0
    later = np.full((len(lengths), k, matrix.shape[1]), np.nan)
    later[series[after], step[after] - lengths[series[after]]] = matrix[after]
    return PanelFuture(columns, values, later, cats)


def future_steps(values: np.ndarray, ahead: np.ndarray, offsets: np.ndarray,
                 lengths: np.ndarray, series: np.ndarray, position: np.ndarray,
                 horizon: int) -> np.ndarray:
    """The covariates on steps ``position … position + horizon - 1`` of each ``series``
    ``[W, horizon, n_features]``: from the history, then from ``ahead`` (NaN past it)."""
    t = np.asarray(position)[:, None] + np.arange(horizon)[None, :]
    s = np.broadcast_to(np.asarray(series)[:, None], t.shape)
    inside = t < lengths[s]
    past = values[np.where(inside, offsets[s] + t, 0)]
    k = ahead.shape[1]
    beyond = t - lengths[s]
    later = ahead[s, np.clip(beyond, 0, max(k - 1, 0))] if k else np.full(past.shape, np.nan)
    later = np.where(((beyond >= 0) & (beyond < k))[..., None], later, np.nan)
    return np.where(inside[..., None], past, later)


def _fill(src: str, values: np.ndarray, offsets: np.ndarray, names: Sequence[str],
          owners: list[str], *, required: bool = True, flag: str = FUTURE_FLAG) -> np.ndarray:
    """Each series' missing values interpolated linearly between its known ones, its ends
    given the nearest known value; a series with none is an error (``required``) or stays
    empty. ``owners``: each feature's column, for messages."""
    lengths = np.diff(offsets)
    seg = np.repeat(np.arange(len(lengths)), lengths)
    idx = np.arange(len(values))
    for j in range(values.shape[1]):
        v = values[:, j]
        known = ~np.isnan(v)
        if known.all():
            continue
        counts = np.bincount(seg[known], minlength=len(lengths))
        if required and (counts == 0).any():
            i = int(np.flatnonzero(counts == 0)[0])
            raise DataError(f"{src}: {flag} '{owners[j]}' has no value in the history "
                            f"of series '{names[i]}'; fill it in")
        if not known.any():
            continue
        first = np.full(len(lengths), np.iinfo("int64").max)
        last = np.full(len(lengths), -1)
        np.minimum.at(first, seg[known], idx[known])
        np.maximum.at(last, seg[known], idx[known])
        filled = np.interp(idx, idx[known], v[known])
        empty = counts[seg] == 0  # (not ``required``) a series without values stays empty
        first_v = v[np.where(empty, 0, np.minimum(first[seg], len(v) - 1))]
        last_v = v[np.where(empty, 0, last[seg])]
        filled = np.where(idx < first[seg], first_v, filled)
        filled = np.where(idx > last[seg], last_v, filled)
        values[:, j] = np.where(empty, np.nan, filled)
    return values


__all__ = ["FUTURE_FLAG", "PAST_FLAG", "PanelFuture", "check_future_names", "future_steps",
           "read_panel_future"]
