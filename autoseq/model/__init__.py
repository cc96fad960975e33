"""Resolved hyperparameters → ``keras.Model``: the builders and the custom layers.

Importing this package does not import Keras; ``layers`` and ``layers_forecast`` do.
"""

from autoseq.model._builder import ModelContext, build_model, register_builder

__all__ = ["ModelContext", "build_model", "register_builder"]
