"""A run folder: ``run.json`` (settings, data summary), the study, trials, leaderboard."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from autoseq._io import read_json
from autoseq.data import ForecastData, SequenceData, load_sequences, load_series
from autoseq.exceptions import DataError, SearchError

RUN_FILE = "run.json"
LEADERBOARD = "leaderboard.csv"
TRIALS = "trials"


def trial_dir(run_dir: Path, number: int) -> Path:
    """Folder of trial ``number``'s weights and history."""
    return Path(run_dir) / TRIALS / f"{number:05d}"


@dataclass(frozen=True)
class Run:
    """An existing run folder, read back."""

    path: Path
    info: dict[str, Any]

    @property
    def settings(self) -> dict[str, Any]:
        return self.info["settings"]

    def leaderboard(self) -> pd.DataFrame:
        path = self.path / LEADERBOARD
        if not path.exists():
            raise SearchError(f"{self.path}: no {LEADERBOARD} yet; run or resume the search first")
        return pd.read_csv(path)

    def trial_dir(self, number: int) -> Path:
        return trial_dir(self.path, number)

    @property
    def task(self) -> str:
        """``forecast``, ``classify`` or ``regress``."""
        return self.settings.get("task", "forecast")

    def data(self, csv: str | Path | None = None) -> ForecastData | SequenceData:
        """Rebuild the search's data object (same split and scaling) from its files.

        Raises:
            DataError: a file is missing or is not the one the search used.
        """
        if self.task == "forecast":
            return self.forecast_data(csv)
        return self.sequence_data(csv)

    def sequence_data(self, csv: str | Path | None = None) -> SequenceData:
        """Re-read the training (and test) file of a classification or regression run."""
        s = self.settings
        info = self.info["data"]
        options = {"target": s["target"], "id_col": s["id_col"], "step_col": s["step_col"],
                   "features": s["features"], "format": s["format"]}
        table = load_sequences(Path(csv or info["source"]), **options)
        _same_file(table, info["fingerprint"])
        test = None
        if s.get("test_file"):
            test = load_sequences(Path(s["test_file"]), **options)
            _same_file(test, info["test_fingerprint"])
        return SequenceData(table, test=test, task=s["task"], val_size=s["val_sequences"],
                            test_size=None if test else s["test_sequences"],
                            max_length=s["max_length"])

    def forecast_data(self, csv: str | Path | None = None) -> ForecastData:
        """Re-read the training CSV and rebuild the same split and scaling as the search.

        Raises:
            DataError: the CSV is missing or is not the file the search used.
        """
        if self.task != "forecast":
            raise SearchError(f"{self.path}: a {self.task} run holds sequences, not a series to "
                              "forecast; read its data with Run.data()")
        s = self.settings
        source = Path(csv or self.info["data"]["source"])
        series = load_series(source, targets=s["targets"], time_col=s["time_col"],
                             covariates=s["covariates"], max_gap=s["max_gap"])
        _same_file(series, self.info["data"]["fingerprint"])
        return ForecastData(series, horizon=s["horizon"], val_size=s["val_rows"],
                            test_size=s["test_rows"], seasons=s["seasons"],
                            calendar=bool(s.get("calendar", False)))


def _same_file(table, fingerprint: str) -> None:
    if table.fingerprint != fingerprint:
        raise DataError(f"{table.source}: not the file this run was trained on (fingerprint "
                        "differs); pass the original CSV")


def load_trial_model(run: Run, number: int, data: ForecastData | SequenceData | None = None):
    """Rebuild trial ``number``'s network and load its best-epoch weights.

    Returns:
        ``(model, config, data)``: the Keras model (scaled windows or sequences in, scaled
        outputs out), its resolved configuration, and the run's data object.

    Raises:
        SearchError: the trial has no saved weights (failed, or killed before it finished).
    """
    from autoseq.data._variants import calendar_dicts
    from autoseq.model._builder import ModelContext, build_model, sequence_context
    from autoseq.trial._objective import WEIGHTS, load_trial_json

    folder = run.trial_dir(number)
    if not (folder / WEIGHTS).is_file():
        raise SearchError(f"{run.path}: trial {number} has no saved model (it failed or did not "
                          "finish); pick a trial with a result from the leaderboard")
    info = load_trial_json(folder)
    config = info["config"]
    data = run.data() if data is None else data
    if data.task == "forecast":
        ctx = ModelContext(lookback=int(config["lookback"]), n_inputs=data.n_inputs,
                           horizon=data.horizon, n_targets=data.n_targets,
                           season=data.main_season, calendar=calendar_dicts(data))
    else:
        ctx = sequence_context(data)
    model = build_model(config, ctx, builder=run.settings.get("builder", "rnn"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the optimizer's saved slots are not needed to predict
        model.load_weights(str(folder / WEIGHTS))
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
