"""What every search backend provides, in autoseq's own terms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from autoseq._objective import Reporter, TrialResult
from autoseq.space import Suggester

TrialFn = Callable[[Suggester, Reporter, int], TrialResult]
"""Runs one trial: ``(suggester, reporter, trial_number) -> TrialResult``."""

STATES = ("complete", "pruned", "failed", "interrupted", "running")


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the study stores it, whichever engine ran it."""

    number: int
    state: str
    params: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    @property
    def val_loss(self) -> float | None:
        return self.result.get("val_loss")

    @property
    def config(self) -> dict[str, Any]:
        """The resolved configuration (or the raw drawn values when the trial never resolved)."""
        return self.result.get("config") or dict(self.params)


class Backend(Protocol):
    """A search engine driving trials over an autoseq ``SearchSpace``.

    ``open`` creates or reloads the study and refuses one made for other data or settings;
    ``run`` starts trials until the study holds ``total`` complete-or-pruned trials or
    ``should_stop()`` says so, calling ``on_record`` once each trial is stored; ``records``
    lists every trial in the study.
    """

    name: str

    def open(self, *, meta: dict[str, Any]) -> None: ...

    def run(self, trial_fn: TrialFn, *, total: int, should_stop: Callable[[], bool],
            on_record: Callable[[TrialRecord], None]) -> None: ...

    def records(self) -> list[TrialRecord]: ...

    def close(self) -> None: ...


def count_done(records: list[TrialRecord]) -> int:
    """Trials with a result: complete or pruned."""
    return sum(r.state in ("complete", "pruned") for r in records)
