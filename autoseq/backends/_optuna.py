"""The Optuna backend (default): TPE, pruning, a study in SQLite, a journal file or any RDB URL.

Several processes — on one machine or many — can share one study: the storage arbitrates which
trials count towards the total, heartbeats (RDB storages) and the run folder's registry of live
workers (local processes) fail the trials of a worker that died, and those are retried (bounded).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoseq.backends._base import LOST_REASON as _LOST
from autoseq.backends._base import MAX_RETRY, TrialFn, TrialRecord, check_meta
from autoseq.backends._registry import WorkerRegistry, worker_id
from autoseq.exceptions import SearchError, StorageError

logger = logging.getLogger("autoseq")

ALGORITHMS = ("tpe", "random", "cmaes", "gp")
PRUNERS = ("median", "none")
_META = "autoseq_meta"
TARGET = "autoseq_trials"
_POLL_SECONDS = 2.0
_META_WAIT_SECONDS = 30.0
HEARTBEAT_ENV = "AUTOSEQ_HEARTBEAT"
"""``interval,grace`` in seconds for RDB heartbeats (default ``20,60``); short values for tests."""
# Attributes a retried trial must not inherit from the attempt that died.
_PER_ATTEMPT = ("worker", "reason", "result", "surplus")


def redact_url(url: str) -> str:
    """``postgresql://user:secret@host/db`` → ``postgresql://user:***@host/db``.

    A password holding a raw ``@`` is hidden whole, and so is one passed as ``?password=``.
    """
    url = re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)
    return re.sub(r"((?:password|passwd|pwd)=)[^&;\s]*", r"\1***", url, flags=re.IGNORECASE)


def is_journal(url: str) -> bool:
    """A storage given as a file path (no ``scheme://``) is an Optuna journal file."""
    return "://" not in url


class _TrialFailed(Exception):
    pass


class _Surplus(Exception):
    pass


class OptunaBackend:
    """Runs trials in an Optuna study, alone or with other processes sharing it.

    Args:
        storage: an RDB URL (``sqlite:///…``, ``postgresql://…``) or a journal file path.
        study_name: the study's name in the storage.
        seed: seeds the sampler (offset per worker so parallel workers draw differently).
        algorithm: ``tpe`` (default), ``random``, ``cmaes`` or ``gp``.
        pruner: ``median`` (default) or ``none``.
        lock_dir: the run folder; this process registers there as a live worker, so that the
            trials of a local worker that died are failed (and retried) at once instead of after
            the heartbeat grace period — the only way for journal storages, which have none.
        worker_index: this worker's index among parallel workers (``--jobs``); ``None`` for a
            process started on its own.
        tags: user attributes stored with every trial this process runs.
        warmup: epochs before the median pruner may stop a trial.
    """

    name = "optuna"

    def __init__(self, *, storage: str, study_name: str, seed: int = 0, algorithm: str = "tpe",
                 pruner: str = "median", lock_dir: Path | None = None,
                 worker_index: int | None = None, tags: dict[str, Any] | None = None,
                 warmup: int = 2):
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
        self.warmup = warmup
        self.lock_dir = lock_dir
        self.worker_index = worker_index
        self.tags = dict(tags or {})
        self.registry = WorkerRegistry(lock_dir) if lock_dir is not None else None
        self.worker_id = worker_id()
        self.study = None
        self._giving_back = threading.Lock()
        self._given_back: set[int] = set()

    # -- opening -------------------------------------------------------------------------------
    def open(self, *, meta: dict[str, Any]) -> None:
        """Create the study (storing ``meta``) or join it (refusing a different ``meta``)."""
        import optuna

        _quiet_optuna()
        storage = self._storage()
        created = True
        try:
            try:
                study = optuna.create_study(storage=storage, study_name=self.study_name,
                                            pruner=self._pruner(), direction="minimize")
            except optuna.exceptions.DuplicatedStudyError:
                created = False
                study = optuna.load_study(storage=storage, study_name=self.study_name,
                                          pruner=self._pruner())
            # The creator stores the meta; joiners started at the same moment wait for it, so
            # two searches with different data can never both run in one study.
            stored = _stored_meta(study, wait=not created)
            if stored is None:
                study.set_user_attr(_META, meta)
            else:
                check_meta(stored, meta, owner=f"study '{self.study_name}'",
                           new_search="use another --study (or --out folder)")
        except SearchError:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine's many DB errors become one message
            raise StorageError(f"cannot open study '{self.study_name}' in "
                               f"{redact_url(self.storage_url)}: {_first_line(exc)}") from None
        self.study = study
        if self.registry is not None:
            self.registry.register()
        alone = self.registry is not None and not self.registry.others_alive()
        if not alone and self.storage_url.startswith("sqlite") and self._owns_storage():
            self.close()
            raise SearchError(f"{self.lock_dir}: another autoseq process is running this search, "
                              "and its SQLite study cannot be shared safely; wait for it to "
                              "finish, or run the search with --jobs N (a journal file)")
        study.sampler = self._sampler(self._sampler_seed(
            first=created or (alone and self._owns_storage()),
            existing=len(study.get_trials(deepcopy=False))))
        self.reap()

    def set_target(self, total: int) -> None:
        """Store the search's total, which ``autoseq worker`` uses unless told otherwise."""
        self.study.set_user_attr(TARGET, int(total))

    def _sampler_seed(self, *, first: bool, existing: int) -> int:
        """The seed plus an offset per worker and per trials already in the study.

        Samplers seeded alike draw the same start-up configurations: parallel workers would
        duplicate each other's trials, and a resumed search its own first ones.
        """
        if self.worker_index is not None:
            offset = 7919 * self.worker_index
        elif first:
            offset = 0
        else:  # joined a study others are running: no index, so this process's identity
            offset = zlib.crc32(self.worker_id.encode()) % 1_000_003
        return (self.seed + offset + 104_729 * existing) % 2**32

    def _storage(self):
        return make_storage(self.storage_url)

    def _sampler(self, seed: int):
        import optuna

        if self.algorithm == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if self.algorithm == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        if self.algorithm == "gp":
            return optuna.samplers.GPSampler(seed=seed)
        # constant_liar: a running trial counts as a bad result, so parallel workers spread out.
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=5)

    def _pruner(self):
        import optuna

        if self.pruner == "none":
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=self.warmup)

    def enqueue(self, points: list[dict[str, Any]], *, total: int) -> int:
        """Queue configurations to be tried first — only in a study that has no trial yet.

        At most ``total`` are queued: a study never holds a configuration it will not run.

        Returns:
            How many were queued.
        """
        if not points or self.study.get_trials(deepcopy=False):
            return 0
        points = points[:total]
        for point in points:
            self.study.enqueue_trial(point, skip_if_exists=True)
        return len(points)

    def close(self) -> None:
        if self.registry is not None:
            self.registry.close()
        if self.study is not None:
            dispose_storage(self.study._storage)

    # -- running -------------------------------------------------------------------------------
    def run(self, trial_fn: TrialFn, *, total: int, should_stop: Callable[[], bool],
            on_record: Callable[[TrialRecord], None]) -> None:
        try:
            self._run(trial_fn, total=total, should_stop=should_stop, on_record=on_record)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "sqlalchemy":
                raise
            raise StorageError(f"lost the study storage {redact_url(self.storage_url)}: "
                               f"{_first_line(exc)}; finished trials are kept, run the same "
                               "command again to resume") from None

    def _run(self, trial_fn: TrialFn, *, total: int, should_stop: Callable[[], bool],
             on_record: Callable[[TrialRecord], None]) -> None:
        import optuna
        from optuna.trial import TrialState

        from autoseq._interrupt import Terminated, on_abandon, reason_of

        study = self.study
        while True:
            self.reap()
            trials = study.get_trials(deepcopy=False)
            done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
            if done >= total:
                self._drop_queued(done, total)
                return
            if should_stop():
                return
            running = sum(t.state == TrialState.RUNNING for t in trials)
            if done + running + _retries_due(trials) >= total:
                time.sleep(_POLL_SECONDS)  # others hold the last slots; take one if theirs fail
                continue
            holder: dict[str, Any] = {}

            def objective(trial, holder=holder):
                holder["number"], holder["trial"] = trial.number, trial
                trial.set_user_attr("worker", self.worker_id)
                for key, value in self.tags.items():
                    trial.set_user_attr(key, value)
                if _ahead(study, trial) >= total:
                    trial.set_user_attr("surplus", True)
                    raise _Surplus()
                try:
                    with on_abandon(lambda: self._give_back(trial, Terminated.reason)):
                        result = trial_fn(trial, _Reporter(trial), trial.number)
                except KeyboardInterrupt as exc:
                    holder["interrupted"] = reason_of(exc)
                    trial.set_user_attr("reason", holder["interrupted"])
                    raise
                trial.set_user_attr("result", _jsonable(result.attrs()))
                if result.state == "failed":
                    trial.set_user_attr("reason", result.reason)
                    raise _TrialFailed(result.reason)
                if result.state == "pruned":
                    raise optuna.TrialPruned(f"pruned at epoch {result.epochs}")
                return result.val_loss

            try:
                study.optimize(objective, n_trials=1, catch=(_TrialFailed, _Surplus))
            except Terminated:
                if "interrupted" in holder:
                    self._give_back(holder["trial"], Terminated.reason)
                raise
            except (ValueError, optuna.exceptions.UpdateFinishedTrialError) as exc:
                # Optuna's words when a trial it runs was finished by someone else.
                lost = isinstance(exc, optuna.exceptions.UpdateFinishedTrialError) or str(
                    exc).startswith("Cannot tell a")
                if not (lost and self._taken_from_us(holder.get("number"))):
                    raise
                continue
            if "number" in holder:
                frozen = study.get_trials(deepcopy=False)[holder["number"]]
                if not frozen.user_attrs.get("surplus"):
                    on_record(_record(frozen))

    def _give_back(self, trial, reason: str) -> None:
        """Fail our running ``trial`` as interrupted and queue it again for another worker.

        SIGTERM: called by the main thread once Optuna failed the trial, or by the watchdog while
        the trial still runs; whichever comes first does it, once.
        """
        import optuna
        from optuna.trial import TrialState

        with self._giving_back:
            if trial.number in self._given_back:
                return
            self._given_back.add(trial.number)
            storage = self.study._storage
            try:
                storage.set_trial_user_attr(trial._trial_id, "reason", reason)
                storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # Optuna failed it already (the main thread got there first)
            frozen = storage.get_trial(trial._trial_id)
            if frozen.state == TrialState.FAIL and frozen.user_attrs.get("reason") == reason:
                logger.warning("trial %d interrupted by SIGTERM; queued again for another "
                               "worker", trial.number)
                retry_lost_trial(self.study, frozen)

    def _drop_queued(self, done: int, total: int) -> None:
        """Fail what is still queued once the study holds its total: nothing is left waiting.

        A queued configuration (a starting point, a lost trial's retry) may miss its turn when
        other trials filled the last slots; it is marked failed with the reason, out of sight of
        the leaderboard like a surplus trial. Not while the search's own total (stored with the
        study) is ahead of this worker's: a worker told ``--trials`` fewer is done, the study not.
        """
        import optuna
        from optuna.trial import TrialState

        total = max(total, int(self.study.user_attrs.get(TARGET) or 0))
        if done < total:
            return
        storage = self.study._storage
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            try:
                storage.set_trial_user_attr(t._trial_id, "surplus", True)
                storage.set_trial_user_attr(t._trial_id, "reason", "not run: the study reached "
                                            f"its total of {total} trials first")
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue  # another worker dropped it, or took it (it yields as surplus)

    def _taken_from_us(self, number: int | None) -> bool:
        """Whether another worker failed our running trial, taking it for lost.

        That happens when this process stalled past the heartbeat grace period (a suspended
        machine, a long network cut): Optuna then refuses our updates. The trial's retry runs
        elsewhere; this worker carries on with the next one.
        """
        if number is None:
            return False
        trial = self.study.get_trials(deepcopy=False)[number]
        if trial.state.name != "FAIL":
            return False
        logger.warning("trial %d was declared lost by another worker (no heartbeat from this "
                       "process within the grace period); it is retried, this worker goes on",
                       number)
        return True

    def reap(self) -> None:
        """Fail (and retry) the trials of workers known to be dead.

        RDB storages: a trial whose heartbeat is older than the grace period. Every storage: a
        trial whose worker ran on this host and registered in this run folder but whose lock is
        free, and, when the storage is this run folder's own file, a trial of a worker that never
        registered here while no other process holds the folder.
        """
        import optuna
        from optuna.trial import TrialState

        study = self.study
        optuna.storages.fail_stale_trials(study)
        if self.registry is None:
            return
        owned = self._owns_storage()
        alone: bool | None = None
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            wid = t.user_attrs.get("worker")
            alive = self.registry.alive(wid) if wid else None
            if alive is None and owned:
                if wid and wid.rpartition(":")[0] == self.registry.host:
                    alive = False  # every local user of this storage registers here
                elif not wid:
                    if alone is None:
                        alone = not self.registry.others_alive()
                    alive = False if alone else None
            if alive is False:
                self._fail_lost(t)

    def _fail_lost(self, t) -> None:
        import optuna
        from optuna.trial import TrialState

        storage = self.study._storage
        try:
            storage.set_trial_user_attr(t._trial_id, "reason", _LOST)
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                return
        except optuna.exceptions.UpdateFinishedTrialError:
            return
        logger.warning("trial %d was left running by a worker that died; marked failed",
                       t.number)
        retry_lost_trial(self.study, storage.get_trial(t._trial_id))

    def _owns_storage(self) -> bool:
        """Whether the storage is a file inside this run folder (so only local processes use it)."""
        if self.lock_dir is None:
            return False
        url = self.storage_url
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///"):]
        elif is_journal(url):
            path = url
        else:
            return False
        return Path(path).resolve().parent == Path(self.lock_dir).resolve()

    def records(self) -> list[TrialRecord]:
        return [_record(t) for t in self.study.get_trials(deepcopy=False)
                if not t.user_attrs.get("surplus") and t.state.name != "WAITING"]

    def progress(self) -> tuple[int, int]:
        """``(done, running)``: trials with a result, and trials running now in any worker."""
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
        return done, sum(t.state == TrialState.RUNNING for t in trials)


