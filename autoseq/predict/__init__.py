"""Loading an exported model and predicting from raw CSVs or frames."""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: the stage's own modules import this package's siblings freely.
_LAZY = {
    "Forecaster": "autoseq.predict._predict",
    "SequenceModel": "autoseq.predict._predict",
    "load_model": "autoseq.predict._load",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
