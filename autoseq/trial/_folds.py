"""A trial and the baselines over walk-forward folds (``autoseq.data._folds``): ``--folds K``."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from autoseq._io import write_npz_atomic
from autoseq.baselines import BaselineScore, baseline_kind, score_baselines
from autoseq.data import ForecastData
from autoseq.data._folds import make_folds, training_and_validation
from autoseq.space import SearchSpace, Suggester
from autoseq.trial._objective import Reporter, TrialResult, TrialSettings, run_trial
from autoseq.trial._result import FOLD_FORECASTS


def run_trial_folds(suggester: Suggester, reporter: Reporter, *, number: int,
                    folds: list[ForecastData], space: SearchSpace, settings: TrialSettings,
                    trial_dir: Path) -> TrialResult:
    """``run_trial`` on every fold; the result's scores are the means over the folds.

    The last fold (the ordinary split) runs first with the pruner's reporter and keeps its
    weights; a pruned or failed trial stops there and is scored on that fold alone. A complete
    one keeps its earlier folds' validation forecasts (``FOLD_FORECASTS``), on which ``export``
    scores the ensembles and blends it weighs.
    """
    last = run_trial(suggester, reporter, number=number, data=folds[-1], space=space,
                     settings=settings, trial_dir=trial_dir)
    if last.state != "complete" or len(folds) == 1:
        return last
    results = [last]
    with tempfile.TemporaryDirectory() as tmp:
        for k, fold in enumerate(folds[:-1]):
            res = run_trial(suggester, _Silent(), number=number, data=fold, space=space,
                            settings=replace(settings, keep_val_forecast=True),
                            trial_dir=Path(tmp) / str(k))
            if res.state == "failed":
                return replace(last, state="failed", reason=f"fold {k + 1}: {res.reason}")
            results.append(res)
    write_npz_atomic(trial_dir / FOLD_FORECASTS,
                     {f"fold{k}": r.val_forecast for k, r in enumerate(results[1:])})
    return replace(last, val_loss=float(np.mean([r.val_loss for r in results])),
                   val_mae=float(np.mean([r.val_mae for r in results])),
                   seconds=float(sum(r.seconds for r in results)))


def score_fold_baselines(folds: list[ForecastData], scorer=score_baselines,
                         **kwargs) -> list[BaselineScore]:
    """Each baseline's scores averaged over the folds (baselines missing from a fold dropped).

    With one fold, the scorer's own scores (with their task metrics)."""
    if len(folds) == 1:
        return scorer(folds[0], "val", **kwargs)
    per_fold = [{baseline_kind(b.name): b for b in scorer(f, "val", **kwargs)} for f in folds]
    kinds = [k for k in per_fold[-1] if all(k in p for p in per_fold)]  # named as on the last
    out = [BaselineScore(name=per_fold[-1][k].name,
                         loss=float(np.mean([p[k].loss for p in per_fold])),
                         mae=float(np.mean([p[k].mae for p in per_fold])),
                         rmse=float(np.mean([p[k].rmse for p in per_fold]))) for k in kinds]
    return sorted(out, key=lambda s: s.loss)


class _Silent:
    """A reporter that never prunes: the earlier folds are not compared epoch by epoch."""

    def report(self, value: float, epoch: int) -> bool:
        return False


__all__ = ["make_folds", "run_trial_folds", "score_fold_baselines", "training_and_validation"]
