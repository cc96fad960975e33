"""glibc's allocator, told to keep the memory a compiled JAX trial frees and asks for again.

XLA on a CPU runs each training step in one block of scratch memory, allocated and freed every
step. glibc serves a block over 32 MiB with ``mmap`` and hands it back to the system when it is
freed, so the next step touches every page of a fresh block: with a long lookback a step is
mostly page faults. The cliff is where a step's scratch passes 32 MiB: on 2 CPU cores
(LSTM(32), batch 64, horizon 48, JAX backend, jit) a lookback of 312 trains 3.6k windows/s, 320
only 2.7k, 336 2.3-2.6k with 1.5 million page faults in 9 epochs. With ``mmap`` off, no trim
below 2 GiB, and 256 MiB of padding, lookback 336 trains 3.6-4.1k windows/s (0.19 million
faults) and GRU(32) 3.7k instead of 2.5k; lookback 96 is unchanged (14-15k). The price is that a
trial process keeps its peak memory: 1.34-1.41 GiB against 1.28.

Only the process that trains JAX trials is told, before JAX starts; a user who tuned glibc's
allocator (any ``MALLOC_*`` variable or ``GLIBC_TUNABLES``) is left alone.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_SETTINGS = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1), (_M_TOP_PAD, 2**28))


def keep_freed_memory() -> bool:
    """Tell glibc's ``malloc`` to reuse freed memory rather than map fresh pages; whether it was
    told (``False`` off glibc, or where the user set the allocator's options)."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    if "GLIBC_TUNABLES" in os.environ or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return all(libc.mallopt(option, value) == 1 for option, value in _SETTINGS)
