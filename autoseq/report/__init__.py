"""The run report: what was searched, what won, why, and what the model looks at.

``write_report(run_dir)`` writes ``report.html`` (one self-contained page) and ``report.md``
with its figures in ``report_files/``, all read from the run folder.
"""

from __future__ import annotations

from autoseq.report._write import ReportPaths, write_report

# For search and export, which write the report as a by-product; not public API.
from autoseq.report._write import try_write_report as try_write_report

__all__ = ["ReportPaths", "write_report"]
