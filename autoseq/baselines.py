"""Honest baselines scored on the same windows as the trials: naive and seasonal naive."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autoseq.data import ForecastData


@dataclass(frozen=True)
class BaselineScore:
    """A baseline's scores on one part: ``loss`` is the MSE in scaled units, like ``val_loss``."""

    name: str
    loss: float
    mae: float
    rmse: float


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
    return out


def score_baselines(data: ForecastData, part: str = "val", *,
                    metric: str = "mse") -> list[BaselineScore]:
    """Score every baseline on ``part``; best (lowest loss) first.

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
