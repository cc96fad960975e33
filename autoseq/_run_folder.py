"""A run folder as files: ``run.json`` (settings, data summary), the leaderboard, trial folders.

This is what every stage may read without knowing the kind of run; ``autoseq.run`` adds what
needs the task (the run's data, its trials' networks).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from autoseq.exceptions import SearchError
from autoseq.model import build_model

RUN_FILE = "run.json"
LEADERBOARD = "leaderboard.csv"
TRIALS = "trials"
WEIGHTS = "model.weights.h5"
FOLD_FORECASTS = "fold_forecasts.npz"
"""A ``--folds`` trial's validation forecasts on its earlier folds (data units; ``fold0`` …),
for ``export`` to score its candidates on every fold."""


def trial_dir(run_dir: Path, number: int) -> Path:
    """Folder of trial ``number``'s weights and history."""
    return Path(run_dir) / TRIALS / f"{number:05d}"


@dataclass(frozen=True)
class RunSettings:
    """What a run was made with: its kind (``task``), how its trials train, its data options.

    ``data`` holds the task's own data options (targets, horizon… or label, id column…), which
    the task reads; ``to_dict``/``from_dict`` round-trip the flat ``settings`` of ``run.json``
    and of a study.

    Example:
        >>> s = RunSettings.from_dict({"task": "forecast", "max_epochs": 20, "patience": 5,
        ...                            "seed": 0, "horizon": 12})
        >>> s.data["horizon"], s.to_dict()["horizon"]
        (12, 12)
    """

    task: str = "forecast"
    max_epochs: int = 20
    patience: int = 5
    seed: int = 0
    builder: str = "rnn"
    metric: str = "mse"
    folds: int = 1
    deterministic: bool = False
    prune_warmup: int | None = None
    data: dict[str, Any] | None = None
    recorded: tuple[str, ...] = ()
    """The common keys the run recorded (older runs lack some): ``to_dict`` writes just those."""

    def to_dict(self) -> dict[str, Any]:
        common = {k: getattr(self, k) for k in self.recorded}
        return {"task": self.task} | dict(self.data or {}) | common

    @classmethod
    def from_dict(cls, settings: dict[str, Any]) -> RunSettings:
        common = {f.name for f in fields(cls)} - {"data", "recorded"}
        given = {k: v for k, v in settings.items() if k in common}
        data = {k: v for k, v in settings.items() if k not in common}
        recorded = tuple(k for k in settings if k in common and k != "task")
        return cls(**given, data=data, recorded=recorded)


@dataclass(frozen=True)
class RunFolder:
    """An existing run folder, read back (``autoseq.run.open_run`` opens one)."""

    path: Path
    info: dict[str, Any]

    @cached_property
    def settings(self) -> RunSettings:
        return RunSettings.from_dict(self.info["settings"])

    @property
    def task(self) -> str:
        """The kind of run (``forecast``, ``classify``, ``regress``…)."""
        return self.settings.task

    def leaderboard(self) -> pd.DataFrame:
        path = self.path / LEADERBOARD
        if not path.exists():
            raise SearchError(f"{self.path}: no {LEADERBOARD} yet; run or resume the search first")
        return pd.read_csv(path)

    def trial_dir(self, number: int) -> Path:
        return trial_dir(self.path, number)


def load_trial(run: RunFolder, number: int, context: Callable[[dict[str, Any]], Any]):
    """Rebuild trial ``number``'s network (``context(config)`` gives its ``ModelContext``) and
    load its best-epoch weights.

    Returns:
        ``(model, config)``.

    Raises:
        SearchError: the trial has no saved weights (failed, or killed before it finished).
    """
    folder = run.trial_dir(number)
    if not (folder / WEIGHTS).is_file():
        raise SearchError(f"{run.path}: trial {number} has no saved model (it failed or did not "
                          "finish); pick a trial with a result from the leaderboard")
    config = load_trial_json(folder)["config"]
    model = build_model(config, context(config), builder=run.settings.builder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the optimizer's saved slots are not needed to predict
        model.load_weights(str(folder / WEIGHTS))
    return model, config


def load_trial_json(trial_dir: Path) -> dict[str, Any]:
    """The ``trial.json`` a finished trial wrote."""
    return json.loads((trial_dir / "trial.json").read_text(encoding="utf-8"))