def make_storage(url: str):
    """The Optuna storage for ``url``; heartbeats and a pre-pinged pool for RDB servers.

    Raises:
        StorageError: the URL is malformed, its driver is missing or the server cannot be reached.
    """
    import optuna
    from optuna.storages import RDBStorage

    if is_journal(url):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        try:
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(str(url)))
        except OSError as exc:
            raise StorageError(f"cannot use journal file {url}: {_first_line(exc)}") from None
    if url.startswith("postgres://"):  # Heroku-style alias that SQLAlchemy 2 no longer takes
        url = "postgresql://" + url[len("postgres://"):]
    _check_driver(url)
    kwargs: dict[str, Any]
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
    else:
        # One connection for the trial loop and one for the heartbeat thread, with room to spare;
        # pre-ping and recycle replace connections that a server or firewall dropped while a long
        # trial ran, and TCP keepalives stop idle ones from being dropped in the first place.
        kwargs = {"pool_size": 2, "max_overflow": 2, "pool_pre_ping": True, "pool_recycle": 1800,
                  "pool_timeout": 60}
        if url.startswith("postgresql"):
            kwargs["connect_args"] = {"keepalives": 1, "keepalives_idle": 60,
                                      "keepalives_interval": 10, "keepalives_count": 6,
                                      "connect_timeout": 30, "application_name": "autoseq"}
    interval, grace = _heartbeat_settings()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=interval,
                              grace_period=grace,
                              heartbeat_stale_trial_callback=retry_lost_trial)
    except ImportError:
        scheme = url.split(":", 1)[0]
        raise StorageError(f"cannot use storage {redact_url(url)}: the database driver for "
                           f"'{scheme}' is not installed; install it (pip install "
                           "'autoseq[postgres]' for PostgreSQL) or use sqlite:///PATH") from None
    except Exception as exc:  # noqa: BLE001 - sqlalchemy connection errors of every kind
        from sqlalchemy.exc import ArgumentError

        if isinstance(exc, ArgumentError | ValueError | optuna.exceptions.OptunaError):
            raise StorageError(f"cannot use storage {redact_url(url)}: {_first_line(exc)}; "
                               "pass a URL such as sqlite:///PATH/study.db, "
                               "postgresql://USER:PASSWORD@HOST/DB or a journal file path") \
                from None
        todo = ("check that its folder exists and can be written" if url.startswith("sqlite")
                else "check that the server is running and the URL is right")
        raise StorageError(f"cannot reach storage {redact_url(url)}: {_first_line(exc)}; "
                           f"{todo}") from None


