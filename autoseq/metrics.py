"""Forecast metrics in the data's units."""

from __future__ import annotations

import numpy as np


def forecast_metrics(pred: np.ndarray, truth: np.ndarray, *, train: np.ndarray | None = None,
                     season: int = 1) -> dict[str, float]:
    """MAE, RMSE, sMAPE (%) and — given the training targets — MASE against seasonal naive.

    Args:
        pred: forecasts ``[windows, horizon, targets]`` in the data's units.
        truth: the actual values, same shape.
        train: training-part targets ``[rows, targets]`` for MASE's scale.
        season: the season of MASE's in-sample seasonal-naive scale.
    """
    err = pred - truth
    denom = np.abs(pred) + np.abs(truth)
    smape = np.where(denom > 0, 2 * np.abs(err) / np.where(denom > 0, denom, 1), 0.0)
    out = {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
           "smape": float(100 * np.mean(smape))}
    if train is not None and len(train) > season:
        scale = float(np.mean(np.abs(train[season:] - train[:-season])))
        out["mase"] = float(out["mae"] / scale) if scale > 0 else float("nan")
    return out


OBJECTIVES = ("mse", "mae", "rmse", "smape", "mase")


def objective_value(pred: np.ndarray, truth: np.ndarray, *, metric: str, scale: np.ndarray,
                    train: np.ndarray | None = None, season: int = 1) -> float:
    """The value a search ranks on: ``mse`` is the MSE in the common standard scaling (``scale``
    per target); the others are ``forecast_metrics``' in the data's units.

    Raises:
        ValueError: an unknown metric.
    """
    if metric == "mse":
        return float(np.mean(((pred - truth) / scale) ** 2))
    if metric not in OBJECTIVES:
        raise ValueError(f"metric must be one of {', '.join(OBJECTIVES)}. Received: {metric!r}")
    return float(forecast_metrics(pred, truth, train=train, season=season).get(metric, np.nan))
