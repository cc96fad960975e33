"""``autoseq worker``: join an existing study and run its trials with the settings stored in it.

The study holds everything a worker needs — the data's path and fingerprint, the space and the
trial settings — so a worker on another machine only needs the storage URL and the study name.
It is also what ``autoseq search --jobs N`` starts N times on this machine.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoseq._interrupt import DEFAULT_GRACE
from autoseq.exceptions import DataError, SearchError

logger = logging.getLogger("autoseq")

PRECISIONS = ("float32", "mixed")
THREADS_ENV = "AUTOSEQ_THREADS"
"""TensorFlow threads per worker process; ``--jobs`` sets it so N workers share the cores."""


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
        timeout: seconds after which this worker starts no new trial.
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
    from autoseq._interrupt import check as check_interrupt
    from autoseq._interrupt import check_grace, deferred_interrupts
    from autoseq.backends import OptunaBackend, count_done, read_study_meta
    from autoseq.model._builder import check_space
    from autoseq.run import RUN_FILE, trial_dir
    from autoseq.searching._search import (
        _check_run_dir,
        _default_name,
        _enable_determinism,
        write_run_file,
    )
    from autoseq.space import SearchSpace
    from autoseq.trial._folds import make_folds, run_trial_folds
    from autoseq.trial._objective import TrialSettings, check_compile, frozen_survivors

    emit = on_event or (lambda e: None)
    meta = read_study_meta(storage, study)
    s = meta["settings"]
    space = SearchSpace.from_dict(meta["space"], source=f"study '{study}'")
    check_space(space)
    total = trials or meta.get("target")
    if not total or total < 1:
        raise SearchError(f"study '{study}' records no total of trials; pass --trials N")
    precision = precision or meta.get("precision") or "float32"
    if precision not in PRECISIONS:
        raise SearchError(f"--precision must be one of {', '.join(PRECISIONS)}. "
                          f"Received: {precision}")
    compile = check_compile(compile or meta.get("compile") or "auto")
    check_grace(grace)
    seed = s["seed"] if seed is None else seed
    fdata = _study_data(meta, study, data)
    run_dir = _worker_run_dir(run_dir, storage, meta, default=_default_name(
        meta["data"]["source"], list(s.get("targets") or [s["target"]])))
    _check_run_dir(run_dir, meta, "optuna")
    engine = OptunaBackend(storage=storage, study_name=study, seed=seed,
                           algorithm=meta.get("algorithm") or "tpe",
                           pruner=meta.get("pruner") or "median", lock_dir=run_dir,
                           worker_index=worker_index,
                           **({"warmup": s["prune_warmup"]} if s.get("prune_warmup") else {}),
                           tags={"precision": precision,
                                 "gpu": os.environ.get("CUDA_VISIBLE_DEVICES")})
    run_dir.mkdir(parents=True, exist_ok=True)
    engine.open(meta=meta)
    if not (run_dir / RUN_FILE).exists():
        write_run_file(run_dir, meta, storage=storage, study=study,
                       algorithm=meta.get("algorithm"),
                       extra={"precision": precision, "compile": compile})
    settings = TrialSettings(max_epochs=s["max_epochs"], patience=s["patience"], seed=seed,
                             builder=space.builder, metric=s.get("metric", "mse"),
                             compile=compile)
    folds = make_folds(fdata, int(s.get("folds", 1)))
    policy = FailurePolicy(timeout=timeout, max_failures=max_failures)
    ran = 0

    def trial_fn(suggester, reporter, number):
        emit({"kind": "trial_start", "number": number})
        return run_trial_folds(suggester, reporter, number=number, folds=folds, space=space,
                               settings=settings, trial_dir=trial_dir(run_dir, number))

    def should_stop() -> bool:
        check_interrupt()
        return policy.should_stop()

    def on_record(record) -> None:
        nonlocal ran
        ran += 1
        policy.record(record)
        logger.info("trial %d %s%s", record.number, record.state,
                    f" val_loss {record.val_loss:.4g}" if record.val_loss is not None
                    else f": {record.reason}")
        emit({"kind": "trial", "record": record, "total": total})

    try:
        with (deferred_interrupts(grace=grace),
              device_setup(precision=precision, threads=_env_threads()), frozen_survivors()):
            if s.get("deterministic"):
                _enable_determinism(seed)
            engine.run(trial_fn, total=total, should_stop=should_stop, on_record=on_record)
        done = count_done(engine.records())
    finally:
        engine.close()
    return WorkerSummary(run_dir=run_dir, ran=ran, done=done, total=total,
                         stopped_reason=policy.stopped)


class FailurePolicy:
    """When to stop starting trials: a timeout, or too many failures in a row."""

    def __init__(self, *, timeout: float | None, max_failures: int):
        self.timeout = timeout
        self.max_failures = max_failures
        self.started = time.monotonic()
        self.failures = 0
        self.last_reason: str | None = None
        self.stopped: str | None = None

    def record(self, record) -> None:
        if record.state in ("complete", "pruned"):
            self.failures = 0
        else:
            self.failures += 1
            self.last_reason = record.reason

    def should_stop(self) -> bool:
        if self.timeout is not None and time.monotonic() - self.started >= self.timeout:
            self.stopped = f"timeout of {self.timeout:g} s reached"
        elif self.failures >= self.max_failures:
            self.stopped = f"{self.failures} trials in a row failed (last: {self.last_reason})"
        return self.stopped is not None


def _study_data(meta: dict[str, Any], study: str, data: str | Path | None):
    from autoseq.data import ForecastData, load_series

    s = meta["settings"]
    recorded = (meta.get("data") or {}).get("source")
    source = Path(data or recorded or "")
    if not data and not source.is_file():
        raise DataError(f"{recorded}: study '{study}' was made from this file, which is not on "
                        "this machine; pass this machine's copy with --data")
    if s.get("task") in ("classify", "regress"):
        from autoseq.searching._search import _sequence_fingerprint

        sequences = _sequence_study_data(meta, study, source)
        _same_data(_sequence_fingerprint(sequences), meta, study, source)
        return sequences
    series = load_series(source, targets=s["targets"], time_col=s["time_col"],
                         covariates=s["covariates"], max_gap=s["max_gap"])
    _same_data(series.fingerprint, meta, study, source)
    return ForecastData(series, horizon=s["horizon"], val_size=s["val_rows"],
                        test_size=s["test_rows"], seasons=s["seasons"],
                        calendar=bool(s.get("calendar", False)))


def _same_data(fingerprint: str, meta: dict[str, Any], study: str, source: Path) -> None:
    if fingerprint != meta["fingerprint"]:
        raise DataError(f"{source}: not the data of study '{study}' (fingerprint "
                        f"{fingerprint[:12]}…, the study's is {meta['fingerprint'][:12]}…);"
                        " every worker must train on the same CSV as the search")


def _sequence_study_data(meta: dict[str, Any], study: str, source: Path):
    """The labelled sequences of a classification/regression study, split as the search did."""
    from autoseq.searching._search import _sequence_data

    s = meta["settings"]
    test_file = s.get("test_file")
    if test_file and not Path(test_file).is_file():
        raise DataError(f"{test_file}: study '{study}' was made with this --test-file, which is "
                        "not on this machine at that path")
    return _sequence_data(source, [s["target"]], covariates=list(s["features"]),
                          id_col=s["id_col"], step_col=s["step_col"], format=s["format"],
                          test_file=test_file, task=s["task"], val_size=s["val_sequences"],
                          test_size=s["test_sequences"], max_length=s["max_length"])


def _worker_run_dir(run_dir: str | Path | None, storage: str, meta: dict[str, Any], *,
                    default: str) -> Path:
    from autoseq.backends import is_journal

    if is_journal(storage):
        # Local processes sharing a journal file must share its folder: that is where they see
        # each other alive (a journal has no heartbeats).
        home = Path(storage).resolve().parent
        if run_dir is not None and Path(run_dir).resolve() != home:
            raise SearchError(f"--run-dir {run_dir}: a worker on the journal file {storage} "
                              f"must use its folder {home}; leave --run-dir out")
        return home
    return Path(run_dir) if run_dir else Path("results") / default


def _env_threads() -> int | None:
    raw = os.environ.get(THREADS_ENV)
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else None


@contextmanager
def device_setup(*, precision: str = "float32", threads: int | None = None) -> Iterator[None]:
    """Memory growth on every visible GPU, optional thread caps, and the precision policy.

    ``mixed`` sets Keras's ``mixed_float16`` policy (the builder keeps the head and outputs in
    float32; Keras wraps the optimizer in loss scaling); the previous policy comes back on exit.
    """
    from autoseq._tf import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # the runtime already started in this process: keep its threads
            pass
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass
    previous = keras.mixed_precision.global_policy().name
    if precision == "mixed":
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
