"""Serializable Keras layers autoseq puts inside its models (no Lambda: safe_mode loads them)."""

from __future__ import annotations

import keras
from keras import ops

ANCHOR_MODES = ("last", "seasonal", "mean", "drift", "seasonal_drift")


@keras.saving.register_keras_serializable(package="autoseq")
class Anchor(keras.layers.Layer):
    """The naive forecast a network corrects: ``[batch, lookback, n_inputs] → [batch, H, T]``.

    ``mode="last"`` repeats the last observed target value; ``mode="seasonal"`` repeats the values
    one ``season`` earlier (seasonal naive); ``mode="mean"`` repeats the mean of the last
    ``season`` values (with a deseasonalised series: the seasonal profile plus the recent level);
    ``mode="drift"`` extends the line from the window's first to its last value (naive with
    drift); ``mode="seasonal_drift"`` is seasonal naive plus the change of the level over the
    last season (mean of the last ``season`` values minus the mean of the season before, once
    per season ahead): it follows a trend that seasonal naive lags by a season. Where the window
    is shorter than two seasons it is seasonal naive. The network's head then predicts only the
    correction, which starts at zero — so a trial begins level with the baseline instead of far
    below it.
    """

    def __init__(self, *, mode: str, horizon: int, lookback: int, season: int,
                 target_idx: list[int], **kwargs):
        super().__init__(**kwargs)
        if mode not in ANCHOR_MODES:
            raise ValueError(f"mode must be one of {', '.join(ANCHOR_MODES)}. "
                             f"Received: mode={mode!r}")
        self.mode = mode
        self.horizon = int(horizon)
        self.lookback = int(lookback)
        self.season = int(season)
        self.target_idx = [int(i) for i in target_idx]
        self._steps = anchor_steps(mode=mode, horizon=self.horizon, lookback=self.lookback,
                                   season=self.season)
        self._ramp = anchor_ramp(mode=mode, horizon=self.horizon, lookback=self.lookback,
                                 season=self.season)

    def call(self, window):
        targets = ops.take(window, self.target_idx, axis=2)
        picked = ops.take(targets, self._steps, axis=1)
        if self.mode == "mean":
            level = ops.mean(picked, axis=1, keepdims=True)
            return ops.repeat(level, self.horizon, axis=1)
        if self._ramp is None:
            return picked
        ramp = ops.convert_to_tensor(self._ramp, dtype=picked.dtype)[None, :, None]
        if self.mode == "drift":
            slope = (targets[:, -1:, :] - targets[:, :1, :]) / float(self.lookback - 1)
        else:
            m = self.season
            slope = ops.mean(targets[:, -m:, :], axis=1, keepdims=True) - ops.mean(
                targets[:, -2 * m:-m, :], axis=1, keepdims=True)
        return picked + ramp * slope

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, len(self.target_idx))

    def get_config(self):
        return super().get_config() | {"mode": self.mode, "horizon": self.horizon,
                                       "lookback": self.lookback, "season": self.season,
                                       "target_idx": self.target_idx}


@keras.saving.register_keras_serializable(package="autoseq")
class LinearAnchor(keras.layers.Layer):
    """A statistical forecast that is a fixed weighted sum of the window, such as the ``ets``
    anchor (damped-trend exponential smoothing, ``autoseq.data._holt``): ``matrix [H,
    lookback]`` applied to each target column, ``[batch, lookback, n_inputs] → [batch, H, T]``,
    plus ``bias [H]`` where the forecast is affine (the ``arima`` anchor's drift).
    """

    def __init__(self, *, matrix: list, target_idx: list[int], bias: list | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.matrix = [[float(v) for v in row] for row in matrix]
        self.target_idx = [int(i) for i in target_idx]
        self.bias = None if bias is None else [float(v) for v in bias]

    def call(self, window):
        targets = ops.take(window, self.target_idx, axis=2)
        weights = ops.convert_to_tensor(self.matrix, dtype=targets.dtype)
        out = ops.einsum("hl,blt->bht", weights, targets)
        if self.bias is None:
            return out
        return out + ops.convert_to_tensor(self.bias, dtype=out.dtype)[None, :, None]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.matrix), len(self.target_idx))

    def get_config(self):
        extra = {} if self.bias is None else {"bias": self.bias}
        return super().get_config() | {"matrix": self.matrix, "target_idx": self.target_idx,
                                       **extra}


@keras.saving.register_keras_serializable(package="autoseq")
class RelativeToLast(keras.layers.Layer):
    """The window the recurrent layers see with each target column minus its last value
    (``relative: true``): level-free, so a trend that carries the series past the training
    range leaves the inputs in it (the anchor carries the level; RevIN's idea without the
    rescaling). Other columns (covariates, calendar features) pass unchanged."""

    def __init__(self, *, target_idx: list[int], **kwargs):
        super().__init__(**kwargs)
        self.target_idx = [int(i) for i in target_idx]

    def call(self, window):
        mask = [1.0 if i in self.target_idx else 0.0 for i in range(window.shape[-1])]
        mask = ops.convert_to_tensor(mask, dtype=window.dtype)
        return window - window[:, -1:, :] * mask

    def get_config(self):
        return super().get_config() | {"target_idx": self.target_idx}


def anchor_steps(*, mode: str, horizon: int, lookback: int, season: int) -> list[int]:
    """Window positions the anchor copies for each forecast step (seasonal needs lookback ≥ m);
    for ``mean``, the positions it averages (the last season, or the whole window)."""
    if mode == "mean":
        return list(range(lookback - (season if 1 < season <= lookback else lookback), lookback))
    if mode in ("seasonal", "seasonal_drift") and 1 < season <= lookback:
        return [lookback + h - season * (h // season + 1) for h in range(horizon)]
    return [lookback - 1] * horizon


def anchor_ramp(*, mode: str, horizon: int, lookback: int, season: int) -> list[float] | None:
    """How many times each forecast step adds the anchor's slope: ``h + 1`` steps for ``drift``,
    ``h // season + 1`` seasons for ``seasonal_drift``; ``None`` when the mode (or a window too
    short for it) has no slope."""
    if mode == "drift" and lookback > 1:
        return [float(h + 1) for h in range(horizon)]
    if mode == "seasonal_drift" and 1 < season and 2 * season <= lookback:
        return [float(h // season + 1) for h in range(horizon)]
    return None


@keras.saving.register_keras_serializable(package="autoseq")
class PaddingMask(keras.layers.Layer):
    """NaN steps are padding: they become zeros and are masked for the layers that follow.

    A step is real when any of its features is a number. NaN marks padding unambiguously, and it
    stays NaN through the input scaling, so the same model serves raw and scaled sequences. With
    right padding the mask keeps LSTM/GRU eligible for the cuDNN kernel.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.logical_not(ops.isnan(inputs)), axis=-1)

    def call(self, inputs):
        # Keras attaches compute_mask's mask to the output (supports_masking).
        return ops.where(ops.isnan(inputs), ops.zeros_like(inputs), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="autoseq")
class MaskedPooling(keras.layers.Layer):
    """Mean or max of a sequence's states over its real (unmasked) steps: ``[b, t, u] → [b, u]``."""

    def __init__(self, *, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("mean", "max"):
            raise ValueError(f"mode must be 'mean' or 'max'. Received: mode={mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        m = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        if self.mode == "mean":
            return ops.sum(inputs * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
        lowest = ops.full_like(inputs, -3.0e38)
        return ops.max(ops.where(m > 0, inputs, lowest), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return super().get_config() | {"mode": self.mode}
