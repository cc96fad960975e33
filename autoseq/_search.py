"""``search(...)``: from a CSV to a ranked leaderboard, with the study kept in the run folder."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from autoseq import __version__
from autoseq._folds import make_folds, run_trial_folds, score_fold_baselines
from autoseq._interrupt import check as check_interrupt
from autoseq._interrupt import deferred_interrupts
from autoseq._io import write_json_atomic
from autoseq._objective import TrialSettings, frozen_survivors
from autoseq._portfolio import starting_points
from autoseq.backends import (
    TrialRecord,
    count_done,
    default_storage,
    make_backend,
    redact_url,
)
from autoseq.baselines import BaselineScore
from autoseq.builder import check_space
from autoseq.data import ForecastData, load_series
from autoseq.exceptions import AllTrialsFailedError, SearchError
from autoseq.leaderboard import (
    best_baseline_row,
    best_trial_row,
    build_leaderboard,
    write_leaderboard,
)
from autoseq.metrics import OBJECTIVES
from autoseq.run import LEADERBOARD, RUN_FILE, open_run, trial_dir
from autoseq.space import SearchSpace, load_search_space
from autoseq.stat_baselines import cached_stat_baselines

logger = logging.getLogger("autoseq")

Event = dict[str, Any]


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
        """``1 - MAE(best) / MAE(best baseline)`` on validation: > 0 means the model wins."""
        b, base = self.best, self.best_baseline
        if not b or not base or not base["val_mae"]:
            return None
        return 1.0 - float(b["val_mae"]) / float(base["val_mae"])


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a search; ``result`` holds the leaderboard of the finished trials."""

    def __init__(self, result: SearchResult):
        super().__init__("search interrupted")
        self.result = result


