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
    forecast ``[batch, horizon, 1]`` in the window's units; each output of a network with
    several (a dict, e.g. ``output_0`` and ``quantiles [batch, horizon, 1, Q]``) is scaled
    back the same way."""
    window = keras.Input((lookback, 1), name="window")
    scale = WindowScale(name="window_scale", dtype="float32")(window)
    normalised = WindowNormalise(name="normalise", dtype="float32")(window)
    out = network(normalised)
    if not isinstance(out, dict):
        return keras.Model(window, _times(out, scale, "forecast"), name=name)
    return keras.Model(window, {k: _times(v, scale, f"{k}_in_units") for k, v in out.items()},
                       name=name)


def _times(x, scale, name: str):
    """``x [batch, horizon, 1, …]`` times the window's scale ``[batch, 1, 1]``."""
    if len(x.shape) > len(scale.shape):
        scale = keras.layers.Reshape((1,) * (len(x.shape) - 1))(scale)
    return keras.layers.Multiply(name=name, dtype="float32")([x, scale])


__all__ = ["WindowNormalise", "WindowScale", "scale_free"]
