"""MSTL as a matrix: the seasonal tables of a fixed-length history are a linear map of it.

MSTL without robustness weights (statsforecast's ``mstl``: STL per season, iterated twice) is a
composition of LOESS smoothers and moving averages, each linear in the data, so the last cycle
of every seasonal component of a history of ``history`` rows is ``operator @ history``. The
operator is measured once per (seasons, history) by decomposing unit impulses, cached on disk,
and then refits MSTL at every origin of a series with one matrix product — and inside an
exported model with one ``einsum``, so a served model needs nothing but the raw window.

STL runs with R's default jumps (each LOESS evaluated every ``ceil(window / 10)`` points and
interpolated between, as ``stats::stl`` does), about 25× faster than every point and within a
few per cent of it.

Example:
    >>> op = mstl_operator((48, 336), 2016)   # [48 + 336, 2016]
    >>> tables = op @ y[o - 2016:o]            # each season's last cycle before origin o
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np

logger = logging.getLogger("autoseq")

_VERSION = 1  # bump when the decomposition changes: cached operators are keyed on it
CACHE_ENV = "AUTOSEQ_CACHE"
SHIPPED = Path(__file__).parent / "operators"


def decompose(x: np.ndarray, periods: tuple[int, ...]) -> list[np.ndarray]:
    """The seasonal components of ``x`` for ``periods`` (ascending), as statsforecast's
    ``mstl`` computes them (same seasonal windows ``7 + 4k``, two iterations), with R's jumps."""
    from statsmodels.tsa.seasonal import STL

    seas = np.zeros((len(periods), len(x)))
    deseas = np.asarray(x, dtype="float64").copy()
    windows = [7 + 4 * (k + 1) for k in range(len(periods))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2 if len(periods) > 1 else 1):
            for k, (m, sw) in enumerate(zip(periods, windows, strict=True)):
                deseas = deseas + seas[k]
                trend = _odd(math.ceil(1.5 * m / (1 - 1.5 / sw)))
                low = _odd(m + 1)
                fit = STL(deseas, period=m, seasonal=sw, seasonal_deg=0, trend=trend,
                          low_pass=low, seasonal_jump=_jump(sw), trend_jump=_jump(trend),
                          low_pass_jump=_jump(low)).fit()
                seas[k] = fit.seasonal
                deseas = deseas - seas[k]
    return list(seas)


def _odd(n: int) -> int:
    return n if n % 2 else n + 1


def _jump(window: int) -> int:
    return max(1, math.ceil(window / 10))


def mstl_operator(periods: tuple[int, ...], history: int) -> np.ndarray:
    """``[sum(periods), history]``: row ``offset_k + j`` gives season ``periods[k]``'s value at
    row ``history - periods[k] + j`` of a history (its last cycle) as weights on the history.

    Shipped with autoseq for half-hourly and hourly seasons (``autoseq/data/operators``, one
    column checked against a fresh decomposition when loaded); otherwise computed from
    ``history`` impulse decompositions on first use (1–3 minutes for daily seasons over six
    years) and cached in ``$AUTOSEQ_CACHE`` (default ``~/.cache/autoseq``). Kept in memory
    for the process (read-only): every model and data variant of a run uses the same one.
    """
    periods = tuple(sorted(int(m) for m in periods))
    if any(2 * m > history for m in periods):
        raise ValueError(f"history {history} must hold every season twice. Received: "
                         f"periods={periods}")
    return _operator(periods, int(history))


@functools.lru_cache(maxsize=8)
def _operator(periods: tuple[int, ...], history: int) -> np.ndarray:
    name = f"mstl-{'-'.join(map(str, periods))}-h{history}-v{_VERSION}.npy"
    for path in (SHIPPED / name, _cache_dir() / name):
        op = _load(path, periods, history)
        if op is not None:
            op.setflags(write=False)
            return op
    path = _cache_dir() / name
    start = time.perf_counter()
    op = np.stack([_impulse_column(i, periods, history) for i in range(history)], axis=1)
    logger.info("MSTL operator for seasons %s over %d rows: %.1f s (cached in %s)",
                ",".join(map(str, periods)), history, time.perf_counter() - start, path.parent)
    _save(path, op)
    op.setflags(write=False)
    return op