def search(
    data: str | Path,
    *,
    target: str | list[str],
    time_col: str | None = None,
    covariates: list[str] | None = None,
    horizon: int = 1,
    space: str | Path | SearchSpace = "default",
    trials: int = 20,
    timeout: float | None = None,
    max_epochs: int = 20,
    patience: int = 5,
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
    on_event: Callable[[Event], None] | None = None,
) -> SearchResult:
    """Search recurrent architectures for a forecasting CSV and rank them.

    ``trials`` is the study's total of trials with a result (complete or pruned): calling again
    on the same run folder continues up to it and never re-runs a finished trial.

    Args:
        data: CSV with a time column and numeric columns.
        target: column(s) to forecast; other numeric columns are past covariates.
        horizon: steps to forecast.
        space: a built-in space name, a YAML path, or a ``SearchSpace``.
        trials: total trials with a result in the study.
        timeout: seconds after which no new trial starts.
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
        warm_start: try the forecasting starting points (``autoseq._portfolio``) first, in a
            new study of a backend that can queue trials.
        calendar: let trials whose ``calendar`` parameter is on use calendar features.
        stat_baselines: also rank MSTL + AutoETS / AutoARIMA (``statsforecast``) baselines.
        stat_origins: at most this many validation windows for them (evenly spaced; 0: all).
        report: write ``report.html`` and ``report.md`` into the run folder at the end.
        max_failures: stop after this many failed trials in a row.
        deterministic: make TensorFlow ops deterministic, so that a rerun with the same seed
            gives the same losses (on CPU) and so the same proposals; slower.

    Returns:
        A ``SearchResult`` with ``.leaderboard``, ``.best`` and ``.run_dir``.

    Raises:
        DataError, SearchSpaceError, SearchError: bad input or settings (nothing written).
        AllTrialsFailedError: no trial produced a result.
        SearchInterrupted: Ctrl-C; the finished trials are kept and ranked.

    Example:
        >>> result = autoseq.search("examples/airline.csv", target="passengers", horizon=12,
        ...                         space="fast", trials=4, max_epochs=5)
        >>> result.leaderboard.head()
    """
    emit = on_event or (lambda e: None)
    targets = [target] if isinstance(target, str) else list(target)
    if trials < 1:
        raise SearchError(f"--trials must be at least 1. Received: {trials}")
    if max_epochs < 1:
        raise SearchError(f"--max-epochs must be at least 1. Received: {max_epochs}")
    space = load_search_space(space)
    check_space(space)
    series = load_series(data, targets=targets, time_col=time_col, covariates=covariates,
                         max_gap=max_gap)
    fdata = ForecastData(series, horizon=horizon, val_size=val_size, test_size=test_size,
                         calendar=calendar)
    run_dir = Path(out) if out else Path("results") / _default_name(data, targets)
    if metric not in OBJECTIVES:
        raise SearchError(f"--metric must be one of {', '.join(OBJECTIVES)}. Received: {metric}")
    settings = TrialSettings(max_epochs=max_epochs, patience=patience, seed=seed,
                             builder=space.builder, metric=metric)
    meta = _meta(fdata, space, settings, max_gap=max_gap, folds=folds)
    meta["settings"]["deterministic"] = bool(deterministic)
    storage = storage or default_storage(run_dir)
    _check_run_dir(run_dir, meta, backend)
    engine = make_backend(backend, run_dir=run_dir, storage=storage, study_name=study, seed=seed,
                          algorithm=algorithm, pruner=pruner)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        engine.open(meta={k: meta[k] for k in ("fingerprint", "space", "settings")})
    except BaseException:
        if not any(run_dir.iterdir()):
            run_dir.rmdir()
        raise
    queued = (engine.enqueue(starting_points(space))
              if warm_start and hasattr(engine, "enqueue") else 0)
    if queued:
        logger.info("%d starting configurations queued before the sampler's own", queued)
    write_json_atomic(run_dir / RUN_FILE, meta | {
        "autoseq_version": __version__,
        "backend": {"name": backend, "algorithm": algorithm, "pruner": pruner,
                    "storage": redact_url(storage), "study": study},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "stat_baselines": {"enabled": stat_baselines, "max_origins": stat_origins},
    })
    if deterministic:
        _enable_determinism(seed)
    fold_data = make_folds(fdata, folds)
    baselines = score_fold_baselines(fold_data, metric=metric)
    if stat_baselines:
        per_fold = max(1, stat_origins // folds) if stat_origins else 0
        baselines = sorted(baselines + score_fold_baselines(
            fold_data, lambda d, part, **kw: cached_stat_baselines(run_dir, d, part, **kw),
            max_origins=per_fold, metric=metric), key=lambda b: b.loss)
    extra = [p for p in space.names]

    def leaderboard() -> pd.DataFrame:
        board = build_leaderboard(engine.records(), baselines, extra_params=extra, folds=folds)
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
        with deferred_interrupts(), frozen_survivors():
            engine.run(trial_fn, total=trials, should_stop=should_stop, on_record=on_record)
    except KeyboardInterrupt:
        result = SearchResult(run_dir, leaderboard(), baselines, "interrupted")
        engine.close()
        raise SearchInterrupted(result) from None
    board = leaderboard()
    engine.close()
    result = SearchResult(run_dir, board, baselines, state["stopped"])
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


def _enable_determinism(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TF outside trials (each trial reseeds)
    tf.config.experimental.enable_op_determinism()


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
    for key, what in (("fingerprint", "data"), ("space", "search space"),
                      ("settings", "settings")):
        if old.get(key) != meta[key]:
            diff = _first_diff(old.get(key), meta[key])
            raise SearchError(f"{run_dir}: this run folder holds a search with different {what}"
                              f"{diff}; pass a new --out to start another search")
    # Each backend keeps its own trials: another one here would hide them and reuse their numbers.
    old_backend = (old.get("backend") or {}).get("name", backend)
    if old_backend != backend:
        raise SearchError(f"{run_dir}: this run folder holds a search made with --backend "
                          f"{old_backend}; resume it with that backend or pass a new --out. "
                          f"Received: --backend {backend}")


def _first_diff(a: Any, b: Any) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(b) + [k for k in a if k not in b]:
            if a.get(k) != b.get(k):
                return f" ({k}: {a.get(k)!r} then, {b.get(k)!r} now)"
    return ""
