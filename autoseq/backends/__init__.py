"""Search backends: each adapts autoseq's space and trial to one engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autoseq.backends._base import Backend, TrialFn, TrialRecord, count_done
from autoseq.backends._kerastuner import KerasTunerBackend
from autoseq.backends._optuna import OptunaBackend, is_journal, read_study_meta, redact_url
from autoseq.exceptions import SearchError

BACKENDS = ("optuna", "keras-tuner")
DEFAULT_STUDY = "autoseq"


def default_storage(run_dir: Path) -> str:
    """The Optuna study storage of a run folder when ``--storage`` is not given."""
    return f"sqlite:///{(Path(run_dir) / 'study.db').resolve()}"


def make_backend(name: str, *, run_dir: Path, storage: str, study_name: str, seed: int,
                 algorithm: str | None, prune_warmup: int | None = None,
                 pruner: str | None = None, worker_index: int | None = None,
                 tags: dict[str, Any] | None = None) -> Backend:
    """The backend called ``name``, set up for one run folder.

    The only place a backend is chosen by name. ``prune_warmup``: epochs before Optuna's median
    pruner may stop a trial (default: its own); KerasTuner's Hyperband budgets are not verdicts
    on noisy losses and ignore it. ``worker_index`` (offsets the sampler's seed among the
    workers of ``--jobs``) and ``tags`` (stored with each trial) are for Optuna's workers.

    Raises:
        SearchError: unknown backend or algorithm, or an option the backend does not take.
    """
    if name == "optuna":
        return OptunaBackend(storage=storage, study_name=study_name, seed=seed,
                             algorithm=algorithm or "tpe", pruner=pruner or "median",
                             lock_dir=run_dir, worker_index=worker_index, tags=tags,
                             **({} if prune_warmup is None else {"warmup": prune_warmup}))
    if name == "keras-tuner":
        if pruner is not None:
            raise SearchError("pruner applies to the optuna backend only; keras-tuner's "
                              f"algorithms decide themselves. Received: pruner={pruner!r}")
        if storage != default_storage(run_dir) or study_name != DEFAULT_STUDY:
            raise SearchError("--storage and --study apply to the optuna backend only; "
                              "keras-tuner keeps its state in the run folder (--out)")
        if worker_index is not None or tags:
            raise SearchError("workers (autoseq worker, --jobs) need the optuna backend. "
                              "Received: --backend keras-tuner")
        return KerasTunerBackend(run_dir=run_dir, seed=seed, algorithm=algorithm or "random")
    raise SearchError(f"--backend must be one of {', '.join(BACKENDS)}. Received: {name}")

__all__ = ["BACKENDS", "DEFAULT_STUDY", "Backend", "KerasTunerBackend", "OptunaBackend",
           "TrialFn", "TrialRecord", "count_done", "default_storage", "is_journal", "make_backend",
           "read_study_meta", "redact_url"]
