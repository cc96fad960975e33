"""``search(...)``: from a CSV to a ranked leaderboard, with the study kept in the run folder.

``search`` checks its options and reads the data before anything is written, opens the study in
the run folder, and hands it to a ``SearchSession``, which runs the trials here or in workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoseq._interrupt import DEFAULT_GRACE, check_grace
from autoseq.backends import Backend, make_backend
from autoseq.data import ForecastData, SequenceData
from autoseq.exceptions import SearchError
from autoseq.intervals import IntervalSpec, interval_spec
from autoseq.metrics import INTERVAL_OBJECTIVES, OBJECTIVES
from autoseq.model._builder import check_quantile_space, check_space
from autoseq.searching._devices import check_precision, enable_determinism, parse_gpus
from autoseq.searching._keras_backend import (
    AUTO,
    TENSORFLOW,
    TrialBackend,
    auto_jobs,
    choose_trial_backend,
    trains_on,
    use_trial_backend,
)
from autoseq.searching._portfolio import starting_points
from autoseq.searching._result import SearchResult
from autoseq.searching._session import Event, SearchSession
from autoseq.searching._study import (
    JOURNAL,
    SQLITE,
    check_run_dir,
    default_name,
    remove_if_empty,
    resolve_storage,
    write_run_file,
)
from autoseq.space import SearchSpace, load_search_space
from autoseq.tasks import DataOptions, Task, task_for_options
from autoseq.trial._objective import TrialSettings, check_compile

logger = logging.getLogger("autoseq")

_BUILTIN_BUILDERS = ("rnn",)



def search(
    data: str | Path,
    *,
    target: str | list[str],
    time_col: str | None = None,
    covariates: list[str] | None = None,
    future_covariates: list[str] | None = None,
    categorical: list[str] | None = None,
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
    jobs: int | str = AUTO,
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
    series_col: str | None = None,
    static_cols: list[str] | None = None,
    levels: str | list[float] | None = None,
    quantiles: str | list[float] | None = None,
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
            future_covariates: columns known for the steps to forecast too (forecasting): the
                CSV may continue past the last target value with only these filled.
            categorical: numeric columns to one-hot encode (text covariates always are).
            horizon: steps to forecast.
            space: a built-in space name, a YAML path, or a ``SearchSpace`` (default ``default``;
                ``classify`` for sequences).
            trials: total trials with a result in the study.
            timeout: seconds after which no new trial starts; a running trial stops at
                its next epoch end and keeps its best epoch.
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
            jobs: worker processes on this machine sharing the study; ``"auto"`` (default): one
                per core (at most 8) when the trials train on Keras's JAX backend (a JAX trial
                keeps about one core busy), else 1 (this process trains them).
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
            series_col: the series key column of a long CSV of many series (a panel): one
                global network forecasts every series, ranked on M4's OWA against Naive2.
            static_cols: a panel's columns holding one value per series (store size, region):
                text ones (and ``categorical`` codes) one-hot encoded; whether a trial uses
                them is searched.
            levels: forecasting: the intervals ``export`` serves by default (``"80,95"``);
                recorded in ``run.json``, validated now. The final leaderboard scores them for
                the best trials and the baselines (``val_cover80``…).
            quantiles: forecasting: the quantiles ``export`` serves by default.

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
    targets = [target] if isinstance(target, str) else list(target)
    asked = interval_spec(levels=levels, quantiles=quantiles)
    plan = _plan(data, targets, time_col=time_col, covariates=covariates, horizon=horizon,
                 space=space, trials=trials, max_epochs=max_epochs, patience=patience,
                 val_size=val_size, test_size=test_size, out=out, storage=storage, seed=seed,
                 backend=backend, max_gap=max_gap, calendar=calendar, metric=metric,
                 folds=folds, stat_baselines=stat_baselines, deterministic=deterministic,
                 jobs=jobs, gpus=gpus, precision=precision, compile=compile, grace=grace,
                 id_col=id_col, step_col=step_col, format=format, test_file=test_file,
                 task=task, max_length=max_length, series_col=series_col,
                 roles=(tuple(future_covariates or ()), tuple(categorical or ()),
                        tuple(static_cols or ())))
    engine = _open_study(plan, backend=backend, study=study, seed=seed, algorithm=algorithm,
                         pruner=pruner, trials=trials, warm_start=warm_start,
                         precision=precision, compile=compile, stat_origins=stat_origins,
                         intervals=asked)
    if deterministic:
        enable_determinism(seed)
    session = SearchSession(engine, plan.fdata, space=plan.space, settings=plan.settings,
                            run_dir=plan.run_dir, trials=trials, folds=folds, metric=metric,
                            task=plan.task, timeout=timeout,
                            max_failures=max_failures,
                            stat_origins=stat_origins if plan.stat_baselines else None,
                            on_event=on_event, intervals=asked)
    if plan.spawn:
        return session.run_in_workers(storage=plan.storage, study=study, jobs=plan.jobs,
                                      gpus=plan.gpus, precision=precision, compile=compile,
                                      grace=grace, report=report,
                                      keras_backend=plan.trial_backend.name)
    return session.run_here(precision=precision, grace=grace, report=report)


def _pick_trial_backend(plan: _Plan) -> tuple[str, str]:
    """Load Keras on the backend this process's trials train on (``choose_trial_backend``),
    before anything imports it, unless workers train them (this process then loads nothing
    yet); the backend's name and what the log says of it."""
    choice = plan.trial_backend
    name = choice.name if plan.spawn else use_trial_backend(choice)
    where = (f", in {plan.jobs} worker processes ({plan.jobs_why})"
             if plan.spawn and plan.jobs_why else "")
    return name, trains_on(name, choice.why) + where


