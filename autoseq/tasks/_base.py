"""The task seam: what differs between kinds of run, behind one interface.

A kind of run (forecasting one series, classifying or regressing labelled sequences, …) is a
``Task``. It reads its data from the search's options, says what of them a run records, reads
that data again later, gives the model context its networks are built with, trains and scores
a trial, scores its baselines (and the final leaderboard's own columns), exports, loads a
predictor, and writes the report's own sections.
Search, trial, export, predict, report and CLI ask the task; none of them compares the name of
a kind of run. A new kind of run is one new module here and one line in ``autoseq.tasks``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from autoseq._run_folder import RunFolder, RunSettings
from autoseq.exceptions import DataError
from autoseq.model import ModelContext
from autoseq.report._kinds import ReportKind
from autoseq.space import Bool, SearchSpace

if TYPE_CHECKING:
    import pandas as pd

    from autoseq.intervals import IntervalSpec
    from autoseq.leaderboard import FinalScores


@dataclass(frozen=True)
class DataOptions:
    """How the search was asked to read its data (the arguments of ``autoseq.search``)."""

    data: str | Path
    targets: tuple[str, ...]
    time_col: str | None = None
    covariates: list[str] | None = None
    horizon: int = 1
    val_size: float | int | None = None
    test_size: float | int | None = None
    max_gap: int = 12
    calendar: bool = True
    id_col: str | None = None
    step_col: str | None = None
    format: str = "long"
    test_file: str | Path | None = None
    task: str | None = None
    max_length: int | None = None
    future_covariates: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    series_col: str | None = None
    stat_baselines: bool = True
    static_cols: tuple[str, ...] = ()


class Task(ABC):
    """One kind of run. Instances are stateless; ``autoseq.tasks`` holds one of each."""

    names: ClassVar[tuple[str, ...]]
    """The ``task`` values (in ``run.json``, a study, a manifest) this task serves."""
    default_space: ClassVar[str]
    max_epochs: ClassVar[int]
    patience: ClassVar[int]
    prune_warmup: ClassVar[int | None] = None
    stat_baselines: ClassVar[bool] = False
    """Whether the statistical forecasters (MSTL + ETS / ARIMA) have anything to say."""
    refit_by_default: ClassVar[bool] = False
    """Whether ``export`` retrains its models on training + validation unless told not to."""
    jax_trials: ClassVar[bool] = False
    """Whether its trials may train on Keras's JAX backend (``searching._keras_backend``): their
    batches keep one shape, so each trial compiles once."""
    recorded: ClassVar[tuple[str, ...]]
    """The common settings a run of this kind records in ``run.json``."""
    report: ClassVar[ReportKind]
    """The report's parts for this kind of run: scoring the best network, headline, sections."""

    # -- reading the data --------------------------------------------------------------------
    @abstractmethod
    def check_options(self, options: DataOptions, *, metric: str, folds: int) -> None:
        """Refuse search options this kind of run cannot use (``DataError``/``SearchError``)."""

    @abstractmethod
    def read(self, options: DataOptions):
        """Read, validate, split and scale the search's data."""

    @abstractmethod
    def data_settings(self, data, options: DataOptions) -> dict[str, Any]:
        """The data options a run records (``RunSettings.data``), so ``rebuild`` reads the same."""

    @abstractmethod
    def fingerprint(self, data) -> str:
        """The data's fingerprint: a resumed search or a joining worker must match it."""

    def attach(self, data, run_dir: Path) -> None:
        """Tell ``data`` the run folder it belongs to, where the task may keep what is slow to
        compute again (a panel: its statistical baselines' forecasts); by default nothing."""
        return None

    @abstractmethod
    def summary(self, data) -> dict[str, Any]:
        """The ``data`` entry of ``run.json``; its ``source`` is the file to read again."""

    @abstractmethod
    def rebuild(self, settings: RunSettings, summary: dict[str, Any], *,
                source: str | Path | None = None):
        """Read a run's data again from ``source`` (default: the recorded file), split and
        scaled as the search did (the caller checks the fingerprint: ``check_same_data``)."""

    def adapt_space(self, space: SearchSpace, data) -> SearchSpace:
        """The space searched over ``data``: ``space``, plus what only such data offer."""
        return space

    # -- trials ------------------------------------------------------------------------------
    @abstractmethod
    def resolve_config(self, space_config: dict[str, Any], data, *,
                       builder: str) -> dict[str, Any]:
        """A sampled configuration with its defaults filled (and a lookback in steps)."""

    @abstractmethod
    def model_context(self, data, config: dict[str, Any], *, seed: int = 0) -> ModelContext:
        """What the builder needs to know about the data for ``config``."""

    @abstractmethod
    def fit_and_score(self, data, config: dict[str, Any]):
        """The function that trains a built model and scores it on validation
        (``autoseq.trial._fit``), with this data's own arguments bound."""

    @abstractmethod
    def training_shape(self, data, config: dict[str, Any]) -> tuple[int, int] | None:
        """``(steps per input, training inputs)`` when every batch has one shape (so compiling
        can pay); ``None`` when shapes vary."""

    @abstractmethod
    def baselines(self, data, part: str = "val", *, metric: str = "mse") -> list:
        """The simple baselines scored on ``part`` (``BaselineScore``), best first."""

    # -- after the search --------------------------------------------------------------------
    def final_scores(self, run: RunFolder, data, board: pd.DataFrame, *,
                     intervals: IntervalSpec) -> FinalScores | None:
        """Leaderboard columns scored once, when the search has finished, for some rows of
        ``board`` (``None``: none). ``intervals``: the search's ``--levels`` and
        ``--quantiles``."""
        return None

    @abstractmethod
    def export(self, run: RunFolder, data, *, trial: int | None, out: str | Path | None,
               format: str, refit: bool, ensemble: int | None, intervals=None,
               floor: bool = True):
        """``autoseq.export`` of ``run`` (whose data is ``data``): an ``ExportResult``.
        ``intervals``: an ``autoseq.intervals.IntervalSpec`` (``None``: the task's default);
        ``floor``: forecasts of a never-negative target raised to zero
        (``autoseq.exporting._floor``)."""

    @abstractmethod
    def load_predictor(self, folder: Path, manifest: dict[str, Any]):
        """The predictor of an exported model folder (``Forecaster``, ``SequenceModel``…)."""

    @abstractmethod
    def describe(self, data) -> str:
        """One line about the data, as the CLI prints it when a search starts."""

    def settings(self, data, options: DataOptions, **trial: Any) -> RunSettings:
        """The ``RunSettings`` of a new search over ``data`` (``trial``: max_epochs, …)."""
        return RunSettings(task=data.task, data=self.data_settings(data, options),
                           recorded=self.recorded, **trial)


def with_switch(space: SearchSpace, name: str, *, offered: bool) -> SearchSpace:
    """``space`` plus the bool parameter ``name`` (whether a trial uses what the data offer:
    known-future covariates, static columns), so the leaderboard shows what it is worth; as it
    is when the data offer nothing, the builder is not ``rnn``, or the space names it."""
    if not offered or space.builder != "rnn" or name in space.names:
        return space
    return space.with_parameters([*space.parameters, Bool(name)])


def check_same_data(fingerprint: str, expected: str, *, source: str | Path, where: str) -> None:
    """Refuse data whose fingerprint is not the one ``where`` (a run, a study) was made from.

    Raises:
        DataError: the fingerprints differ.
    """
    if fingerprint != expected:
        raise DataError(f"{source}: not the data of {where} (fingerprint {fingerprint[:12]}…, "
                        f"expected {expected[:12]}…); pass the CSV it was made from")
