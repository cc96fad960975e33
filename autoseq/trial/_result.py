"""What a trial is given and what it gives back: settings, the pruning reporter, the result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from autoseq._run_folder import FOLD_FORECASTS, WEIGHTS, load_trial_json

__all__ = ["FOLD_FORECASTS", "WEIGHTS", "Reporter", "TrialResult", "TrialSettings",
           "load_trial_json"]


class Reporter(Protocol):
    """Receives the validation loss after each epoch; answers whether to prune the trial."""

    def report(self, value: float, epoch: int) -> bool: ...


@dataclass(frozen=True)
class TrialSettings:
    """Settings shared by every trial of a search."""

    max_epochs: int = 20
    patience: int = 5
    seed: int = 0
    builder: str = "rnn"
    eval_batch_size: int = 512
    metric: str = "mse"
    compile: str = "auto"
    deadline: float | None = None
    """``time.monotonic()`` past which a running trial stops at its next epoch end and keeps its
    best epoch (the search's ``--timeout``): a budget holds however big the last trial."""
    keep_val_forecast: bool = False
    """Keep the validation forecast (data units) in ``TrialResult.val_forecast``: an earlier
    ``--folds`` fold's, which ``export`` scores its candidates on."""


@dataclass
class TrialResult:
    """What a trial produced. ``state`` is ``complete``, ``pruned`` or ``failed``.

    ``metrics`` holds a sequence trial's validation metrics (``val_accuracy``, ``val_f1``,
    ``val_log_loss``; ``val_mae``, ``val_rmse``). ``compiled``: trained through XLA; a trial
    whose compiled training failed and that was trained again without says so in ``reason``.
    """

    state: str
    config: dict[str, Any]
    val_loss: float | None = None
    val_mae: float | None = None
    epochs: int = 0
    best_epoch: int | None = None
    seconds: float = 0.0
    params: int | None = None
    cudnn_eligible: bool = False
    compiled: bool = False
    reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    val_forecast: Any = field(default=None, repr=False)
    """The validation forecast in the data's units, when ``keep_val_forecast`` asked."""

    def attrs(self) -> dict[str, Any]:
        """JSON-ready attributes to store with the trial in the study."""
        d = asdict(self)
        d.pop("history")
        d.pop("val_forecast")
        return d


