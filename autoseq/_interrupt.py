"""Ctrl-C during a search, delivered where it is safe to stop.

Python raises ``KeyboardInterrupt`` at whatever bytecode runs when SIGINT arrives; inside a
garbage-collection callback (which TensorFlow triggers often) it is printed and swallowed, and the
search carries on as if nothing happened. While a search runs, the first Ctrl-C only sets a flag;
``check()`` raises ``KeyboardInterrupt`` at the next safe point (after a training batch or between
trials). A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_requested = threading.Event()


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Defer Ctrl-C to ``check()`` while the block runs (main thread, default handler only)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def on_sigint(signum, frame):
        if _requested.is_set():
            raise KeyboardInterrupt
        _requested.set()

    _requested.clear()
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed since the search started."""
    if _requested.is_set():
        raise KeyboardInterrupt
