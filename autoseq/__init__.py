"""autoseq: AutoML for recurrent sequence models.

Importing ``autoseq`` does not import TensorFlow; the heavy parts load when first used.

Example:
    >>> import autoseq
    >>> result = autoseq.search("examples/airline.csv", target="passengers", horizon=12,
    ...                         space="fast", trials=4, max_epochs=5)
    >>> result.best["model"]
"""

from __future__ import annotations

import os

from autoseq._lazy import lazy_attributes

# TensorFlow's C++ start-up chatter (oneDNN notes, "no CUDA driver") is noise for our users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

_LAZY = {
    "search": "autoseq.searching",
    "SearchResult": "autoseq.searching",
    "SearchInterrupted": "autoseq.searching",
    "SearchSpace": "autoseq.space",
    "Int": "autoseq.space",
    "Float": "autoseq.space",
    "Choice": "autoseq.space",
    "Bool": "autoseq.space",
    "Fixed": "autoseq.space",
    "load_search_space": "autoseq.space",
    "list_spaces": "autoseq.space",
    "register_builder": "autoseq.model",
    "ModelContext": "autoseq.model",
    "load_series": "autoseq.data",
    "ForecastData": "autoseq.data",
    "load_sequences": "autoseq.data",
    "SequenceData": "autoseq.data",
    "open_run": "autoseq.run",
    "run_worker": "autoseq.searching",
    "export": "autoseq.exporting",
    "ExportResult": "autoseq.exporting",
    "load_model": "autoseq.predict",
    "Forecaster": "autoseq.predict",
    "write_report": "autoseq.report",
    "ReportPaths": "autoseq.report",
    "SequenceModel": "autoseq.predict",
    "AutoseqError": "autoseq.exceptions",
    "DataError": "autoseq.exceptions",
    "SearchSpaceError": "autoseq.exceptions",
    "SearchError": "autoseq.exceptions",
    "StorageError": "autoseq.exceptions",
    "AllTrialsFailedError": "autoseq.exceptions",
    "ModelError": "autoseq.exceptions",
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__ = lazy_attributes(__name__, _LAZY)


def __dir__() -> list[str]:
    return __all__
