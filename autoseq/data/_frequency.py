"""Inferring a regular frequency from timestamps with gaps, and the seasons it implies."""

from __future__ import annotations

import warnings

import pandas as pd

from autoseq.exceptions import DataError

_CALENDAR = ("MS", "ME", "QS", "QE", "YS", "YE")
_MIN_COVERAGE = 0.5


def infer_frequency(index: pd.DatetimeIndex, *, source: str = "", time_col: str = "") -> str:
    """The regular frequency on whose grid every timestamp of ``index`` lies.

    Gaps are allowed: the smallest grid that holds every timestamp wins, as long as the data
    cover at least half of it.

    Raises:
        DataError: the timestamps fit no regular grid.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3.1 announces an offset return type
        freq = pd.infer_freq(index) if len(index) >= 3 else None
    if freq is not None:
        return _normalise(freq)
    candidates = []
    diffs = pd.Series(index[1:] - index[:-1])
    step = diffs.mode().iloc[0]
    if step == pd.Timedelta(days=7):
        candidates.append(f"W-{index[0].day_name()[:3].upper()}")
    if step == pd.Timedelta(days=1):
        candidates.append("B")  # trading days: no weekend row, holidays missing
    if step > pd.Timedelta(0) and step % pd.Timedelta(days=1) == pd.Timedelta(0):
        candidates.append(f"{step.days}D")
    elif step > pd.Timedelta(0):
        candidates.append(pd.tseries.frequencies.to_offset(step).freqstr)
    candidates.extend(_CALENDAR)
    best = None
    for cand in candidates:
        try:
            grid = pd.date_range(index[0], index[-1], freq=cand)
        except ValueError:
            continue
        if len(grid) == 0 or len(grid) > 50 * len(index):
            continue
        if index.isin(grid).all():
            coverage = len(index) / len(grid)
            if coverage >= _MIN_COVERAGE and (best is None or coverage > best[1]):
                best = (cand, coverage)
    if best is None:
        raise DataError(f"{source}: column '{time_col}': timestamps are irregular (most common step "
                        f"{step}, but {int((diffs != step).sum())} steps differ and fit no regular "
                        "grid); resample the data to a fixed frequency first")
    return _normalise(best[0])


def same_frequency(a: str, b: str) -> bool:
    """Whether two frequency strings name one grid (``H`` and ``h``, ``M`` and ``ME``: pandas
    versions spell them differently)."""
    if a == b:
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a deprecated spelling still names its offset
            return pd.tseries.frequencies.to_offset(a) == pd.tseries.frequencies.to_offset(b)
    except ValueError:
        return False


def _normalise(freq) -> str:
    return pd.tseries.frequencies.to_offset(freq).freqstr


def seasons_for(freq: str) -> list[int]:
    """Main seasonal periods (in steps) implied by a frequency, longest-useful first order.

    Example:
        >>> seasons_for("30min")
        [48, 336]
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.name
    n = getattr(offset, "n", 1) or 1
    if name in ("MS", "ME", "M", "BMS", "BME"):
        return [max(1, 12 // n)] if 12 % n == 0 else []
    if name.startswith("Q") or name.startswith("BQ"):
        return [max(1, 4 // n)] if 4 % n == 0 else []
    if name.startswith("Y") or name.startswith("A") or name.startswith("BY"):
        return []
    if name.startswith("W"):
        return [52] if n == 1 else []
    if name == "B":
        return [5, 260] if n == 1 else []  # the trading week and year
    try:
        step = pd.Timedelta(offset)
    except (ValueError, TypeError):
        return []
    day, week, year = pd.Timedelta(days=1), pd.Timedelta(days=7), pd.Timedelta(days=365)
    seasons = []
    if step < day and day % step == pd.Timedelta(0):
        seasons.append(int(day / step))
        seasons.append(int(week / step))
    elif step == day:
        seasons.extend([7, 365])
    elif step == week:
        seasons.append(52)
    elif step < year and year % step == pd.Timedelta(0):
        seasons.append(int(year / step))
    return seasons
