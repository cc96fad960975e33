"""What a panel's forecaster looks at: permutation importance of each block of its lookback
window (the last step, the same time a season ago, …), of the window's shape against each
static column, each known-future covariate and each covariate's past, and the partial
dependence of the forecast on the most important known-future covariate.

Measured on up to ``MAX_IMPORTANCE_WINDOWS`` validation windows (as for a single series),
evenly spaced. A part is swapped between windows: a block of the window or the whole window's
shape (each window divided by its own scale, the part swapped, multiplied back by the original
scale, so the level stays), a static column's features, a known-future covariate's values
over the horizon, or a covariate's values before the origin; how much the error grows (MAE
divided by each window's scale, so every series counts alike) is the part's weight. Series of
any size share one network, so the dependence is in multiples of each window's level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autoseq.data._panel_data import PanelData, window_scale
from autoseq.data._panel_static import STATIC
from autoseq.data._windows import FUTURE, PAST, WINDOW
from autoseq.report._evaluate import (
    MAX_IMPORTANCE_WINDOWS,
    Dependence,
    Importance,
    dependence_grid,
)
from autoseq.report._lags import LagBlock

Forecast = Callable[[np.ndarray, dict[str, np.ndarray]], np.ndarray]
"""``(raw windows [W, L], what it takes beside them by input name: static [W, n_static], future
[W, H, n_future], past [W, past_steps, n_past])`` → the forecast ``[W, H]`` in the series'
units."""


@dataclass(frozen=True)
class Measured:
    """The forecaster a report scores and measures: ``forecast``, what it ``takes`` beside its
    window (``static``, ``future``, ``past``) and its window's rows (``lookback``)."""

    forecast: Forecast
    takes: tuple[str, ...]
    lookback: int

    def side(self, data: PanelData, series: np.ndarray, position: np.ndarray
             ) -> dict[str, np.ndarray]:
        """What it takes beside the windows at ``(series, position)``, by input name."""
        if not self.takes:
            return {}
        feed = data.feed(None, (series, position), self.takes)
        return {k: v for k, v in feed.items() if k != WINDOW}

    def at(self, data: PanelData, series: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Its forecasts ``[W, horizon]`` of the windows at ``(series, position)``."""
        x, _ = data.windows(series, position, self.lookback, targets=False)
        return self.forecast(x, self.side(data, series, position))


def importance_origins(data: PanelData) -> tuple[np.ndarray, np.ndarray]:
    """The validation windows measured (evenly spaced, at most ``MAX_IMPORTANCE_WINDOWS``)."""
    series, position = data.origins("val")
    if len(series) > MAX_IMPORTANCE_WINDOWS:
        keep = np.linspace(0, len(series) - 1, MAX_IMPORTANCE_WINDOWS).astype(int)
        series, position = series[keep], position[keep]
    return series, position


def panel_importance(measured: Measured, data: PanelData, *, blocks: list[LagBlock],
                     seed: int = 0) -> tuple[Importance, Importance | None]:
    """Permutation importance of each of the window's ``blocks``, and (when the forecaster
    takes static columns or covariates) of the window's shape (role ``target``), each static
    column (``static``), each known-future covariate over the horizon (``known ahead``) and
    each covariate's past (``covariate``; a known-future one's labelled ``(past)``).

    Returns:
        ``(by_block, by_column)``; ``by_column`` is ``None`` when the window is all it takes.
    """
    rng = np.random.default_rng(seed)
    series, position = importance_origins(data)
    lookback = measured.lookback
    x, y = data.windows(series, position, lookback)
    scale = window_scale(x)
    side = measured.side(data, series, position)
    repeats = 3 if len(series) >= 200 else 8

    def loss(x2, side2) -> float:
        return float(np.mean(np.abs(measured.forecast(x2, side2) - y) / scale[:, None]))

    base = loss(x, side)

    def shuffled(part: str, cols: list[int] | None = None) -> float:
        total = 0.0
        for _ in range(repeats):
            perm = rng.permutation(len(x))
            x2, side2 = x, side
            if part == "window":  # ``cols``: the positions swapped (None: all)
                x2 = x.copy()
                at = slice(None) if cols is None else cols
                x2[:, at] = (x / scale[:, None])[perm][:, at] * scale[:, None]
            else:  # ``cols``: the features swapped (the last axis)
                swapped = side[part].copy()
                swapped[..., cols] = side[part][perm][..., cols]
                side2 = side | {part: swapped}
            total += loss(x2, side2) - base
        return total / repeats

    by_block = Importance([b.label for b in blocks],
                          [shuffled("window", [lookback - lag for lag in b.lags])
                           for b in blocks], base, len(series), repeats)
    if not measured.takes:
        return by_block, None
    panel = data.panel
    labels, roles, increase = [panel.target], ["target"], [shuffled("window")]
    parts = [(STATIC, panel.statics, "static", "{}"), (FUTURE, panel.future, "known ahead", "{}")]
    parts = [(name, cols, role, label) for name, cols, role, label in parts if name in side]
    if PAST in side:  # the past covariates' features, then the known-future ones'
        parts += [(PAST, panel.past, "covariate", "{}"),
                  (PAST, panel.future, "covariate", "{} (past)")]
    offset = {}
    for name, columns, role, label in parts:
        if columns is None:
            continue
        start = offset.get(name, 0)
        for col, cols in columns.positions():
            labels.append(label.format(col))
            roles.append(role)
            increase.append(shuffled(name, [start + c for c in cols]))
        offset[name] = start + len(columns.features)
    return by_block, Importance(labels, increase, base, len(series), repeats, roles)


def panel_dependence(measured: Measured, data: PanelData, *, column: str,
                     points: int = 9) -> Dependence:
    """Partial dependence of the forecast on the known-future covariate ``column``: every
    measured window's value of it over the horizon set to one value (a quantile of the
    training rows, or each category), the forecasts divided by each window's scale and
    averaged."""
    series, position = importance_origins(data)
    x, _ = data.windows(series, position, measured.lookback, targets=False)
    scale = window_scale(x)
    side = measured.side(data, series, position)
    panel = data.panel
    cols = dict(panel.future.positions())[column]
    categorical = column in panel.future.categories
    train = None if categorical else panel.future.values[data.training_rows(), cols[0]]
    values, settings = dependence_grid(panel.future.categories.get(column), train,
                                       points=points)
    out = []
    for setting in settings:
        f2 = side[FUTURE].copy()
        f2[:, :, cols] = setting
        out.append(float(np.mean(measured.forecast(x, side | {FUTURE: f2}) / scale[:, None])))
    return Dependence(column, values, out, categorical, len(series))


__all__ = ["Measured", "importance_origins", "panel_dependence",
           "panel_importance"]
