"""Chronological train / validation / test split and the scaler fitted on the training part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autoseq.exceptions import DataError

DEFAULT_VAL_SIZE = 0.15
DEFAULT_TEST_SIZE = 0.15


@dataclass(frozen=True)
class Split:
    """Row counts of the three chronological parts: train, then validation, then test."""

    train: int
    val: int
    test: int

    def bounds(self, part: str) -> tuple[int, int]:
        """``[start, stop)`` row range of ``part`` ("train", "val" or "test")."""
        edges = {"train": (0, self.train), "val": (self.train, self.train + self.val),
                 "test": (self.train + self.val, self.train + self.val + self.test)}
        try:
            return edges[part]
        except KeyError:
            raise ValueError(f"part must be train, val or test. Received: part={part!r}") from None


def resolve_split(n_rows: int, *, val_size: float | int | None, test_size: float | int | None,
                  horizon: int, source: str = "") -> Split:
    """Turn ``val_size``/``test_size`` (rows ≥ 1, or fractions in (0, 1)) into row counts.

    Each of validation and test gets at least ``horizon`` rows so it holds a whole forecast.

    Raises:
        DataError: the sizes are invalid or leave too little training data.
    """
    val_size = DEFAULT_VAL_SIZE if val_size is None else val_size
    test_size = DEFAULT_TEST_SIZE if test_size is None else test_size
    val = _rows(n_rows, val_size, "--val-size", horizon)
    test = _rows(n_rows, test_size, "--test-size", horizon)
    train = n_rows - val - test
    if train < min_train_rows(horizon):
        raise DataError(_too_short(source, n_rows, val_size, test_size, horizon))
    return Split(train=train, val=val, test=test)


def min_train_rows(horizon: int) -> int:
    """Training rows a split must keep: windows need a lookback of at least ``horizon + 2``."""
    return 2 * horizon + 2


def _too_short(source: str, n_rows: int, val_size: float | int, test_size: float | int,
               horizon: int) -> str:
    need = min_train_rows(horizon)
    fractions = sum(s for s in (val_size, test_size) if s < 1)
    if fractions >= 1:
        return (f"--val-size {val_size} and --test-size {test_size} leave no rows for training; "
                "make the two fractions add up to well under 1")
    fixed = sum(s for s in (val_size, test_size) if s >= 1)
    n = max(n_rows + 1, int((need - 1 + fixed) / (1 - fractions)))  # no smaller n can fit
    while n - _rows(n, val_size, "", horizon) - _rows(n, test_size, "", horizon) < need:
        n += 1
    val, test = _rows(n, val_size, "", horizon), _rows(n, test_size, "", horizon)
    return (f"{source}: {n_rows} rows are too few for horizon {horizon}: at least {n} rows are "
            f"needed ({need} to train on, {val} for validation, {test} for test, with "
            f"--val-size {val_size} and --test-size {test_size}); pass a longer series or lower "
            "--horizon/--val-size/--test-size")


def _rows(n_rows: int, size: float | int, flag: str, horizon: int) -> int:
    if isinstance(size, bool) or size <= 0:
        raise DataError(f"{flag} must be a row count ≥ 1 or a fraction in (0, 1). "
                        f"Received: {size}")
    if size < 1:
        rows = int(round(n_rows * size))
    elif float(size).is_integer():
        rows = int(size)
    else:
        raise DataError(f"{flag} must be a whole number of rows or a fraction in (0, 1). "
                        f"Received: {size}")
    return max(rows, horizon)


@dataclass(frozen=True)
class Scaler:
    """Per-column affine scaling ``(x - mean) / scale`` fitted on training rows only.

    ``kind`` says how it was fitted: ``standard`` (mean / std) here, ``robust`` and ``minmax``
    by ``autoseq.data._variants.fit_scaler``.
    """

    mean: np.ndarray
    scale: np.ndarray
    kind: str = "standard"

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """Fit on ``values`` (rows × columns): the training rows, never more."""
        mean = values.mean(axis=0)
        scale = values.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        return cls(mean=mean.astype("float64"), scale=scale.astype("float64"))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale raw values."""
        return (values - self.mean) / self.scale

    def inverse(self, scaled: np.ndarray, columns: list[int] | np.ndarray) -> np.ndarray:
        """Undo the scaling of ``scaled`` whose last axis holds ``columns`` of the fitted data."""
        cols = np.asarray(columns)
        return scaled * self.scale[cols] + self.mean[cols]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "mean": self.mean.tolist(), "scale": self.scale.tolist()}
