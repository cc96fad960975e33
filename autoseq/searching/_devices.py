"""What a process trains on: its precision, its share of the cores, its GPUs, deterministic ops."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from autoseq.exceptions import SearchError
from autoseq.searching._allocator import freed_memory_kept

PRECISIONS = ("float32", "mixed")
THREADS_ENV = "AUTOSEQ_THREADS"
"""TensorFlow threads per worker process; ``--jobs`` sets it so N workers share the cores."""


def check_precision(precision: str) -> str:
    """``precision`` if it is one of ``PRECISIONS``.

    Raises:
        SearchError: naming the value received.
    """
    if precision not in PRECISIONS:
        raise SearchError(f"--precision must be one of {', '.join(PRECISIONS)}. "
                          f"Received: {precision}")
    return precision


def parse_gpus(gpus: str | list | tuple | None) -> list[str]:
    """``"0,1"`` → ``["0", "1"]``; each entry is a device index or a ``GPU-…`` UUID.

    Raises:
        SearchError: an entry is neither.
    """
    if gpus is None or gpus == "":
        return []
    items = [str(g).strip() for g in (gpus.split(",") if isinstance(gpus, str) else gpus)]
    for g in items:
        if not (g.isdigit() or g.startswith(("GPU-", "MIG-"))):
            raise SearchError("--gpus must be device indices separated by commas (e.g. 0,1) or "
                              f"GPU UUIDs. Received: {','.join(items)}")
    if len(set(items)) != len(items):
        raise SearchError(f"--gpus lists a device twice. Received: {','.join(items)}")
    return items


def env_threads() -> int | None:
    """The TensorFlow threads ``THREADS_ENV`` gives this process (``None``: TensorFlow's own)."""
    raw = os.environ.get(THREADS_ENV)
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else None


@contextmanager
def device_setup(*, precision: str = "float32", threads: int | None = None) -> Iterator[None]:
    """Memory growth on every visible GPU, optional thread caps, the precision policy, and on
    Keras's JAX backend glibc told to keep the memory the steps free (``freed_memory_kept``).

    ``mixed`` sets Keras's ``mixed_float16`` policy (the builder keeps the head and outputs in
    float32; Keras wraps the optimizer in loss scaling); the previous policy comes back on exit.
    """
    from autoseq._tf import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # the runtime already started in this process: keep its threads
            pass
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass
    previous = keras.mixed_precision.global_policy().name
    if precision == "mixed":
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with freed_memory_kept(keras.backend.backend() == "jax"):
            yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def enable_determinism(seed: int) -> None:
    """Deterministic TensorFlow ops, and Python, NumPy and TF seeded outside trials."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TF outside trials (each trial reseeds)
    tf.config.experimental.enable_op_determinism()
