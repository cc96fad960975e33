"""Many series in one wide CSV (M4's layout): one row per series, its id in ``--series-col``
and its values in the columns after it, left to right; trailing empty cells make a series
shorter. Static columns (``--static-col``) are read from each row and are not steps.

A wide file carries no timestamps, so its series live on a synthetic grid: step ``k`` of
every row (its ``k``-th value column) is day ``k`` from 1970-01-01 (frequency ``D``). The
daily season (7) is what seasonal naive and the "1x season" lookback use, and
the predicted timestamps are days on that grid. Use the long format for a real calendar.
Reading is vectorised: one NumPy mask over the value matrix, no loop per row.

Example:
    >>> load_wide_panel("Weekly-train.csv", series_col="V1", target="value").n_series
    359
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from autoseq.data._csv import read_csv_file, suggest_column
from autoseq.data._panel import Panel, _assemble, _Grid, load_panel
from autoseq.data._panel_static import read_statics
from autoseq.exceptions import DataError

WIDE_FREQ = "D"
WIDE_START = pd.Timestamp("1970-01-01")


def load_wide_panel(path: str | Path, *, series_col: str, target: str, max_gap: int = 12,
                    static: Sequence[str] = (), categorical: Sequence[str] = (),
                    categories: Mapping[str, list[str]] | None = None) -> Panel:
    """Read a wide CSV of many series (one row per series) into a ``Panel``.

    Args:
        path: CSV whose ``series_col`` names each row's series; every other column (but the
            ``static`` ones) is a step.
        series_col: the id column.
        target: the name the values go by (in the manifest and reports).
        max_gap: longest run of empty cells interpolated inside a series.
        static, categorical, categories: the static columns, as ``load_panel`` reads them (one
            cell per series here).

    Returns:
        The panel on the synthetic daily grid.

    Raises:
        DataError: a missing id column, an empty or duplicate id, a cell that is not a number,
            a row without values, or a gap over ``max_gap``: naming the row and column.
    """
    src = str(path)
    raw, fingerprint = read_csv_file(path, text_columns=lambda header: [series_col])
    columns = list(raw.columns)
    if series_col not in columns:
        raise DataError(f"{src}: --series-col '{series_col}' is not a column"
                        f"{suggest_column(series_col, columns)}")
    keys = raw[series_col]
    _check_keys(src, keys, series_col)
    rows = np.arange(len(raw))
    statics = read_statics(src, raw, static, codes=rows, order=rows,
                           names=keys.astype(str).tolist(),
                           reserved={"--series-col": series_col, "--target": target},
                           categorical=categorical, categories=categories)
    cells = raw.drop(columns=[series_col, *(statics.columns if statics else ())])
    matrix = cells.apply(pd.to_numeric, errors="coerce").to_numpy("float64")
    bad = np.isnan(matrix) & cells.notna().to_numpy()
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise DataError(f"{src}: row {row + 2}, column '{cells.columns[col]}': "
                        f"'{cells.iat[row, col]}' is not a number")
    known = ~np.isnan(matrix)
    empty = ~known.any(axis=1)
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise DataError(f"{src}: row {row + 2}: series '{keys.iloc[row]}' has no values")
    codes, ords = np.nonzero(known)  # row-major: sorted by series, then step
    grid = _Grid(WIDE_FREQ, WIDE_START)
    return _assemble(src, codes, ords, matrix[codes, ords],
                     names=keys.astype(str).to_numpy(dtype=str), grid=grid, freq=WIDE_FREQ,
                     max_gap=max_gap, order=codes,
                     meta=(series_col, None, target, fingerprint, len(raw)), statics=statics)


def read_panel(path: str | Path, *, format: str, series_col: str, target: str,
               time_col: str | None, max_gap: int, static: Sequence[str] = (),
               categorical: Sequence[str] = (),
               categories: Mapping[str, list[str]] | None = None,
               future: Sequence[str] = (), ahead: int | None = None,
               future_history: bool = True, past: Sequence[str] | None = ()) -> Panel:
    """A long (``series, timestamp, value``) or wide (one row per series) panel CSV, with its
    ``static`` columns (``autoseq.data._panel_static``) and (long only) its known-future and
    ``past`` covariates (``autoseq.data._panel_future``; ``ahead`` and ``future_history`` as
    ``load_panel`` takes them)."""
    statics = {"static": static, "categorical": categorical, "categories": categories}
    if format == "wide":
        if future or past:
            raise DataError(f"{path}: a wide panel (one row per series) has no rows per step "
                            "to hold covariates; use the long format "
                            "(series, timestamp, value, covariates)")
        return load_wide_panel(path, series_col=series_col, target=target, max_gap=max_gap,
                               **statics)
    return load_panel(path, series_col=series_col, target=target, time_col=time_col,
                      max_gap=max_gap, future=future, ahead=ahead,
                      future_history=future_history, past=past, **statics)


def _check_keys(src: str, keys: pd.Series, series_col: str) -> None:
    if keys.isna().any():
        row = int(np.flatnonzero(keys.isna().to_numpy())[0]) + 2
        raise DataError(f"{src}: row {row}: empty series id in '{series_col}'")
    twice = keys.duplicated().to_numpy()
    if twice.any():
        row = int(np.flatnonzero(twice)[0])
        raise DataError(f"{src}: row {row + 2}: series '{keys.iloc[row]}' appears twice in "
                        f"'{series_col}'; a wide file holds one row per series")


__all__ = ["WIDE_FREQ", "WIDE_START", "load_wide_panel", "read_panel"]
