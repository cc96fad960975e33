"""What every exported forecaster shares: its manifest and its SavedModel's signature."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoseq.data._csv import csv_header, suggest_column
from autoseq.exceptions import DataError


def check_columns(data: str | Path, needed: list[str]) -> None:
    """Name the first column of ``needed`` (the model's inputs) that the file's header lacks,
    as the model's need, not a search option; the header alone is read (the loader reads the
    file once after this, and says what is wrong with a file whose header cannot be read)."""
    header = csv_header(data)
    for c in needed:
        if header is not None and c and c not in header:
            free = [h for h in header if h not in needed] or header  # "did you mean" a free one
            raise DataError(f"{data}: column '{c}', which the model was trained on, is missing"
                            f"{suggest_column(c, free)}")


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
