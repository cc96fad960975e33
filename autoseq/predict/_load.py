"""``autoseq.load_model``: an exported model folder → the predictor its task makes."""

from __future__ import annotations

from pathlib import Path

from autoseq.exceptions import ModelError
from autoseq.exporting._manifest import read_manifest
from autoseq.predict._predict import Forecaster, SequenceModel
from autoseq.tasks import task_of


def load_model(folder: str | Path, *, verify: bool = True) -> Forecaster | SequenceModel:
    """Load an exported model folder after verifying its checksums.

    Returns:
        A ``Forecaster`` (forecasting) or a ``SequenceModel`` (classification, regression).

    Raises:
        ModelError: not a model folder, or a file was altered since export.

    Example:
        >>> model = autoseq.load_model("results/airline/export")
        >>> model.predict("examples/airline.csv").head()
    """
    folder = Path(folder)
    manifest = read_manifest(folder, verify=verify)
    if any(d.get("name") == "seasonal_profile" for d in manifest.get("derived_inputs") or []):
        raise ModelError(f"{folder}: this model (format {manifest.get('format_version')}) takes "
                         "a client-computed seasonal_profile, which this autoseq no longer "
                         "computes; re-export the run with this version (the profile is now "
                         "refitted inside the model)")
    return task_of(manifest).load_predictor(folder, manifest)
