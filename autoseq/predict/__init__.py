"""Loading an exported model and predicting from raw CSVs or frames."""

from __future__ import annotations

from autoseq._lazy import lazy_attributes

# Loaded on first use: the stage's own modules import this package's siblings freely.
_LAZY = {
    "Forecaster": "autoseq.predict._predict",
    "SequenceModel": "autoseq.predict._predict",
    "load_model": "autoseq.predict._load",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
