"""The export stage: a trial (or an ensemble) as a raw-in / raw-out SavedModel with a manifest.

Named ``exporting`` because ``autoseq.export`` is the public function: a subpackage of that name
would replace it on the ``autoseq`` package once imported.
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: the stage's own modules import this package's siblings freely.
_LAZY = {
    "ExportResult": "autoseq.exporting._common",
    "export": "autoseq.exporting._export",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
