"""Layers that calibrate an exported model's outputs: forecast quantiles, class probabilities."""

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
    """

    def __init__(self, *, offsets: list, target_idx: list[int], scale: str, lag: int,
                 floor: list[float], **kwargs):
        super().__init__(**kwargs)
        self.offsets = [[list(map(float, q)) for q in t] for t in offsets]
        self.target_idx = [int(i) for i in target_idx]
        self.scale = str(scale)
        self.lag = int(lag)
        self.floor = [float(f) for f in floor]

    def call(self, inputs):
        point, window = inputs
        offsets = ops.convert_to_tensor(self.offsets, dtype=point.dtype)
        if self.scale == "none":
            return ops.expand_dims(point, -1) + offsets[None]
        x = ops.take(ops.cast(window, point.dtype), self.target_idx, axis=-1)
        change = ops.mean(ops.abs(x[:, self.lag:] - x[:, :-self.lag]), axis=1)
        s = ops.maximum(change, ops.convert_to_tensor(self.floor, dtype=point.dtype)[None])
        return ops.expand_dims(point, -1) + s[:, None, :, None] * offsets[None]

    def compute_output_shape(self, input_shape):
        point = input_shape[0]
        return (*point, len(self.offsets[0][0]))

    def get_config(self):
        return super().get_config() | {"offsets": self.offsets, "target_idx": self.target_idx,
                                       "scale": self.scale, "lag": self.lag, "floor": self.floor}


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