@dataclass(frozen=True)
class _Plan:
    """A search's checked options and its data: what it needs to open its study."""

    task: Task
    space: SearchSpace
    fdata: ForecastData | SequenceData
    settings: TrialSettings
    meta: dict[str, Any]
    run_dir: Path
    storage: str
    gpus: list[str]
    spawn: bool
    jobs: int
    stat_baselines: bool
    trial_backend: TrialBackend
    jobs_why: str = ""
    deterministic: bool = False


def _plan(data: str | Path, targets: list[str], *, time_col: str | None,
          covariates: list[str] | None, horizon: int, space: str | Path | SearchSpace | None,
          trials: int, max_epochs: int | None, patience: int | None, val_size, test_size,
          out: str | Path | None, storage: str | None, seed: int, backend: str, max_gap: int,
          calendar: bool, metric: str, folds: int, stat_baselines: bool, deterministic: bool,
          jobs: int | str, gpus: str | list[str] | None, precision: str, compile: str,
          grace: float, id_col: str | None, step_col: str | None, format: str,
          test_file: str | Path | None, task: str | None, max_length: int | None,
          series_col: str | None = None,
          roles: tuple[tuple[str, ...], ...] = ((), (), ())) -> _Plan:
    """Check the options, read the data, and check the run folder: nothing is written yet."""
    if trials < 1:
        raise SearchError(f"--trials must be at least 1. Received: {trials}")
    if max_epochs is not None and max_epochs < 1:
        raise SearchError(f"--max-epochs must be at least 1. Received: {max_epochs}")
    options = DataOptions(data, tuple(targets), time_col=time_col, covariates=covariates,
                          horizon=horizon, val_size=val_size, test_size=test_size,
                          max_gap=max_gap, calendar=calendar, id_col=id_col, step_col=step_col,
                          format=format, test_file=test_file, task=task, max_length=max_length,
                          future_covariates=roles[0], categorical=roles[1],
                          series_col=series_col, stat_baselines=stat_baselines,
                          static_cols=roles[2])
    kind = task_for_options(options)
    space = load_search_space(space or kind.default_space)
    check_space(space)
    gpu_list = _check_parallel(jobs, gpus, precision)
    check_compile(compile)
    check_grace(grace)
    kind.check_options(options, metric=metric, folds=folds)
    fdata = kind.read(options)
    space = kind.adapt_space(space, fdata)
    run_dir = Path(out) if out else Path("results") / default_name(data, targets)
    if metric not in OBJECTIVES:
        raise SearchError(f"--metric must be one of {', '.join(OBJECTIVES)}. Received: {metric}")
    if metric in INTERVAL_OBJECTIVES:
        check_quantile_space(space, metric)
    run_settings = kind.settings(fdata, options, max_epochs=max_epochs or kind.max_epochs,
                                 patience=patience or kind.patience, seed=seed,
                                 builder=space.builder, metric=metric, folds=folds,
                                 prune_warmup=kind.prune_warmup,
                                 deterministic=bool(deterministic))
    settings = TrialSettings(max_epochs=run_settings.max_epochs, patience=run_settings.patience,
                             seed=seed, builder=space.builder, metric=metric, compile=compile)
    meta = {"fingerprint": kind.fingerprint(fdata), "space": space.to_dict(),
            "settings": run_settings.to_dict(), "data": kind.summary(fdata),
            "split": fdata.describe()}
    trial_backend = (TrialBackend(TENSORFLOW, "--gpus keeps TensorFlow's cuDNN kernels")
                     if gpu_list else
                     choose_trial_backend(compile=compile, task=kind, data=fdata, space=space,
                                          epochs=settings.max_epochs,
                                          deterministic=bool(deterministic),
                                          precision=precision, seed=seed,
                                          here=jobs in (1, AUTO)))
    jobs, jobs_why = _resolve_jobs(jobs, gpu_list, trial_backend, trials=trials,
                                   backend=backend, space=space,
                                   sqlite=_sqlite_study(storage, run_dir))
    spawn = jobs > 1 or bool(gpu_list)
    storage = resolve_storage(storage, run_dir, spawn=spawn)
    check_run_dir(run_dir, meta, backend)
    return _Plan(task=kind, space=space, fdata=fdata, settings=settings, meta=meta,
                 run_dir=run_dir, storage=storage, gpus=gpu_list, spawn=spawn, jobs=jobs,
                 stat_baselines=stat_baselines and kind.stat_baselines,
                 trial_backend=trial_backend, jobs_why=jobs_why,
                 deterministic=bool(deterministic))