def _check_driver(url: str) -> None:
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("postgresql", "postgresql+psycopg"):
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StorageError(f"storage {redact_url(url)} needs the PostgreSQL driver psycopg, "
                           "which is not installed; install it with: pip install "
                           "\"autoseq[postgres]\"") from None


def _heartbeat_settings() -> tuple[int, int]:
    raw = os.environ.get(HEARTBEAT_ENV, "")
    if not raw:
        return 20, 60
    try:
        interval, grace = (int(v) for v in raw.split(","))
        if interval < 1 or grace <= interval:
            raise ValueError
    except ValueError:
        raise StorageError(f"{HEARTBEAT_ENV} must be 'interval,grace' in whole seconds with "
                           f"grace > interval ≥ 1. Received: {raw!r}") from None
    return interval, grace


def retry_lost_trial(study, trial) -> None:
    """Queue a lost trial's parameters again, at most ``MAX_RETRY`` times per original trial.

    Like Optuna's ``RetryHeartbeatStaleTrialCallback`` (same ``failed_trial`` and
    ``retry_history`` system attributes), but the retry does not inherit the attributes of the
    attempt that died (its worker, reason or partial result).
    """
    import optuna

    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    if len(history) > MAX_RETRY:
        logger.warning("trial %d is not retried: it was lost %d times", trial.number,
                       len(history))
        return
    system_attrs = dict(trial.system_attrs) | {
        "failed_trial": trial.system_attrs.get("failed_trial", trial.number),
        "retry_history": history, "queued_at": time.time()}
    user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in _PER_ATTEMPT}
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.WAITING,
                                        params=trial.params, distributions=trial.distributions,
                                        user_attrs=user_attrs, system_attrs=system_attrs))


