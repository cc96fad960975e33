"""A run folder read back with its task: its data, its trials' networks (``open_run``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autoseq._io import read_json
from autoseq._run_folder import (
    LEADERBOARD,
    RUN_FILE,
    TRIALS,
    RunFolder,
    RunSettings,
    load_trial,
    trial_dir,
)
from autoseq.exceptions import SearchError
from autoseq.tasks import Task, check_same_data, task_of

__all__ = ["LEADERBOARD", "RUN_FILE", "TRIALS", "Run", "RunSettings", "load_trial_model",
           "open_run", "trial_dir"]


@dataclass(frozen=True)
class Run(RunFolder):
    """An existing run folder, read back; ``kind`` is its task."""

    @property
    def kind(self) -> Task:
        return task_of(self.settings)

    def data(self, csv: str | Path | None = None):
        """Rebuild the search's data object (same split and scaling) from its files.

        Raises:
            DataError: a file is missing or is not the one the search used.
        """
        data = self.kind.rebuild(self.settings, self.info["data"], source=csv)
        check_same_data(self.kind.fingerprint(data), self.info["fingerprint"],
                        source=csv or self.info["data"]["source"], where=f"run {self.path}")
        self.kind.attach(data, self.path)
        return data


def load_trial_model(run: Run, number: int, data=None):
    """Rebuild trial ``number``'s network and load its best-epoch weights.

    Returns:
        ``(model, config, data)``: the Keras model (scaled windows or sequences in, scaled
        outputs out), its resolved configuration, and the run's data object.

    Raises:
        SearchError: the trial has no saved weights (failed, or killed before it finished).
    """
    data = run.data() if data is None else data
    model, config = load_trial(run, number, lambda config: run.kind.model_context(data, config))
    return model, config, data


def open_run(path: str | Path) -> Run:
    """Open a run folder made by ``search``.

    Raises:
        SearchError: the folder does not exist or holds no ``run.json``.
    """
    path = Path(path)
    if not (path / RUN_FILE).is_file():
        raise SearchError(f"{path}: not a run folder (no {RUN_FILE}); pass the folder that "
                          "'autoseq search' wrote (--out)")
    return Run(path=path, info=read_json(path / RUN_FILE))
