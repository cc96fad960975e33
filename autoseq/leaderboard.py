"""The leaderboard: every trial ranked on validation loss, next to the baselines."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from autoseq._io import write_text_atomic
from autoseq.backends import TrialRecord
from autoseq.baselines import BaselineScore
from autoseq.model._builder import describe

HYPERPARAMETERS = ("cell", "depth", "units", "bidirectional", "dropout", "recurrent_dropout",
                   "clipnorm", "clipvalue", "learning_rate", "lookback", "batch_size", "anchor")
_HIDDEN = {"clipping"}
LEADING = ("rank", "model", "trial", "state", "val_loss", "val_mae")
TRAILING = ("epochs", "seconds", "params", "cudnn_eligible", "compiled", "reason")


@dataclass(frozen=True)
class FinalScores:
    """Columns a search scores once it has finished, for some rows of its leaderboard (the
    forecast intervals of the best trials and of the simple baselines); empty elsewhere."""

    columns: tuple[str, ...]
    trials: dict[int, dict[str, float]] = field(default_factory=dict)
    """By trial number: each column's value (a column it lacks stays empty)."""
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    """By baseline name (the ``model`` column)."""
    empty_because: str | None = None
    """Why no row was scored, when none was (said in the search's log)."""


def build_leaderboard(records: Iterable[TrialRecord], baselines: Iterable[BaselineScore], *,
                      extra_params: Iterable[str] = (), folds: int = 1,
                      metric_columns: Iterable[str] = (),
                      final: FinalScores | None = None) -> pd.DataFrame:
    """One row per trial and baseline; rows with a finite ``val_loss`` ranked 1, 2, … by it.

    ``folds``: the validation scores are means over that many walk-forward folds (column
    ``val_folds``; a pruned or failed trial is scored on the last fold only).
    ``metric_columns`` (the task's, such as ``val_accuracy``) follow the leading columns, and
    ``final``'s columns follow them.
    """
    hp = list(HYPERPARAMETERS) + [p for p in extra_params
                                  if p not in HYPERPARAMETERS and p not in _HIDDEN]
    metric_columns = [c for c in metric_columns if c not in LEADING]
    final = final or FinalScores(columns=())
    metric_columns += [c for c in final.columns if c not in metric_columns]
    rows = []
    for r in records:
        cfg = r.config
        row = {"model": describe(cfg) if "cell" in cfg else "custom", "trial": r.number,
               "state": r.state, "val_loss": r.result.get("val_loss"),
               "val_mae": r.result.get("val_mae")}
        metrics = (r.result.get("metrics") or {}) | final.trials.get(r.number, {})
        row |= {c: metrics.get(c) for c in metric_columns}
        row |= {k: cfg.get(k) for k in hp}
        row |= {"epochs": r.result.get("epochs"), "seconds": r.result.get("seconds"),
                "params": r.result.get("params"),
                "cudnn_eligible": r.result.get("cudnn_eligible",
                                               cfg.get("cell") in ("lstm", "gru")
                                               and not cfg.get("recurrent_dropout")),
                "compiled": r.result.get("compiled"),
                # A complete trial has a reason only when its compiled training fell back.
                "reason": r.reason if r.state != "complete" else r.result.get("reason")}
        rows.append(row)
    for b in baselines:
        metrics = b.metrics | final.baselines.get(b.name, {})
        rows.append({"model": b.name, "state": "baseline", "val_loss": b.loss, "val_mae": b.mae}
                    | {c: metrics.get(c) for c in metric_columns})
    columns = list(LEADING) + metric_columns + hp + list(TRAILING) + ["val_folds"]
    for row in rows:
        row["val_folds"] = folds if row["state"] in ("complete", "baseline") else 1
    frame = pd.DataFrame(rows, columns=columns)
    frame["trial"] = frame["trial"].astype("Int64")
    ok = frame["val_loss"].map(lambda v: v is not None and isinstance(v, float | int)
                               and math.isfinite(v))
    ok &= frame["state"].isin(["complete", "pruned", "baseline"])
    ranked = frame[ok].sort_values(["val_loss", "trial"], kind="stable", na_position="last")
    rest = frame[~ok].sort_values("trial", kind="stable")
    ranked.insert(0, "_rank", range(1, len(ranked) + 1))
    out = pd.concat([ranked, rest], ignore_index=True)
    out["rank"] = out.pop("_rank").astype("Int64")
    return out[columns].reset_index(drop=True)


def best_trial_row(board: pd.DataFrame) -> pd.Series | None:
    """The best-ranked trial (not a baseline), or ``None``."""
    trials = board[board["state"].isin(["complete", "pruned"]) & board["rank"].notna()]
    if trials.empty:
        return None
    complete = trials[trials["state"] == "complete"]
    return (complete if not complete.empty else trials).iloc[0]


def top_complete(board: pd.DataFrame, n: int) -> list[int]:
    """The numbers of the ``n`` best-ranked complete trials, best first."""
    ranked = board[(board["state"] == "complete") & board["rank"].notna()].sort_values("rank")
    return [int(t) for t in ranked["trial"].head(n)]


def best_baseline_row(board: pd.DataFrame) -> pd.Series | None:
    """The best-ranked baseline, or ``None``."""
    rows = board[board["state"] == "baseline"]
    return None if rows.empty else rows.sort_values("val_loss").iloc[0]


def write_leaderboard(board: pd.DataFrame, path: Path) -> None:
    """Write as CSV atomically; text cells that a spreadsheet would run as formulas are escaped."""
    write_text_atomic(path, escape_formulas(board).to_csv(index=False))


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells starting with ``= + - @`` (or tab/CR) so spreadsheets show text."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_escape_cell)
    return out


def _escape_cell(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v
