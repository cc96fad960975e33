"""The export stage: a trial (or an ensemble) as a raw-in / raw-out SavedModel with a manifest.

Named ``exporting`` because ``autoseq.export`` is the public function (see ``autoseq.searching``).
"""

from autoseq.exporting._export import ExportResult, export

__all__ = ["ExportResult", "export"]
