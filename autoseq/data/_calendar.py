"""Calendar features from timestamps, as sin/cos of the position in each calendar cycle.

Every position is counted in steps of the data's frequency from a reference time ``t0`` (the first
row of the training data): the step of row ``i`` is ``i``, and a future timestamp's step follows
from its distance to ``t0``. A cycle's phase is ``(floor_mod(step, cycle) + offset) / period``
where ``period`` is the cycle's length in steps (365.25 days for the year) and ``cycle`` an
integer multiple of it (four years for the year), so the phase is exact in float32 and the same
formula runs in NumPy for training and inside the exported model.

Example:
    >>> spec = calendar_spec("30min", pd.Timestamp("2000-06-05"))
    >>> [c.name for c in spec]
    ['hour_of_day', 'day_of_week', 'day_of_year']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

_DAY = pd.Timedelta(days=1)
_YEAR_DAYS = Fraction(1461, 4)


@dataclass(frozen=True)
class CalendarCycle:
    """One calendar cycle measured in data steps."""

    name: str
    period: float
    cycle: int
    offset: float

    def to_dict(self) -> dict:
        return asdict(self)


def calendar_spec(freq: str, t0: pd.Timestamp) -> list[CalendarCycle]:
    """The calendar cycles that a frequency can see, phased so that step 0 is ``t0``.

    Sub-daily data get hour-of-day, day-of-week and day-of-year; daily data day-of-week and
    day-of-year; trading days (``B``) day-of-week; weekly data week-of-year; monthly and
    quarterly data month- / quarter-of-year.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.name
    n = getattr(offset, "n", 1) or 1
    if name in ("MS", "ME", "M", "BMS", "BME"):
        if 12 % n:
            return []
        return [CalendarCycle("month_of_year", 12 / n, 12 // n, ((t0.month - 1) / n) % (12 / n))]
    if name.startswith("Q") or name.startswith("BQ"):
        return [CalendarCycle("quarter_of_year", 4.0, 4, float((t0.month - 1) // 3 % 4))]
    if name == "B":  # trading days: step k falls on weekday (t0's + k) mod 5
        return [CalendarCycle("day_of_week", 5.0, 5, float(t0.dayofweek))] if n == 1 else []
    try:
        step = pd.Timedelta(offset)
    except (ValueError, TypeError):
        return []
    out = []
    since_midnight = t0 - t0.normalize()
    if step < _DAY and _DAY % step == pd.Timedelta(0):
        per_day = int(_DAY / step)
        out.append(CalendarCycle("hour_of_day", float(per_day), per_day,
                                 float(since_midnight / step)))
    if step <= _DAY and (7 * _DAY) % step == pd.Timedelta(0):
        per_week = int(7 * _DAY / step)
        day_phase = t0.dayofweek + since_midnight / _DAY
        out.append(CalendarCycle("day_of_week", float(per_week), per_week,
                                 float(day_phase * _DAY / step)))
    steps_per_day = Fraction(_DAY.value, step.value) if step.value else Fraction(0)
    year = _YEAR_DAYS * steps_per_day
    cycle = 4 * year
    if step <= 7 * _DAY and cycle.denominator == 1:
        day_of_year = t0.dayofyear - 1 + since_midnight / _DAY
        out.append(CalendarCycle("day_of_year", float(year), int(cycle),
                                 float(day_of_year * float(steps_per_day))))
    return out


def calendar_features(spec: list[CalendarCycle], steps: np.ndarray) -> np.ndarray:
    """sin/cos of every cycle at integer ``steps`` → float32 ``[*steps.shape, 2 * len(spec)]``."""
    steps = np.asarray(steps, dtype="int64")
    cols = []
    for c in spec:
        phase = (np.mod(steps, c.cycle).astype("float32") + np.float32(c.offset)) \
            / np.float32(c.period)
        angle = np.float32(2 * np.pi) * phase
        cols.extend([np.sin(angle), np.cos(angle)])
    if not cols:
        return np.zeros((*steps.shape, 0), dtype="float32")
    return np.stack(cols, axis=-1).astype("float32")


def steps_from(t0: pd.Timestamp, when: pd.Timestamp, freq: str) -> int:
    """Steps of ``freq`` from ``t0`` to ``when`` (negative when earlier)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset)
    except (ValueError, TypeError):
        step = None
    if step is not None and step.value:
        return int(round((when - t0) / step))
    lo, hi = (t0, when) if when >= t0 else (when, t0)
    n = len(pd.date_range(lo, hi, freq=freq)) - 1
    return n if when >= t0 else -n
