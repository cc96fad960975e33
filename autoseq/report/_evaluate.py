"""The best model on the validation and test windows: forecasts, errors, and what it relies on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autoseq.baselines import BaselineScore, baseline_forecasts, score_baselines
from autoseq.data import ForecastData
from autoseq.report._lags import LagBlock

_CHUNK = 1024
MAX_IMPORTANCE_WINDOWS = 2000


@dataclass
class PartForecast:
    """One part's forecasts in data units: ``pred`` and ``truth`` are ``[windows, H, targets]``."""

    part: str
    origins: np.ndarray
    pred: np.ndarray
    truth: np.ndarray
    baselines: list[BaselineScore]
    baseline_pred: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def mae(self) -> float:
        return float(np.mean(np.abs(self.pred - self.truth)))

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean((self.pred - self.truth) ** 2)))

    def mae_by_step(self, pred: np.ndarray | None = None) -> np.ndarray:
        """MAE of each horizon step (averaged over windows and targets)."""
        p = self.pred if pred is None else pred
        return np.mean(np.abs(p - self.truth), axis=(0, 2))


@dataclass(frozen=True)
class Importance:
    """Permutation importance: how much the validation MSE (scaled) grows when a part is shuffled."""

    labels: list[str]
    increase: list[float]
    base_loss: float
    windows: int
    repeats: int

    @property
    def shares(self) -> list[float]:
        """Each part's share of the summed (non-negative) increase; all zero when none helps."""
        pos = [max(0.0, v) for v in self.increase]
        total = sum(pos)
        return [v / total if total > 0 else 0.0 for v in pos]


def predict(model, data: ForecastData, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Scaled forecasts ``[windows, H, targets]`` for ``origins``, gathered chunk by chunk."""
    back = np.arange(-lookback, 0)
    out = [_on_batch(model, data.scaled[chunk[:, None] + back[None, :]], chunk)
           for chunk in np.array_split(origins, max(1, -(-len(origins) // _CHUNK)))]
    return np.concatenate([np.asarray(o) for o in out], axis=0)


def _on_batch(model, x: np.ndarray, origins: np.ndarray):
    """``model.predict_on_batch``, giving the windows' origins to a model that takes them
    (``autoseq.exporting._forecast_wrap.StandardScaledView``: calendar features, MSTL profile)."""
    if getattr(model, "takes_origins", False):
        return model.predict_on_batch(x, origins=origins)
    return model.predict_on_batch(x)


def forecast_part(model, data: ForecastData, part: str, lookback: int) -> PartForecast:
    """The model's and every baseline's forecasts for ``part``, in data units."""
    origins = data.origins(part)
    scaled = predict(model, data, origins, lookback)
    base = {name: data.scaler.inverse(p, data.target_idx)
            for name, p in baseline_forecasts(data, part).items()}
    return PartForecast(part=part, origins=origins,
                        pred=data.scaler.inverse(scaled, data.target_idx),
                        truth=data.targets(part, scaled=False),
                        baselines=score_baselines(data, part), baseline_pred=base)


def permutation_importance(model, data: ForecastData, lookback: int, blocks: list[LagBlock], *,
                           seed: int = 0) -> tuple[Importance, Importance]:
    """Shuffle each lookback block, then each input column, across validation windows.

    A block (all columns at those lags) or a column (all lags) is replaced by the same part of
    other windows; the growth of the validation MSE measures how much the forecast needs it.

    Returns:
        ``(by_block, by_column)``.
    """
    rng = np.random.default_rng(seed)
    origins = data.origins("val")
    if len(origins) > MAX_IMPORTANCE_WINDOWS:
        origins = origins[np.linspace(0, len(origins) - 1, MAX_IMPORTANCE_WINDOWS).astype(int)]
    back = np.arange(-lookback, 0)
    x = data.scaled[origins[:, None] + back[None, :]]
    y = data.scaled[:, data.target_idx][origins[:, None] + np.arange(data.horizon)[None, :]]
    repeats = 3 if len(origins) >= 200 else 8

    def loss(inputs: np.ndarray) -> float:
        parts = max(1, -(-len(inputs) // _CHUNK))
        pred = np.concatenate([np.asarray(_on_batch(model, c, o)) for c, o in
                               zip(np.array_split(inputs, parts), np.array_split(origins, parts),
                                   strict=True)])
        return float(np.mean((pred - y) ** 2))

    base = loss(x)

    def shuffled(select) -> float:
        total = 0.0
        for _ in range(repeats):
            x2 = x.copy()
            perm = rng.permutation(len(x))
            x2[select] = x[perm][select]
            total += loss(x2) - base
        return total / repeats

    positions = [np.array([lookback - lag for lag in b.lags]) for b in blocks]
    by_block = [shuffled((slice(None), pos, slice(None))) for pos in positions]
    by_col = [shuffled((slice(None), slice(None), c)) for c in range(data.n_inputs)]
    n = len(origins)
    return (Importance([b.label for b in blocks], by_block, base, n, repeats),
            Importance(list(data.series.columns), by_col, base, n, repeats))
