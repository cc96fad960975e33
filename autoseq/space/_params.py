"""Neutral, immutable parameter types of a search space, independent of any backend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from autoseq.exceptions import SearchSpaceError

Scalar = int | float | str | bool


class Suggester(Protocol):
    """What a backend offers to draw values: Optuna's trial and a KerasTuner adapter implement it."""

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float: ...

    def suggest_categorical(self, name: str, choices: tuple[Scalar, ...]) -> Scalar: ...


@dataclass(frozen=True)
class Param:
    """Base of every parameter: a name and an optional condition on earlier parameters.

    ``when`` maps an earlier parameter's name to the value (or tuple of values) for which this
    parameter is active; an inactive parameter is absent from the configuration.
    """

    name: str
    when: dict[str, tuple[Scalar, ...]] = field(default_factory=dict, kw_only=True)

    def active(self, config: dict[str, Any]) -> bool:
        return all(config.get(k, _MISSING) in v for k, v in self.when.items())

    def sample(self, s: Suggester) -> Scalar:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def _base_dict(self, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": kind}
        if self.when:
            out["when"] = {k: (list(v) if len(v) > 1 else v[0]) for k, v in self.when.items()}
        return out


_MISSING = object()


@dataclass(frozen=True)
class Int(Param):
    """An integer in ``[low, high]`` with a ``step``, optionally log-uniform."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        _check_range(self.name, self.low, self.high, self.log)
        if self.step < 1 or (self.log and self.step != 1):
            raise SearchSpaceError(f"parameter '{self.name}': step must be ≥ 1 (and 1 with log). "
                                   f"Received: step={self.step}")

    def sample(self, s: Suggester) -> int:
        return int(s.suggest_int(self.name, self.low, self.high, step=self.step, log=self.log))

    def to_dict(self) -> dict[str, Any]:
        d = self._base_dict("int") | {"low": self.low, "high": self.high}
        if self.step != 1:
            d["step"] = self.step
        if self.log:
            d["log"] = True
        return d


@dataclass(frozen=True)
class Float(Param):
    """A float in ``[low, high]``, optionally log-uniform or on a ``step`` grid."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        _check_range(self.name, self.low, self.high, self.log)
        if self.step is not None and (self.step <= 0 or self.log):
            raise SearchSpaceError(f"parameter '{self.name}': step must be > 0 and not combined "
                                   f"with log. Received: step={self.step}")

    def sample(self, s: Suggester) -> float:
        return float(s.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log))

    def to_dict(self) -> dict[str, Any]:
        d = self._base_dict("float") | {"low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        if self.step is not None:
            d["step"] = self.step
        return d


@dataclass(frozen=True)
class Choice(Param):
    """One of a tuple of values (all of one type: int, float, str or bool)."""

    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise SearchSpaceError(f"parameter '{self.name}': choice needs at least one value")
        kinds = {_kind(v) for v in self.values}
        if len(kinds) > 1 or None in kinds:
            raise SearchSpaceError(f"parameter '{self.name}': choice values must be all numbers, "
                                   f"all strings or all booleans. Received: {list(self.values)}")
        if len(set(self.values)) != len(self.values):
            raise SearchSpaceError(f"parameter '{self.name}': choice values repeat. "
                                   f"Received: {list(self.values)}")

    def sample(self, s: Suggester) -> Scalar:
        if len(self.values) == 1:
            return self.values[0]
        return s.suggest_categorical(self.name, self.values)

    def to_dict(self) -> dict[str, Any]:
        return self._base_dict("choice") | {"values": list(self.values)}


@dataclass(frozen=True)
class Bool(Param):
    """True or False."""

    def sample(self, s: Suggester) -> bool:
        return bool(s.suggest_categorical(self.name, (False, True)))

    def to_dict(self) -> dict[str, Any]:
        return self._base_dict("bool")


@dataclass(frozen=True)
class Fixed(Param):
    """A constant: part of every configuration, never searched."""

    value: Scalar

    def sample(self, s: Suggester) -> Scalar:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return self._base_dict("fixed") | {"value": self.value}


def _kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "str"
    return None


def _check_range(name: str, low: float, high: float, log: bool) -> None:
    for label, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise SearchSpaceError(f"parameter '{name}': {label} must be a finite number. "
                                   f"Received: {label}={v!r}")
    if low > high:
        raise SearchSpaceError(f"parameter '{name}': low must not exceed high. "
                               f"Received: low={low}, high={high}")
    if log and low <= 0:
        raise SearchSpaceError(f"parameter '{name}': a log range needs low > 0. "
                               f"Received: low={low}")
