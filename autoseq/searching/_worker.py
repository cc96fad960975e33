"""``autoseq worker``: join an existing study and run its trials with the settings stored in it.

The study holds everything a worker needs — the data's path and fingerprint, the space and the
trial settings — so a worker on another machine only needs the storage URL and the study name.
It is also what ``autoseq search --jobs N`` starts N times on this machine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autoseq._interrupt import DEFAULT_GRACE, check_grace, deferred_interrupts
from autoseq._run_folder import RunSettings
from autoseq.backends import Backend, TrialRecord, count_done, make_backend, read_study_meta
from autoseq.exceptions import DataError, SearchError
from autoseq.model._builder import check_space
from autoseq.run import RUN_FILE, trial_dir
from autoseq.searching._devices import (
    check_precision,
    device_setup,
    enable_determinism,
    env_threads,
)
from autoseq.searching._failures import FailurePolicy
from autoseq.searching._keras_backend import choose_trial_backend, trains_on, use_trial_backend
from autoseq.searching._study import check_run_dir, default_name, worker_run_dir, write_run_file
from autoseq.space import SearchSpace
from autoseq.tasks import check_same_data, task_of
from autoseq.trial._folds import make_folds, run_trial_folds
from autoseq.trial._objective import TrialSettings, check_compile, frozen_survivors

logger = logging.getLogger("autoseq")


@dataclass
class WorkerSummary:
    """What one worker did: trials it ran, and the study's state when it stopped."""

    run_dir: Path
    ran: int
    done: int
    total: int
    stopped_reason: str | None = None


