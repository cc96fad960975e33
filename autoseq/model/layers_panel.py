"""The layers that make a panel network scale-free: each window divided by its own scale.

``WindowScale`` gives a window's scale (mean absolute value over its lookback, floored as in
``autoseq.data._panel_data.window_scale``); the exported model divides the raw window by it
before the trained network and multiplies the network's forecast by it after, so it takes and
returns each series' own units. A network that takes a panel's static features (input
``static``), known-future covariates (input ``future``) or the covariates' past (input
``past``) gets them as they are: they are not divided by the window's scale.
"""

from __future__ import annotations

import keras
from keras import ops

from autoseq.data._panel_data import SCALE_FLOOR, taken_inputs
from autoseq.data._windows import WINDOW


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
    back the same way. A network taking ``static``, ``future`` or ``past`` makes the model take
    them too (raw)."""
    window = keras.Input((lookback, 1), name=WINDOW)
    scale = WindowScale(name="window_scale", dtype="float32")(window)
    normalised = WindowNormalise(name="normalise", dtype="float32")(window)
    inputs, feed = with_side_inputs(network, window, normalised)
    out = network(feed)
    if not isinstance(out, dict):
        return keras.Model(inputs, _times(out, scale, "forecast"), name=name)
    return keras.Model(inputs, {k: _times(v, scale, f"{k}_in_units") for k, v in out.items()},
                       name=name)


def with_side_inputs(network, window, x):
    """The inputs of a model around ``network`` whose input is ``window``, and what it feeds
    ``network`` (``x`` made from the window): beside them each input ``network`` takes beside
    its window (``static``, ``future``, ``past``), of its shape, passed through."""
    takes = taken_inputs(network)
    if not takes:
        return window, x
    side = {n: keras.Input(tuple(network.input[n].shape[1:]), name=n) for n in takes}
    return {WINDOW: window} | side, {WINDOW: x} | side


def _times(x, scale, name: str):
    """``x [batch, horizon, 1, …]`` times the window's scale ``[batch, 1, 1]``."""
    if len(x.shape) > len(scale.shape):
        scale = keras.layers.Reshape((1,) * (len(x.shape) - 1))(scale)
    return keras.layers.Multiply(name=name, dtype="float32")([x, scale])


__all__ = ["WindowNormalise", "WindowScale", "scale_free", "with_side_inputs"]
