"""Serializable Keras layers autoseq puts inside its models (no Lambda: safe_mode loads them)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="autoseq")
class Anchor(keras.layers.Layer):
    """The naive forecast a network corrects: ``[batch, lookback, n_inputs] → [batch, H, T]``.

    ``mode="last"`` repeats the last observed target value; ``mode="seasonal"`` repeats the values
    one ``season`` earlier (seasonal naive). The network's head then predicts only the correction,
    which starts at zero — so a trial begins level with the baseline instead of far below it.
    """

    def __init__(self, *, mode: str, horizon: int, lookback: int, season: int,
                 target_idx: list[int], **kwargs):
        super().__init__(**kwargs)
        if mode not in ("last", "seasonal"):
            raise ValueError(f"mode must be 'last' or 'seasonal'. Received: mode={mode!r}")
        self.mode = mode
        self.horizon = int(horizon)
        self.lookback = int(lookback)
        self.season = int(season)
        self.target_idx = [int(i) for i in target_idx]
        self._steps = anchor_steps(mode=mode, horizon=self.horizon, lookback=self.lookback,
                                   season=self.season)

    def call(self, window):
        targets = ops.take(window, self.target_idx, axis=2)
        return ops.take(targets, self._steps, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, len(self.target_idx))

    def get_config(self):
        return super().get_config() | {"mode": self.mode, "horizon": self.horizon,
                                       "lookback": self.lookback, "season": self.season,
                                       "target_idx": self.target_idx}


def anchor_steps(*, mode: str, horizon: int, lookback: int, season: int) -> list[int]:
    """Window positions the anchor copies for each forecast step (seasonal needs lookback ≥ m)."""
    if mode == "seasonal" and 1 < season <= lookback:
        return [lookback + h - season * (h // season + 1) for h in range(horizon)]
    return [lookback - 1] * horizon
