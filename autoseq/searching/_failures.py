"""When a search or a worker stops starting trials: Ctrl-C or SIGTERM, a timeout, failures."""

from __future__ import annotations

import time

from autoseq._interrupt import check as check_interrupt
from autoseq.backends import TrialRecord


class FailurePolicy:
    """When to stop starting trials: a timeout, or too many failures in a row.

    The clock starts when the policy is made. ``stopped`` says why it stopped (``None`` while
    it has not); ``last_reason`` is the last failed trial's reason.

    Example:
        >>> policy = FailurePolicy(timeout=600, max_failures=10)
        >>> engine.run(trial_fn, total=20, should_stop=policy.should_stop, on_record=policy.record)
    """

    def __init__(self, *, timeout: float | None, max_failures: int):
        self.timeout = timeout
        self.max_failures = max_failures
        self.started = time.monotonic()
        self.failures = 0
        self.last_reason: str | None = None
        self.stopped: str | None = None

    def record(self, record: TrialRecord) -> None:
        """Count a finished trial: a result resets the run of failures."""
        if record.state in ("complete", "pruned"):
            self.failures = 0
        else:
            self.failures += 1
            self.last_reason = record.reason

    def should_stop(self) -> bool:
        """Whether to start no new trial; raises on Ctrl-C or SIGTERM (``autoseq._interrupt``)."""
        check_interrupt()
        if self.timeout is not None and time.monotonic() - self.started >= self.timeout:
            self.stopped = f"timeout of {self.timeout:g} s reached"
        elif self.failures >= self.max_failures:
            self.stopped = f"{self.failures} trials in a row failed (last: {self.last_reason})"
        return self.stopped is not None

    @property
    def deadline(self) -> float | None:
        """The ``time.monotonic()`` of the timeout (``None``: no timeout)."""
        return None if self.timeout is None else self.started + self.timeout

    def elapsed(self) -> float:
        """Seconds since the policy was made."""
        return time.monotonic() - self.started
