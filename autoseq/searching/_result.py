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
