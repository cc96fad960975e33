"""Walk-forward (expanding window) validation: ``--folds K``.

The validation part of ``V`` rows is the last fold; fold ``k`` of ``K`` trains on the rows before
``train - (K-1-k)·V`` and validates on the ``V`` rows after, so every fold validates on rows the
ones before it trained on, and the last fold is the ordinary split. Each fold is its own
``ForecastData`` (scaler, MSTL profile and windows fitted on its own training rows, once per
search); a trial is trained on every fold and scored on the mean, and the baselines are scored on
the same folds. The weights kept are the last fold's (the model that ``export`` uses).

Example:
    >>> folds = make_folds(data, 3)
    >>> [f.split.train for f in folds]
    [1881, 2486, 3091]
"""

from __future__ import annotations

import copy

from autoseq.data._split import Scaler, Split
from autoseq.data._windows import ForecastData
from autoseq.exceptions import DataError


def make_folds(data: ForecastData, folds: int) -> list[ForecastData]:
    """``folds`` expanding-window copies of ``data``, the last being ``data`` itself.

    Raises:
        DataError: the earliest fold would leave too little training data.
    """
    if folds < 1:
        raise DataError(f"--folds must be at least 1. Received: {folds}")
    if folds == 1:
        return [data]
    n, val = len(data.raw), data.split.val
    out = []
    for k in range(folds):
        train = data.split.train - (folds - 1 - k) * val
        if train < 2 * data.horizon + 2 + data.main_season:
            raise DataError(f"{data.series.source}: --folds {folds} leaves {train} training rows "
                            f"in the first fold ({val} validation rows per fold); use fewer "
                            "folds or a smaller --val-size")
        if k == folds - 1:
            out.append(data)
            continue
        out.append(_with_split(data, Split(train=train, val=val, test=n - train - val)))
    return out


def training_and_validation(data: ForecastData) -> ForecastData:
    """``data`` with the validation rows moved into training (for ``export --refit``): the
    scaler and the MSTL profile are refitted on them, the test part is unchanged."""
    split = Split(train=data.split.train + data.split.val, val=0, test=data.split.test)
    return _with_split(data, split)


def _with_split(data: ForecastData, split: Split) -> ForecastData:
    fold = copy.copy(data)
    for cached in ("_variants", "_profile", "main_season", "_holt", "_linear",
                   "_linear_anchor", "_arima"):
        fold.__dict__.pop(cached, None)
    fold.split = split
    fold.scaler = Scaler.fit(data.raw[: split.train])
    fold.scaled = fold.scaler.transform(data.raw).astype("float32")
    return fold
