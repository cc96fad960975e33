"""Honest baselines scored on the same data as the trials.

Forecasting: naive, seasonal naive, seasonal naive with drift (plus the change of the level
over the last season, which follows a trend) and ``linear`` (a direct linear autoregression
fitted on the training windows, ``autoseq.data.linear_baseline``) on the same windows.
Sequences: the majority class (classification) or the training mean (regression) on the same
sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autoseq.data import ForecastData, SequenceData, linear_baseline


@dataclass(frozen=True)
class BaselineScore:
    """A baseline's scores on one part: ``loss`` is on the trials' ``val_loss`` scale.

    ``metrics`` holds the task's leaderboard metrics (``val_accuracy``… for sequences); ``mae``
    and ``rmse`` are in the data's units (``None`` for classification).
    """

    name: str
    loss: float
    mae: float | None = None
    rmse: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def baseline_kind(name: str) -> str:
    """A baseline's name across folds, where its window may differ: ``linear`` (its L chosen
    on each fold) and the fixed statistical models (``mstl_ets_fixed``) go by their kind."""
    return name.split("(L=")[0]


def baseline_forecasts(data: ForecastData, part: str) -> dict[str, np.ndarray]:
    """Each baseline's forecasts for every window of ``part``, scaled: ``[windows, H, targets]``."""
    origins = data.origins(part)
    series = data.scaled[:, data.target_idx]
    h = np.arange(data.horizon)
    out = {"naive": np.repeat(series[origins - 1][:, None, :], data.horizon, axis=1)}
    for m in data.seasons:
        back = m * (h // m + 1)
        idx = origins[:, None] + h[None, :] - back[None, :]
        if idx.min() >= 0:
            out[f"seasonal_naive(m={m})"] = series[idx]
        if m > 1 and origins.min() >= 2 * m:
            out[f"seasonal_drift(m={m})"] = series[idx] + (h // m + 1)[None, :, None] * \
                _season_change(series, origins, m)[:, None, :]
    fit = linear_baseline(data)
    if fit is not None and origins.min() >= fit.lookback:
        back = origins[:, None] + np.arange(-fit.lookback, 0)[None, :]
        out[fit.name] = np.einsum("hl,nlt->nht", fit.matrix, series[back].astype("float64")
                                  ).astype(series.dtype)
    return out


def _season_change(series: np.ndarray, origins: np.ndarray, m: int) -> np.ndarray:
    """Mean of the ``m`` rows before each origin minus the mean of the ``m`` before those."""
    c = np.concatenate([np.zeros((1, series.shape[1])), np.cumsum(series, axis=0)])
    return (c[origins] - 2 * c[origins - m] + c[origins - 2 * m]) / m


def sequence_baselines(data: SequenceData, part: str) -> dict[str, np.ndarray]:
    """Each baseline's network-style outputs for the sequences of ``part``.

    ``majority_class`` predicts the most frequent training class, with the training class
    frequencies as its probabilities; ``train_mean`` predicts the training mean (0 scaled).
    """
    n = len(data.indices(part))
    if data.n_classes:
        counts = np.bincount(data.y[data.parts["train"]], minlength=data.n_classes)
        return {"majority_class": np.tile(counts / counts.sum(), (n, 1))}
    return {"train_mean": np.zeros((n, 1), dtype="float32")}


def score_sequence_baselines(data: SequenceData, part: str = "val", *,
                             metric: str = "mse") -> list[BaselineScore]:
    """Score the sequence baselines on ``part`` on the task's own loss (log loss, or MSE on the
    scaled target), like sequence trials; best first. ``metric`` is not used: sequence searches
    are ranked on their loss."""
    scores = []
    for name, pred in sequence_baselines(data, part).items():
        loss, metrics = data.evaluate(pred, part)
        scores.append(BaselineScore(name=name, loss=loss, mae=metrics.get("mae"),
                                    rmse=metrics.get("rmse"),
                                    metrics={f"{part}_{k}": v for k, v in metrics.items()}))
    return sorted(scores, key=lambda s: s.loss)


def score_baselines(data: ForecastData, part: str = "val", *,
                    metric: str = "mse") -> list[BaselineScore]:
    """Score every forecasting baseline on ``part``; best (lowest loss) first.

    ``loss`` is the search's objective ``metric`` (``objective_value``): MSE in scaled units by
    default, like the trials' ``val_loss``.
    """
    from autoseq.metrics import objective_value

    truth = data.targets(part)
    truth_units = data.targets(part, scaled=False)
    scores = []
    for name, pred in baseline_forecasts(data, part).items():
        units = data.scaler.inverse(pred, data.target_idx)
        err = units - truth_units
        loss = float(np.mean((pred - truth) ** 2)) if metric == "mse" else objective_value(
            units, truth_units, metric=metric, scale=data.scaler.scale[data.target_idx],
            train=data.raw[: data.split.train][:, data.target_idx], season=data.main_season)
        scores.append(BaselineScore(name=name, loss=loss,
                                    mae=float(np.mean(np.abs(err))),
                                    rmse=float(np.sqrt(np.mean(err ** 2)))))
    return sorted(scores, key=lambda s: s.loss)
