"""Calibrated class probabilities of an exported classifier: a temperature fitted on the
validation sequences (``autoseq.probability_calibration``), applied inside the model (layer
``temperature``), with the expected calibration error before and after in the manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from autoseq.data import SequenceData
from autoseq.probability_calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability,
    temper,
)

logger = logging.getLogger("autoseq")


@dataclass(frozen=True)
class ClassCalibration:
    temperature: float
    val_prob: np.ndarray
    val_labels: np.ndarray


def probabilities(raw_model, data: SequenceData, part: str) -> np.ndarray:
    """The raw-in model's class probabilities on ``part``'s sequences."""
    return np.asarray(raw_model.predict(
        data.dataset(part, batch_size=256, scaled=False, targets=False), verbose=0),
        dtype="float64")


def fit_class_calibration(raw_model, data: SequenceData) -> ClassCalibration | None:
    """The temperature of ``raw_model`` (uncalibrated) on the validation sequences; ``None``
    for regression or without validation sequences."""
    if not data.n_classes or not len(data.indices("val")):
        return None
    prob, labels = probabilities(raw_model, data, "val"), np.asarray(data.targets("val"))
    t = fit_temperature(prob, labels)
    logger.info("temperature scaling: T = %.3g on %d validation sequences", t, len(labels))
    return ClassCalibration(temperature=t, val_prob=prob, val_labels=labels)


def calibration_manifest(calib: ClassCalibration, test_prob: np.ndarray,
                         test_labels: np.ndarray) -> dict[str, Any]:
    """The manifest's ``calibration``: the temperature, ECE and reliability before / after."""
    t = calib.temperature
    parts = {"val": (calib.val_prob, calib.val_labels), "test": (test_prob, test_labels)}
    return {
        "method": "temperature scaling", "temperature": t,
        "where": "inside the model (layer temperature): softmax(log p / temperature)",
        "fitted_on": f"{len(calib.val_labels)} validation sequences (log loss)",
        "ece": {part: {"before": expected_calibration_error(p, y),
                       "after": expected_calibration_error(temper(p, t), y)}
                for part, (p, y) in parts.items()},
        "reliability": {"test": {"before": reliability(test_prob, test_labels),
                                 "after": reliability(temper(test_prob, t), test_labels)}},
    }
