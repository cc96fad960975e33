"""Ctrl-C and SIGTERM during a search, delivered where it is safe to stop.

Python raises ``KeyboardInterrupt`` at whatever bytecode runs when SIGINT arrives; inside a
garbage-collection callback (which TensorFlow triggers often) it is printed and swallowed, and the
search carries on as if nothing happened. While a search runs, the first Ctrl-C only sets a flag;
``check()`` raises ``KeyboardInterrupt`` at the next safe point (after a training batch or between
trials). A second Ctrl-C interrupts at once.

SIGTERM (a preempted machine, a batch system scaling a job down) is the same request from outside,
with a deadline: ``check()`` raises ``Terminated`` at the next safe point, and when that point has
not come within the grace period (a long batch, a slow storage) a watchdog thread gives the running
trial back itself (``on_abandon``) and ends the process with ``EXIT_TERMINATED``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger("autoseq")

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a process SIGTERM ended
DEFAULT_GRACE = 25.0
"""Seconds from SIGTERM to exit: under Kubernetes' default ``terminationGracePeriodSeconds``."""
_CTRL_C_REASON = "interrupted by the user (Ctrl-C)"

_requested = threading.Event()
_terminated = threading.Event()
_abandon: list[Callable[[], None]] = []
_deferring: list[bool] = []  # non-empty while a ``deferred_interrupts`` block runs


class Terminated(KeyboardInterrupt):
    """SIGTERM: this process was asked to stop; its running trial goes back to the study."""

    reason = "interrupted: the worker was stopped (SIGTERM); the trial is queued again"


def reason_of(exc: BaseException) -> str:
    """The reason an interrupted trial records: SIGTERM's or Ctrl-C's."""
    return exc.reason if isinstance(exc, Terminated) else _CTRL_C_REASON


def exit_code_of(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (also when wrapped, as click and ``search`` do)."""
    while exc is not None:
        if isinstance(exc, Terminated) or getattr(exc, "terminated", False):
            return EXIT_TERMINATED
        exc = exc.__cause__ or exc.__context__
    return EXIT_INTERRUPTED


def raise_terminated(signum, frame) -> None:
    """A SIGTERM handler for the time outside a search: stop at once, as Ctrl-C does."""
    raise Terminated()


def terminate_immediately() -> None:
    """Let SIGTERM end this process with ``Terminated`` (exit 143) rather than silently."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL):
        signal.signal(signal.SIGTERM, raise_terminated)


@contextmanager
def deferred_interrupts(*, grace: float = DEFAULT_GRACE) -> Iterator[None]:
    """Defer Ctrl-C and SIGTERM to ``check()`` while the block runs (main thread only; a
    nested block leaves the outer one in charge; an ignored SIGINT stays ignored).

    Args:
        grace: seconds after SIGTERM by which the process has exited; when it has not (no
            ``check()`` came in time, or the exit itself dragged), the watchdog abandons the
            running trial, if any, and exits 143.
    """
    if threading.current_thread() is not threading.main_thread() or _deferring:
        yield
        return
    # SIGTERM is deferred even where SIGINT is ignored (a job a script started with ``&``):
    # raised at any bytecode it can land inside a storage commit and fail the trial instead.
    takes_int = signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def on_sigint(signum, frame):
        if _requested.is_set():
            raise KeyboardInterrupt
        _requested.set()

    def on_sigterm(signum, frame):
        if _terminated.is_set():
            return
        _terminated.set()
        # Armed until the process ends (the block may be long left): the grace is a promise.
        threading.Thread(target=_watchdog, args=(grace,), name="autoseq-sigterm",
                         daemon=True).start()

    _requested.clear()
    _terminated.clear()
    previous = signal.signal(signal.SIGINT, on_sigint) if takes_int else None
    previous_term = signal.signal(signal.SIGTERM, on_sigterm)
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.clear()
        if takes_int:
            signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        _requested.clear()
        _terminated.clear()


def check_grace(grace: float) -> None:
    """Refuse a grace period that is not a finite number of seconds ≥ 0.

    Raises:
        SearchError: ``grace`` is negative, infinite or not a number.
    """
    from autoseq.exceptions import SearchError

    if not isinstance(grace, int | float) or not 0 <= grace < 1e6:
        raise SearchError(f"--grace must be a number of seconds ≥ 0. Received: {grace}")


def check() -> None:
    """Raise ``Terminated`` after SIGTERM, ``KeyboardInterrupt`` after Ctrl-C."""
    if _terminated.is_set():
        raise Terminated()
    if _requested.is_set():
        raise KeyboardInterrupt


@contextmanager
def on_abandon(give_back: Callable[[], None]) -> Iterator[None]:
    """While the block runs (a trial), the watchdog calls ``give_back`` before it ends the process.

    ``give_back`` must be safe to call twice (the main thread may be giving the trial back too).
    """
    _abandon.append(give_back)
    try:
        yield
    finally:
        _abandon.remove(give_back)


def _watchdog(grace: float) -> None:
    threading.Event().wait(max(0.0, grace))
    logger.warning("no safe point within the %g s grace period after SIGTERM: abandoning the "
                   "running trial", grace)
    for give_back in list(_abandon):
        try:
            give_back()
        except Exception as exc:  # noqa: BLE001 - exiting in time matters more; the heartbeat
            logger.warning("could not give the trial back (%s); its heartbeat will", exc)
    exit_now(EXIT_TERMINATED)


def exit_now(code: int) -> None:
    """Flush the terminal and end the process without the interpreter's teardown.

    After SIGTERM the study is already consistent and every file written atomically; tearing
    TensorFlow down takes seconds of a grace period that a batch system counts.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
