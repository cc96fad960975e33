"""Reading the search back: the Optuna study, per-epoch histories, failures grouped by reason."""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from autoseq._run_folder import RunFolder as Run

logger = logging.getLogger("autoseq")

MIN_TRIALS_FOR_IMPORTANCE = 4


@dataclass(frozen=True)
class ParamImportance:
    """Optuna's hyperparameter importances (fANOVA), or why there are none."""

    values: dict[str, float]
    note: str = ""


def load_study(run: Run):
    """The run's Optuna study, or ``None`` (with a log line) when it cannot be read.

    The URL in ``run.json`` has its password redacted; a SQLite study inside the run folder is
    found by path even when the folder was moved.
    """
    backend = run.info.get("backend") or {}
    if backend.get("name", "optuna") != "optuna":
        return None
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = backend.get("study", "autoseq")
    stored = backend.get("storage") or ""
    local = run.path / "study.db"
    urls = []
    if (run.path / "study.journal").is_file():  # a --jobs/--gpus search
        urls.append(str((run.path / "study.journal").resolve()))
    if stored and "***" not in stored and not stored.startswith("sqlite"):
        urls.append(stored)
    if local.is_file():
        urls.append(f"sqlite:///{local.resolve()}")
    elif stored.startswith("sqlite:///") and Path(stored[len("sqlite:///"):]).is_file():
        urls.append(stored)
    for url in urls:
        try:
            return optuna.load_study(study_name=name, storage=_storage(url))
        except Exception as exc:  # noqa: BLE001 - any storage error only costs the report a figure
            logger.info("report: cannot read study '%s': %s", name, str(exc).splitlines()[0])
    return None


def _storage(url: str):
    """An RDB URL as it is; a journal file (a path, never created here) as Optuna's storage."""
    if "://" in url:
        return url
    if not Path(url).is_file():
        raise FileNotFoundError(f"{url}: no such journal file")
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(url))


def param_importances(study, *, seed: int = 0) -> ParamImportance:
    """fANOVA importances of the hyperparameters that varied, guarded against too few trials."""
    if study is None:
        return ParamImportance({}, "no readable Optuna study in this run folder")
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(done) < MIN_TRIALS_FOR_IMPORTANCE:
        return ParamImportance({}, f"only {len(done)} complete trial(s); importances need at "
                                   f"least {MIN_TRIALS_FOR_IMPORTANCE}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    except (RuntimeError, ValueError) as exc:
        return ParamImportance({}, f"Optuna could not compute them ({str(exc).splitlines()[0]})")
    if not values:
        return ParamImportance({}, "no hyperparameter varied across the complete trials")
    return ParamImportance(dict(values))


def histories(run: Run, numbers: list[int], study=None) -> dict[int, dict[str, list[float]]]:
    """Per-epoch ``loss`` / ``val_loss`` of each trial: its ``trial.json``, else the study."""
    out: dict[int, dict[str, list[float]]] = {}
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)} if study else {}
    for n in numbers:
        path = run.trial_dir(n) / "trial.json"
        hist = None
        if path.is_file():
            try:
                hist = json.loads(path.read_text(encoding="utf-8")).get("history")
            except (OSError, ValueError):
                hist = None
        if not hist and n in by_number and by_number[n].intermediate_values:
            steps = sorted(by_number[n].intermediate_values)
            hist = {"val_loss": [by_number[n].intermediate_values[s] for s in steps]}
        if hist and hist.get("val_loss"):
            out[n] = hist
    return out


def failure_groups(board: pd.DataFrame) -> pd.DataFrame:
    """Failed, interrupted and pruned trials grouped by state and a normalised reason."""
    trials = board[board["state"].isin(["failed", "interrupted", "pruned", "running"])]
    rows = []
    for _, r in trials.iterrows():
        if r["state"] == "pruned":
            epochs = r.get("epochs")
            reason = ("stopped by the median pruner after "
                      f"{int(epochs) if pd.notna(epochs) else '?'} epoch(s): behind the median "
                      "of earlier trials at the same epoch")
        else:
            reason = _normalise(str(r.get("reason") or "no reason recorded"))
        rows.append({"state": r["state"], "reason": reason, "trial": int(r["trial"])})
    if not rows:
        return pd.DataFrame(columns=["state", "reason", "count", "trials"])
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["state", "reason"], sort=False)["trial"]
    out = grouped.agg(count="count", trials=lambda s: sorted(s)).reset_index()
    return out.sort_values(["state", "count"], ascending=[True, False], kind="stable")


def _normalise(reason: str) -> str:
    reason = reason.lstrip("'")  # the leaderboard CSV escapes formula-like cells
    reason = re.sub(r"\((?:-?inf|nan)\)", "(non-finite)", reason)
    return re.sub(r"at epoch \d+", "at epoch N", reason)
