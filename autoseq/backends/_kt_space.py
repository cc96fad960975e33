"""autoseq's neutral space types in KerasTuner's terms, and a ``Suggester`` over its values."""

from __future__ import annotations

from typing import Any

from autoseq.exceptions import SearchError
from autoseq.space import Bool, Choice, Fixed, Float, Int, Param, SearchSpace
from autoseq.space._params import Scalar


def kt_hyperparameters(space: SearchSpace):
    """``space`` as a ``keras_tuner.HyperParameters`` search space.

    A condition ``when: {parent: values}`` becomes a KerasTuner ``Parent`` condition on the
    parameter itself (``conditional_scope`` cannot express a condition on two parents, nor one
    on a parent that is itself conditional). A single-valued choice is a ``Fixed``; a choice of
    both booleans a ``Boolean``; a choice mixing ints and floats holds floats (KerasTuner wants
    one type).

    Example:
        >>> hps = kt_hyperparameters(load_search_space("fast"))
    """
    import keras_tuner as kt

    hps = kt.HyperParameters()
    for p in space.parameters:
        hps.merge([_kt_param(p)])
    return hps


class KerasTunerSuggester:
    """autoseq's ``Suggester`` over one KerasTuner trial's ``HyperParameters``.

    ``SearchSpace.sample`` calls it as it would an Optuna trial; each call declares the same
    KerasTuner hyperparameter the oracle's space holds and returns the value the oracle chose,
    mapped back to autoseq's type (a choice's own value, a bool, an int).
    """

    def __init__(self, hps, space: SearchSpace):
        self.hps = hps
        self.space = space

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        return int(self._value(_kt_int(name, low, high, step, log, self._conditions(name))))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        value = float(self._value(_kt_float(name, low, high, step, log, self._conditions(name))))
        # KerasTuner computes low + k * step in floats: 0.15000000000000002 for k=3, step=0.05
        return float(f"{value:.12g}") if step is not None else value

    def suggest_categorical(self, name: str, choices: tuple[Scalar, ...]) -> Scalar:
        value = self._value(_kt_categorical(name, choices, self._conditions(name)))
        return _match(name, choices, value)

    def _conditions(self, name: str) -> list:
        return _kt_conditions(self.space[name].when)

    def _value(self, hp) -> Any:
        self.hps.merge([hp], overwrite=False)  # declares it only if the oracle's space lacks it
        try:
            return self.hps.get(hp.name)
        except ValueError:
            raise SearchError(f"parameter '{hp.name}' is active for autoseq but inactive for "
                              "KerasTuner; check its 'when' condition") from None


def trial_params(values: dict[str, Any], space: SearchSpace) -> dict[str, Any]:
    """The values drawn for a trial (as Optuna's ``trial.params``: no constants, no tuner/*)."""
    out = {}
    for p in space.parameters:
        if p.name in values and not isinstance(p, Fixed) and not (
                isinstance(p, Choice) and len(p.values) == 1):
            value = values[p.name]
            if isinstance(p, Choice | Bool):
                value = _match(p.name, p.values if isinstance(p, Choice) else (False, True),
                               value)
            out[p.name] = value
    return out


def _kt_param(p: Param):
    conditions = _kt_conditions(p.when)
    if isinstance(p, Int):
        return _kt_int(p.name, p.low, p.high, p.step, p.log, conditions)
    if isinstance(p, Float):
        return _kt_float(p.name, p.low, p.high, p.step, p.log, conditions)
    if isinstance(p, Bool):
        return _kt_categorical(p.name, (False, True), conditions)
    if isinstance(p, Choice):
        return _kt_categorical(p.name, p.values, conditions)
    return _kth().Fixed(p.name, p.value, conditions=conditions)


def _kt_int(name: str, low: int, high: int, step: int, log: bool, conditions: list):
    # KerasTuner's step on a log scale is a factor; autoseq's log ints have no step.
    return _kth().Int(name, low, high, step=None if log else step,
                 sampling="log" if log else "linear", conditions=conditions)


def _kt_float(name: str, low: float, high: float, step: float | None, log: bool,
              conditions: list):
    return _kth().Float(name, float(low), float(high), step=step,
                   sampling="log" if log else "linear", conditions=conditions)


def _kt_categorical(name: str, choices: tuple[Scalar, ...], conditions: list):
    kth = _kth()
    if len(choices) == 1:
        return kth.Fixed(name, choices[0], conditions=conditions)
    if all(isinstance(c, bool) for c in choices):  # KerasTuner's Choice turns bools into ints
        return kth.Boolean(name, conditions=conditions)
    return kth.Choice(name, _kt_values(choices), conditions=conditions)


def _kth():
    from keras_tuner.engine import hyperparameters

    return hyperparameters


def _kt_conditions(when: dict[str, tuple[Scalar, ...]]) -> list:
    # Parent is not exported by keras_tuner; it is what conditional_scope builds.
    from keras_tuner.src.engine.conditions import Parent

    return [Parent(parent, _kt_values(values)) for parent, values in when.items()]


def _kt_values(values: tuple[Scalar, ...]) -> list[Scalar]:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numbers and any(isinstance(v, float) for v in values):
        return [float(v) for v in values]
    return list(values)


def _match(name: str, choices: tuple[Scalar, ...], value: Any) -> Scalar:
    for c in choices:
        if c == value:
            return c
    raise SearchError(f"parameter '{name}': KerasTuner chose {value!r}, which is not one of "
                      f"{list(choices)}")
