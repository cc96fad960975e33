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
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from autoseq.baselines import BaselineScore, score_baselines
from autoseq.data import ForecastData, Scaler, Split
from autoseq.exceptions import DataError
from autoseq.space import SearchSpace, Suggester
from autoseq.trial._objective import Reporter, TrialResult, TrialSettings, run_trial


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
    for cached in ("_variants", "_profile", "main_season"):
        fold.__dict__.pop(cached, None)
    fold.split = split
    fold.scaler = Scaler.fit(data.raw[: split.train])
    fold.scaled = fold.scaler.transform(data.raw).astype("float32")
    return fold


def run_trial_folds(suggester: Suggester, reporter: Reporter, *, number: int,
                    folds: list[ForecastData], space: SearchSpace, settings: TrialSettings,
                    trial_dir: Path) -> TrialResult:
    """``run_trial`` on every fold; the result's scores are the means over the folds.

    The last fold (the ordinary split) runs first with the pruner's reporter and keeps its
    weights; a pruned or failed trial stops there and is scored on that fold alone.
    """
    last = run_trial(suggester, reporter, number=number, data=folds[-1], space=space,
                     settings=settings, trial_dir=trial_dir)
    if last.state != "complete" or len(folds) == 1:
        return last
    results = [last]
    with tempfile.TemporaryDirectory() as tmp:
        for k, fold in enumerate(folds[:-1]):
            res = run_trial(suggester, _Silent(), number=number, data=fold, space=space,
                            settings=settings, trial_dir=Path(tmp) / str(k))
            if res.state == "failed":
                return replace(last, state="failed", reason=f"fold {k + 1}: {res.reason}")
            results.append(res)
    return replace(last, val_loss=float(np.mean([r.val_loss for r in results])),
                   val_mae=float(np.mean([r.val_mae for r in results])),
                   seconds=float(sum(r.seconds for r in results)))


def score_fold_baselines(folds: list[ForecastData], scorer=score_baselines,
                         **kwargs) -> list[BaselineScore]:
    """Each baseline's scores averaged over the folds (baselines missing from a fold dropped)."""
    per_fold = [{b.name: b for b in scorer(f, "val", **kwargs)} for f in folds]
    names = [n for n in per_fold[-1] if all(n in p for p in per_fold)]
    out = [BaselineScore(name=n, loss=float(np.mean([p[n].loss for p in per_fold])),
                         mae=float(np.mean([p[n].mae for p in per_fold])),
                         rmse=float(np.mean([p[n].rmse for p in per_fold]))) for n in names]
    return sorted(out, key=lambda s: s.loss)


class _Silent:
    """A reporter that never prunes: the earlier folds are not compared epoch by epoch."""

    def report(self, value: float, epoch: int) -> bool:
        return False
