"""The layers that make a panel network scale-free: each window divided by its own scale.

``WindowScale`` gives a window's scale (mean absolute value over its lookback, floored as in
``autoseq.data._panel_data.window_scale``); the exported model divides the raw window by it
before the trained network and multiplies the network's forecast by it after, so it takes and
returns each series' own units.
"""

from __future__ import annotations

import keras
from keras import ops

from autoseq.data._panel_data import SCALE_FLOOR


@keras.saving.register_keras_serializable(package="autoseq")
class WindowScale(keras.layers.Layer):
    """``[batch, lookback, 1]`` → the window's scale ``[batch, 1, 1]``."""

    def call(self, x):
        return ops.maximum(ops.mean(ops.abs(x), axis=1, keepdims=True), SCALE_FLOOR)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, input_shape[2])


@keras.saving.register_keras_serializable(package="autoseq")
class WindowNormalise(keras.layers.Layer):
    """``[batch, lookback, 1]`` → the window divided by its scale (``WindowScale``)."""

    def call(self, x):
        return x / ops.maximum(ops.mean(ops.abs(x), axis=1, keepdims=True), SCALE_FLOOR)


def scale_free(network, *, lookback: int, name: str = "autoseq_panel"):
    """Raw windows ``[batch, lookback, 1]`` → ``network`` on the normalised window → the
    forecast ``[batch, horizon, 1]`` in the window's units."""
    window = keras.Input((lookback, 1), name="window")
    scale = WindowScale(name="window_scale", dtype="float32")(window)
    normalised = WindowNormalise(name="normalise", dtype="float32")(window)
    out = network(normalised)
    forecast = keras.layers.Multiply(name="forecast", dtype="float32")([out, scale])
    return keras.Model(window, forecast, name=name)


__all__ = ["WindowNormalise", "WindowScale", "scale_free"]
