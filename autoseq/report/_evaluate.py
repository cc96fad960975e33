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
    roles: list[str] = field(default_factory=list)

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


def _on_batch(model, x: np.ndarray, origins: np.ndarray, future: np.ndarray | None = None):
    """``model.predict_on_batch``, giving the windows' origins to a model that takes them
    (``autoseq.exporting._forecast_wrap.StandardScaledView``: calendar features, MSTL profile,
    known-future covariates, which ``future`` replaces)."""
    if getattr(model, "takes_origins", False):
        if future is not None:
            return model.predict_on_batch(x, origins=origins, future=future)
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

    A block (all columns at those lags) or a column (all lags; a categorical column's indicators
    together) is replaced by the same part of other windows; so is each known-future
    covariate's values over the horizon, when the model takes them. The growth of the
    validation MSE measures how much the forecast needs it.

    Returns:
        ``(by_block, by_column)``; ``by_column`` holds the input columns, then the known-future
        covariates over the horizon (role ``known ahead``).
    """
    rng = np.random.default_rng(seed)
    origins = importance_origins(data)
    back = np.arange(-lookback, 0)
    x = data.scaled[origins[:, None] + back[None, :]]
    y = data.scaled[:, data.target_idx][origins[:, None] + np.arange(data.horizon)[None, :]]
    ahead = data.future_values(origins) if getattr(model, "takes_future", False) else None
    repeats = 3 if len(origins) >= 200 else 8

    def loss(inputs: np.ndarray, future: np.ndarray | None) -> float:
        return float(np.mean((_predict_all(model, inputs, origins, future) - y) ** 2))

    base = loss(x, ahead)

    def shuffled(select, *, known: bool = False) -> float:
        total = 0.0
        for _ in range(repeats):
            perm = rng.permutation(len(x))
            x2, f2 = x, ahead
            if known:
                f2 = ahead.copy()
                f2[select] = ahead[perm][select]
            else:
                x2 = x.copy()
                x2[select] = x[perm][select]
            total += loss(x2, f2) - base
        return total / repeats

    positions = [np.array([lookback - lag for lag in b.lags]) for b in blocks]
    by_block = [shuffled((slice(None), pos, slice(None))) for pos in positions]
    groups = input_groups(data)
    labels, roles, by_col = [], [], []
    for name, role, cols in groups:
        labels.append(name)
        roles.append(role)
        by_col.append(shuffled((slice(None), slice(None), cols)))
    if ahead is not None:
        for name, cols in future_groups(data):
            labels.append(name)
            roles.append("known ahead")
            by_col.append(shuffled((slice(None), slice(None), cols), known=True))
    n = len(origins)
    return (Importance([b.label for b in blocks], by_block, base, n, repeats),
            Importance(labels, by_col, base, n, repeats, roles))


def importance_origins(data: ForecastData) -> np.ndarray:
    """The validation origins importances are measured on (evenly spaced, at most
    ``MAX_IMPORTANCE_WINDOWS``)."""
    origins = data.origins("val")
    if len(origins) > MAX_IMPORTANCE_WINDOWS:
        origins = origins[np.linspace(0, len(origins) - 1, MAX_IMPORTANCE_WINDOWS).astype(int)]
    return origins


def _predict_all(model, inputs: np.ndarray, origins: np.ndarray,
                 future: np.ndarray | None) -> np.ndarray:
    parts = max(1, -(-len(inputs) // _CHUNK))
    chunks = zip(np.array_split(inputs, parts), np.array_split(origins, parts),
                 np.array_split(future, parts) if future is not None else [None] * parts,
                 strict=True)
    return np.concatenate([np.asarray(_on_batch(model, c, o, f)) for c, o, f in chunks])


def _sources(data: ForecastData, columns: tuple[str, ...]) -> dict[str, list[int]]:
    """The file's columns behind ``columns`` (a categorical's indicators under its name), with
    their positions in ``columns``."""
    cats = data.series.categories
    out: dict[str, list[int]] = {}
    for i, c in enumerate(columns):
        name = next((k for k, v in cats.items() if c.startswith(f"{k}=") and c[len(k) + 1:] in v),
                    c)
        out.setdefault(name, []).append(i)
    return out


def input_groups(data: ForecastData) -> list[tuple[str, str, list[int]]]:
    """``(column, role, positions in the window)`` of each of the file's input columns."""
    s = data.series
    role = ({c: "target" for c in s.targets} | {c: "covariate" for c in s.covariates}
            | {c: "known-future covariate (past)" for c in s.future})
    return [(name, role[s.columns[cols[0]]], cols)
            for name, cols in _sources(data, s.columns).items()]


def future_groups(data: ForecastData) -> list[tuple[str, list[int]]]:
    """``(column, positions in the future input)`` of each known-future covariate."""
    return list(_sources(data, data.series.future).items())


@dataclass(frozen=True)
class Dependence:
    """The mean forecast (data units) when a known-future covariate is set to each value."""

    column: str
    values: list
    forecast: list[float]
    categorical: bool
    windows: int


def dependence_grid(categories: list[str] | None, train: np.ndarray | None, *,
                    points: int) -> tuple[list, list[np.ndarray]]:
    """The values a partial dependence sets a known-future covariate to, and each one's
    features: every category (its indicators), or (a numeric column, ``categories`` ``None``)
    ``points`` quantiles from the 5th to the 95th percentile of its training rows ``train``."""
    if categories is not None:
        return list(categories), [np.eye(len(categories))[i] for i in range(len(categories))]
    values = sorted(set(np.quantile(train, np.linspace(0.05, 0.95, points)).tolist()))
    return values, [np.array([v]) for v in values]


def future_dependence(model, data: ForecastData, lookback: int, column: str, *,
                      points: int = 9) -> Dependence:
    """Partial dependence of the forecast on the known-future covariate ``column``: every
    validation window's value of it over the horizon is set to one value (a quantile of the
    training rows, or each category), the forecasts averaged over windows, steps and targets."""
    origins = importance_origins(data)
    x = data.scaled[origins[:, None] + np.arange(-lookback, 0)[None, :]]
    ahead = data.future_values(origins)
    cols = dict(future_groups(data))[column]
    categorical = column in data.series.categories
    values, settings = dependence_grid(
        data.series.categories.get(column),
        None if categorical else data.raw[: data.split.train, data.future_idx[cols[0]]],
        points=points)
    forecast = []
    for setting in settings:
        f2 = ahead.copy()
        f2[:, :, cols] = setting
        pred = data.scaler.inverse(_predict_all(model, x, origins, f2), data.target_idx)
        forecast.append(float(np.mean(pred)))
    return Dependence(column, values, forecast, categorical, len(origins))
