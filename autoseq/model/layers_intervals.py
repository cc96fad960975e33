"""Layers that calibrate an exported model's outputs (forecast quantiles, class probabilities),
and the quantile head of a network trained with the pinball loss."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="autoseq")
class ConformalBands(keras.layers.Layer):
    """``[point [batch, H, targets], window [batch, W, n_inputs]]`` → quantiles
    ``[batch, H, targets, Q]``: ``point + scale(window) · offsets``.

    ``offsets [H, targets, Q]`` are the conformal offsets fitted on validation (constants,
    sorted along ``Q``, so quantiles never cross). ``scale`` is ``none`` (ones) or the window's
    mean absolute change of each target over ``lag`` steps, at least ``floor`` — the
    computation ``autoseq.intervals.window_scale`` does in NumPy.

    With ``mix [Qh, Q]`` (conformalised quantile regression), the first input is a network's
    own quantiles ``[batch, H, targets, Qh]``: each served quantile starts from their linear
    interpolation ``quantiles @ mix`` instead of the point, and the result is sorted along ``Q``
    (offsets fitted per quantile are not ordered by themselves).
    """

    def __init__(self, *, offsets: list, target_idx: list[int], scale: str, lag: int,
                 floor: list[float], mix: list | None = None, **kwargs):
        super().__init__(**kwargs)
        self.offsets = [[list(map(float, q)) for q in t] for t in offsets]
        self.target_idx = [int(i) for i in target_idx]
        self.scale = str(scale)
        self.lag = int(lag)
        self.floor = [float(f) for f in floor]
        self.mix = None if mix is None else [list(map(float, r)) for r in mix]

    def call(self, inputs):
        point, window = inputs
        offsets = ops.convert_to_tensor(self.offsets, dtype=point.dtype)
        if self.mix is None:
            base = ops.expand_dims(point, -1)
        else:
            base = ops.matmul(point, ops.convert_to_tensor(self.mix, dtype=point.dtype))
        if self.scale == "none":
            out = base + offsets[None]
        else:
            x = ops.take(ops.cast(window, point.dtype), self.target_idx, axis=-1)
            change = ops.mean(ops.abs(x[:, self.lag:] - x[:, :-self.lag]), axis=1)
            s = ops.maximum(change, ops.convert_to_tensor(self.floor, dtype=point.dtype)[None])
            out = base + s[:, None, :, None] * offsets[None]
        return out if self.mix is None else ops.sort(out, axis=-1)

    def compute_output_shape(self, input_shape):
        point = input_shape[0]
        return (*point[:3], len(self.offsets[0][0]))

    def get_config(self):
        return super().get_config() | {"offsets": self.offsets, "target_idx": self.target_idx,
                                       "scale": self.scale, "lag": self.lag, "floor": self.floor,
                                       "mix": self.mix}


@keras.saving.register_keras_serializable(package="autoseq")
class MonotoneQuantiles(keras.layers.Layer):
    """``[batch, H, targets, Q]`` unconstrained → quantiles that never cross: entry ``median``
    is the median; the others are non-negative steps (softplus) summed outwards from it, so
    each quantile lies at or below the next by construction."""

    def __init__(self, *, median: int, **kwargs):
        super().__init__(**kwargs)
        self.median = int(median)

    def call(self, z):
        m = self.median
        mid = z[..., m:m + 1]
        below = ops.flip(ops.cumsum(ops.flip(ops.softplus(z[..., :m]), -1), axis=-1), -1)
        above = ops.cumsum(ops.softplus(z[..., m + 1:]), axis=-1)
        return ops.concatenate([mid - below, mid, mid + above], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"median": self.median}


@keras.saving.register_keras_serializable(package="autoseq")
class QuantileAt(keras.layers.Layer):
    """``[batch, H, targets, Q]`` → ``[batch, H, targets]``: the quantile at ``index`` (the
    median, a quantile head's point forecast)."""

    def __init__(self, *, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, q):
        return q[..., self.index]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        return super().get_config() | {"index": self.index}


class QuantileForecaster(keras.Model):
    """A functional network whose output is quantiles ``[batch, H, targets, Q]`` (trained on
    them with the pinball loss) and whose ``predict`` returns the median: the trial's point
    forecast, what it is scored on. ``model(x)`` still gives every quantile. Never saved
    whole (trials keep weights; exports wrap ``keras.Model(model.input, model.output)``)."""

    median_index = 0
    taus: tuple[float, ...] = ()

    def predict_step(self, data):
        return super().predict_step(data)[..., self.median_index]

    def predict_quantiles(self, x):
        """Every quantile ``[n, H, targets, Q]`` at ``taus`` (``predict`` gives the median)."""
        return keras.Model(self.input, self.output).predict(x, verbose=0)


def pinball_loss(taus: list[float]):
    """The mean pinball loss of quantiles ``[batch, H, targets, Q]`` at ``taus`` against the
    targets ``[batch, H, targets]``."""
    tau = ops.convert_to_tensor([float(t) for t in taus], dtype="float32")

    def pinball(y_true, y_pred):
        d = ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1) - y_pred
        t = ops.cast(tau, y_pred.dtype)
        return ops.mean(ops.maximum(t * d, (t - 1) * d), axis=(-1, -2, -3))

    return pinball


def median_metrics(index: int) -> list:
    """``mae`` and ``mse`` of the median (quantile ``index``): the logs a point trial keeps, so
    the pruner compares every trial on the same validation MSE."""

    def mae(y_true, y_pred):
        return ops.mean(ops.abs(ops.cast(y_true, y_pred.dtype) - y_pred[..., index]),
                        axis=(-1, -2))

    def mse(y_true, y_pred):
        return ops.mean(ops.square(ops.cast(y_true, y_pred.dtype) - y_pred[..., index]),
                        axis=(-1, -2))

    return [mae, mse]


@keras.saving.register_keras_serializable(package="autoseq")
class TemperatureScale(keras.layers.Layer):
    """Class probabilities ``[batch, classes]`` → ``softmax(log p / temperature)``: the
    temperature fitted on validation (``autoseq.probability_calibration``), a constant."""

    def __init__(self, *, temperature: float, **kwargs):
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, prob):
        return ops.softmax(ops.log(ops.clip(prob, 1e-7, 1.0)) / self.temperature, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"temperature": self.temperature}
