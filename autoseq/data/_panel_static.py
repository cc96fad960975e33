"""Static columns of a panel (``--static-col``): attributes with one value per series (store
size, region, meter type).

A static column must hold its series' value on every row of that series, the same on each. Text
columns, and integer codes also named with ``--categorical``, become one 0/1 indicator per
category (``region=north``; the categories are the file's, sorted, and a model keeps them:
``predict`` refuses one it never saw). Numeric columns keep their values; the network
standardises them itself, with each column's mean and standard deviation over the series
(``Statics.standardisation``: per-series attributes, so no step of any series' future leaks).
The checks are vectorised over the rows: one pass per column, no loop per row or per series.

Example:
    >>> panel = load_panel("stores.csv", series_col="store", target="sales",
    ...                    static=["size", "region"])
    >>> panel.statics.features
    ('size', 'region=north', 'region=south')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from autoseq.data._categorical import (
    EncodedColumns,
    category_text,
    check_columns,
    is_text,
    numbers,
)
from autoseq.exceptions import DataError

FLAG = "--static-col"
STATIC = "static"
"""The name of a panel network's second input: each window's series' static row."""


@dataclass(frozen=True)
class Statics(EncodedColumns):
    """The static columns of a panel, one row per series.

    Attributes:
        columns: the CSV columns, in the order given.
        values: ``[n_series, n_features]`` float64: a numeric column's value, or a categorical
            column's indicators (``features`` says which column is which).
        categories: each categorical column's categories, in the order of its indicators.
    """

    columns: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    categories: dict[str, list[str]]

    def select(self, keep: np.ndarray) -> Statics:
        """The rows of the series where ``keep`` (a mask or indices) selects."""
        return replace(self, values=self.values[keep])


def read_statics(src: str, raw: pd.DataFrame, columns: Sequence[str], *, codes: np.ndarray,
                 order: np.ndarray, names: Sequence[str], reserved: Mapping[str, str | None],
                 categorical: Sequence[str] = (),
                 categories: Mapping[str, list[str]] | None = None) -> Statics | None:
    """The static ``columns`` of ``raw`` as one row per series (``None`` when there are none).

    Args:
        src: the file, for messages.
        raw: the CSV as read.
        columns: the static columns (a column named twice counts once).
        codes: each series-sorted row's series (an index of ``names``, sorted).
        order: each series-sorted row's row of ``raw`` (within a series, by time).
        names: the series' keys.
        reserved: ``{flag: column}`` of the columns a static column may not be (target,
            series, time).
        categorical: numeric columns to one-hot encode (text ones always are).
        categories: a model's categories: they fix which columns are categorical and the
            categories each is encoded with.

    Raises:
        DataError: an unknown or reserved column; a value missing, changing within a series,
            not a number, or (with ``categories``) a category outside them: naming the column,
            the series and the row.
    """
    columns = check_columns(src, columns, list(raw.columns), reserved.items(), flag=FLAG,
                            rule="a static column is another column, constant within each "
                                 "series")
    if not columns:
        return None
    first = order[np.r_[0, np.flatnonzero(np.diff(codes)) + 1]]  # each series' first row
    series = np.empty(len(raw), dtype="int64")
    series[order] = codes
    values, cats = [], {}
    for col in columns:
        cell = raw[col]
        # one row per series tells a text column (the rest must hold the same values)
        kind = (col in categories if categories is not None
                else col in categorical or is_text(cell.iloc[first]))
        keyed = _categories(cell) if kind else numbers(src, cell, col, flag=FLAG)
        _check_constant(src, keyed, col, codes=codes, order=order, series=series, names=names)
        own = keyed.to_numpy()[first]
        if kind:
            known = None if categories is None else categories[col]
            block, cats[col] = _indicators(src, own, col, names=names, categories=known)
            values.append(block)
        else:
            values.append(own.astype("float64")[:, None])
    return Statics(columns, np.concatenate(values, axis=1), cats)


def _categories(cell: pd.Series) -> pd.Series:
    """A categorical static column as ``category_text`` gives it, computed once per distinct
    value (a panel's rows repeat a few values many times)."""
    ids, uniques = pd.factorize(cell)  # an empty cell: -1
    text = category_text(pd.Series(uniques, dtype=cell.dtype)).to_numpy(dtype=object)
    return pd.Series(np.append(text, np.nan)[ids], index=cell.index)


def _check_constant(src: str, keyed: pd.Series, col: str, *, codes: np.ndarray,
                    order: np.ndarray, series: np.ndarray, names: Sequence[str]) -> None:
    """Every row of a series holds one value of ``col``: none missing, none different."""
    missing = keyed.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(f"{src}: row {row + 2}: --static-col '{col}' is empty for series "
                        f"'{names[series[row]]}'; give every row of a series its value")
    ids = pd.factorize(keyed.to_numpy()[order])[0]
    changed = np.r_[False, (ids[1:] != ids[:-1]) & (codes[1:] == codes[:-1])]
    if changed.any():
        i = int(np.flatnonzero(changed)[0])
        before, here = int(order[i - 1]), int(order[i])
        raise DataError(f"{src}: row {here + 2}: --static-col '{col}' changes within series "
                        f"'{names[codes[i]]}' ({keyed.iloc[before]!r} at row {before + 2}, "
                        f"{keyed.iloc[here]!r} here); a static column holds one value per "
                        "series")


def _indicators(src: str, own: np.ndarray, col: str, *, names: Sequence[str],
                categories: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """Each series' category of ``col`` as 0/1 indicators ``[n_series, n_categories]``."""
    own = own.astype(str)
    if categories is None:
        categories = sorted(set(own.tolist()))
    unknown = ~np.isin(own, categories)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise DataError(f"{src}: series '{names[i]}': --static-col '{col}' holds '{own[i]}', a "
                        f"category the model was not trained on (it knows "
                        f"{', '.join(categories)}); map it to one of those")
    block = (own[:, None] == np.asarray(categories, dtype=str)[None, :]).astype("float64")
    return block, list(categories)


__all__ = ["STATIC", "Statics", "read_statics"]
