"""What every export shares: picking trials, the result, the checksummed model folder."""

from __future__ import annotations

import logging
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoseq import __version__
from autoseq._io import read_json, replace_dir_atomic, write_json_atomic
from autoseq._run_folder import RunFolder
from autoseq.exceptions import ModelError
from autoseq.exporting._manifest import (
    MANIFEST,
    SELF_CHECKSUM,
    file_checksums,
    manifest_checksum,
)
from autoseq.leaderboard import best_trial_row, top_complete

logger = logging.getLogger("autoseq")


FORMATS = ("savedmodel", "keras", "tflite")




KERAS_FILE = "model.keras"


TFLITE_FILE = "model.tflite"


@dataclass(frozen=True)
class ExportResult:
    """Where the model went and how it scored on the held-out test split."""

    path: Path
    trial: int
    manifest: dict[str, Any]
    members: tuple[int, ...] = ()
    """The trials averaged by an ensemble (best first); empty for one trial."""

    @property
    def test_metrics(self) -> dict[str, float]:
        return self.manifest["metrics"]["test"]


def pick_members(run: RunFolder, trial: int | None, ensemble: int) -> list[int]:
    """The trial to export, or the ``ensemble`` best complete trials (best first)."""
    if ensemble < 1:
        raise ModelError(f"--ensemble must be at least 1. Received: {ensemble}")
    if ensemble == 1:
        return [_pick_trial(run, trial)]
    if trial is not None:
        raise ModelError("--trial and --ensemble exclude each other: the ensemble is the best "
                         "complete trials")
    numbers = best_complete(run, ensemble)
    if len(numbers) < ensemble:
        logger.warning("only %d complete trials: the ensemble has %d members, not %d",
                       len(numbers), len(numbers), ensemble)
    return numbers


def best_complete(run: RunFolder, n: int) -> list[int]:
    """The ``n`` best-ranked complete trials (the best trial with a result when none is)."""
    return top_complete(run.leaderboard(), n) or [_pick_trial(run, None)]


def best_baseline(run: RunFolder, column: str = "val_mae") -> dict[str, Any] | None:
    """The leaderboard's baseline with the lowest ``column`` (its name says on how many
    windows when that is a subset): ``{"name", column}``; ``None`` when none has it."""
    board = run.leaderboard()
    if column not in board:
        return None
    rows = board[(board["state"] == "baseline") & board[column].notna()]
    if rows.empty:
        return None
    row = rows.loc[rows[column].astype(float).idxmin()]
    return {"name": str(row["model"]), column: float(row[column])}


def write_keras_file(raw_model, folder: Path, format: str) -> dict[str, Any]:
    """With ``--format keras``, also save ``model.keras`` into ``folder``; the manifest's
    ``files_extra`` entry."""
    if format != "keras":
        return {}
    raw_model.save(str(folder / KERAS_FILE))
    return {"keras": KERAS_FILE}


def write_model_folder(out: Path, raw_model, fill: Callable[[Path], dict[str, Any]]
                       ) -> dict[str, Any]:
    """Export ``raw_model`` as a SavedModel into a temporary folder, let ``fill(folder)`` add
    files and return the manifest, checksum every file, then move the folder onto ``out``.

    Returns:
        The manifest as written (with ``files``).
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists()
                                else None))
    try:
        raw_model.export(str(tmp), verbose=False)
        manifest = fill(tmp)
        manifest["files"] = file_checksums(tmp)
        write_json_atomic(tmp / MANIFEST, manifest)
        manifest[SELF_CHECKSUM] = manifest_checksum(read_json(tmp / MANIFEST))  # as read back
        write_json_atomic(tmp / MANIFEST, manifest)
        out.parent.mkdir(parents=True, exist_ok=True)
        replace_dir_atomic(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def val_scores(info: dict[str, Any]) -> dict[str, Any]:
    """A trial's validation loss and its task's scores (``val_`` dropped) from its record."""
    return {"loss": info.get("val_loss")} | {
        k.removeprefix("val_"): v for k, v in (info.get("metrics") or {}).items()}


def versions() -> dict[str, str]:
    """The versions a manifest records."""
    import keras
    import tensorflow as tf

    return {"autoseq": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def _pick_trial(run: RunFolder, trial: int | None) -> int:
    board = run.leaderboard()
    if trial is None:
        row = best_trial_row(board)
        if row is None:
            raise ModelError(f"{run.path}: no trial has a result yet; nothing to export")
        return int(row["trial"])
    rows = board[board["trial"] == trial]
    if rows.empty:
        raise ModelError(f"{run.path}: no trial {trial} in this run; trials are "
                         f"{sorted(int(t) for t in board['trial'].dropna())}")
    if rows.iloc[0]["state"] not in ("complete", "pruned"):
        raise ModelError(f"{run.path}: trial {trial} is {rows.iloc[0]['state']}: it has no model "
                         "to export; pick a complete trial from the leaderboard")
    return trial


def check_finite(model, number: int) -> None:
    for w in model.get_weights():
        if not np.all(np.isfinite(w)):
            raise ModelError(f"trial {number} has non-finite weights; it cannot be exported — "
                             "pick another trial (--trial)")
