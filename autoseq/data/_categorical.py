"""Categorical columns (text such as ``clear`` / ``rain``, or codes declared with
``--categorical``) as one indicator column per category: ``weathersit=clear``, …

The categories are the values the file holds, sorted; a model records them (``categories`` in
its manifest) and ``predict`` encodes new data with exactly those, refusing a value the model
never saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from autoseq.data._csv import suggest_column
from autoseq.exceptions import DataError

SEPARATOR = "="


def indicator_name(column: str, category: str) -> str:
    """The name of the indicator column of ``category`` of ``column``."""
    return f"{column}{SEPARATOR}{category}"


def without_percent(text: pd.Series) -> pd.Series:
    """Stripped cells with a trailing ``%`` dropped when every non-empty one has it (``"12%"``
    is the number 12); otherwise ``text`` as it is (one stray ``%`` is a typo, refused where
    the numbers are read)."""
    given = text.dropna()
    given = given[given != ""]
    return text.str.removesuffix("%") if len(given) and given.str.endswith("%").all() else text


def is_text(column: pd.Series) -> bool:
    """Whether a column read from a CSV holds categories as text: most of its cells are not
    numbers (a numeric column with a stray word is a typo, refused where it is read)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return False
    text = column.dropna().astype(str).str.strip()
    text = without_percent(text[text != ""])
    return bool(len(text)) and bool(pd.to_numeric(text, errors="coerce").isna().mean() > 0.5)


def category_text(column: pd.Series) -> pd.Series:
    """``column``'s categories as stripped text (``1.0`` and ``1`` are one category ``1``);
    an empty cell is NaN."""
    text = column.astype(str).where(column.notna()).str.strip()
    if pd.api.types.is_float_dtype(column):  # 1.0 and 1 are one category
        whole = column.dropna()
        if (whole == whole.round()).all():
            text = column.astype("Int64").astype(str).where(column.notna())
    return text.where(text != "")


class EncodedColumns:
    """Columns laid out as features: a numeric column's value, or one indicator per category
    of a categorical one (a panel's static columns and known-future covariates). Needs the
    attributes ``columns`` (in order), ``categories`` (of the categorical ones) and ``values``
    (rows of features)."""

    columns: tuple[str, ...]
    categories: dict[str, list[str]]
    values: np.ndarray

    @property
    def features(self) -> tuple[str, ...]:
        """The features in order: a numeric column's name, or ``column=category`` for each
        category of a categorical column."""
        return tuple(f for col in self.columns for f in (
            [indicator_name(col, c) for c in self.categories[col]] if col in self.categories
            else [col]))

    @property
    def numeric(self) -> np.ndarray:
        """Per feature: whether it is a numeric column (not an indicator)."""
        return np.array([n for col in self.columns for n in (
            [False] * len(self.categories[col]) if col in self.categories else [True])])

    def positions(self) -> list[tuple[str, list[int]]]:
        """Each column and the positions of its features."""
        return feature_positions(self.columns, self.categories)

    def standardisation(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(center, scale)`` per feature over ``rows`` (``[n, n_features]``; default: all of
        ``values``): a numeric column's mean and standard deviation (scale 1 where it is
        constant), an indicator's 0 and 1."""
        rows = self.values if rows is None else rows
        numeric, std = self.numeric, rows.std(axis=0)
        center = np.where(numeric, rows.mean(axis=0), 0.0)
        return center, np.where(numeric & (std > 0), std, 1.0)

    def describe(self) -> dict[str, Any]:
        """The columns, their kind and categories, and the features (JSON-ready)."""
        return {"columns": [{"name": c, "kind": "categorical", "categories": self.categories[c]}
                            if c in self.categories else {"name": c, "kind": "numeric"}
                            for c in self.columns],
                "features": list(self.features)}


def feature_positions(columns: Iterable[str], categories: Mapping[str, list[str]]
                      ) -> list[tuple[str, list[int]]]:
    """Each column and the positions of its features when laid out in order: one for a
    numeric column, one per category of a categorical one (``categories``)."""
    out, i = [], 0
    for col in columns:
        n = len(categories.get(col, ())) or 1
        out.append((col, list(range(i, i + n))))
        i += n
    return out


def feature_owners(columns: Iterable[str], categories: Mapping[str, list[str]]) -> list[str]:
    """Each feature's column, in ``feature_positions``' layout (for messages naming it)."""
    return [col for col, at in feature_positions(columns, categories) for _ in at]


def check_columns(src: str, columns: Iterable[str], header: list[str],
                  reserved: Iterable[tuple[str, str | None]], *, flag: str,
                  rule: str) -> tuple[str, ...]:
    """``columns`` (named with ``flag``) once each, refusing one that is not in ``header`` or
    is a ``reserved`` column (``(its flag, column)``: the target, series, time…); ``rule``
    says what such a column is instead."""
    columns = tuple(dict.fromkeys(columns))
    reserved = list(reserved)
    for col in columns:
        other = next((f for f, c in reserved if c == col), None)
        if other is not None:
            raise DataError(f"{src}: {flag} '{col}' is the {other} column; {rule}")
        if col not in header:
            raise DataError(f"{src}: {flag} '{col}' is not a column"
                            f"{suggest_column(col, header)}")
    return columns


def numbers(src: str, cell: pd.Series, col: str, *, flag: str) -> pd.Series:
    """A numeric column (named with ``flag``) as floats, an empty cell NaN.

    Raises:
        DataError: a cell that is not a number, naming the row.
    """
    if pd.api.types.is_numeric_dtype(cell) and not pd.api.types.is_bool_dtype(cell):
        return cell.astype("float64")
    text = without_percent(cell.astype(str).str.strip().where(cell.notna()))
    out = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = out.isna() & text.notna() & (text != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{src}: row {row + 2}: '{text.iloc[row]}' in {flag} '{col}' is "
                        "not a number (name a column of codes with --categorical too)")
    return out


def one_hot(src: str, column: pd.Series, name: str, categories: list[str] | None = None
            ) -> tuple[pd.DataFrame, list[str]]:
    """``column`` as float indicator columns (an empty cell is NaN in every one, to be filled
    like any missing value), and its categories.

    Args:
        src: the file, for messages.
        column: the column as read.
        name: its name.
        categories: the categories to encode with (a model's); default: those in the column.

    Raises:
        DataError: a value outside ``categories``, naming the row.
    """
    text = category_text(column)
    seen = sorted(text.dropna().unique().tolist())
    if categories is None:
        codes = pd.to_numeric(column, errors="coerce")
        fraction = (codes - np.round(codes)).abs() > 1e-9
        if codes.notna().sum() == column.notna().sum() > 0 and fraction.any():  # all numbers
            row = int(np.flatnonzero(fraction.to_numpy())[0])
            raise DataError(f"{src}: row {row + 2}: --categorical column '{name}' holds "
                            f"{codes.iloc[row]:g}, not an integer code; categories are integer "
                            "codes or text: drop it from --categorical to use its values, or "
                            "write its categories as text")
        categories = seen
    unknown = text.notna() & ~text.isin(categories)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"{src}: row {row + 2}: column '{name}' holds '{text.iloc[row]}', a "
                        f"category the model was not trained on (it knows "
                        f"{', '.join(categories)}); map it to one of those")
    out = {indicator_name(name, c): (text == c).astype("float64").where(text.notna())
           for c in categories}
    return pd.DataFrame(out, index=column.index), list(categories)
