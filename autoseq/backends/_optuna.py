"""The Optuna backend (default): TPE, pruning, a study in SQLite or any RDB URL."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoseq.backends._base import LOST_REASON as _LOST
from autoseq.backends._base import MAX_RETRY, TrialFn, TrialRecord, check_meta
from autoseq.exceptions import SearchError, StorageError

logger = logging.getLogger("autoseq")

ALGORITHMS = ("tpe", "random", "cmaes", "gp")
PRUNERS = ("median", "none")
_META = "autoseq_meta"
_POLL_SECONDS = 2.0


def redact_url(url: str) -> str:
    """``postgresql://user:secret@host/db`` → ``postgresql://user:***@host/db``.

    A password holding a raw ``@`` is hidden whole, and so is one passed as ``?password=``.
    """
    url = re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)
    return re.sub(r"((?:password|passwd|pwd)=)[^&;\s]*", r"\1***", url, flags=re.IGNORECASE)


class _TrialFailed(Exception):
    pass


class _Surplus(Exception):
    pass


class OptunaBackend:
    """Runs trials in an Optuna study.

    Args:
        storage: an RDB URL (``sqlite:///…``, ``postgresql://…``).
        study_name: the study's name in the storage.
        seed: seeds the sampler.
        algorithm: ``tpe`` (default), ``random``, ``cmaes`` or ``gp``.
        pruner: ``median`` (default) or ``none``.
        lock_dir: the run folder; while this process holds its lock, trials left RUNNING by a
            killed process are failed (and retried) at once instead of after the heartbeat grace.
    """

    name = "optuna"

    def __init__(self, *, storage: str, study_name: str, seed: int = 0, algorithm: str = "tpe",
                 pruner: str = "median", lock_dir: Path | None = None):
        if algorithm not in ALGORITHMS:
            raise SearchError(f"--algorithm for optuna must be one of {', '.join(ALGORITHMS)}. "
                              f"Received: {algorithm}")
        if pruner not in PRUNERS:
            raise SearchError(f"pruner for optuna must be one of {', '.join(PRUNERS)}. "
                              f"Received: {pruner}")
        self.storage_url = storage
        self.study_name = study_name
        self.seed = seed
        self.algorithm = algorithm
        self.pruner = pruner
        self.lock_dir = lock_dir
        self._lock_fd: int | None = None
        self.study = None

    # -- opening -------------------------------------------------------------------------------
    def open(self, *, meta: dict[str, Any]) -> None:
        import optuna

        # ERROR: Optuna would log every failed trial with a traceback; autoseq reports each
        # trial's state and reason itself.
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        storage = self._storage()
        try:
            self.study = optuna.create_study(storage=storage, study_name=self.study_name,
                                             sampler=self._sampler(), pruner=self._pruner(),
                                             direction="minimize", load_if_exists=True)
        except Exception as exc:  # noqa: BLE001 - the engine's many DB errors become one message
            raise StorageError(f"cannot open study '{self.study_name}' in "
                               f"{redact_url(self.storage_url)}: {_first_line(exc)}") from None
        resumed = len(self.study.get_trials(deepcopy=False))
        if resumed:  # seeded as on the first run, the sampler would draw trial 0's values again
            self.study.sampler = self._sampler(seed=self.seed + resumed)
        stored = self.study.user_attrs.get(_META)
        if stored is None:
            self.study.set_user_attr(_META, meta)
        else:
            check_meta(stored, meta, owner=f"study '{self.study_name}'",
                       new_search="use another --study (or --out folder)")
        self._take_lock()

    def _storage(self):
        import optuna
        from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

        url = self.storage_url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs = {"connect_args": {"timeout": 60}}
        else:
            kwargs = {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 2,
                      "pool_recycle": 1800}
        try:
            return RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=20, grace_period=60,
                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                                  max_retry=MAX_RETRY))
        except ImportError:
            scheme = url.split(":", 1)[0]
            raise StorageError(f"cannot use storage {redact_url(url)}: the database driver for "
                               f"'{scheme}' is not installed; install it (pip install "
                               "'autoseq[postgres]' for PostgreSQL) or use sqlite:///PATH") \
                from None
        except Exception as exc:  # noqa: BLE001 - sqlalchemy connection errors of every kind
            from sqlalchemy.exc import ArgumentError

            if isinstance(exc, ArgumentError | ValueError | optuna.exceptions.OptunaError):
                raise StorageError(f"cannot use storage {redact_url(url)}: {_first_line(exc)}; "
                                   "pass a URL such as sqlite:///PATH/study.db or "
                                   "postgresql://USER:PASSWORD@HOST/DB") from None
            todo = ("check that its folder exists and can be written" if url.startswith("sqlite")
                    else "check that the server is running and the URL is right")
            raise StorageError(f"cannot reach storage {redact_url(url)}: {_first_line(exc)}; "
                               f"{todo}") from None

    def _sampler(self, seed: int | None = None):
        import optuna

        seed = self.seed if seed is None else seed
        if self.algorithm == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if self.algorithm == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        if self.algorithm == "gp":
            return optuna.samplers.GPSampler(seed=seed)
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=5)

    def _pruner(self):
        import optuna

        if self.pruner == "none":
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)

    def _take_lock(self) -> None:
        if self.lock_dir is None:
            return
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._lock_fd = fd
        except OSError:
            os.close(fd)

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def enqueue(self, points: list[dict[str, Any]]) -> int:
        """Queue configurations to be tried first — only in a study that has no trial yet.

        Returns:
            How many were queued.
        """
        if not points or self.study.get_trials(deepcopy=False):
            return 0
        for point in points:
            self.study.enqueue_trial(point, skip_if_exists=True)
        return len(points)

    # -- running -------------------------------------------------------------------------------
    def run(self, trial_fn: TrialFn, *, total: int, should_stop: Callable[[], bool],
            on_record: Callable[[TrialRecord], None]) -> None:
        import optuna
        from optuna.trial import TrialState

        study = self.study
        while True:
            self._fail_stale()
            trials = study.get_trials(deepcopy=False)
            done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
            if done >= total or should_stop():
                return
            running = sum(t.state == TrialState.RUNNING for t in trials)
            if done + running >= total:
                time.sleep(_POLL_SECONDS)  # others hold the last slots; take one if theirs fail
                continue
            holder: dict[str, Any] = {}

            def objective(trial, holder=holder):
                holder["number"] = trial.number
                trial.set_user_attr("reason", None)  # a retried trial inherits its original's
                if _ahead(study, trial.number) >= total:
                    trial.set_user_attr("surplus", True)
                    raise _Surplus()
                try:
                    result = trial_fn(trial, _Reporter(trial), trial.number)
                except KeyboardInterrupt:
                    trial.set_user_attr("reason", "interrupted by the user (Ctrl-C)")
                    raise
                trial.set_user_attr("result", _jsonable(result.attrs()))
                if result.state == "failed":
                    trial.set_user_attr("reason", result.reason)
                    raise _TrialFailed(result.reason)
                if result.state == "pruned":
                    raise optuna.TrialPruned(f"pruned at epoch {result.epochs}")
                return result.val_loss

            study.optimize(objective, n_trials=1, catch=(_TrialFailed, _Surplus))
            if "number" in holder:
                frozen = study.get_trials(deepcopy=False)[holder["number"]]
                if not frozen.user_attrs.get("surplus"):
                    on_record(_record(frozen))

    def _fail_stale(self) -> None:
        import optuna
        from optuna.storages import RetryHeartbeatStaleTrialCallback
        from optuna.trial import TrialState

        study = self.study
        if self._lock_fd is None or not self._owns_storage():
            optuna.storages.fail_stale_trials(study)
            return
        retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            study._storage.set_trial_user_attr(t._trial_id, "reason", _LOST)
            if study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                logger.warning("trial %d was left running by a process that died; marked failed",
                               t.number)
                retry(study, study._storage.get_trial(t._trial_id))

    def _owns_storage(self) -> bool:
        return (self.lock_dir is not None and self.storage_url.startswith("sqlite:///")
                and Path(self.storage_url[len("sqlite:///"):]).resolve().parent
                == self.lock_dir.resolve())

    def records(self) -> list[TrialRecord]:
        return [_record(t) for t in self.study.get_trials(deepcopy=False)
                if not t.user_attrs.get("surplus") and t.state.name != "WAITING"]


class _Reporter:
    def __init__(self, trial):
        self.trial = trial

    def report(self, value: float, epoch: int) -> bool:
        self.trial.report(value, epoch)
        return self.trial.should_prune()


def _ahead(study, number: int) -> int:
    """Trials that took a slot before trial ``number``: the database's numbering arbitrates."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return sum(t.number < number for t in study.get_trials(deepcopy=False, states=states))


def _record(t) -> TrialRecord:
    state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed",
             "RUNNING": "running"}.get(t.state.name, t.state.name.lower())
    reason = t.user_attrs.get("reason")
    if state == "failed" and reason and reason.startswith("interrupted"):
        state = "interrupted"
    if state == "failed" and not reason:
        reason = _LOST if "result" not in t.user_attrs else "failed"
    return TrialRecord(number=t.number, state=state, params=dict(t.params),
                       result=dict(t.user_attrs.get("result") or {}), reason=reason)


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=float))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return redact_url(text.splitlines()[0])[:300]