def _impulse_column(i: int, periods: tuple[int, ...], history: int) -> np.ndarray:
    """Column ``i`` of the operator: the seasons' last cycles of a unit impulse at row ``i``."""
    impulse = np.zeros(history)
    impulse[i] = 1.0
    return np.concatenate([c[-m:] for m, c in zip(periods, decompose(impulse, periods),
                                                  strict=True)])


def _load(path: Path, periods: tuple[int, ...], history: int) -> np.ndarray | None:
    """A stored operator, if it is there, has the right shape and its middle column is the
    decomposition of an impulse there (a stored file from another STL is not used)."""
    try:
        op = np.load(path).astype("float64") if path.is_file() else None
    except (OSError, ValueError):
        return None
    if op is None or op.shape != (sum(periods), history):
        return None
    i = history // 2
    return op if np.allclose(op[:, i], _impulse_column(i, periods, history), atol=1e-6) else None


def _cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or
                                             Path.home() / ".cache") / "autoseq"
    return Path(root)


def _save(path: Path, op: np.ndarray) -> None:
    """Atomic write; a cache that cannot be written is only a lost speed-up."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.npy")
        np.save(tmp, op)
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("could not cache the MSTL operator in %s (%s)", path.parent, exc)


def relative_tables(values: np.ndarray, points: np.ndarray, op: np.ndarray, history: int, *,
                    cycle: int) -> np.ndarray:
    """``[points, sum(periods), targets]``: ``op`` applied to the ``history`` rows of ``values``
    (``[rows, targets]``) before each point. A point with fewer rows before it (at least one
    ``cycle``) sees the missing ones as the first cycle's rows of the same phase."""
    from numpy.lib.stride_tricks import sliding_window_view

    out = np.empty((len(points), op.shape[0], values.shape[1]))
    full = points >= history
    late = np.flatnonzero(full)  # none when the series is shorter than the history
    for j in range(values.shape[1]):
        if len(late):
            windows = sliding_window_view(values[:, j], history)  # row r: values[r:r + history]
        for a in range(0, len(late), 4096):
            rows = late[a:a + 4096]
            out[rows, :, j] = windows[points[rows] - history] @ op.T
        for k in np.flatnonzero(~full):
            out[k, :, j] = op @ values[extended_rows(int(points[k]), history, cycle), j]
    return out


def window_rows(origins: np.ndarray, width: int, cycle: int) -> np.ndarray:
    """``[origins, width]`` rows of the windows before ``origins``. An origin with fewer rows
    before it (a rolling MSTL's window longer than the series there) reads the missing ones as
    the profile it was trained with did (``relative_tables``: the first cycle's same phase; the
    first row without a ``cycle``); the rows that exist, the network's among them, stay."""
    rows = np.asarray(origins, dtype="int64")[:, None] + np.arange(-width, 0)[None, :]
    return np.where(rows >= 0, rows, np.mod(rows, cycle) if cycle else 0)


def extended_rows(point: int, history: int, cycle: int) -> np.ndarray:
    """Rows standing for the ``history`` rows before ``point``: every row that exists, and
    before the first one the same phase of the first cycle (``point >= cycle``). Elementwise,
    so a longer window's last ``history`` rows are these, and its real rows stay real."""
    return window_rows(np.array([point]), history, cycle)[0]


def profile_index(periods: tuple[int, ...], back: int, ahead: int) -> np.ndarray:
    """``[back + ahead, sum(periods)]`` 0/1: the table entries whose sum is the seasonal profile
    at each step ``-back … ahead - 1`` around an origin (step ``i`` reads ``i mod m`` of each
    season's last cycle)."""
    steps = np.arange(-back, ahead)
    out = np.zeros((len(steps), sum(periods)), dtype="float32")
    offset = 0
    for m in periods:
        out[np.arange(len(steps)), offset + np.mod(steps, m)] = 1.0
        offset += m
    return out
