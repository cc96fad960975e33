"""Scores of probabilistic forecasts in the data's units: coverage, width, MSIS, quantile loss.

MSIS is M4's mean scaled interval score: the interval score (width, plus ``2/α`` times the
distance by which an outcome falls outside) averaged over windows and steps, divided by the
in-sample mean absolute seasonal-naive change (MASE's scale). The weighted quantile loss is
``2 · Σ pinball / Σ |y|`` averaged over the quantile levels (as GluonTS reports it).
"""

from __future__ import annotations

import numpy as np


def level_bounds(level: float) -> tuple[float, float]:
    """The quantile levels of a central ``level`` % interval: 95 → (0.025, 0.975)."""
    alpha = 1 - level / 100
    return round(alpha / 2, 9), round(1 - alpha / 2, 9)


def pinball(q: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Quantile (pinball) loss of quantile ``q`` at level ``tau``, elementwise."""
    d = y - q
    return np.maximum(tau * d, (tau - 1) * d)


def interval_score(lo: np.ndarray, hi: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Gneiting & Raftery's interval score of a central ``level`` % interval, elementwise."""
    alpha = 1 - level / 100
    return (hi - lo) + (2 / alpha) * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))


def seasonal_scale(train: np.ndarray, season: int) -> np.ndarray:
    """Per target, the in-sample mean absolute change over ``season`` steps (MASE's scale)."""
    m = season if len(train) > season else 1
    return np.mean(np.abs(train[m:] - train[:-m]), axis=0)


def band_metrics(lo: np.ndarray, hi: np.ndarray, truth: np.ndarray, level: float, *,
                 scale: np.ndarray | None = None) -> dict:
    """Coverage (share of outcomes inside), mean width, MSIS (given ``scale`` per target) and
    coverage by horizon step of one interval, arrays ``[windows, H, targets]``."""
    inside = (truth >= lo) & (truth <= hi)
    out = {"coverage": float(np.mean(inside)), "width": float(np.mean(hi - lo)),
           "coverage_by_step": [float(v) for v in inside.mean(axis=(0, 2))]}
    if scale is not None and np.all(scale > 0):
        score = interval_score(lo, hi, truth, level) / scale
        out["msis"] = float(np.mean(score))
    return out


def quantile_metrics(q: np.ndarray, truth: np.ndarray, taus: list[float] | tuple[float, ...],
                     levels: list[float] | tuple[float, ...], *, train: np.ndarray | None = None,
                     season: int = 1) -> dict:
    """Every level's ``band_metrics`` and the weighted quantile loss of quantile forecasts
    ``q [windows, H, targets, Q]`` at ``taus``.

    Returns:
        ``{"levels": {"80": {...}, ...}, "wql": float}``.
    """
    taus = [round(float(t), 9) for t in taus]
    scale = seasonal_scale(train, season) if train is not None and len(train) > 1 else None
    levels_out = {}
    for lv in levels:
        lo, hi = (taus.index(t) for t in level_bounds(float(lv)))
        levels_out[f"{float(lv):g}"] = band_metrics(q[..., lo], q[..., hi], truth, float(lv),
                                                    scale=scale)
    denom = float(np.sum(np.abs(truth)))
    wql = [2 * float(np.sum(pinball(q[..., i], truth, t))) / denom for i, t in enumerate(taus)]
    return {"levels": levels_out, "wql": float(np.mean(wql)) if denom > 0 else float("nan")}


BOARD_PREFIXES = ("val_cover", "val_width", "val_msis")
"""The leaderboard's interval columns start with these (then the level: ``val_cover80``)."""


def board_columns(levels: list[float] | tuple[float, ...]) -> tuple[str, ...]:
    """The leaderboard's interval columns for ``levels``: the coverage of each, the mean width
    and MSIS of the widest.

    Example:
        >>> board_columns((80.0, 95.0))
        ('val_cover80', 'val_cover95', 'val_width95', 'val_msis95')
    """
    if not levels:
        return ()
    widest = f"{max(float(lv) for lv in levels):g}"
    cover, width, msis = BOARD_PREFIXES
    return (*(f"{cover}{float(lv):g}" for lv in sorted(levels)), f"{width}{widest}",
            f"{msis}{widest}")


def board_values(scores: dict, levels: list[float] | tuple[float, ...]) -> dict[str, float]:
    """The leaderboard's interval columns for ``levels`` (``board_columns``) from
    ``quantile_metrics``' result ``scores``; a level it lacks (too few windows to calibrate it)
    has none."""
    cover, width, msis = BOARD_PREFIXES
    got = scores["levels"]
    out = {f"{cover}{lv}": m["coverage"] for lv, m in got.items()}
    widest = f"{max(float(lv) for lv in levels):g}"
    if widest in got:
        out[f"{width}{widest}"] = got[widest]["width"]
        if "msis" in got[widest]:
            out[f"{msis}{widest}"] = got[widest]["msis"]
    return out