def read_study_meta(storage: str, study_name: str) -> dict[str, Any]:
    """The autoseq settings stored with an existing study (for ``autoseq worker``).

    Raises:
        StorageError: the storage cannot be opened.
        SearchError: no such study, or it was not made by ``autoseq search``.
    """
    import optuna

    _quiet_optuna()
    store = make_storage(storage)
    try:
        study = optuna.load_study(storage=store, study_name=study_name)
    except KeyError:
        names = ", ".join(s.study_name for s in optuna.get_all_study_summaries(store)) or "none"
        raise SearchError(f"no study '{study_name}' in {redact_url(storage)} (studies there: "
                          f"{names}); start one with 'autoseq search … --storage URL --study "
                          "NAME', then add workers") from None
    except Exception as exc:  # noqa: BLE001
        raise StorageError(f"cannot open study '{study_name}' in {redact_url(storage)}: "
                           f"{_first_line(exc)}") from None
    try:
        meta = _stored_meta(study, wait=True)
        target = study.user_attrs.get(TARGET)
    finally:
        dispose_storage(store)
    if meta is None or "settings" not in meta:
        raise SearchError(f"study '{study_name}' in {redact_url(storage)} was not made by "
                          "'autoseq search' (it holds no autoseq settings)")
    return meta | {"target": target}


