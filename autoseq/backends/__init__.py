"""Search backends: each adapts autoseq's space and trial to one engine."""

from __future__ import annotations

from pathlib import Path

from autoseq.backends._base import Backend, TrialFn, TrialRecord, count_done
from autoseq.backends._optuna import OptunaBackend, redact_url
from autoseq.exceptions import SearchError

BACKENDS = ("optuna",)


def make_backend(name: str, *, run_dir: Path, storage: str, study_name: str, seed: int,
                 algorithm: str | None, pruner: str | None = None) -> Backend:
    """The backend called ``name``, set up for one run folder."""
    if name == "optuna":
        return OptunaBackend(storage=storage, study_name=study_name, seed=seed,
                             algorithm=algorithm or "tpe", pruner=pruner or "median",
                             lock_dir=run_dir)
    raise SearchError(f"--backend must be one of {', '.join(BACKENDS)}. Received: {name}")


__all__ = ["BACKENDS", "Backend", "OptunaBackend", "TrialFn", "TrialRecord", "count_done",
           "make_backend", "redact_url"]
