"""Metrics in the data's units: forecasts, class probabilities, per-sequence values."""

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


INTERVAL_OBJECTIVES = ("wql", "msis")
"""Objectives scored on quantiles: the weighted quantile loss over a network's quantile levels,
and the 95 % interval's MSIS. A point forecast (a baseline's) counts as every quantile."""
OBJECTIVES = ("mse", "mae", "rmse", "smape", "mase", *INTERVAL_OBJECTIVES)


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
    if metric in INTERVAL_OBJECTIVES:
        return quantile_objective(pred[..., None], truth, (0.025, 0.5, 0.975), metric=metric,
                                  train=train, season=season)
    return float(forecast_metrics(pred, truth, train=train, season=season).get(metric, np.nan))


def quantile_objective(q: np.ndarray, truth: np.ndarray, taus, *, metric: str,
                       train: np.ndarray | None = None, season: int = 1) -> float:
    """``wql`` (over ``taus``) or ``msis`` (the 95 % interval, from quantiles 0.025 and 0.975
    of ``taus``) of quantiles ``q [windows, H, targets, Q]`` (or ``Q = 1``: a point forecast as
    every quantile)."""
    from autoseq.interval_metrics import quantile_metrics

    taus = tuple(taus)
    if q.shape[-1] == 1:
        q = np.repeat(q, len(taus), axis=-1)
    levels = (95.0,) if metric == "msis" else ()
    m = quantile_metrics(q, truth, taus, levels, train=train, season=season)
    return float(m["levels"]["95"].get("msis", np.nan) if levels else m["wql"])


def classification_metrics(prob: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Accuracy, macro F1 and log loss of class probabilities.

    Args:
        prob: ``[n, n_classes]`` probabilities.
        truth: ``[n]`` class indices.

    Macro F1 averages over the classes present in the truth or the predictions (as
    scikit-learn does); log loss clips probabilities to ``[1e-7, 1]``.
    """
    pred = np.argmax(prob, axis=1)
    picked = np.clip(prob[np.arange(len(truth)), truth], 1e-7, 1.0)
    f1 = [_f1(pred, truth, c) for c in np.union1d(pred, truth)]
    return {"accuracy": float(np.mean(pred == truth)), "f1": float(np.mean(f1)),
            "log_loss": float(-np.mean(np.log(picked)))}


def classification_report(prob: np.ndarray, truth: np.ndarray,
                          classes: tuple[str, ...] | list[str]) -> dict:
    """Confusion matrix (rows: true class, columns: predicted) and per-class metrics."""
    pred = np.argmax(prob, axis=1)
    n = len(classes)
    matrix = np.zeros((n, n), dtype="int64")
    np.add.at(matrix, (truth, pred), 1)
    per_class = {}
    for c, name in enumerate(classes):
        tp = int(matrix[c, c])
        precision = tp / matrix[:, c].sum() if matrix[:, c].sum() else 0.0
        recall = tp / matrix[c].sum() if matrix[c].sum() else 0.0
        per_class[str(name)] = {"precision": float(precision), "recall": float(recall),
                                "f1": float(_f1(pred, truth, c)), "support": int(matrix[c].sum())}
    return {"classes": [str(c) for c in classes], "confusion_matrix": matrix.tolist(),
            "per_class": per_class}


def regression_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """MAE and RMSE of per-sequence predictions in the data's units."""
    err = np.asarray(pred, dtype="float64") - np.asarray(truth, dtype="float64")
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2)))}


def _f1(pred: np.ndarray, truth: np.ndarray, c: int) -> float:
    tp = np.sum((pred == c) & (truth == c))
    denom = np.sum(pred == c) + np.sum(truth == c)
    return float(2 * tp / denom) if denom else 0.0
