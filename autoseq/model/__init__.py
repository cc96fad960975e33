"""Resolved hyperparameters → ``keras.Model``: the builders and the custom layers.

Importing this package does not import Keras; ``layers`` and ``layers_forecast`` do.
"""

from autoseq.model._builder import (
    ModelContext,
    build_model,
    forecast_context,
    panel_context,
    register_builder,
    resolve_config,
    sequence_context,
)

__all__ = ["ModelContext", "build_model", "forecast_context", "panel_context", "register_builder",
           "resolve_config", "sequence_context"]
