"""The KerasTuner backend: its random, Bayesian and Hyperband oracles over autoseq's spaces.

autoseq drives the oracle itself (``create_trial`` → autoseq's trial → ``update_trial`` →
``end_trial``) rather than calling ``Tuner.search``, for four reasons:

* the trial is autoseq's own (``trial_fn``: same builder, data, early stopping, divergence
  checks and weights as under Optuna), where ``Tuner`` wants to build and fit the model itself;
* a failed or non-finite trial reaches the oracle as ``FAILED``, never as a loss: the Bayesian
  oracle turns an infinite loss into 0, the best score there is;
* KerasTuner's own "stop after 3 failures in a row" is switched off: autoseq's failure policy
  (``--max-failures``, via ``should_stop``) decides;
* the state is written atomically into ``<run>/keras_tuner/`` after every step, so a killed
  process loses at most the trial it was running (which is then retried, as under Optuna).

Hyperband's budget (``tuner/epochs``) becomes the epoch at which the trial is pruned; a trial
promoted to a later round retrains from scratch for its larger budget (autoseq's trial does not
resume another trial's weights).
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoseq._interrupt import reason_of
from autoseq._io import read_json, write_json_atomic
from autoseq.backends._base import (
    LOST_REASON,
    MAX_RETRY,
    TrialFn,
    TrialRecord,
    check_meta,
    count_done,
)
from autoseq.backends._kt_space import KerasTunerSuggester, kt_hyperparameters, trial_params
from autoseq.exceptions import SearchError
from autoseq.space import SearchSpace

logger = logging.getLogger("autoseq")

ALGORITHMS = ("random", "bayesian", "hyperband")
STATE_DIR = "keras_tuner"
"""Folder of the run holding KerasTuner's oracle, its trials and autoseq's trial records."""
HYPERBAND_FACTOR = 3
_RECORDS = "autoseq_trials.json"
_ORACLE_FILE = "oracle.json"
_OBJECTIVE = "val_loss"
_TUNER_ID = "autoseq"
_RUNNING, _COMPLETED, _FAILED = "RUNNING", "COMPLETED", "FAILED"  # KerasTuner's TrialStatus


class KerasTunerBackend:
    """Runs trials with a KerasTuner oracle whose state lives in ``<run_dir>/keras_tuner/``.

    Args:
        run_dir: the run folder.
        seed: seeds the oracle.
        algorithm: ``random`` (default), ``bayesian`` (Gaussian process) or ``hyperband``.

    Example:
        >>> backend = KerasTunerBackend(run_dir=Path("results/run"), algorithm="hyperband")
    """

    name = "keras-tuner"

    def __init__(self, *, run_dir: Path, seed: int = 0, algorithm: str = "random"):
        if algorithm not in ALGORITHMS:
            raise SearchError(f"--algorithm for keras-tuner must be one of "
                              f"{', '.join(ALGORITHMS)}. Received: {algorithm}")
        self.run_dir = Path(run_dir)
        self.state_dir = self.run_dir / STATE_DIR
        self.seed = seed
        self.algorithm = algorithm
        self.oracle = None
        self.space: SearchSpace | None = None
        self.max_epochs = 0
        self._meta: dict[str, Any] = {}
        self._trials: list[dict[str, Any]] = []
        self._lock_fd: int | None = None

    # -- opening -------------------------------------------------------------------------------
    def open(self, *, meta: dict[str, Any]) -> None:
        self._take_lock()
        try:
            self._load(_jsonable(meta))
            self.oracle = self._make_oracle()
            if (self.state_dir / _ORACLE_FILE).exists():
                self.oracle.reload()
            self._recover()
            self._save()
        except BaseException:
            self.close()
            raise

    def _load(self, meta: dict[str, Any]) -> None:
        records = self.state_dir / _RECORDS
        if records.exists():
            stored = read_json(records)
            check_meta(stored["meta"], meta, owner=f"the keras-tuner search in {self.state_dir}",
                       new_search="use another --out folder")
            if stored["algorithm"] != self.algorithm:
                raise SearchError(f"{self.run_dir}: this keras-tuner search was created with "
                                  f"--algorithm {stored['algorithm']}; resume it with that "
                                  "algorithm or pass a new --out. Received: --algorithm "
                                  f"{self.algorithm}")
            self._trials = stored["trials"]
        elif (self.state_dir / _ORACLE_FILE).exists():
            raise SearchError(f"{self.state_dir}: KerasTuner state without autoseq's trial "
                              f"records ({_RECORDS}); pass a new --out")
        self._meta = meta
        self.space = SearchSpace.from_dict(meta["space"], source="<run meta>")
        self.max_epochs = int(meta["settings"]["max_epochs"])

    def _make_oracle(self):
        import keras_tuner as kt

        common = {
            "objective": kt.Objective(_OBJECTIVE, direction="min"),
            "hyperparameters": kt_hyperparameters(self.space),
            "seed": self.seed + 1,  # KerasTuner reads seed 0 as "no seed" and draws a random one
            "max_consecutive_failed_trials": sys.maxsize,  # autoseq's failure policy decides
        }
        if self.algorithm == "hyperband":
            # hyperband_iterations=None: brackets keep coming until autoseq's --trials is reached
            oracle = _oracle_class(self.algorithm)(max_epochs=self.max_epochs,
                                                   factor=HYPERBAND_FACTOR,
                                                   hyperband_iterations=None, **common)
        else:
            oracle = _oracle_class(self.algorithm)(max_trials=None, **common)
        oracle.verbose = 0  # the oracle would print a table per trial
        # What Tuner does to give its oracle a folder: KerasTuner has no public way.
        oracle._set_project_dir(str(self.run_dir), STATE_DIR)
        return oracle

    def _recover(self) -> None:
        """Settle what a killed process left: lost trials failed, results the oracle missed."""
        for t in self._trials:
            if t["state"] == "running":
                t["state"], t["reason"] = "failed", LOST_REASON
                logger.warning("trial %d was left running by a process that died; marked failed",
                               t["number"])
        for trial in list(self.oracle.trials.values()):
            if trial.status != _RUNNING:
                # reload() queues every trial oracle.json lists as ongoing, ended ones included
                # (end_trial saves before it drops the trial from ongoing): never re-run those.
                _dequeue(self.oracle, trial.trial_id)
                continue
            mine = [t for t in self._trials if t["kt_trial"] == trial.trial_id]
            lost = sum(t["reason"] == LOST_REASON for t in mine)
            if mine and mine[-1]["state"] != "interrupted" and mine[-1]["reason"] != LOST_REASON:
                self._end(trial, mine[-1])  # stored by autoseq, not yet told to the oracle
            elif lost > MAX_RETRY:
                logger.warning("trial %d: configuration lost %d times; not retried again",
                               mine[-1]["number"], lost)
                self._end(trial, mine[-1])
            # else: reload() queued it, and the oracle hands it out again first (a retry)

    def _take_lock(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SearchError(f"{self.run_dir}: another search is running in this run folder "
                              "(keras-tuner state has one writer); wait for it to finish or "
                              "pass a new --out") from None
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- running -------------------------------------------------------------------------------
    def run(self, trial_fn: TrialFn, *, total: int, should_stop: Callable[[], bool],
            on_record: Callable[[TrialRecord], None]) -> None:
        while count_done(self.records()) < total and not should_stop():
            trial = self.oracle.create_trial(_TUNER_ID)
            if trial.status != _RUNNING:
                logger.warning("keras-tuner %s has no new configuration to try (%s): this space "
                               "is exhausted", self.algorithm, trial.status.lower())
                return
            hps = trial.hyperparameters
            budget = hps.values.get("tuner/epochs")
            budget = budget if budget is not None and budget < self.max_epochs else None
            rec = {"number": len(self._trials), "kt_trial": trial.trial_id, "state": "running",
                   "params": trial_params(hps.values, self.space), "result": {}, "reason": None}
            self._trials.append(rec)
            self._save()
            try:
                result = trial_fn(KerasTunerSuggester(hps, self.space), _BudgetReporter(budget),
                                  rec["number"])
            except KeyboardInterrupt as exc:
                # Left running in the oracle: the next run hands the configuration out again.
                rec["state"], rec["reason"] = "interrupted", reason_of(exc)
                self._save()
                raise
            except Exception as exc:
                rec["state"], rec["reason"] = "failed", _first_line(exc)
                self._save()
                self._end(trial, rec)
                raise
            rec["result"] = _jsonable(result.attrs())
            rec["state"], rec["reason"] = _outcome(result, budget, self.max_epochs)
            self._save()
            self._end(trial, rec)
            on_record(_record(rec))

    def _end(self, trial, rec: dict[str, Any]) -> None:
        """Tell the oracle how a trial ended: its loss, or FAILED (never a non-finite score)."""
        _dequeue(self.oracle, trial.trial_id)  # reload() queued it for a retry
        loss = rec["result"].get("val_loss")
        if rec["state"] in ("complete", "pruned") and _finite(loss):
            self.oracle.update_trial(trial.trial_id, {_OBJECTIVE: float(loss)},
                                     step=int(rec["result"].get("epochs") or 0))
            trial.status = _COMPLETED
        else:
            trial.status, trial.message = _FAILED, rec["reason"]
        self.oracle.end_trial(trial)
        self.oracle.save()  # end_trial saved the trial as still ongoing, then dropped it

    def records(self) -> list[TrialRecord]:
        return [_record(t) for t in self._trials]

    def _save(self) -> None:
        write_json_atomic(self.state_dir / _RECORDS, {"meta": self._meta,
                                                      "algorithm": self.algorithm,
                                                      "trials": self._trials})


def _dequeue(oracle, trial_id: str) -> None:
    # The retry queue is private to the oracle; KerasTuner offers no way to take a trial off it.
    while trial_id in oracle._retry_queue:
        oracle._retry_queue.remove(trial_id)


class _BudgetReporter:
    """Prunes a trial once it has trained for its Hyperband budget (no budget: never)."""

    def __init__(self, epochs: int | None):
        self.epochs = epochs

    def report(self, value: float, epoch: int) -> bool:
        return self.epochs is not None and epoch + 1 >= self.epochs


def _outcome(result, budget: int | None, max_epochs: int) -> tuple[str, str | None]:
    if result.state == "failed":
        return "failed", result.reason or "failed"
    if not _finite(result.val_loss):
        return "failed", f"validation loss is not finite ({result.val_loss})"
    if result.state == "pruned":
        return "pruned", f"hyperband budget: {budget} of {max_epochs} epochs" if budget else None
    return "complete", None


def _record(t: dict[str, Any]) -> TrialRecord:
    return TrialRecord(number=t["number"], state=t["state"], params=dict(t["params"]),
                       result=dict(t["result"]), reason=t["reason"])


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=float))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0][:300]}"


def _oracle_class(algorithm: str):
    """KerasTuner's oracle for ``algorithm``, writing its JSON files atomically."""
    import keras_tuner as kt

    base = {"random": kt.oracles.RandomSearchOracle,
            "bayesian": kt.oracles.BayesianOptimizationOracle,
            "hyperband": kt.oracles.HyperbandOracle}[algorithm]

    class _AtomicOracle(base):
        # KerasTuner writes in place: a process killed mid-write would leave a torn JSON file
        # that breaks every later resume.
        def save(self):
            write_json_atomic(self._get_oracle_fname(), self.get_state())

        def _save_trial(self, trial):
            write_json_atomic(Path(self._get_trial_dir(trial.trial_id)) / "trial.json",
                              trial.get_state())

    _AtomicOracle.__name__ = base.__name__
    return _AtomicOracle
