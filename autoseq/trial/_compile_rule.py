"""When compiling a trial's training steps (XLA / ``jax.jit``) repays its cost on a CPU."""

from __future__ import annotations


def on_jax() -> bool:
    """Whether Keras runs on its JAX backend."""
    import keras

    return keras.backend.backend() == "jax"


def accelerator() -> bool:
    """Whether TensorFlow sees a GPU or another accelerator."""
    import tensorflow as tf

    return any(d.device_type != "CPU" for d in tf.config.list_physical_devices())


# Compiling a trial's steps costs 0.7-1.3 s on 2 idle CPU cores (1.5-3.5 s on busy ones: train,
# validation and the last batch's shapes); it saves about 0.1 ms per batch and lookback step
# (GRU/LSTM(32): 0.86 → 0.37 s per epoch at lookback 96, 2.16 → 1.28 s at 336, 42 and 38
# batches of 64 windows). Break-even is near 10,000 batch-steps on an idle machine; at 20,000
# sunspots' LSTM(32) (lookback 48, 60 batches, 8 epochs: 23,040) compiles and runs 0.7× the time
# of its uncompiled trial, while airline's (720) and the test suite's tiny trials do not.
COMPILE_FROM_BATCH_STEPS = 20_000


def repays_compiling(lookback: int, windows: int, batch_size: int, *, epochs: int) -> bool:
    """Whether training ``windows`` windows of ``lookback`` steps for ``epochs`` epochs runs at
    least ``COMPILE_FROM_BATCH_STEPS`` recurrent steps of batches (the ``auto`` rule on a CPU)."""
    return -(-windows // batch_size) * lookback * epochs >= COMPILE_FROM_BATCH_STEPS


def auto_compiles(shape: tuple[int, int] | None, batch_size: int, *, epochs: int) -> bool | None:
    """``--compile auto`` for training ``shape`` (``(lookback, windows)``; ``None``: lengths
    vary): always on Keras's JAX backend (uncompiled JAX steps are 20-50x slower), Keras's own
    choice (``None``) on an accelerator, else on a CPU where it ``repays_compiling``."""
    if on_jax():
        return True
    if accelerator():
        return None
    return shape is not None and repays_compiling(*shape, batch_size, epochs=epochs)
