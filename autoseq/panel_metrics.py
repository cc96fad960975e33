"""Forecast accuracy over many series as the M4 competition defines it.

sMAPE (%) and MASE are computed per series (MASE scaled by the series' in-sample
seasonal-naive MAE) and averaged over series; OWA compares a method with Naive2 on both:
``OWA = (mean sMAPE / mean sMAPE_Naive2 + mean MASE / mean MASE_Naive2) / 2`` (Makridakis,
Spiliotis & Assimakopoulos 2020). Naive2 is the naive forecast of the seasonally adjusted
series (classical multiplicative decomposition), adjusted only when a 90% autocorrelation test
finds the seasonality. MSIS, the interval score scaled like MASE, is averaged the same way
(per series, then over series).

Example:
    >>> smape = m4_smape(pred, truth)            # one value per window
    >>> owa(smape, mase, smape_naive2, mase_naive2)
    0.93
"""

from __future__ import annotations

import numpy as np

from autoseq.interval_metrics import interval_score

# The seasonal periods M4 used for MASE and for Naive2's seasonality test, by frequency.
M4_SEASONS = {"h": 24, "D": 1, "W": 1, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4,
              "Y": 1, "YS": 1, "YE": 1}


def m4_season(freq: str) -> int:
    """M4's seasonal period for a pandas frequency (``W-MON`` → 1, ``MS`` → 12, ``h`` → 24).

    Steps shorter than a day that divide it use M4's hourly rule, the daily cycle (``2h`` → 12,
    ``30min`` → 48)."""
    import pandas as pd

    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        step = None
    day = pd.Timedelta(days=1)
    if step is not None and pd.Timedelta(0) < step < day and day % step == pd.Timedelta(0):
        return int(day / step)
    base = freq.lstrip("0123456789").split("-")[0]
    return M4_SEASONS.get(base, M4_SEASONS.get(base.upper(), 1))


def m4_smape(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """sMAPE (%) of each forecast ``[windows, horizon]``: ``200·|y−ŷ| / (|y|+|ŷ|)`` averaged
    over the horizon (a step where both are 0 counts 0)."""
    denom = np.abs(pred) + np.abs(truth)
    ratio = np.where(denom > 0, 2 * np.abs(pred - truth) / np.where(denom > 0, denom, 1), 0.0)
    return 100 * ratio.mean(axis=-1)


def mase_scale(history: np.ndarray, season: int) -> float:
    """The in-sample seasonal-naive MAE of ``history`` (naive when the series is too short);
    ``nan`` when the series is constant."""
    m = season if len(history) > season else 1
    if len(history) <= m:
        return float("nan")
    scale = float(np.mean(np.abs(history[m:] - history[:-m])))
    return scale if scale > 0 else float("nan")


def owa(smape: np.ndarray, mase: np.ndarray, smape_naive2: np.ndarray,
        mase_naive2: np.ndarray) -> float:
    """M4's overall weighted average: the ratios of the means to Naive2's, averaged, over
    the series whose MASE is defined (M4 has no constant series). A constant history, say a
    discontinued item's zeros, has no MASE scale, and its sMAPE would be 200% for any forecast
    not exactly 0 (a network's 1e-15): it is left out of both means, as of MSIS."""
    ok = np.isfinite(mase) & np.isfinite(mase_naive2)
    kept = ok if ok.any() else np.ones_like(ok)
    return float((np.mean(smape[kept]) / np.mean(smape_naive2[kept])
                  + np.mean(mase[ok]) / np.mean(mase_naive2[ok])) / 2)


def seasonality_test(history: np.ndarray, season: int) -> bool:
    """M4's test: the autocorrelation at lag ``season`` exceeds its 90% limit."""
    n = len(history)
    if season <= 1 or n < 3 * season:
        return False
    x = history - history.mean()
    denom = float(np.sum(x ** 2))
    if denom == 0:
        return False
    acf = np.array([np.sum(x[k:] * x[:-k]) / denom for k in range(1, season + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(history: np.ndarray, season: int) -> np.ndarray:
    """Classical multiplicative decomposition's seasonal indices (mean 1), by position
    ``i % season`` counted from the series' start; ones when no seasonality is found."""
    if not seasonality_test(history, season):
        return np.ones(season)
    kernel = np.ones(season + 1) / season
    kernel[0] = kernel[-1] = 0.5 / season
    if season % 2:
        kernel = np.ones(season) / season
    trend = np.convolve(history, kernel, mode="valid")
    lead = (len(history) - len(trend)) // 2
    ratio = history[lead:lead + len(trend)] / np.where(trend == 0, 1, trend)
    pos = (np.arange(len(trend)) + lead) % season
    idx = np.array([ratio[pos == i].mean() for i in range(season)])
    return idx / idx.mean()


def naive2(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Naive2: the last seasonally adjusted value, re-seasonalised over ``horizon`` steps."""
    if season <= 1:
        return np.repeat(history[-1], horizon)
    idx = seasonal_indices(history, season)
    n = len(history)
    last = history[-1] / idx[(n - 1) % season]
    return last * idx[(n + np.arange(horizon)) % season]


def panel_scores(pred: np.ndarray, truth: np.ndarray, series: np.ndarray, scales: np.ndarray,
                 n_series: int) -> dict[str, np.ndarray]:
    """Per-series MAE, RMSE, sMAPE and MASE of forecasts ``[windows, horizon]`` of ``series``.

    ``scales`` holds each series' MASE scale. A series with several windows gets their mean.
    """
    err = pred - truth
    per_window = {"mae": np.abs(err).mean(axis=1), "mse": (err ** 2).mean(axis=1),
                  "smape": m4_smape(pred, truth)}
    per_window["mase"] = per_window["mae"] / scales[series]
    out = {k: _series_means(v, series, n_series) for k, v in per_window.items()}
    out["rmse"] = np.sqrt(out.pop("mse"))
    out["series"] = np.flatnonzero(np.bincount(series, minlength=n_series))
    return out


def panel_msis(lo: np.ndarray, hi: np.ndarray, truth: np.ndarray, level: float, *,
               series: np.ndarray, scales: np.ndarray) -> float:
    """M4's MSIS of a central ``level`` % interval over a panel: each window's interval score
    (``[windows, horizon]`` arrays) averaged over its horizon and divided by its series' MASE
    scale (``scales[series]``), averaged per series, then over the series (a constant series,
    whose scale is ``nan``, is left out)."""
    per_window = interval_score(lo, hi, truth, level).mean(axis=1) / scales[series]
    per_series = _series_means(per_window, series, len(scales))
    return float(np.nanmean(per_series)) if np.isfinite(per_series).any() else float("nan")


def _series_means(per_window: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """The mean of ``per_window`` over each series' windows, for the series that have any."""
    counts = np.bincount(series, minlength=n_series)
    seen = counts > 0
    return np.bincount(series, weights=per_window, minlength=n_series)[seen] / counts[seen]


__all__ = ["M4_SEASONS", "m4_season", "m4_smape", "mase_scale", "naive2", "owa", "panel_msis",
           "panel_scores", "seasonal_indices", "seasonality_test"]