def run_worker(
    storage: str,
    *,
    study: str = "autoseq",
    run_dir: str | Path | None = None,
    data: str | Path | None = None,
    trials: int | None = None,
    timeout: float | None = None,
    max_failures: int = 10,
    precision: str | None = None,
    compile: str | None = None,
    seed: int | None = None,
    grace: float = DEFAULT_GRACE,
    worker_index: int | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> WorkerSummary:
    """Join study ``study`` in ``storage`` and run trials until it holds its total.

    Args:
        storage: the study's storage (``postgresql://…``, a journal file, ``sqlite:///…``).
        study: the study's name.
        run_dir: where this worker writes trial weights and ``run.json`` (default: the search's
            default folder; for a journal file, the file's folder).
        data: this machine's copy of the CSV when it is not at the path the study recorded.
        trials: total trials with a result to reach (default: the total of the last search).
        timeout: seconds after which this worker starts no new trial; its running trial
            stops at its next epoch end and keeps its best epoch.
        max_failures: stop after this many failed trials in a row.
        precision: ``float32`` or ``mixed`` (default: the search's).
        compile: ``auto``, ``on`` or ``off`` (default: the search's; see ``search``).
        seed: this worker's seed, for its sampler and its trials (default: the search's); a
            worker's own business, like ``precision``: it never has to match the study's.
        grace: seconds from SIGTERM to exit (the running trial is queued again).
        worker_index: index among the workers of ``--jobs`` (offsets the sampler's seed).

    Returns:
        A ``WorkerSummary``.

    Raises:
        StorageError, SearchError: no such study, or not an autoseq study.
        DataError: this worker's data is not the study's (fingerprint differs) or is missing.

    Example:
        >>> autoseq.run_worker("postgresql://autoseq@db/autoseq", study="airline")
    """
    meta = read_study_meta(storage, study)
    job = _job(meta, study, trials=trials, precision=precision, compile=compile, seed=seed,
               grace=grace)
    fdata = _study_data(job.run, meta, study, data)
    home = _run_dir(meta, storage, run_dir)
    keras_backend = _load_keras(job, fdata)
    engine = _join(job, storage=storage, study=study, run_dir=home, worker_index=worker_index,
                   keras_backend=keras_backend)
    loop = _WorkerLoop(engine, job, run_dir=home,
                       folds=make_folds(fdata, job.run.folds),
                       policy=FailurePolicy(timeout=timeout, max_failures=max_failures),
                       emit=on_event or _ignore)
    return loop.run(grace=grace)


def _study_data(settings: RunSettings, meta: dict[str, Any], study: str,
                data: str | Path | None):
    """The study's data read on this machine (``data``: its copy of the CSV), checked to be the
    study's own."""
    recorded = (meta.get("data") or {}).get("source")
    source = Path(data or recorded or "")
    if not data and not source.is_file():
        raise DataError(f"{recorded}: study '{study}' was made from this file, which is not on "
                        "this machine; pass this machine's copy with --data")
    kind = task_of(settings)
    fdata = kind.rebuild(settings, meta["data"], source=source)
    check_same_data(kind.fingerprint(fdata), meta["fingerprint"], source=source,
                    where=f"study '{study}'")
    return fdata


def summary_line(summary: WorkerSummary, *, study: str) -> str:
    """The line a worker process ends on: trials run here, and the study's progress."""
    note = f" (stopped: {summary.stopped_reason})" if summary.stopped_reason else ""
    return (f"worker done: {summary.ran} trial{'s' * (summary.ran != 1)} run here; study "
            f"'{study}' holds {summary.done} of {summary.total}{note}")


@dataclass(frozen=True)
class _Job:
    """A worker's settings: the study's, with this worker's own choices resolved."""

    meta: dict[str, Any]
    run: RunSettings
    space: SearchSpace
    total: int
    precision: str
    compile: str
    seed: int

    @property
    def settings(self) -> TrialSettings:
        return TrialSettings(max_epochs=self.run.max_epochs, patience=self.run.patience,
                             seed=self.seed, builder=self.space.builder, metric=self.run.metric,
                             compile=self.compile)


def _job(meta: dict[str, Any], study: str, *, trials: int | None, precision: str | None,
         compile: str | None, seed: int | None, grace: float) -> _Job:
    """The study's settings and this worker's options, checked before any data is read."""
    s = RunSettings.from_dict(meta["settings"])
    space = SearchSpace.from_dict(meta["space"], source=f"study '{study}'")
    check_space(space)
    total = trials or meta.get("target")
    if not total or total < 1:
        raise SearchError(f"study '{study}' records no total of trials; pass --trials N")
    precision = check_precision(precision or meta.get("precision") or "float32")
    compile = check_compile(compile or meta.get("compile") or "auto")
    check_grace(grace)
    return _Job(meta=meta, run=s, space=space, total=total, precision=precision,
                compile=compile, seed=s.seed if seed is None else seed)


def _run_dir(meta: dict[str, Any], storage: str, run_dir: str | Path | None) -> Path:
    """This worker's run folder, checked to hold this study's search or none."""
    s = RunSettings.from_dict(meta["settings"]).data
    home = worker_run_dir(run_dir, storage, default=default_name(
        meta["data"]["source"], list(s.get("targets") or [s["target"]])))
    check_run_dir(home, meta, "optuna")
    return home


def _load_keras(job: _Job, fdata: Any) -> str:
    """Load Keras on the backend this worker's trials train on, by the search's rule
    (``choose_trial_backend``: the ``KERAS_BACKEND`` a ``--jobs`` parent set, else JAX for long
    trials on a CPU); its name."""
    choice = choose_trial_backend(compile=job.compile, task=task_of(job.run), data=fdata,
                                  space=job.space, epochs=job.run.max_epochs,
                                  deterministic=bool(job.run.deterministic),
                                  precision=job.precision, seed=job.seed)
    name = use_trial_backend(choice)
    from autoseq._tf import quiet_tensorflow_logger

    quiet_tensorflow_logger()
    logger.info(trains_on(name, choice.why))
    return name


def _join(job: _Job, *, storage: str, study: str, run_dir: Path,
          worker_index: int | None, keras_backend: str | None = None) -> Backend:
    """Open the study as one more worker; write ``run.json`` where this worker starts a folder."""
    engine = make_backend("optuna", run_dir=run_dir, storage=storage, study_name=study,
                          seed=job.seed, algorithm=job.meta.get("algorithm"),
                          pruner=job.meta.get("pruner"),
                          prune_warmup=job.run.prune_warmup or None,
                          worker_index=worker_index,
                          tags={"precision": job.precision,
                                "gpu": os.environ.get("CUDA_VISIBLE_DEVICES")})
    run_dir.mkdir(parents=True, exist_ok=True)
    engine.open(meta=job.meta)
    if not (run_dir / RUN_FILE).exists():
        write_run_file(run_dir, job.meta, storage=storage, study=study,
                       algorithm=job.meta.get("algorithm"),
                       extra={"precision": job.precision, "compile": job.compile,
                              "keras_backend": keras_backend})
    return engine


class _WorkerLoop:
    """One worker's trials on an open study, until it holds its total or the policy stops."""

    def __init__(self, engine: Backend, job: _Job, *, run_dir: Path, folds: list,
                 policy: FailurePolicy, emit: Callable[[dict[str, Any]], None]):
        self.engine = engine
        self.job = job
        self.run_dir = run_dir
        self.folds = folds
        self.settings = job.settings
        self.policy = policy
        self.emit = emit
        self.ran = 0

    def run(self, *, grace: float) -> WorkerSummary:
        try:
            with (deferred_interrupts(grace=grace),
                  device_setup(precision=self.job.precision, threads=env_threads()),
                  frozen_survivors()):
                if self.job.run.deterministic:
                    enable_determinism(self.job.seed)
                self.engine.run(self.trial_fn, total=self.job.total,
                                should_stop=self.policy.should_stop, on_record=self.on_record)
            done = count_done(self.engine.records())
        finally:
            self.engine.close()
        return WorkerSummary(run_dir=self.run_dir, ran=self.ran, done=done, total=self.job.total,
                             stopped_reason=self.policy.stopped)

    def trial_fn(self, suggester, reporter, number: int):
        self.emit({"kind": "trial_start", "number": number})
        return run_trial_folds(suggester, reporter, number=number, folds=self.folds,
                               space=self.job.space,
                               settings=replace(self.settings, deadline=self.policy.deadline),
                               trial_dir=trial_dir(self.run_dir, number))

    def on_record(self, record: TrialRecord) -> None:
        self.ran += 1
        self.policy.record(record)
        logger.info("trial %d %s%s", record.number, record.state,
                    f" val_loss {record.val_loss:.4g}" if record.val_loss is not None
                    else f": {record.reason}")
        self.emit({"kind": "trial", "record": record, "total": self.job.total})


def _ignore(event: dict[str, Any]) -> None:
    pass
