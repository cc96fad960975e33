"""What every exported forecaster shares: its manifest and its SavedModel's signature."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ServedForecaster:
    """An exported forecaster, loaded with plain TensorFlow from the SavedModel; the manifest
    says what it reads (``lookback`` rows) and how far it forecasts (``horizon``)."""

    predicts = "forecast rows"
    """What ``predict`` returns a row of (the CLI says how many it wrote)."""

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        import tensorflow as tf

        self.folder = folder
        self.manifest = manifest
        self._serve = tf.saved_model.load(str(folder)).signatures["serving_default"]

    @property
    def lookback(self) -> int:
        return int(self.manifest["lookback"])

    @property
    def horizon(self) -> int:
        return int(self.manifest["horizon"])

    @property
    def intervals(self) -> dict[str, Any] | None:
        """The manifest's ``intervals`` (which quantiles the model serves), if any."""
        return self.manifest.get("intervals")
