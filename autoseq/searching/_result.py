"""What a search returns, or raises when it is stopped: the run folder and its leaderboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from autoseq.baselines import BaselineScore
from autoseq.leaderboard import best_baseline_row, best_trial_row


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
        """The baseline ranked best on the search's objective (``val_loss``)."""
        row = best_baseline_row(self.leaderboard)
        return None if row is None else row.to_dict()

    def versus(self) -> tuple[str, dict[str, Any]] | None:
        """The column the best trial is shown on (the task's headline: OWA for a panel, else
        MAE in data units, else the objective) and the baseline with the lowest value in it,
        so the number beside the model is the best baseline's on that same column."""
        best = self.best
        rows = self.leaderboard[self.leaderboard["state"] == "baseline"]
        if not best or rows.empty:
            return None
        for key in _SHOWN_ON:
            values = pd.to_numeric(rows[key], errors="coerce") if key in rows else None
            if _finite(best.get(key)) and values is not None and values.notna().any():
                return key, rows.loc[values.idxmin()].to_dict()
        return None

    @property
    def skill(self) -> float | None:
        """``1 - best / best baseline`` on the column ``versus`` picks (validation MAE for a
        series, OWA for a panel, log loss for classification): > 0 means the model wins."""
        shown = self.versus()
        if shown is None:
            return None
        key, base = shown
        if not float(base[key]):
            return None
        return 1.0 - float(self.best[key]) / float(base[key])


_SHOWN_ON = ("val_owa", "val_mae", "val_loss")


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
