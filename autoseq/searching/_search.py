"""``search(...)``: from a CSV to a ranked leaderboard, with the study kept in the run folder."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from autoseq import __version__
from autoseq._interrupt import DEFAULT_GRACE, Terminated, check_grace, deferred_interrupts
from autoseq._interrupt import check as check_interrupt
from autoseq._io import write_json_atomic
from autoseq.backends import (
    TrialRecord,
    count_done,
    default_storage,
    make_backend,
    redact_url,
)
from autoseq.backends._base import meta_difference
from autoseq.baselines import BaselineScore, score_baselines
from autoseq.data import ForecastData, SequenceData, load_sequences, load_series
from autoseq.exceptions import AllTrialsFailedError, DataError, SearchError
from autoseq.leaderboard import (
    best_baseline_row,
    best_trial_row,
    build_leaderboard,
    write_leaderboard,
)
from autoseq.metrics import OBJECTIVES
from autoseq.model._builder import check_space
from autoseq.run import LEADERBOARD, RUN_FILE, open_run, trial_dir
from autoseq.searching._portfolio import starting_points
from autoseq.space import SearchSpace, load_search_space
from autoseq.stat_baselines import BackgroundBaselines, cached_stat_baselines
from autoseq.trial._folds import make_folds, run_trial_folds, score_fold_baselines
from autoseq.trial._objective import TrialSettings, check_compile, frozen_survivors

logger = logging.getLogger("autoseq")

Event = dict[str, Any]
# Sequence datasets are usually small (tens to thousands of sequences): an epoch is a few steps,
# so they need more epochs, and their validation loss is noisier. Classifiers often sit at the
# chance level's loss for a few epochs before they learn: the pruner waits longer for them.
FORECAST_EPOCHS, FORECAST_PATIENCE = 20, 5
SEQUENCE_EPOCHS, SEQUENCE_PATIENCE, SEQUENCE_PRUNE_WARMUP = 100, 10, 10


@dataclass
class SearchResult:
    """What a search leaves: the run folder, the leaderboard and the baselines."""

    run_dir: Path
    leaderboard: pd.DataFrame
    baselines: list[BaselineScore] = field(default_factory=list)
    stopped_reason: str | None = None
    report: Path | None = None

    @property
    def best(self) -> dict[str, Any] | None:
        """The best trial's leaderboard row as a dict (``None`` when no trial has a result)."""
        row = best_trial_row(self.leaderboard)
        return None if row is None else row.to_dict()

    @property
    def best_baseline(self) -> dict[str, Any] | None:
        row = best_baseline_row(self.leaderboard)
        return None if row is None else row.to_dict()

    @property
    def skill(self) -> float | None:
        """``1 - MAE(best) / MAE(best baseline)`` on validation (log loss for classification):
        > 0 means the model wins."""
        b, base = self.best, self.best_baseline
        if not b or not base:
            return None
        key = "val_mae" if _finite(base.get("val_mae")) else "val_loss"
        if not _finite(base.get(key)) or not float(base[key]):
            return None
        return 1.0 - float(b[key]) / float(base[key])


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not pd.isna(v)


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a search; ``result`` holds the leaderboard of the finished trials.

    ``terminated`` is true for SIGTERM (the running trial was queued again for another worker).
    """

    def __init__(self, result: SearchResult, *, terminated: bool = False):
        super().__init__("search interrupted")
        self.result = result
        self.terminated = terminated


def search(
    data: str | Path,
    *,
    target: str | list[str],
    time_col: str | None = None,
    covariates: list[str] | None = None,
    horizon: int = 1,
    space: str | Path | SearchSpace | None = None,
    trials: int = 20,
    timeout: float | None = None,
    max_epochs: int | None = None,
    patience: int | None = None,
    val_size: float | int | None = None,
    test_size: float | int | None = None,
    out: str | Path | None = None,
    storage: str | None = None,
    study: str = "autoseq",
    seed: int = 0,
    backend: str = "optuna",
    algorithm: str | None = None,
    pruner: str | None = None,
    max_gap: int = 12,
    max_failures: int = 10,
    calendar: bool = True,
    metric: str = "mse",
    folds: int = 1,
    warm_start: bool = True,
    stat_baselines: bool = True,
    stat_origins: int = 24,
    report: bool = True,
    deterministic: bool = False,
    jobs: int = 1,
    gpus: str | list[str] | None = None,
    precision: str = "float32",
    compile: str = "auto",
    grace: float = DEFAULT_GRACE,
    id_col: str | None = None,
    step_col: str | None = None,
    format: str = "long",
    test_file: str | Path | None = None,
    task: str | None = None,
    max_length: int | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> SearchResult:
    """Search recurrent architectures for a forecasting or sequence CSV and rank them.

    Forecasting is the default. With ``id_col`` (long format: one row per sequence step) or
    ``format="wide"`` (one row per sequence) the CSV holds labelled sequences of any length, and
    the task is classification or per-sequence regression (``task``, inferred from the labels
    when not given).

    ``trials`` is the study's total of trials with a result (complete or pruned): calling again
    on the same run folder continues up to it and never re-runs a finished trial.

    Args:
        data: CSV with a time column and numeric columns.
        target: column(s) to forecast; other numeric columns are past covariates. For
            sequences: the label column.
        covariates: past covariates (forecasting) or feature columns (sequences).
        horizon: steps to forecast.
        space: a built-in space name, a YAML path, or a ``SearchSpace`` (default ``default``;
            ``classify`` for sequences).
        trials: total trials with a result in the study.
        timeout: seconds after which no new trial starts.
        max_epochs: epochs per trial (default 20; 100 for sequences, whose epochs are short).
        patience: early-stopping patience in epochs (default 5; 10 for sequences).
        out: run folder (default ``results/<file>-<target>``).
        storage: study storage URL (default ``sqlite:///<out>/study.db``).
        seed: seeds the sampler and every trial.
        algorithm: the backend's search algorithm (optuna: ``tpe``, ``random``, ``cmaes``,
            ``gp``).
        pruner: optuna: ``median`` (default: stop trials whose validation loss is worse than the
            median of earlier trials at the same epoch) or ``none``.
        metric: what trials and baselines are ranked on (``val_loss``): ``mse`` (scaled, the
            default), ``mae``, ``rmse``, ``smape`` or ``mase`` (data units).
        folds: walk-forward (expanding window) folds; trials and baselines are scored on the
            mean over them (each trial trains ``folds`` times).
        warm_start: try the forecasting starting points (``autoseq.searching._portfolio``) first, in a
            new study of a backend that can queue trials.
        calendar: let trials whose ``calendar`` parameter is on use calendar features.
        stat_baselines: also rank MSTL + AutoETS / AutoARIMA (``statsforecast``) baselines.
        stat_origins: at most this many validation windows for them (evenly spaced; 0: all).
        report: write ``report.html`` and ``report.md`` into the run folder at the end.
        max_failures: stop after this many failed trials in a row.
        deterministic: make TensorFlow ops deterministic, so that a rerun with the same seed
            gives the same losses (on CPU) and so the same proposals; slower.
        jobs: worker processes on this machine sharing the study (default 1: this process).
        gpus: GPUs for the workers (``"0,1"``): one worker pinned to each, round-robin when
            ``jobs`` is larger.
        precision: ``float32`` (default) or ``mixed`` (mixed_float16, outputs in float32).
        compile: ``auto`` (default: XLA-compile a trial's steps on a CPU when its training is
            long enough to repay the compile; Keras's own choice on an accelerator), ``on`` or
            ``off``. Like ``precision``, not part of the settings a resumed search must match.
        grace: seconds from SIGTERM to exit: the running trial stops after its current batch,
            or is abandoned when that takes longer; either way it is queued again.
        id_col: the sequence id column (long format).
        step_col: the column ordering the steps of a sequence (default: file order; the
            ``time_col`` when only that is given).
        format: ``long`` or ``wide`` (one row per sequence, one column per step).
        test_file: a CSV of test sequences (default: a stratified share of ``data``).
        task: ``forecast``, ``classify`` or ``regress``.
        max_length: longer sequences keep their last ``max_length`` steps.

    Returns:
        A ``SearchResult`` with ``.leaderboard``, ``.best`` and ``.run_dir``.

    Raises:
        DataError, SearchSpaceError, SearchError: bad input or settings (nothing written).
        AllTrialsFailedError: no trial produced a result.
        SearchInterrupted: Ctrl-C or SIGTERM; the finished trials are kept and ranked.

    Example:
        >>> result = autoseq.search("examples/airline.csv", target="passengers", horizon=12,
        ...                         space="fast", trials=4, max_epochs=5)
        >>> result.leaderboard.head()
    """
    emit = on_event or (lambda e: None)
    targets = [target] if isinstance(target, str) else list(target)
    if trials < 1:
        raise SearchError(f"--trials must be at least 1. Received: {trials}")
    if max_epochs is not None and max_epochs < 1:
        raise SearchError(f"--max-epochs must be at least 1. Received: {max_epochs}")
    sequences = _is_sequence_task(task, id_col=id_col, format=format, test_file=test_file,
                                  max_length=max_length, step_col=step_col)
    space = load_search_space(space or ("classify" if sequences else "default"))
    max_epochs = max_epochs or (SEQUENCE_EPOCHS if sequences else FORECAST_EPOCHS)
    patience = patience or (SEQUENCE_PATIENCE if sequences else FORECAST_PATIENCE)
    check_space(space)
    gpu_list, spawn = _check_parallel(jobs, gpus, precision, backend=backend, space=space)
    check_compile(compile)
    check_grace(grace)
    jobs = max(jobs, len(gpu_list))
    if sequences:
        _check_sequence_options(metric=metric, folds=folds)
        fdata = _sequence_data(data, targets, covariates=covariates, id_col=id_col,
                               step_col=step_col or time_col, format=format, test_file=test_file,
                               task=task, val_size=val_size, test_size=test_size,
                               max_length=max_length)
        stat_baselines = False  # statistical forecasters have nothing to say about labels
    else:
        series = load_series(data, targets=targets, time_col=time_col, covariates=covariates,
                             max_gap=max_gap)
        fdata = ForecastData(series, horizon=horizon, val_size=val_size, test_size=test_size,
                             calendar=calendar)
    run_dir = Path(out) if out else Path("results") / _default_name(data, targets)
    if metric not in OBJECTIVES:
        raise SearchError(f"--metric must be one of {', '.join(OBJECTIVES)}. Received: {metric}")
    settings = TrialSettings(max_epochs=max_epochs, patience=patience, seed=seed,
                             builder=space.builder, metric=metric, compile=compile)
    prune_warmup = SEQUENCE_PRUNE_WARMUP if sequences else None
    meta = (_sequence_meta(fdata, space, settings, max_length=max_length,
                           prune_warmup=prune_warmup) if sequences
            else _meta(fdata, space, settings, max_gap=max_gap, folds=folds))
    meta["settings"]["deterministic"] = bool(deterministic)
    storage = _resolve_storage(storage, run_dir, spawn=spawn)
    _check_run_dir(run_dir, meta, backend)
    engine = make_backend(backend, run_dir=run_dir, storage=storage, study_name=study, seed=seed,
                          algorithm=algorithm, prune_warmup=prune_warmup, pruner=pruner)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        # The study keeps all a worker on another machine needs to join it (``autoseq worker``).
        engine.open(meta=meta | {"algorithm": algorithm, "precision": precision, "compile": compile,
                                 "pruner": pruner})
        if hasattr(engine, "set_target"):
            engine.set_target(trials)
    except BaseException:
        engine.close()
        _remove_if_empty(run_dir)
        raise
    queued = (engine.enqueue(starting_points(space), total=trials)
              if warm_start and hasattr(engine, "enqueue") else 0)
    if queued:
        logger.info("%d starting configurations queued before the sampler's own", queued)
    write_run_file(run_dir, meta, storage=storage, study=study, algorithm=algorithm,
                   backend=backend,
                   extra={"pruner": pruner, "jobs": jobs, "gpus": gpu_list, "precision": precision,
                          "compile": compile},
                   more={"stat_baselines": {"enabled": stat_baselines,
                                            "max_origins": stat_origins}})
    if deterministic:
        _enable_determinism(seed)
    fold_data = make_folds(fdata, folds)
    baselines = (score_baselines(fdata, "val") if sequences
                 else score_fold_baselines(fold_data, metric=metric))
    stat = None
    if stat_baselines:  # on a thread: minutes on long series, and no trial waits for them
        per_fold = max(1, stat_origins // folds) if stat_origins else 0
        stat = BackgroundBaselines(lambda: score_fold_baselines(
            fold_data, lambda d, part, **kw: cached_stat_baselines(run_dir, d, part, **kw),
            max_origins=per_fold, metric=metric))
    extra = [p for p in space.names]

    def ranked_baselines(*, wait: bool = False) -> list:
        more = stat.scores(wait=wait) if stat is not None else []
        return sorted(baselines + more, key=lambda b: b.loss)

    def leaderboard(*, wait: bool = False) -> pd.DataFrame:
        board = build_leaderboard(engine.records(), ranked_baselines(wait=wait),
                                  extra_params=extra, folds=folds,
                                  metric_columns=fdata.metric_columns)
        write_leaderboard(board, run_dir / LEADERBOARD)
        return board

    records = engine.records()
    emit({"kind": "start", "run_dir": run_dir, "total": trials, "done": count_done(records),
          "baselines": baselines, "data": fdata})
    started = time.monotonic()
    state = {"failures": 0, "stopped": None, "last_reason": None}

    def should_stop() -> bool:
        check_interrupt()
        if timeout is not None and time.monotonic() - started >= timeout:
            state["stopped"] = f"timeout of {timeout:g} s reached"
            return True
        if state["failures"] >= max_failures:
            state["stopped"] = (f"{state['failures']} trials in a row failed (last: "
                                f"{state['last_reason']})")
            return True
        return False

    def on_record(record: TrialRecord) -> None:
        if record.state in ("complete", "pruned"):
            state["failures"] = 0
        else:
            state["failures"] += 1
            state["last_reason"] = record.reason
        board = leaderboard()
        emit({"kind": "trial", "record": record, "done": count_done(engine.records()),
              "total": trials, "best": best_trial_row(board), "elapsed": time.monotonic() - started})

    def trial_fn(suggester, reporter, number):
        emit({"kind": "trial_start", "number": number})
        return run_trial_folds(suggester, reporter, number=number, folds=fold_data,
                               space=space, settings=settings,
                               trial_dir=trial_dir(run_dir, number))

    try:
        if spawn:
            from autoseq.searching._parallel import run_workers

            state["stopped"] = run_workers(
                engine, storage=storage, study=study, run_dir=run_dir, jobs=jobs, gpus=gpu_list,
                precision=precision, compile=compile, trials=trials, timeout=timeout,
                max_failures=max_failures, grace=grace, on_record=on_record)
        else:
            from autoseq.searching._worker import device_setup

            with (deferred_interrupts(grace=grace), device_setup(precision=precision),
                  frozen_survivors()):
                engine.run(trial_fn, total=trials, should_stop=should_stop, on_record=on_record)
    except KeyboardInterrupt as exc:
        result = SearchResult(run_dir, leaderboard(), ranked_baselines(), "interrupted")
        engine.close()
        raise SearchInterrupted(result, terminated=isinstance(exc, Terminated)) from None
    except BaseException:
        engine.close()
        raise
    board = leaderboard(wait=True)
    engine.close()
    result = SearchResult(run_dir, board, ranked_baselines(), state["stopped"])
    if result.best is None:
        reason = state["last_reason"] or state["stopped"] or "no trial finished"
        raise AllTrialsFailedError(f"every trial failed (last reason: {reason}); see "
                                   f"{run_dir / LEADERBOARD} for each trial's reason")
    if state["stopped"]:
        logger.warning("search stopped early: %s", state["stopped"])
    if report:
        from autoseq.report import try_write_report

        result.report = try_write_report(run_dir)
    emit({"kind": "end", "result": result})
    return result


def write_run_file(run_dir: Path, meta: dict[str, Any], *, storage: str, study: str,
                   algorithm: str | None, backend: str = "optuna",
                   extra: dict[str, Any] | None = None,
                   more: dict[str, Any] | None = None) -> None:
    """Write ``run.json``: the search's meta and how it ran (the storage's password redacted).

    ``extra`` goes into the ``backend`` entry, ``more`` at the top level.
    """
    write_json_atomic(run_dir / RUN_FILE, meta | {
        "autoseq_version": __version__,
        "backend": {"name": backend, "algorithm": algorithm, "storage": redact_url(storage),
                    "study": study} | dict(extra or {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    } | dict(more or {}))


def _check_parallel(jobs: int, gpus: str | list[str] | None, precision: str, *, backend: str,
                    space: SearchSpace) -> tuple[list[str], bool]:
    """Validate ``jobs``/``gpus``/``precision``; return the GPUs and whether to start workers."""
    from autoseq.searching._parallel import parse_gpus
    from autoseq.searching._worker import PRECISIONS

    if not isinstance(jobs, int) or jobs < 1:
        raise SearchError(f"--jobs must be at least 1. Received: {jobs}")
    if precision not in PRECISIONS:
        raise SearchError(f"--precision must be one of {', '.join(PRECISIONS)}. "
                          f"Received: {precision}")
    gpu_list = parse_gpus(gpus)
    if gpu_list and jobs != 1 and jobs < len(gpu_list):
        raise SearchError(f"--jobs {jobs} is fewer than the {len(gpu_list)} GPUs in --gpus; "
                          "each GPU needs a worker: raise --jobs or list fewer GPUs")
    spawn = jobs > 1 or bool(gpu_list)
    if spawn and backend != "optuna":
        raise SearchError(f"--jobs/--gpus need the optuna backend. Received: --backend {backend}")
    if spawn and space.builder not in _BUILTIN_BUILDERS:
        raise SearchError(f"--jobs/--gpus start worker processes, which cannot see builder "
                          f"'{space.builder}' registered in this Python process; use --jobs 1")
    return gpu_list, spawn


_BUILTIN_BUILDERS = ("rnn",)
JOURNAL = "study.journal"
SQLITE = "study.db"


def _resolve_storage(storage: str | None, run_dir: Path, *, spawn: bool) -> str:
    """The default storage: SQLite for one process, a journal file when several share it.

    A run folder keeps the storage it started with: a journal found there is always used.
    """
    journal, db = run_dir / JOURNAL, run_dir / SQLITE
    if storage is None:
        if journal.exists():
            return str(journal.resolve())
        if spawn and not db.exists():
            return str(journal.resolve())
        if spawn:
            raise SearchError(f"{run_dir}: this search's study is in SQLite ({SQLITE}), which "
                              "several processes cannot share safely; resume it with --jobs 1, "
                              "or start the parallel search in a new --out folder")
        return default_storage(run_dir)
    if spawn and storage.startswith("sqlite"):
        raise SearchError("--jobs/--gpus with SQLite storage: SQLite is unsafe when several "
                          "processes write to it; leave --storage out (a journal file in the "
                          "run folder is used) or pass a postgresql:// URL")
    return storage


def _remove_if_empty(run_dir: Path) -> None:
    """Leave no empty folder behind a search that could not start."""
    for folder in (run_dir / ".workers", run_dir):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass


def _enable_determinism(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TF outside trials (each trial reseeds)
    tf.config.experimental.enable_op_determinism()


def _is_sequence_task(task: str | None, *, id_col: str | None, format: str,
                      test_file: str | Path | None, max_length: int | None,
                      step_col: str | None = None) -> bool:
    """Whether the options describe labelled sequences (rather than a series to forecast)."""
    if format not in ("long", "wide"):
        raise DataError(f"--format must be long or wide. Received: {format}")
    sequences = id_col is not None or format == "wide"
    if task is not None and task not in ("forecast", "classify", "regress"):
        raise DataError(f"--task must be forecast, classify or regress. Received: {task}")
    if task == "forecast" and sequences:
        raise DataError("--task forecast reads one series: drop --id-col / --format wide, or "
                        "pass --task classify or regress for sequences")
    if not sequences:
        if task in ("classify", "regress"):
            raise DataError(f"--task {task} needs sequences: pass --id-col (one row per sequence "
                            "step) or --format wide (one row per sequence)")
        for flag, value in (("--test-file", test_file), ("--max-length", max_length),
                            ("--step-col", step_col)):
            if value is not None:
                raise DataError(f"{flag} is for sequences: pass --id-col or --format wide too")
    return sequences


def _check_sequence_options(*, metric: str, folds: int) -> None:
    if metric != "mse":
        raise SearchError(f"--metric {metric} is for forecasting; sequence trials are ranked on "
                          "log loss (classification) or MSE (regression)")
    if folds != 1:
        raise SearchError(f"--folds {folds} is for forecasting (walk-forward); sequence trials "
                          "validate on a stratified share of the training sequences")


def _sequence_data(data: str | Path, targets: list[str], *, covariates: list[str] | None,
                   id_col: str | None, step_col: str | None, format: str,
                   test_file: str | Path | None, task: str | None, val_size, test_size,
                   max_length: int | None) -> SequenceData:
    if len(targets) != 1:
        raise DataError(f"sequences take one --target (the label column). Received: "
                        f"{', '.join(targets)}")
    options = {"target": targets[0], "id_col": id_col, "step_col": step_col,
               "features": covariates, "format": format}
    table = load_sequences(data, **options)
    test = None
    if test_file is not None:
        test = load_sequences(test_file, **options | {"features": list(table.features)})
    return SequenceData(table, test=test, task=task, val_size=val_size, test_size=test_size,
                        max_length=max_length)


def _sequence_fingerprint(sdata: SequenceData) -> str:
    """The data fingerprint of a sequence study: the training file's, with the test file's."""
    table, test = sdata.table, sdata.test_table
    if test is None:
        return table.fingerprint
    return hashlib.sha256(f"{table.fingerprint}:{test.fingerprint}".encode()).hexdigest()


def _sequence_meta(sdata: SequenceData, space: SearchSpace, settings: TrialSettings, *,
                   max_length: int | None, prune_warmup: int | None) -> dict[str, Any]:
    table, test = sdata.table, sdata.test_table
    fingerprint = _sequence_fingerprint(sdata)
    data = table.summary() | {"source": str(Path(table.source).resolve())}
    if test is not None:
        data |= {"test_source": str(Path(test.source).resolve()),
                 "test_fingerprint": test.fingerprint, "test_sequences": len(test.ids)}
    return {
        "fingerprint": fingerprint,
        "space": space.to_dict(),
        "settings": {
            "task": sdata.task,
            "target": table.target,
            "id_col": table.id_col,
            "step_col": table.step_col,
            "format": table.format,
            "features": list(table.features),
            "test_file": data.get("test_source"),
            "val_sequences": int(len(sdata.parts["val"])),
            "test_sequences": None if test is not None else int(len(sdata.parts["test"])),
            "max_length": max_length,
            "max_epochs": settings.max_epochs,
            "patience": settings.patience,
            "prune_warmup": prune_warmup,
            "seed": settings.seed,
            "builder": settings.builder,
        },
        "data": data,
        "split": sdata.describe(),
    }


def _default_name(data: str | Path, targets: list[str]) -> str:
    name = f"{Path(data).stem}-{'-'.join(targets)}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]


def _meta(fdata: ForecastData, space: SearchSpace, settings: TrialSettings, *,
          max_gap: int, folds: int = 1) -> dict[str, Any]:
    series = fdata.series
    return {
        "fingerprint": series.fingerprint,
        "space": space.to_dict(),
        "settings": {
            "task": "forecast",
            "targets": list(series.targets),
            "covariates": list(series.covariates),
            "time_col": series.time_col,
            "horizon": fdata.horizon,
            "val_rows": fdata.split.val,
            "test_rows": fdata.split.test,
            "seasons": fdata.seasons,
            "calendar": bool(fdata.calendar),
            "max_gap": max_gap,
            "max_epochs": settings.max_epochs,
            "patience": settings.patience,
            "seed": settings.seed,
            "builder": settings.builder,
            "metric": settings.metric,
            "folds": folds,
        },
        "data": series.summary() | {"source": str(Path(series.source).resolve())},
        "split": fdata.describe(),
    }


def _check_run_dir(run_dir: Path, meta: dict[str, Any], backend: str) -> None:
    if not (run_dir / RUN_FILE).exists():
        if run_dir.exists() and run_dir.is_file():
            raise SearchError(f"{run_dir}: exists and is a file; pass a folder to --out")
        return
    old = open_run(run_dir).info
    found = meta_difference(old, meta)
    if found is not None:
        what, detail = found
        raise SearchError(f"{run_dir}: this run folder holds a search with different {what} "
                          f"({detail}); pass a new --out to start another search")
    # Each backend keeps its own trials: another one here would hide them and reuse their numbers.
    old_backend = (old.get("backend") or {}).get("name", backend)
    if old_backend != backend:
        raise SearchError(f"{run_dir}: this run folder holds a search made with --backend "
                          f"{old_backend}; resume it with that backend or pass a new --out. "
                          f"Received: --backend {backend}")
