"""Blocks of the lookback window named in calendar words, and the sentence that sums them up."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

_CALENDAR = {"M": ("month", 12), "Q": ("quarter", 4), "Y": ("year", 1), "A": ("year", 1)}
_FIXED = (("week", pd.Timedelta(days=7)), ("day", pd.Timedelta(days=1)),
          ("hour", pd.Timedelta(hours=1)), ("minute", pd.Timedelta(minutes=1)),
          ("second", pd.Timedelta(seconds=1)))
_AGO = {"1 day": "yesterday", "1 week": "last week", "1 year": "last year",
        "1 month": "last month", "1 hour": "an hour earlier"}


def duration(steps: int, freq: str | None) -> str:
    """``steps`` time steps of frequency ``freq`` in words: ``duration(24, "h") == "1 day"``."""
    unit = _unit(freq)
    if unit is None:
        return _plural(steps, "step")
    if isinstance(unit[1], int):
        name, n = unit
        total = steps * n
        if name == "month" and total % 12 == 0:
            return _plural(total // 12, "year")
        if name == "quarter" and total % 4 == 0:
            return _plural(total // 4, "year")
        if name == "week" and total == 52:
            return "1 year"
        if name == "trading day" and total % 5 == 0:
            return _plural(total // 5, "week")
        return _plural(total, name)
    td = steps * unit[1]
    if td == pd.Timedelta(days=365):
        return "1 year"
    for name, size in _FIXED:
        if td >= size and td % size == pd.Timedelta(0):
            return _plural(int(td / size), name)
    return _plural(steps, "step")


def _unit(freq: str | None) -> tuple[str, int] | tuple[str, pd.Timedelta] | None:
    if not freq:
        return None
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return None
    n = getattr(offset, "n", 1) or 1
    if offset.name == "B":
        return ("trading day", n)
    name = offset.name.lstrip("B")
    if name.startswith("W"):
        return ("week", n)
    for prefix, (unit, _) in _CALENDAR.items():
        if name.startswith(prefix) and name not in ("min",):
            return (unit, n)
    try:
        return ("", pd.Timedelta(offset))
    except (ValueError, TypeError):
        return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _unit_word(freq: str | None) -> str:
    """``"hour"`` for hourly data, ``"30 minutes"`` for half-hourly, ``"step"`` when unknown."""
    one = duration(1, freq)
    return one[2:] if one.startswith("1 ") else one


@dataclass(frozen=True)
class LagBlock:
    """A set of lookback positions; lag 1 is the most recent step before the forecast."""

    label: str
    lags: tuple[int, ...]

    def ranges(self) -> str:
        """``"1"``, ``"2–12"`` or ``"2–12, 25–48"``."""
        parts, start, prev = [], self.lags[0], self.lags[0]
        for lag in [*self.lags[1:], None]:
            if lag is not None and lag == prev + 1:
                prev = lag
                continue
            parts.append(str(start) if start == prev else f"{start}–{prev}")
            if lag is not None:
                start = prev = lag
        return ", ".join(parts)


def lag_blocks(lookback: int, *, horizon: int, seasons: list[int], freq: str | None
               ) -> list[LagBlock]:
    """Split a lookback window into blocks a person would name.

    The last step first; then, for each season the window holds, the same time one season
    before the steps being forecast ("the same 12 hours yesterday"); then the rest of each
    season ("the 11 hours before that", "the rest of the last week"); then older steps. Without a season, the recent
    ``horizon`` steps and older ones.

    Example:
        >>> [b.label for b in lag_blocks(48, horizon=12, seasons=[24, 168], freq="h")]
        ['the last hour', 'the 11 hours before that', 'the same 12 hours yesterday', 'older hours']
    """
    blocks: list[LagBlock] = []
    taken: set[int] = set()

    def take(lags, label: str) -> None:
        free = sorted(lag for lag in lags if 1 <= lag <= lookback and lag not in taken)
        if free:
            taken.update(free)
            blocks.append(LagBlock(label, tuple(free)))

    unit = _unit_word(freq)
    take([1], f"the last {unit}" if unit != "step" else "the last step")
    usable = sorted(m for m in set(seasons) if 1 < m <= lookback)
    for m in usable:
        low = max(2, m - horizon + 1)
        take(range(low, m + 1), _same_time(m, m - low + 1, freq, whole=low == 2))
    for m in usable:
        free = [lag for lag in range(2, m + 1) if lag not in taken]
        recent = free and free == list(range(2, free[-1] + 1))
        take(free, f"the {_season_word(len(free), freq)} before that" if recent
             else f"the rest of the last {_season_word(m, freq)}")
    if not usable:
        recent = max(2, min(horizon, lookback // 2))
        take(range(2, recent + 1), f"the {_season_word(recent - 1, freq)} before that")
    take(range(1, lookback + 1), f"older {unit}s" if " " not in unit else "older steps")
    return sorted(blocks, key=lambda b: b.lags[0])


def _season_word(m: int, freq: str | None) -> str:
    d = duration(m, freq)
    return d[2:] if d.startswith("1 ") else d


def _same_time(m: int, span: int, freq: str | None, *, whole: bool) -> str:
    ago = _AGO.get(duration(m, freq), f"{duration(m, freq)} earlier")
    if whole:
        return f"the rest of the last {_season_word(m, freq)}"
    what = "time" if span == 1 else _season_word(span, freq)
    return f"the same {what} {ago}"


def share_sentence(labels: list[str], shares: list[float], *, what: str, prefix: str = "") -> str:
    """``"The last hour carries 60% of the prediction, the same time yesterday 25%, …"``.

    ``shares`` are fractions summing to 1 (or all zero); parts below 1% are left out. With a
    ``prefix`` ("Among the input columns") the labels keep their case.
    """
    order = sorted(range(len(labels)), key=lambda i: -shares[i])
    parts = [(labels[i], shares[i]) for i in order if shares[i] >= 0.01]
    if not parts:
        return (f"Shuffling any one {what} barely changes the forecast: no part of it stands out "
                "as what the model relies on.")
    verb = "carry" if parts[0][0].startswith("older ") else "carries"
    head = f"{parts[0][0]} {verb} {parts[0][1]:.0%} of the prediction"
    rest = [f"{label} {share:.0%}" for label, share in parts[1:4]]
    text = ", ".join([head, *rest])
    if len(parts) > 4:
        more = len(parts) - 4
        text += f", and {more} more of {parts[4][1]:.0%} or less"
    if prefix:
        return f"{prefix}, {text}."
    return text[0].upper() + text[1:] + "."