def dispose_storage(storage) -> None:
    """Close an RDB storage's pooled connections now rather than whenever it is collected."""
    storage = getattr(storage, "_backend", storage)  # Optuna wraps RDB storages in a cache
    engine = getattr(storage, "engine", None)
    if engine is not None:
        storage.remove_session()
        engine.dispose()


def _stored_meta(study, *, wait: bool) -> dict[str, Any] | None:
    deadline = time.monotonic() + (_META_WAIT_SECONDS if wait else 0)
    while True:
        stored = study.user_attrs.get(_META)
        if stored is not None or time.monotonic() >= deadline:
            return stored
        time.sleep(0.5)


def _quiet_optuna() -> None:
    import optuna

    # ERROR: Optuna would log every failed trial with a traceback; autoseq reports each trial's
    # state and reason itself.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


class _Reporter:
    def __init__(self, trial):
        self.trial = trial

    def report(self, value: float, epoch: int) -> bool:
        self.trial.report(value, epoch)
        return self.trial.should_prune()


def _ahead(study, trial) -> int:
    """Trials that hold a slot before ``trial``: slots go in the order trials claimed them.

    Finished trials always hold theirs. A fresh trial claims its slot when it is created (running),
    so between two fresh trials the storage's numbering is their order, exact whatever the
    machines' clocks. A lost trial's retry claims its slot when it is queued (``queued_at``) and
    holds it while it waits: a fresh trial started after it yields to it, so the retry is never
    dropped for a newcomer. A queued starting point claims its slot when a worker takes it.
    Against a queued trial, times decide, then numbers. Both members of any pair order it the
    same way, so exactly one of two trials contending for the last slot yields. A fresh trial
    also counts the lost trials whose retry is about to be queued (``_retries_due``): Optuna
    fails a stale trial inside ``optimize``, after this worker found a free slot.
    """
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
    every = study.get_trials(deepcopy=False)
    trials = [t for t in every if t.state in states
              and (t.state != TrialState.WAITING or "queued_at" in t.system_attrs)]
    me = next((t for t in trials if t.number == trial.number), None)
    if me is None:  # finished meanwhile by another worker: it holds nothing
        return len(trials)
    due = 0 if _queued(me) else _retries_due(every)

    def before_me(t) -> bool:
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
            return True
        if not (_queued(t) or _queued(me)):
            return t.number < me.number
        return (_claimed(t), t.number) < (_claimed(me), me.number)

    return due + sum(before_me(t) for t in trials if t.number != me.number)


