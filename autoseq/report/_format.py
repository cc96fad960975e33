"""Numbers and values formatted for people: the report's tables hold text, never raw floats."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MISSING = "–"
CELL_NAMES = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def missing(v: Any) -> bool:
    """``None``, NaN and ``pd.NA`` (and empty strings) count as missing."""
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def num(v: Any, digits: int = 4) -> str:
    """``2.468160`` → ``"2.468"``; missing → ``"–"``."""
    if missing(v):
        return MISSING
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return str(f)
    if f != 0 and (abs(f) >= 10 ** (digits + 2) or abs(f) < 1e-3):
        return f"{f:.{max(1, digits - 2)}e}"
    return f"{f:.{digits}g}"


def integer(v: Any) -> str:
    """``30492.0`` → ``"30,492"``."""
    return MISSING if missing(v) else f"{int(float(v)):,}"


def seconds(v: Any) -> str:
    """``12.69`` → ``"12.7 s"``; ``754`` → ``"12.6 min"``."""
    if missing(v):
        return MISSING
    s = float(v)
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 120:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def rate(v: Any) -> str:
    """A learning rate: ``0.0116`` → ``"1.2e-2"``."""
    if missing(v):
        return MISSING
    mantissa, exp = f"{float(v):.1e}".split("e")
    return f"{mantissa}e{int(exp)}"


def percent(v: float | None, *, signed: bool = False) -> str:
    """``0.312`` → ``"31%"`` (``"+31%"`` when ``signed``); ``-0.07`` → ``"−7%"``."""
    if v is None or not math.isfinite(v):
        return MISSING
    text = f"{abs(v):.0%}"
    if v < 0 and text != "0%":
        return "−" + text
    return ("+" if signed else "") + text


def yes_no(v: Any) -> str:
    if missing(v):
        return MISSING
    if isinstance(v, str):
        return "yes" if v.strip().lower() in ("true", "1", "yes") else "no"
    return "yes" if bool(v) else "no"


def cell_name(v: Any) -> str:
    return MISSING if missing(v) else CELL_NAMES.get(str(v), str(v))


def value(name: str, v: Any) -> str:
    """A hyperparameter or leaderboard value formatted by its column name."""
    if missing(v):
        return MISSING
    if name == "learning_rate":
        return rate(v)
    if name in ("depth", "units", "lookback", "batch_size", "epochs", "trial", "rank", "params"):
        try:
            return integer(v)
        except (TypeError, ValueError):
            return str(v)
    if name in ("bidirectional", "cudnn_eligible"):
        return yes_no(v)
    if name == "cell":
        return cell_name(v)
    if name == "seconds":
        return f"{float(v):.1f}"
    if isinstance(v, float | int) and not isinstance(v, bool):
        return num(v)
    return str(v)


def when(iso: str | None) -> str:
    """``2024-03-01T00:00:00`` → ``2024-03-01``; ``…T13:30:00`` → ``2024-03-01 13:30``."""
    if not iso:
        return MISSING
    try:
        t = pd.Timestamp(iso)
    except ValueError:
        return str(iso)
    if t == t.normalize():
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%M" if t.second == 0 else "%Y-%m-%d %H:%M:%S")


def capital(s: str) -> str:
    """The sentence ``s`` with its first letter upper-case."""
    return s[:1].upper() + s[1:]
