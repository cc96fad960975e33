"""The export stage: a trial (or an ensemble) as a raw-in / raw-out SavedModel with a manifest.

Named ``exporting`` because ``autoseq.export`` is the public function: a subpackage of that name
would replace it on the ``autoseq`` package once imported.
"""

from __future__ import annotations

from autoseq._lazy import lazy_attributes

# Loaded on first use: the stage's own modules import this package's siblings freely.
_LAZY = {
    "ExportResult": "autoseq.exporting._common",
    "export": "autoseq.exporting._export",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
