"""Calibrated class probabilities: temperature scaling fitted on validation, and how well
probabilities are calibrated (expected calibration error, reliability table).

Temperature scaling (Guo et al., 2017) divides the logits by one number ``T`` fitted to minimise
the validation log loss: the predicted class never changes, only how sure the model says it is.
The exported network ends in a softmax, so the logits are recovered as ``log p`` (a softmax is
unchanged by a constant added to every logit).

Example:
    >>> t = fit_temperature(val_prob, val_labels)
    >>> expected_calibration_error(temper(test_prob, t), test_labels)
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7
BINS = 10


def temper(prob: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` row by row (``ConformalBands``' sibling ``TemperatureScale`` does
    the same inside the model)."""
    z = np.log(np.clip(prob, EPS, 1.0)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


MIN_TEMPERATURE = 0.25
"""The sharpest scaling fitted: below it a handful of validation sequences, all but one or two
classified right, would make every test probability near 0 or 1 (a test log loss worse than
the majority class's, measured on ItalyPowerDemand's 10 validation sequences: T = 0.052)."""


def fit_temperature(prob: np.ndarray, labels: np.ndarray) -> float:
    """The ``T`` in [``MIN_TEMPERATURE``, 20] minimising the log loss of ``temper(prob, T)`` on
    ``labels``; 1 (no scaling) when every sequence is classified right: the log loss then
    falls as ``T`` goes to 0, and says nothing of the errors to come."""
    from scipy.optimize import minimize_scalar

    if np.all(prob.argmax(axis=1) == labels):
        return 1.0

    def loss(log_t: float) -> float:
        p = temper(prob, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], EPS, 1.0))))

    res = minimize_scalar(loss, bounds=(np.log(MIN_TEMPERATURE), np.log(20.0)),
                          method="bounded")
    best = float(np.exp(res.x))
    return best if loss(np.log(best)) <= loss(0.0) else 1.0


def reliability(prob: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict]:
    """Per confidence bin (equal width on [0, 1]): mean confidence, accuracy and count of the
    predictions whose top probability falls in it (empty bins left out)."""
    conf = prob.max(axis=1)
    right = prob.argmax(axis=1) == labels
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return [{"bin": [b / bins, (b + 1) / bins], "confidence": float(conf[which == b].mean()),
             "accuracy": float(right[which == b].mean()), "count": int((which == b).sum())}
            for b in range(bins) if (which == b).any()]


def expected_calibration_error(prob: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the bins."""
    rows = reliability(prob, labels, bins)
    n = sum(r["count"] for r in rows)
    return float(sum(r["count"] * abs(r["confidence"] - r["accuracy"]) for r in rows) / n) \
        if n else float("nan")