def _check_parallel(jobs: int | str, gpus: str | list[str] | None,
                    precision: str) -> list[str]:
    """Validate ``jobs``/``gpus``/``precision``; return the GPUs."""
    if jobs != AUTO and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise SearchError(f"--jobs must be a number of at least 1 or auto. Received: {jobs}")
    check_precision(precision)
    gpu_list = parse_gpus(gpus)
    if gpu_list and jobs not in (1, AUTO) and jobs < len(gpu_list):
        raise SearchError(f"--jobs {jobs} is fewer than the {len(gpu_list)} GPUs in --gpus; "
                          "each GPU needs a worker: raise --jobs or list fewer GPUs")
    return gpu_list


def _resolve_jobs(jobs: int | str, gpus: list[str], trial_backend: TrialBackend, *,
                  trials: int, backend: str, space: SearchSpace,
                  sqlite: bool = False) -> tuple[int, str]:
    """The worker processes to start (1: none, this process trains) and why, for ``auto``;
    an explicit count the search cannot honour is refused. ``sqlite``: the study is in SQLite,
    which ``auto`` never shares between processes."""
    workers_possible = (backend == "optuna" and space.builder in _BUILTIN_BUILDERS
                        and not sqlite)
    if jobs == AUTO:
        if gpus:
            return len(gpus), "one per GPU"
        if not workers_possible:
            return 1, ""
        return auto_jobs(trial_backend, trials=trials)
    if jobs > 1 or gpus:
        if backend != "optuna":
            raise SearchError("--jobs/--gpus need the optuna backend. "
                              f"Received: --backend {backend}")
        if space.builder not in _BUILTIN_BUILDERS:
            raise SearchError(f"--jobs/--gpus start worker processes, which cannot see builder "
                              f"'{space.builder}' registered in this Python process; use "
                              "--jobs 1")
    return max(jobs, len(gpus)), ""


def _sqlite_study(storage: str | None, run_dir: Path) -> bool:
    """Whether the study is (or will be, for one process) in SQLite that is already chosen: an
    explicit ``sqlite:`` URL, or a run folder resumed from its SQLite file."""
    if storage is not None:
        return storage.startswith("sqlite")
    return (run_dir / SQLITE).exists() and not (run_dir / JOURNAL).exists()


def _open_study(plan: _Plan, *, backend: str, study: str, seed: int, algorithm: str | None,
                pruner: str | None, trials: int, warm_start: bool, precision: str,
                compile: str, stat_origins: int, intervals: IntervalSpec) -> Backend:
    """Load Keras on the trials' backend, create or join the study, queue the starting
    points, and write ``run.json``."""
    keras_backend, said = _pick_trial_backend(plan)
    run_dir = plan.run_dir
    engine = make_backend(backend, run_dir=run_dir, storage=plan.storage, study_name=study,
                          seed=seed, algorithm=algorithm, pruner=pruner,
                          prune_warmup=plan.task.prune_warmup)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        # The study keeps all a worker on another machine needs to join it (``autoseq worker``).
        engine.open(meta=plan.meta | {"algorithm": algorithm, "precision": precision,
                                      "compile": compile, "pruner": pruner})
        if hasattr(engine, "set_target"):
            engine.set_target(trials)
    except BaseException:
        engine.close()
        remove_if_empty(run_dir)
        raise
    queued = (engine.enqueue(starting_points(plan.space), total=trials)
              if warm_start and hasattr(engine, "enqueue") else 0)
    if queued:
        logger.info("%d starting configurations queued before the sampler's own", queued)
    write_run_file(run_dir, plan.meta, storage=plan.storage, study=study, algorithm=algorithm,
                   backend=backend,
                   extra={"pruner": pruner, "jobs": plan.jobs, "gpus": plan.gpus,
                          "precision": precision, "compile": compile,
                          "keras_backend": keras_backend},
                   more={"stat_baselines": {"enabled": plan.stat_baselines,
                                            "max_origins": stat_origins}}
                   | ({"intervals": {"levels": list(intervals.levels),
                                     "quantiles": list(intervals.quantiles)}}
                      if intervals.explicit else {}))
    logger.info(said)
    return engine
