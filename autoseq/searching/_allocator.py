"""glibc's allocator, told to keep the memory compiled JAX steps free while trials train.

XLA on a CPU runs each training step in one block of scratch memory, allocated and freed every
step. glibc serves a block over 32 MiB with ``mmap`` and hands it back to the system when it is
freed, so the next step touches every page of a fresh block: with a long lookback a step is
mostly page faults. The cliff is where a step's scratch passes 32 MiB: on 2 CPU cores
(LSTM(32), batch 64, horizon 48, JAX backend, jit) a lookback of 312 trains 3.6k windows/s, 320
only 2.7k, 336 2.3-2.6k with 1.5 million page faults in 4 epochs. With ``mmap`` off, no trim
below 2 GiB, and 256 MiB of padding, lookback 336 trains 3.6-4.1k windows/s (0.19 million
faults) and GRU(32) 3.7k instead of 2.5k; lookback 96 is unchanged (14-15k). The price: while
trials train, the process keeps its peak memory (1.34-1.41 GiB against 1.28). A thread's own
arena still maps blocks over its 64 MiB heap, so a step whose scratch passes that, off the
main thread, gains nothing.

Only while JAX trials train (``freed_memory_kept``); after, glibc's defaults come back with
its thresholds fixed where its dynamic rule settles (32 MiB ``mmap``, 64 MiB trim: a ``mallopt``
turns that rule off for the rest of the process, and overrides any made in code before), and the
memory kept is handed back. Left alone off glibc, and where the user set one of
these options (``MALLOC_MMAP_MAX_``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_TOP_PAD_``, or ``glibc.malloc`` in ``GLIBC_TUNABLES``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("autoseq")

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_KEEP = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1), (_M_TOP_PAD, 2**28))
# After: glibc's defaults, with the thresholds where its dynamic rule ends in a process that has
# freed large blocks (any ``mallopt`` of these turns that rule off for good).
_AFTER = ((_M_MMAP_MAX, 65536), (_M_TOP_PAD, 128 * 1024), (_M_MMAP_THRESHOLD, 32 * 2**20),
          (_M_TRIM_THRESHOLD, 64 * 2**20))
_USER_OPTIONS = ("MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                 "MALLOC_TOP_PAD_")


@contextmanager
def freed_memory_kept(when: bool = True) -> Iterator[bool]:
    """While inside, glibc's ``malloc`` reuses the memory freed (no ``mmap``, no trim) when
    ``when``; after, its defaults, and the memory kept goes back to the system. Yields whether
    glibc was told (``False`` off glibc, or where the user set these options)."""
    libc = _glibc() if when else None
    told = libc is not None and _set(libc, _KEEP)
    if told:
        logger.debug("glibc keeps the memory the trials' steps free")
    try:
        yield told
    finally:
        if libc is not None:
            _set(libc, _AFTER)
            libc.malloc_trim(ctypes.c_size_t(0))


def _glibc() -> ctypes.CDLL | None:
    """The C library, where it is glibc and the user left its allocator's options alone."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    if any(k in os.environ for k in _USER_OPTIONS) or "glibc.malloc" in os.environ.get(
            "GLIBC_TUNABLES", ""):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _set(libc: ctypes.CDLL, settings: tuple[tuple[int, int], ...]) -> bool:
    """Every option set (each is tried, whatever the others did)."""
    return all([libc.mallopt(option, value) == 1 for option, value in settings])