def _retries_due(trials, now: float | None = None) -> int:
    """Lost trials already failed whose retry is not queued yet: each still holds its slot.

    Failing a lost trial and queuing its retry are two writes (Optuna's heartbeat check fails the
    trial, then calls ``retry_lost_trial``; so do ``reap`` and a SIGTERM's give-back). A worker
    that looked between the two would see a free slot and start a fresh trial that the retry,
    queued a moment later, then yields to: the lost configuration would never run. A lost trial
    (failed by a heartbeat check: no reason, result or surplus mark; or failed with the reason of
    a dead or stopped worker) that may still be retried holds its slot until its retry appears —
    or for a heartbeat grace period after it failed, should the process queuing it die between
    the two writes.
    """
    from autoseq._interrupt import Terminated

    now = time.time() if now is None else now
    grace = _heartbeat_settings()[1]
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", ())}

    def due(t) -> bool:
        if t.state.name != "FAIL" or t.number in retried or t.datetime_complete is None:
            return False
        if len(t.system_attrs.get("retry_history", ())) >= MAX_RETRY:
            return False  # retry_lost_trial will not queue it again
        reason = t.user_attrs.get("reason")
        lost = reason in (_LOST, Terminated.reason) or (
            reason is None and not {"result", "surplus"} & t.user_attrs.keys())
        # abs: the writer's clock (or time zone) may be ahead of ours; the hold stays bounded
        return lost and abs(now - t.datetime_complete.timestamp()) < grace

    return sum(due(t) for t in trials)


def _queued(t) -> bool:
    return "failed_trial" in t.system_attrs or "fixed_params" in t.system_attrs


def _claimed(t) -> float:
    """When ``t`` claimed its slot (seconds since the epoch): queued, for a retry; else started."""
    if "queued_at" in t.system_attrs:
        return float(t.system_attrs["queued_at"])
    return t.datetime_start.timestamp() if t.datetime_start else float("inf")


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
