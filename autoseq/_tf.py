"""Importing TensorFlow without its C++ start-up chatter on the user's terminal."""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with the process's stderr (fd 2) muted.

    TensorFlow 2.21 logs oneDNN and "no CUDA driver" notes through absl before it reads
    ``TF_CPP_MIN_LOG_LEVEL``, so the variable alone cannot silence them. Python-level errors
    still surface: they are raised after stderr is restored.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow_logger() -> None:
    """Keep TensorFlow's Python logger to errors: every trial builds a new model, so its
    "tf.function retracing" warning fires by design and says nothing useful to our users."""
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
