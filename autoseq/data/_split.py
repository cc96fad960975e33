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
    val = _rows(n_rows, DEFAULT_VAL_SIZE if val_size is None else val_size, "--val-size", horizon)
    test = _rows(n_rows, DEFAULT_TEST_SIZE if test_size is None else test_size, "--test-size",
                 horizon)
    train = n_rows - val - test
    need = 2 * horizon + 2
    if train < need:
        minimum = val + test + need
        raise DataError(f"{source}: {n_rows} rows leave {train} for training after {val} "
                        f"validation and {test} test rows; at least {minimum} rows are needed for "
                        f"horizon {horizon} (or lower --horizon/--val-size/--test-size)")
    return Split(train=train, val=val, test=test)


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
