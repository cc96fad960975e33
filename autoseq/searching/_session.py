"""A search whose study is open: its baselines, leaderboard and progress while trials run.

The trials run in this process or in the worker processes of ``--jobs``; either way each
finished trial updates the leaderboard file, and the search ends with a ``SearchResult``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from autoseq._interrupt import Terminated, deferred_interrupts
from autoseq.backends import Backend, TrialRecord, count_done
from autoseq.baselines import BaselineScore
from autoseq.exceptions import AllTrialsFailedError
from autoseq.intervals import IntervalSpec
from autoseq.leaderboard import FinalScores, best_trial_row, build_leaderboard, write_leaderboard
from autoseq.run import LEADERBOARD, open_run, trial_dir
from autoseq.searching._devices import device_setup
from autoseq.searching._failures import FailurePolicy
from autoseq.searching._parallel import run_workers
from autoseq.searching._result import SearchInterrupted, SearchResult
from autoseq.space import SearchSpace
from autoseq.stat_baselines import BackgroundBaselines, cached_stat_baselines
from autoseq.tasks import Task
from autoseq.trial._folds import make_folds, run_trial_folds, score_fold_baselines
from autoseq.trial._objective import TrialSettings, frozen_survivors

logger = logging.getLogger("autoseq")

Event = dict[str, Any]


class SearchSession:
    """The running search on an open study (``engine``), from its baselines to its result.

    Made once the study is open: it scores the baselines (the statistical ones on a thread when
    ``stat_origins`` is not ``None``), announces the start, and its failure policy's clock starts.
    ``run_here`` or ``run_in_workers`` then runs the trials and returns the ``SearchResult``,
    closing the study. The last leaderboard adds the task's final scores (``intervals``: the
    forecast intervals of the best trials and the baselines), scored once, in this process.
    """

    def __init__(self, engine: Backend, fdata, *, space: SearchSpace, settings: TrialSettings,
                 run_dir: Path, trials: int, folds: int, metric: str, task: Task,
                 timeout: float | None, max_failures: int, stat_origins: int | None,
                 on_event: Callable[[Event], None] | None,
                 intervals: IntervalSpec | None = None):
        self.engine = engine
        self.fdata = fdata
        self.task = task
        self.intervals = intervals or IntervalSpec()
        self.space = space
        self.settings = settings
        self.run_dir = run_dir
        self.trials = trials
        self.folds = folds
        self.emit = on_event or _ignore
        task.attach(fdata, run_dir)
        self.fold_data = make_folds(fdata, folds)
        self.baselines = score_fold_baselines(self.fold_data, task.baselines, metric=metric)
        self.stat = None if stat_origins is None else self._stat_baselines(stat_origins, metric)
        self.emit({"kind": "start", "run_dir": run_dir, "total": trials,
                   "done": count_done(engine.records()), "baselines": self.baselines,
                   "data": fdata})
        self.policy = FailurePolicy(timeout=timeout, max_failures=max_failures)

    def _stat_baselines(self, origins: int, metric: str) -> BackgroundBaselines:
        """On a thread: minutes on long series, and no trial waits for them."""
        per_fold = max(1, origins // self.folds) if origins else 0
        return BackgroundBaselines(lambda: score_fold_baselines(
            self.fold_data,
            lambda d, part, **kw: cached_stat_baselines(self.run_dir, d, part, **kw),
            max_origins=per_fold, metric=metric))

    def ranked_baselines(self, *, wait: bool = False) -> list[BaselineScore]:
        more = self.stat.scores(wait=wait) if self.stat is not None else []
        return sorted(self.baselines + more, key=lambda b: b.loss)

    def leaderboard(self, *, wait: bool = False, final: bool = False) -> pd.DataFrame:
        """The leaderboard of the study's trials and the baselines, written to the run folder;
        with the task's final scores when ``final``."""
        records, baselines = self.engine.records(), self.ranked_baselines(wait=wait)

        def build(scores: FinalScores | None = None) -> pd.DataFrame:
            return build_leaderboard(records, baselines, extra_params=list(self.space.names),
                                     folds=self.folds, metric_columns=self.fdata.metric_columns,
                                     final=scores)

        board = build()
        if final:
            board = build(self._final_scores(board))
        write_leaderboard(board, self.run_dir / LEADERBOARD)
        return board

    def _final_scores(self, board: pd.DataFrame) -> FinalScores | None:
        """The task's final scores of ``board``'s rows (the last fold's data with ``--folds``:
        its weights are the ones each trial keeps); a failure is logged and costs only them."""
        start = time.perf_counter()
        try:
            scores = self.task.final_scores(open_run(self.run_dir), self.fdata, board,
                                            intervals=self.intervals)
        except Exception as exc:  # noqa: BLE001 - the finished search keeps its leaderboard
            logger.warning("leaderboard: final scores not computed (%s: %s)",
                           type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
            return None
        if scores is not None and scores.empty_because:
            logger.info("leaderboard: %s left empty: %s", ", ".join(scores.columns),
                        scores.empty_because)
        elif scores is not None:
            logger.info("leaderboard: %s scored for %d trials and %d baselines in %.1f s",
                        ", ".join(scores.columns), len(scores.trials), len(scores.baselines),
                        time.perf_counter() - start)
        return scores

    def run_here(self, *, precision: str, grace: float, report: bool) -> SearchResult:
        """Run the trials in this process."""

        def trials() -> None:
            with (deferred_interrupts(grace=grace), device_setup(precision=precision),
                  frozen_survivors()):
                self.engine.run(self.trial_fn, total=self.trials,
                                should_stop=self.policy.should_stop, on_record=self.on_record)

        return self._run(trials, report=report)

    def run_in_workers(self, *, storage: str, study: str, jobs: int, gpus: list[str],
                       precision: str, compile: str, grace: float, report: bool,
                       keras_backend: str | None = None) -> SearchResult:
        """Run the trials in ``jobs`` worker processes (on Keras's ``keras_backend``, default:
        each worker's own choice); this one watches the study."""

        def trials() -> None:
            self.policy.stopped = run_workers(
                self.engine, storage=storage, study=study, run_dir=self.run_dir, jobs=jobs,
                gpus=gpus, precision=precision, compile=compile, trials=self.trials,
                keras_backend=keras_backend,
                timeout=self.policy.timeout, max_failures=self.policy.max_failures, grace=grace,
                on_record=self.on_record)

        return self._run(trials, report=report)

    def trial_fn(self, suggester, reporter, number: int):
        self.emit({"kind": "trial_start", "number": number})
        return run_trial_folds(suggester, reporter, number=number, folds=self.fold_data,
                               space=self.space,
                               settings=replace(self.settings, deadline=self.policy.deadline),
                               trial_dir=trial_dir(self.run_dir, number))

    def on_record(self, record: TrialRecord) -> None:
        self.policy.record(record)
        board = self.leaderboard()
        self.emit({"kind": "trial", "record": record, "done": count_done(self.engine.records()),
                   "total": self.trials, "best": best_trial_row(board),
                   "elapsed": self.policy.elapsed()})

    def _run(self, trials: Callable[[], None], *, report: bool) -> SearchResult:
        try:
            trials()
        except KeyboardInterrupt as exc:
            result = SearchResult(self.run_dir, self.leaderboard(), self.ranked_baselines(),
                                  "interrupted")
            self.engine.close()
            raise SearchInterrupted(result, terminated=isinstance(exc, Terminated)) from None
        except BaseException:
            self.engine.close()
            raise
        return self._finish(report=report)

    def _finish(self, *, report: bool) -> SearchResult:
        board = self.leaderboard(wait=True, final=True)
        self.engine.close()
        result = SearchResult(self.run_dir, board, self.ranked_baselines(), self.policy.stopped)
        if result.best is None:
            reason = self.policy.last_reason or self.policy.stopped or "no trial finished"
            raise AllTrialsFailedError(f"every trial failed (last reason: {reason}); see "
                                       f"{self.run_dir / LEADERBOARD} for each trial's reason")
        if self.policy.stopped:
            logger.warning("search stopped early: %s", self.policy.stopped)
        if report:
            from autoseq.report import try_write_report

            result.report = try_write_report(self.run_dir)
        self.emit({"kind": "end", "result": result})
        return result


def _ignore(event: Event) -> None:
    pass
