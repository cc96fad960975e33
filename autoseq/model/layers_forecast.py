"""Keras layers driven by a window's position in time (its ``origin_step``), serializable.

The origin step of a window is the number of data steps from the training data's first row to
the window's first forecast step. From it these layers compute, inside the model, what depends on
the calendar: sin/cos calendar features and the MSTL seasonal profile, for the ``lookback`` steps
of the window and the ``horizon`` steps it forecasts (``[batch, lookback + horizon, …]``).
"""

from __future__ import annotations

import math

import keras
from keras import ops


def _positions(origin_step, lookback: int, horizon: int):
    steps = ops.cast(ops.reshape(origin_step, (-1, 1)), "int32")
    return steps + ops.arange(-lookback, horizon, dtype="int32")[None, :]


@keras.saving.register_keras_serializable(package="autoseq")
class CalendarFeatures(keras.layers.Layer):
    """``origin_step [batch]`` → sin/cos of each calendar cycle ``[batch, L + H, 2·cycles]``.

    Each cycle is ``{"name", "period", "cycle", "offset"}`` as ``calendar_spec`` makes it; the
    phase is ``(floor_mod(step, cycle) + offset) / period``, exact in float32.
    """

    def __init__(self, *, cycles: list[dict], lookback: int, horizon: int, **kwargs):
        super().__init__(**kwargs)
        self.cycles = [dict(c) for c in cycles]
        self.lookback = int(lookback)
        self.horizon = int(horizon)

    def call(self, origin_step):
        pos = _positions(origin_step, self.lookback, self.horizon)
        cols = []
        for c in self.cycles:
            phase = (ops.cast(ops.mod(pos, int(c["cycle"])), "float32") + float(c["offset"])) \
                / float(c["period"])
            angle = phase * (2 * math.pi)
            cols.extend([ops.sin(angle), ops.cos(angle)])
        return ops.stack(cols, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.lookback + self.horizon, 2 * len(self.cycles))

    def get_config(self):
        return super().get_config() | {"cycles": self.cycles, "lookback": self.lookback,
                                       "horizon": self.horizon}


@keras.saving.register_keras_serializable(package="autoseq")
class SeasonalProfileAt(keras.layers.Layer):
    """``origin_step [batch]`` → the fitted seasonal profile ``[batch, L + H, n_targets]``.

    ``tables[k]`` is season ``periods[k]``'s ``[period, n_targets]`` table (constants in the
    model), looked up at ``floor_mod(step, period)`` and summed over the seasons.
    """

    def __init__(self, *, periods: list[int], tables: list, lookback: int, horizon: int,
                 **kwargs):
        super().__init__(**kwargs)
        self.periods = [int(m) for m in periods]
        self.tables = [[[float(v) for v in row] for row in t] for t in tables]
        self.lookback = int(lookback)
        self.horizon = int(horizon)
        self.n_targets = len(self.tables[0][0])

    def call(self, origin_step):
        pos = _positions(origin_step, self.lookback, self.horizon)
        total = None
        for m, table in zip(self.periods, self.tables, strict=True):
            part = ops.take(ops.convert_to_tensor(table, dtype="float32"), ops.mod(pos, m),
                            axis=0)
            total = part if total is None else total + part
        return total

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.lookback + self.horizon, self.n_targets)

    def get_config(self):
        return super().get_config() | {"periods": self.periods, "tables": self.tables,
                                       "lookback": self.lookback, "horizon": self.horizon}


@keras.saving.register_keras_serializable(package="autoseq")
class ProfileSplit(keras.layers.Layer):
    """Slices a ``[batch, L + H, …]`` tensor: ``part="past"`` → ``[:, :L]``, else ``[:, L:]``."""

    def __init__(self, *, lookback: int, part: str, **kwargs):
        super().__init__(**kwargs)
        self.lookback = int(lookback)
        self.part = part

    def call(self, x):
        return x[:, : self.lookback] if self.part == "past" else x[:, self.lookback:]

    def get_config(self):
        return super().get_config() | {"lookback": self.lookback, "part": self.part}


@keras.saving.register_keras_serializable(package="autoseq")
class ToColumns(keras.layers.Layer):
    """Places ``[batch, L, n_targets]`` into the target columns of ``[batch, L, n_inputs]``
    (zeros elsewhere), so a profile can be subtracted from a window of every input column."""

    def __init__(self, *, target_idx: list[int], n_inputs: int, **kwargs):
        super().__init__(**kwargs)
        self.target_idx = [int(i) for i in target_idx]
        self.n_inputs = int(n_inputs)

    def call(self, x):
        eye = [[1.0 if j == t else 0.0 for j in range(self.n_inputs)] for t in self.target_idx]
        return ops.matmul(x, ops.convert_to_tensor(eye, dtype=x.dtype))

    def get_config(self):
        return super().get_config() | {"target_idx": self.target_idx, "n_inputs": self.n_inputs}


@keras.saving.register_keras_serializable(package="autoseq")
class LastSteps(keras.layers.Layer):
    """``[batch, L, n]`` → its last ``steps`` steps ``[batch, steps, n]``: an ensemble member
    with a shorter lookback reads the end of the ensemble's window."""

    def __init__(self, *, steps: int, **kwargs):
        super().__init__(**kwargs)
        self.steps = int(steps)

    def call(self, x):
        return x[:, -self.steps:, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.steps, input_shape[2])

    def get_config(self):
        return super().get_config() | {"steps": self.steps}


@keras.saving.register_keras_serializable(package="autoseq")
class RollingSeasonalProfile(keras.layers.Layer):
    """``window [batch, W, n_inputs]`` (raw) → its MSTL seasonal profile ``[batch, L + H, T]``.

    MSTL is refitted on the target columns of the last ``history`` rows of the window (as
    ``autoseq.data._mstl.mstl_operator``: one matrix product gives each season's last cycle),
    and the profile at each step ``-L … H - 1`` around the window's end is the sum of the seasons'
    tables at that step. The operator and the step index are non-trainable weights, so a loaded
    model needs no statsforecast.
    """

    def __init__(self, *, periods: list[int], history: int, lookback: int, horizon: int,
                 target_idx: list[int], fitted: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.periods = [int(m) for m in periods]
        self.history = int(history)
        self.lookback = int(lookback)
        self.horizon = int(horizon)
        self.target_idx = [int(i) for i in target_idx]
        op = index = "zeros"
        if fitted:  # a model being loaded gets these from its weights
            from autoseq.data._mstl import mstl_operator, profile_index

            op = keras.initializers.Constant(mstl_operator(tuple(self.periods), self.history))
            index = keras.initializers.Constant(profile_index(tuple(self.periods),
                                                              self.lookback, self.horizon))
        rows = sum(self.periods)
        self.operator = self.add_weight(shape=(rows, self.history), initializer=op,
                                        trainable=False, name="mstl_operator")
        self.index = self.add_weight(shape=(self.lookback + self.horizon, rows),
                                     initializer=index, trainable=False, name="profile_index")

    def call(self, window):
        x = ops.take(window[:, -self.history:, :], self.target_idx, axis=2)
        tables = ops.einsum("ph,bht->bpt", ops.cast(self.operator, x.dtype), x)
        return ops.einsum("ip,bpt->bit", ops.cast(self.index, x.dtype), tables)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.lookback + self.horizon, len(self.target_idx))

    def get_config(self):
        return super().get_config() | {"periods": self.periods, "history": self.history,
                                       "lookback": self.lookback, "horizon": self.horizon,
                                       "target_idx": self.target_idx, "fitted": False}
